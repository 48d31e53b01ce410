//===- Compare.h - how far one result is from another -----------*- C++ -*-===//
#pragma once

#include "runtime/Tensor.h"

#include <cstdint>

namespace kiln {

struct Difference {
  double maxAbs = 0;    ///< largest |want - got|
  double maxRel = 0;    ///< largest |want - got| / |want| (where want != 0)
  double maxUlps = 0;   ///< largest error in units in the last place of the
                        ///< dtype at the larger magnitude (0 for integers)
  int64_t mismatches = 0; ///< elements not bit-equal (NaNs equal)
};

/// Compares two tensors of the same dtype and shape (layouts may differ).
Difference compare(const Tensor &want, const Tensor &got);

/// One unit in the last place of `v` in float dtype `t`.
double ulp(double v, DType t);

} // namespace kiln
