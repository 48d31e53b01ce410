//===- Float16.cpp - f16 / bf16 conversions -------------------------------===//
#include "runtime/Float16.h"

#include <bit>
#include <cmath>
#include <limits>

namespace kiln {

float halfToFloat(uint16_t h) {
  uint32_t sign = (h & 0x8000u) << 16;
  int exp = (h >> 10) & 0x1f;
  uint32_t mant = h & 0x3ffu;
  if (exp == 0x1f) // inf / NaN
    return std::bit_cast<float>(sign | 0x7f800000u | (mant << 13));
  if (exp == 0) { // zero / subnormal: mant * 2^-24, exact in float
    float v = std::ldexp(static_cast<float>(mant), -24);
    return sign ? -v : v;
  }
  return std::bit_cast<float>(sign | ((exp - 15 + 127) << 23) | (mant << 13));
}

float bf16ToFloat(uint16_t b) {
  return std::bit_cast<float>(static_cast<uint32_t>(b) << 16);
}

namespace {
/// Rounds v to a binary float with `mantBits` explicit mantissa bits and
/// minimum normal exponent `minExp`, ties to even, without overflow handling.
double roundToBinary(double v, int mantBits, int minExp) {
  if (v == 0 || !std::isfinite(v))
    return v;
  int e = std::max(std::ilogb(v), minExp);
  double quantum = std::ldexp(1.0, e - mantBits);
  // v / quantum is exact (power-of-two scaling); nearbyint rounds to even.
  return std::nearbyint(v / quantum) * quantum;
}
} // namespace

double roundToFloatType(double v, DType t) {
  switch (t) {
  case DType::F32:
    return static_cast<float>(v);
  case DType::F16: {
    double r = roundToBinary(v, 10, -14);
    return std::fabs(r) > 65504.0 ? std::copysign(INFINITY, v) : r;
  }
  case DType::BF16: {
    double r = roundToBinary(v, 7, -126);
    double maxBf16 = std::ldexp(255.0 / 128.0, 127);
    return std::fabs(r) > maxBf16 ? std::copysign(INFINITY, v) : r;
  }
  default:
    return v;
  }
}

uint16_t doubleToHalf(double v) {
  if (std::isnan(v))
    return 0x7e00;
  // The rounded value is exact in float and in half: convert bits directly.
  float f = static_cast<float>(roundToFloatType(v, DType::F16));
  uint32_t bits = std::bit_cast<uint32_t>(f);
  uint16_t sign = (bits >> 16) & 0x8000u;
  float a = std::fabs(f);
  if (std::isinf(a))
    return sign | 0x7c00;
  if (a < std::ldexp(1.0f, -14)) // subnormal or zero: a = mant * 2^-24
    return sign | static_cast<uint16_t>(std::ldexp(a, 24));
  int exp = static_cast<int>((bits >> 23) & 0xff) - 127 + 15;
  return sign | static_cast<uint16_t>(exp << 10) |
         static_cast<uint16_t>((bits >> 13) & 0x3ffu);
}

uint16_t doubleToBf16(double v) {
  if (std::isnan(v))
    return 0x7fc0;
  float f = static_cast<float>(roundToFloatType(v, DType::BF16));
  return static_cast<uint16_t>(std::bit_cast<uint32_t>(f) >> 16);
}

int64_t minValue(DType t) {
  switch (t) {
  case DType::I4:
    return -8;
  case DType::I8:
    return -128;
  case DType::I32:
    return std::numeric_limits<int32_t>::min();
  default:
    return std::numeric_limits<int64_t>::min();
  }
}

int64_t maxValue(DType t) {
  switch (t) {
  case DType::I4:
    return 7;
  case DType::I8:
    return 127;
  case DType::I32:
    return std::numeric_limits<int32_t>::max();
  default:
    return std::numeric_limits<int64_t>::max();
  }
}

int64_t roundToIntType(double v, DType t) {
  if (std::isnan(v))
    return 0;
  double r = std::nearbyint(v);
  if (r <= static_cast<double>(minValue(t)))
    return minValue(t);
  // 2^63 is exactly representable; anything at or above saturates.
  if (r >= static_cast<double>(maxValue(t)))
    return maxValue(t);
  return static_cast<int64_t>(r);
}

} // namespace kiln
