//===- ResultText.cpp - how kiln-run shows a result tensor ----------------===//
#include "tools/ResultText.h"

#include <fmt/core.h>

#include <bit>
#include <string>

namespace kiln::tools {

void printValues(const Tensor &t) {
  Shape strides = rowMajorStrides(t.shape());
  std::string out;
  int64_t n = t.numel();
  for (int64_t i = 0; i < n || (n == 0 && i == 0); ++i) {
    for (size_t d = 0; d < strides.size(); ++d)
      if (n == 0 || i % (strides[d] * t.shape()[d]) == 0)
        out += '[';
    if (n == 0)
      break;
    out += isInteger(t.dtype()) ? std::to_string(t.getInt(i))
                                : fmt::format("{}", static_cast<float>(
                                                        t.getDouble(i)));
    size_t closed = 0;
    for (size_t d = strides.size(); d-- > 0;) {
      if ((i + 1) % (strides[d] * t.shape()[d]) != 0)
        break;
      out += ']';
      ++closed;
    }
    if (i + 1 < n)
      out += closed ? ",\n  " : ", ";
  }
  if (n == 0)
    out.append(strides.size(), ']');
  fmt::print("  {}\n", out);
}

uint64_t checksum(const Tensor &t) {
  uint64_t h = 1469598103934665603ull;
  for (int64_t i = 0; i < t.numel(); ++i) {
    uint64_t bits = isInteger(t.dtype())
                        ? static_cast<uint64_t>(t.getInt(i))
                        : std::bit_cast<uint64_t>(t.getDouble(i));
    for (int b = 0; b < 8; ++b) {
      h ^= (bits >> (8 * b)) & 0xff;
      h *= 1099511628211ull;
    }
  }
  return h;
}

} // namespace kiln::tools
