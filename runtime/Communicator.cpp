//===- Communicator.cpp - what every backend shares -----------------------===//
#include "runtime/Communicator.h"

#include <cstdlib>
#include <string>

namespace kiln {

bool isReducibleType(DType t) {
  return t == DType::F32 || t == DType::F16 || t == DType::BF16;
}

std::chrono::milliseconds Communicator::defaultTimeout() {
  if (const char *env = std::getenv("KILN_COMM_TIMEOUT_MS"))
    if (long long ms = std::atoll(env); ms > 0)
      return std::chrono::milliseconds(ms);
  return std::chrono::seconds(60);
}

bool Communicator::defaultPeerWindows() {
  const char *env = std::getenv("KILN_ALLREDUCE_WINDOW");
  return !(env && std::string(env) == "0");
}

} // namespace kiln
