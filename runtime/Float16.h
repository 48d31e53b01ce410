//===- Float16.h - f16 / bf16 conversions with round-to-nearest-even ------===//
#pragma once

#include "ir/Types.h"

#include <cstdint>

namespace kiln {

float halfToFloat(uint16_t bits);
float bf16ToFloat(uint16_t bits);
/// Rounds `v` (not first rounded to float) to the nearest f16 / bf16, ties to
/// even; overflow gives infinity, NaN stays NaN.
uint16_t doubleToHalf(double v);
uint16_t doubleToBf16(double v);
/// `v` rounded to the precision of the float dtype `t` (f16, bf16 or f32).
double roundToFloatType(double v, DType t);
/// Float -> integer as OPS.md §0 defines it: round half to even, saturate to
/// the dtype's range; NaN becomes 0.
int64_t roundToIntType(double v, DType t);
int64_t minValue(DType intType);
int64_t maxValue(DType intType);

} // namespace kiln
