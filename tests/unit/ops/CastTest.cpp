//===- CastTest.cpp - cast: every direction of dtype conversion -----------===//
#include "OpTestUtil.h"

#include <cmath>
#include <limits>

using namespace kiln;
using namespace kiln::testing;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

/// Casts `in` (of dtype `from`) to `to` and returns the result.
Tensor castTo(const Tensor &in, DType to) {
  TestGraph g;
  Value *x = g.b.param("x", in.type());
  Op *op = g.b.cast({.input = x}, {.to = to}).op();
  EXPECT_TRUE(g.b.ok()) << g.lastError();
  auto out = evalOp(*op, {&in});
  EXPECT_EQ(out.size(), 1u);
  return out.empty() ? Tensor() : out[0];
}

TEST(CastTest, InfersTypeKeepsSymbolsAndDropsNZ) {
  TestGraph g;
  g.b.symbols({"M"});
  Value *x = g.b.param("x", {DType::F16, {"M", 64}, Layout::NZ});
  Op *op = g.b.cast({.input = x}, {.to = DType::I8}).op();
  ASSERT_TRUE(g.b.ok()) << g.lastError();
  EXPECT_EQ(op->result()->type(), (TensorType{DType::I8, {"M", 64}}));
}

TEST(CastTest, F32ToF16RoundsNearestEven) {
  // 2049 and 2051 are ties (ulp 2); 65519 rounds to the max, the 65520 tie
  // rounds up to 65536 = inf; 2^-25 ties to 0 and 3 * 2^-25 ties to 2^-23;
  // 1e-8 is below half the smallest subnormal.
  Tensor in =
      makeTensor(DType::F32, {10},
                 {2049, 2051, 65519, 65520, -65520, std::ldexp(1.0, -25),
                  3 * std::ldexp(1.0, -25), 1e-8, 0.1, kNaN});
  Tensor out = castTo(in, DType::F16);
  std::vector<double> v = values(out);
  std::vector<double> expected = {
      2048, 2052,           65504, kInf, -kInf, 0, std::ldexp(1.0, -23),
      0,    0.0999755859375};
  for (size_t i = 0; i < expected.size(); ++i)
    EXPECT_EQ(v[i], expected[i]) << "element " << i;
  EXPECT_TRUE(std::isnan(v[9]));
}

TEST(CastTest, F32ToBF16RoundsNearestEven) {
  Tensor in = makeTensor(DType::F32, {4},
                         {1.00390625, 1.01171875, 1.0039064, -3.0234375});
  EXPECT_EQ(values(castTo(in, DType::BF16)),
            (std::vector<double>{1.0, 1.015625, 1.0078125, -3.03125}));
}

TEST(CastTest, WideningIsExact) {
  Tensor h = makeTensor(DType::F16, {3}, {0.0999755859375, 65504, -2048});
  EXPECT_EQ(values(castTo(h, DType::F32)),
            (std::vector<double>{0.0999755859375, 65504, -2048}));
  Tensor b = makeTensor(DType::BF16, {2}, {1.015625, -3.03125});
  EXPECT_EQ(values(castTo(b, DType::F32)),
            (std::vector<double>{1.015625, -3.03125}));
}

TEST(CastTest, FloatToI8RoundsHalfEvenAndSaturates) {
  Tensor in = makeTensor(DType::F32, {12},
                         {2.5, 3.5, -2.5, -0.5, 0.49999997, 127.5, 126.5,
                          -128.5, -129, 300, kInf, kNaN});
  EXPECT_EQ(
      values(castTo(in, DType::I8)),
      (std::vector<double>{2, 4, -2, 0, 0, 127, 126, -128, -128, 127, 127, 0}));
  Tensor ninf = makeTensor(DType::BF16, {1}, {-kInf});
  EXPECT_EQ(values(castTo(ninf, DType::I8)), (std::vector<double>{-128}));
}

TEST(CastTest, FloatToI4AndI32) {
  Tensor in = makeTensor(DType::F16, {5}, {7.4, 7.5, -8.5, 2.5, -100});
  EXPECT_EQ(values(castTo(in, DType::I4)),
            (std::vector<double>{7, 7, -8, 2, -8}));
  Tensor big = makeTensor(DType::F32, {3}, {3e9, -3e9, 2147483520});
  EXPECT_EQ(values(castTo(big, DType::I32)),
            (std::vector<double>{2147483647, -2147483648.0, 2147483520}));
}

TEST(CastTest, IntToIntSaturates) {
  Tensor in = makeTensor(DType::I32, {6},
                         {300, -300, 127, -128, 2147483647, -2147483648.0});
  EXPECT_EQ(values(castTo(in, DType::I8)),
            (std::vector<double>{127, -128, 127, -128, 127, -128}));
  Tensor i8 = makeTensor(DType::I8, {5}, {-9, 8, -8, 7, 5});
  EXPECT_EQ(values(castTo(i8, DType::I4)),
            (std::vector<double>{-8, 7, -8, 7, 5}));
  Tensor i64(DType::I64, {2});
  i64.setInt(0, std::numeric_limits<int64_t>::max());
  i64.setInt(1, std::numeric_limits<int64_t>::min());
  EXPECT_EQ(values(castTo(i64, DType::I32)),
            (std::vector<double>{2147483647, -2147483648.0}));
}

TEST(CastTest, I4WidensExactly) {
  // 17 elements: two packed int32 words plus one nibble.
  std::vector<double> expected;
  for (int v = -8; v <= 8; ++v)
    expected.push_back(v == 8 ? -1 : v);
  Tensor in = makeTensor(DType::I4, {17}, expected);
  EXPECT_EQ(values(castTo(in, DType::I32)), expected);
  EXPECT_EQ(values(castTo(in, DType::F16)), expected);
}

TEST(CastTest, IntToFloatRoundsOnce) {
  // 2^24 + 1 ties to 2^24; 2^24 + 3 ties to 2^24 + 4 (even).
  Tensor in = makeTensor(DType::I32, {3}, {16777217, 16777219, 2147483647});
  EXPECT_EQ(values(castTo(in, DType::F32)),
            (std::vector<double>{16777216, 16777220, 2147483648.0}));
  Tensor h = makeTensor(DType::I32, {3}, {2049, 65519, 65520});
  EXPECT_EQ(values(castTo(h, DType::F16)),
            (std::vector<double>{2048, 65504, kInf}));
  // 2^60 + 2^36 + 1 is just above the f32 tie 2^60 + 2^36; via double it
  // would first become the tie and then round down to 2^60.
  Tensor i64(DType::I64, {2});
  i64.setInt(0, (int64_t{1} << 60) + (int64_t{1} << 36) + 1);
  i64.setInt(1, -((int64_t{1} << 60) + (int64_t{1} << 36) + 1));
  EXPECT_EQ(
      values(castTo(i64, DType::F32)),
      (std::vector<double>{1152921642045800448.0, -1152921642045800448.0}));
}

TEST(CastTest, NZInputCastsLogicalValues) {
  std::vector<double> in;
  for (int i = 0; i < 17 * 33; ++i)
    in.push_back(i % 200 - 100);
  Tensor x = makeTensor(DType::I8, {17, 33}, in, Layout::NZ);
  Tensor out = castTo(x, DType::F32);
  EXPECT_EQ(out.layout(), Layout::ND);
  EXPECT_EQ(values(out), in);
}

} // namespace
