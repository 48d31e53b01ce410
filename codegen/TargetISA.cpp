//===- TargetISA.cpp - host detection for the int8 GEMM engine ------------===//
#include "codegen/TargetISA.h"

#include <llvm/ADT/StringMap.h>
#include <llvm/TargetParser/Host.h>

namespace kiln::codegen {

namespace {
struct Named {
  TargetISA isa;
  const char *name;
};
constexpr Named kNames[] = {{TargetISA::Auto, "auto"},
                            {TargetISA::Avx512Vnni, "avx512vnni"},
                            {TargetISA::Avx512, "avx512"},
                            {TargetISA::Avx2, "avx2"},
                            {TargetISA::Generic, "generic"}};
} // namespace

const char *isaName(TargetISA isa) {
  for (const Named &n : kNames)
    if (n.isa == isa)
      return n.name;
  return "?";
}

std::optional<TargetISA> parseISA(std::string_view name) {
  for (const Named &n : kNames)
    if (name == n.name)
      return n.isa;
  return std::nullopt;
}

bool hostSupports(TargetISA isa) {
  static const llvm::StringMap<bool> features = llvm::sys::getHostCPUFeatures();
  auto has = [](const char *f) {
    auto it = features.find(f);
    return it != features.end() && it->second;
  };
  switch (isa) {
  case TargetISA::Avx512Vnni:
    return has("avx512f") && has("avx512bw") && has("avx512vnni");
  case TargetISA::Avx512:
    return has("avx512f") && has("avx512bw");
  case TargetISA::Avx2:
    return has("avx2");
  default:
    return true;
  }
}

TargetISA hostISA() {
  for (TargetISA isa :
       {TargetISA::Avx512Vnni, TargetISA::Avx512, TargetISA::Avx2})
    if (hostSupports(isa))
      return isa;
  return TargetISA::Generic;
}

TargetISA resolveISA(TargetISA isa) {
  return isa == TargetISA::Auto ? hostISA() : isa;
}

} // namespace kiln::codegen
