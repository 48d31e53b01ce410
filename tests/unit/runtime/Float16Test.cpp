//===- Float16Test.cpp - f16 / bf16 conversions and rounding --------------===//
#include "runtime/Float16.h"

#include <gtest/gtest.h>

#include <bit>
#include <cfloat>
#include <cmath>
#include <cstdint>

using namespace kiln;

namespace {

double pow2(int e) { return std::ldexp(1.0, e); }
bool isHalfNan(uint16_t h) { return (h & 0x7c00) == 0x7c00 && (h & 0x3ff); }
bool isBf16Nan(uint16_t b) { return (b & 0x7f80) == 0x7f80 && (b & 0x7f); }

/// Checks round-to-nearest-even around every midpoint between consecutive
/// positive finite values of a 16-bit format: the midpoint goes to the even
/// neighbour, the doubles just below / above it to the lower / upper one.
template <class ToDouble, class FromDouble>
void checkAllMidpoints(uint16_t maxFinite, ToDouble toDouble,
                       FromDouble fromDouble) {
  for (uint16_t h = 0; h < maxFinite; ++h) {
    double lo = toDouble(h), hi = toDouble(static_cast<uint16_t>(h + 1));
    double mid = (lo + hi) / 2; // exact in double
    uint16_t even = (h % 2 == 0) ? h : static_cast<uint16_t>(h + 1);
    ASSERT_EQ(fromDouble(mid), even) << "midpoint above " << h;
    ASSERT_EQ(fromDouble(std::nextafter(mid, 0.0)), h) << h;
    ASSERT_EQ(fromDouble(std::nextafter(mid, INFINITY)), h + 1) << h;
    ASSERT_EQ(fromDouble(-mid), even | 0x8000) << h;
  }
}

} // namespace

TEST(Float16, HalfEdgeValues) {
  EXPECT_EQ(halfToFloat(0x7bff), 65504.0f);
  EXPECT_EQ(doubleToHalf(65504.0), 0x7bff);
  EXPECT_EQ(halfToFloat(0x3c00), 1.0f);
  EXPECT_EQ(halfToFloat(0xc000), -2.0f);
  EXPECT_EQ(halfToFloat(0x0400), static_cast<float>(pow2(-14))); // min normal
  EXPECT_EQ(halfToFloat(0x03ff), static_cast<float>(1023 * pow2(-24)));
  // Overflow: 65520 is the midpoint between 65504 and 2^16 and rounds to the
  // even side, i.e. infinity; anything below stays finite.
  EXPECT_EQ(doubleToHalf(65520.0), 0x7c00);
  EXPECT_EQ(doubleToHalf(-65520.0), 0xfc00);
  EXPECT_EQ(doubleToHalf(std::nextafter(65520.0, 0.0)), 0x7bff);
  EXPECT_EQ(doubleToHalf(1e300), 0x7c00);
  EXPECT_EQ(doubleToHalf(INFINITY), 0x7c00);
  EXPECT_EQ(doubleToHalf(-INFINITY), 0xfc00);
  EXPECT_TRUE(std::isinf(halfToFloat(0x7c00)));
  // Subnormals: the smallest is 2^-24; 2^-25 is a tie with zero (even).
  EXPECT_EQ(doubleToHalf(pow2(-24)), 0x0001);
  EXPECT_EQ(halfToFloat(0x0001), static_cast<float>(pow2(-24)));
  EXPECT_EQ(doubleToHalf(pow2(-25)), 0x0000);
  EXPECT_EQ(doubleToHalf(std::nextafter(pow2(-25), 1.0)), 0x0001);
  EXPECT_EQ(doubleToHalf(3 * pow2(-25)), 0x0002);
  EXPECT_EQ(doubleToHalf(-pow2(-26)), 0x8000); // underflow keeps the sign
  // Largest subnormal rounds up into the smallest normal.
  EXPECT_EQ(doubleToHalf(1023.5 * pow2(-24)), 0x0400);
}

TEST(Float16, HalfTiesToEven) {
  EXPECT_EQ(doubleToHalf(1 + pow2(-11)), 0x3c00);     // tie -> 1
  EXPECT_EQ(doubleToHalf(1 + 3 * pow2(-11)), 0x3c02); // tie -> 1 + 2^-9
  EXPECT_EQ(doubleToHalf(1 + 5 * pow2(-11)), 0x3c02);
  EXPECT_EQ(doubleToHalf(-(1 + pow2(-11))), 0xbc00);
  // Rounding works on the double, not on a float first: 1 + 2^-11 + 2^-50
  // is 1 + 2^-11 as a float (a tie, -> 1), but above the tie as a double.
  EXPECT_EQ(doubleToHalf(1 + pow2(-11) + pow2(-50)), 0x3c01);
  EXPECT_EQ(doubleToHalf(1 + pow2(-11) - pow2(-50)), 0x3c00);
  EXPECT_EQ(roundToFloatType(1 + pow2(-11) + pow2(-50), DType::F16),
            1 + pow2(-10));
}

TEST(Float16, HalfZeroAndNan) {
  EXPECT_EQ(doubleToHalf(0.0), 0x0000);
  EXPECT_EQ(doubleToHalf(-0.0), 0x8000);
  EXPECT_TRUE(std::signbit(halfToFloat(0x8000)));
  EXPECT_EQ(halfToFloat(0x8000), 0.0f);
  EXPECT_TRUE(isHalfNan(doubleToHalf(NAN)));
  EXPECT_TRUE(std::isnan(halfToFloat(0x7e00)));
  EXPECT_TRUE(std::isnan(halfToFloat(0xfc01)));
}

