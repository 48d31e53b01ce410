//===- PackedScale.h - FP19 scales and 9-bit offsets (§1.3) -----*- C++ -*-===//
//
// npu_trans_quant_param packs a float32 scale and an optional offset into an
// int64: `(bits(scale) & 0xFFFFE000) | 1 << 46 | (off9 & 0x1FF) << 37`. The
// hardware's requant then computes clamp(s9(y * scale) + off9, -128, 127).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/Float16.h"

#include <algorithm>
#include <bit>
#include <cstdint>

namespace kiln::ops {

/// `v` truncated to FP19 (sign, 8-bit exponent, 10-bit mantissa).
inline float fp19(float v) {
  return std::bit_cast<float>(std::bit_cast<uint32_t>(v) & 0xFFFFE000u);
}

/// Round half to even, then saturate to a 9-bit signed integer.
inline int64_t s9(double v) {
  return std::clamp<int64_t>(roundToIntType(v, DType::I64), -256, 255);
}

/// A packed int64 scale decoded into (FP19 scale, 9-bit signed offset).
struct PackedScale {
  float scale;
  int64_t offset;
};
inline PackedScale decodePackedScale(int64_t packed) {
  uint64_t u = static_cast<uint64_t>(packed);
  int64_t off = static_cast<int64_t>((u >> 37) & 0x1FF);
  return {std::bit_cast<float>(static_cast<uint32_t>(u & 0xFFFFE000u)),
          off >= 256 ? off - 512 : off};
}

/// The requant of OPS.md §3.4: clamp(s9(y * fp19(scale)) + s9(offset)).
inline int64_t requantS9(float y, float scale, double offset) {
  return std::clamp<int64_t>(s9(y * fp19(scale)) + s9(offset), -128, 127);
}

} // namespace kiln::ops
