//===- Compare.cpp - how far one result is from another -------------------===//
#include "runtime/Compare.h"

#include <algorithm>
#include <cmath>

namespace kiln {

double ulp(double v, DType t) {
  int mant = t == DType::F32 ? 23 : t == DType::F16 ? 10 : 7;
  int minExp = t == DType::F16 ? -14 : -126;
  int e = v == 0 ? minExp : std::max(std::ilogb(v), minExp);
  return std::ldexp(1.0, e - mant);
}

Difference compare(const Tensor &want, const Tensor &got) {
  Difference d;
  for (int64_t i = 0; i < want.numel(); ++i) {
    if (isInteger(want.dtype())) {
      int64_t a = want.getInt(i), b = got.getInt(i);
      if (a == b)
        continue;
      ++d.mismatches;
      double abs = std::fabs(static_cast<double>(a) - static_cast<double>(b));
      d.maxAbs = std::max(d.maxAbs, abs);
      if (a != 0)
        d.maxRel = std::max(d.maxRel, abs / std::fabs(static_cast<double>(a)));
      continue;
    }
    double a = want.getDouble(i), b = got.getDouble(i);
    if (a == b || (std::isnan(a) && std::isnan(b)))
      continue;
    ++d.mismatches;
    double abs = std::fabs(a - b);
    if (std::isnan(abs)) {
      d.maxAbs = d.maxRel = d.maxUlps = INFINITY;
      continue;
    }
    d.maxAbs = std::max(d.maxAbs, abs);
    if (a != 0)
      d.maxRel = std::max(d.maxRel, abs / std::fabs(a));
    double unit = ulp(std::max(std::fabs(a), std::fabs(b)), want.dtype());
    d.maxUlps = std::max(d.maxUlps, abs / unit);
  }
  return d;
}

} // namespace kiln