TEST(Float16, HalfExhaustive) {
  for (uint32_t h = 0; h <= 0xffff; ++h) {
    auto bits = static_cast<uint16_t>(h);
    if (isHalfNan(bits))
      continue;
    ASSERT_EQ(doubleToHalf(halfToFloat(bits)), bits) << h;
  }
  checkAllMidpoints(0x7bff, halfToFloat, doubleToHalf);
}

TEST(Float16, Bf16EdgeValuesAndTies) {
  EXPECT_EQ(bf16ToFloat(0x3f80), 1.0f);
  EXPECT_EQ(doubleToBf16(1 + pow2(-8)), 0x3f80);     // tie -> 1
  EXPECT_EQ(doubleToBf16(1 + 3 * pow2(-8)), 0x3f82); // tie -> 1 + 2^-6
  EXPECT_EQ(bf16ToFloat(0x3f82), static_cast<float>(1 + pow2(-6)));
  EXPECT_EQ(doubleToBf16(1 + pow2(-8) + pow2(-40)), 0x3f81); // above the tie
  EXPECT_EQ(doubleToBf16(-0.0), 0x8000);
  EXPECT_TRUE(isBf16Nan(doubleToBf16(NAN)));
  EXPECT_TRUE(std::isnan(bf16ToFloat(0x7fc0)));
  // Largest finite bf16 is (2 - 2^-7) * 2^127; the midpoint to 2^128 rounds
  // to even (infinity), and so does FLT_MAX, which lies above it.
  EXPECT_EQ(bf16ToFloat(0x7f7f),
            static_cast<float>((2 - pow2(-7)) * pow2(127)));
  EXPECT_EQ(doubleToBf16((2 - pow2(-8)) * pow2(127)), 0x7f80);
  EXPECT_EQ(doubleToBf16(std::nextafter((2 - pow2(-8)) * pow2(127), 0.0)),
            0x7f7f);
  EXPECT_EQ(doubleToBf16(FLT_MAX), 0x7f80);
  EXPECT_EQ(doubleToBf16(-1e300), 0xff80);
  EXPECT_EQ(doubleToBf16(pow2(-133)), 0x0001); // smallest subnormal
  EXPECT_EQ(doubleToBf16(pow2(-134)), 0x0000); // tie with zero
}

TEST(Float16, Bf16Exhaustive) {
  for (uint32_t b = 0; b <= 0xffff; ++b) {
    auto bits = static_cast<uint16_t>(b);
    if (isBf16Nan(bits))
      continue;
    ASSERT_EQ(doubleToBf16(bf16ToFloat(bits)), bits) << b;
  }
  checkAllMidpoints(0x7f7f, bf16ToFloat, doubleToBf16);
}

TEST(Float16, RoundToFloatType) {
  EXPECT_EQ(roundToFloatType(65520.0, DType::F16), INFINITY);
  EXPECT_EQ(roundToFloatType(1 + pow2(-11), DType::F16), 1.0);
  EXPECT_EQ(roundToFloatType(1 + pow2(-8), DType::BF16), 1.0);
  EXPECT_EQ(roundToFloatType(1 + pow2(-24), DType::F32), 1.0);
  EXPECT_EQ(roundToFloatType(1 + pow2(-24) + pow2(-40), DType::F32),
            1 + pow2(-23));
  EXPECT_EQ(roundToFloatType(0.1, DType::F32), static_cast<double>(0.1f));
  EXPECT_TRUE(std::isnan(roundToFloatType(NAN, DType::F16)));
}

TEST(Float16, RoundToIntType) {
  EXPECT_EQ(roundToIntType(0.5, DType::I8), 0);
  EXPECT_EQ(roundToIntType(1.5, DType::I8), 2);
  EXPECT_EQ(roundToIntType(2.5, DType::I8), 2);
  EXPECT_EQ(roundToIntType(-2.5, DType::I8), -2);
  EXPECT_EQ(roundToIntType(127.5, DType::I8), 127);
  EXPECT_EQ(roundToIntType(-128.5, DType::I8), -128);
  EXPECT_EQ(roundToIntType(7.5, DType::I4), 7);
  EXPECT_EQ(roundToIntType(-9.0, DType::I4), -8);
  EXPECT_EQ(roundToIntType(2147483647.5, DType::I32), INT32_MAX);
  EXPECT_EQ(roundToIntType(-2147483648.5, DType::I32), INT32_MIN);
  EXPECT_EQ(roundToIntType(pow2(63), DType::I64), INT64_MAX);
  EXPECT_EQ(roundToIntType(-pow2(63), DType::I64), INT64_MIN);
  EXPECT_EQ(roundToIntType(pow2(62), DType::I64), int64_t(1) << 62);
  EXPECT_EQ(roundToIntType(1e300, DType::I64), INT64_MAX);
  EXPECT_EQ(roundToIntType(-INFINITY, DType::I32), INT32_MIN);
  EXPECT_EQ(roundToIntType(NAN, DType::I8), 0);
  EXPECT_EQ(minValue(DType::I4), -8);
  EXPECT_EQ(maxValue(DType::I8), 127);
}
