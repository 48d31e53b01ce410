//===- AddTest.cpp - add: inference, broadcasting, rounding, wrap ---------===//
#include "OpTestUtil.h"

#include <cmath>
#include <limits>

using namespace kiln;
using namespace kiln::testing;

namespace {

TEST(AddTest, BroadcastsTrailingDim) {
  TestGraph g;
  Value *x = g.b.param("x", {DType::F32, {2, 3}});
  Value *y = g.b.param("y", {DType::F32, {3}});
  Op *op = g.b.add({.lhs = x, .rhs = y}).op();
  ASSERT_TRUE(g.b.ok()) << g.lastError();
  EXPECT_EQ(op->result()->type(), (TensorType{DType::F32, {2, 3}}));
  Tensor a = makeTensor(DType::F32, {2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor b = makeTensor(DType::F32, {3}, {10, 20, 30});
  auto out = evalOp(*op, {&a, &b});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(values(out[0]), (std::vector<double>{11, 22, 33, 14, 25, 36}));
}

TEST(AddTest, BroadcastsBothOperands) {
  TestGraph g;
  Value *x = g.b.param("x", {DType::F32, {3, 1}});
  Value *y = g.b.param("y", {DType::F32, {1, 4}});
  Op *op = g.b.add({.lhs = x, .rhs = y}).op();
  ASSERT_TRUE(g.b.ok()) << g.lastError();
  EXPECT_EQ(op->result()->type(), (TensorType{DType::F32, {3, 4}}));
  Tensor a = makeTensor(DType::F32, {3, 1}, {1, 2, 3});
  Tensor b = makeTensor(DType::F32, {1, 4}, {10, 20, 30, 40});
  auto out = evalOp(*op, {&a, &b});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(values(out[0]), (std::vector<double>{11, 21, 31, 41, 12, 22, 32, 42,
                                                 13, 23, 33, 43}));
}

TEST(AddTest, RankZeroAndOddLength) {
  TestGraph g;
  Value *x = g.b.param("x", {DType::F32, {}});
  Value *y = g.b.param("y", {DType::F32, {17}});
  Op *op = g.b.add({.lhs = x, .rhs = y}).op();
  ASSERT_TRUE(g.b.ok()) << g.lastError();
  EXPECT_EQ(op->result()->type(), (TensorType{DType::F32, {17}}));
  Tensor a = makeTensor(DType::F32, {}, {0.5});
  std::vector<double> in, expected;
  for (int i = 0; i < 17; ++i) {
    in.push_back(i);
    expected.push_back(i + 0.5);
  }
  Tensor b = makeTensor(DType::F32, {17}, in);
  auto out = evalOp(*op, {&a, &b});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(values(out[0]), expected);
}

TEST(AddTest, SymbolicDimsPropagate) {
  TestGraph g;
  g.b.symbols({"M"});
  Value *x = g.b.param("x", {DType::F16, {"M", 1}});
  Value *y = g.b.param("y", {DType::F16, {1, 4}});
  Op *op = g.b.add({.lhs = x, .rhs = y}).op();
  ASSERT_TRUE(g.b.ok()) << g.lastError();
  EXPECT_EQ(op->result()->type(), (TensorType{DType::F16, {"M", 4}}));
  Value *z = g.b.param("z", {DType::F16, {"M", 4}});
  Op *op2 = g.b.add({.lhs = z, .rhs = op->result()}).op();
  ASSERT_TRUE(g.b.ok()) << g.lastError();
  EXPECT_EQ(op2->result()->type(), (TensorType{DType::F16, {"M", 4}}));
}

TEST(AddTest, NZOperandGivesNDResult) {
  TestGraph g;
  Value *x = g.b.param("x", {DType::F16, {17, 33}, Layout::NZ});
  Value *y = g.b.param("y", {DType::F16, {33}});
  Op *op = g.b.add({.lhs = x, .rhs = y}).op();
  ASSERT_TRUE(g.b.ok()) << g.lastError();
  EXPECT_EQ(op->result()->type(), (TensorType{DType::F16, {17, 33}}));
  std::vector<double> xs, ys, expected;
  for (int i = 0; i < 17 * 33; ++i)
    xs.push_back(i);
  for (int j = 0; j < 33; ++j)
    ys.push_back(-j);
  for (int i = 0; i < 17; ++i)
    for (int j = 0; j < 33; ++j)
      expected.push_back(i * 33);
  Tensor a = makeTensor(DType::F16, {17, 33}, xs, Layout::NZ);
  Tensor b = makeTensor(DType::F16, {33}, ys);
  auto out = evalOp(*op, {&a, &b});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].layout(), Layout::ND);
  EXPECT_EQ(values(out[0]), expected);
}

TEST(AddTest, F16RoundsTiesToEven) {
  TestGraph g;
  Value *x = g.b.param("x", {DType::F16, {4}});
  Op *op = g.b.add({.lhs = x, .rhs = x}).op();
  ASSERT_TRUE(g.b.ok());
  // The fp32 sums 2049, 2051 are f16 ties (ulp 2 above 2048): to even.
  // 65519 rounds down to the f16 max 65504; 65520 is a tie that rounds up
  // to 65536, which overflows to +inf.
  Tensor a = makeTensor(DType::F16, {4}, {2048, 2050, 65504, 65504});
  Tensor b = makeTensor(DType::F16, {4}, {1, 1, 15, 16});
  auto out = evalOp(*op, {&a, &b});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(values(out[0]),
            (std::vector<double>{2048, 2052, 65504,
                                 std::numeric_limits<double>::infinity()}));
}

TEST(AddTest, BF16RoundsTiesToEven) {
  TestGraph g;
  Value *x = g.b.param("x", {DType::BF16, {2}});
  Op *op = g.b.add({.lhs = x, .rhs = x}).op();
  ASSERT_TRUE(g.b.ok());
  // bf16 ulp at 1 is 2^-7: 1 + 2^-8 ties down to 1 (even), 1 + 3*2^-8 ties
  // up to 1 + 2^-6.
  Tensor a = makeTensor(DType::BF16, {2}, {1.0, 1.0078125});
  Tensor b = makeTensor(DType::BF16, {2}, {0.00390625, 0.00390625});
  auto out = evalOp(*op, {&a, &b});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(values(out[0]), (std::vector<double>{1.0, 1.015625}));
}

TEST(AddTest, F32SumIsFloatPrecision) {
  TestGraph g;
  Value *x = g.b.param("x", {DType::F32, {1}});
  Op *op = g.b.add({.lhs = x, .rhs = x}).op();
  // 2^24 + 1 is not a float: the fp32 sum ties to 2^24.
  Tensor a = makeTensor(DType::F32, {1}, {16777216});
  Tensor b = makeTensor(DType::F32, {1}, {1});
  auto out = evalOp(*op, {&a, &b});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(values(out[0]), (std::vector<double>{16777216}));
}

TEST(AddTest, I8Wraps) {
  TestGraph g;
  Value *x = g.b.param("x", {DType::I8, {3}});
  Op *op = g.b.add({.lhs = x, .rhs = x}).op();
  Tensor a = makeTensor(DType::I8, {3}, {127, -128, 100});
  Tensor b = makeTensor(DType::I8, {3}, {1, -1, 100});
  auto out = evalOp(*op, {&a, &b});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(values(out[0]), (std::vector<double>{-128, 127, -56}));
}

TEST(AddTest, I32AndI64Wrap) {
  TestGraph g;
  Value *x = g.b.param("x", {DType::I32, {2}});
  Op *op = g.b.add({.lhs = x, .rhs = x}).op();
  Tensor a = makeTensor(DType::I32, {2}, {2147483647, -2147483648.0});
  Tensor b = makeTensor(DType::I32, {2}, {1, -1});
  auto out = evalOp(*op, {&a, &b});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(values(out[0]), (std::vector<double>{-2147483648.0, 2147483647}));

  Value *y = g.b.param("y", {DType::I64, {2}});
  Op *op64 = g.b.add({.lhs = y, .rhs = y}).op();
  Tensor c(DType::I64, {2}), d(DType::I64, {2});
  c.setInt(0, std::numeric_limits<int64_t>::max());
  c.setInt(1, (int64_t{1} << 53) + 1); // not representable as a double
  d.setInt(0, 1);
  d.setInt(1, 2);
  auto out64 = evalOp(*op64, {&c, &d});
  ASSERT_EQ(out64.size(), 1u);
  EXPECT_EQ(out64[0].getInt(0), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(out64[0].getInt(1), (int64_t{1} << 53) + 3);
}

TEST(AddTest, ErrorNoBroadcast) {
  TestGraph g;
  g.b.symbols({"M"});
  Value *x = g.b.param("x", {DType::F32, {"M", 4}});
  Value *y = g.b.param("y", {DType::F32, {3}});
  g.b.add({.lhs = x, .rhs = y});
  EXPECT_FALSE(g.b.ok());
  EXPECT_EQ(g.lastError(), "'add' op operands do not broadcast: [M,4] vs [3]");
}

TEST(AddTest, ErrorDifferentSymbolsDoNotBroadcast) {
  TestGraph g;
  g.b.symbols({"M", "N"});
  Value *x = g.b.param("x", {DType::F32, {"M"}});
  Value *y = g.b.param("y", {DType::F32, {"N"}});
  g.b.add({.lhs = x, .rhs = y});
  EXPECT_FALSE(g.b.ok());
  EXPECT_NE(g.lastError().find("operands do not broadcast: [M] vs [N]"),
            std::string::npos)
      << g.lastError();
}

TEST(AddTest, ErrorDTypeMismatch) {
  TestGraph g;
  Value *x = g.b.param("x", {DType::F32, {4}});
  Value *y = g.b.param("y", {DType::F16, {4}});
  g.b.add({.lhs = x, .rhs = y});
  EXPECT_FALSE(g.b.ok());
  EXPECT_NE(g.lastError().find("operands must have the same dtype, got f32 "
                               "and f16"),
            std::string::npos)
      << g.lastError();
}

TEST(AddTest, ErrorI4) {
  TestGraph g;
  Value *x = g.b.param("x", {DType::I4, {8}});
  g.b.add({.lhs = x, .rhs = x});
  EXPECT_FALSE(g.b.ok());
  EXPECT_NE(g.lastError().find("lhs must be i8, i32, i64, f16, bf16 or f32, "
                               "got i4"),
            std::string::npos)
      << g.lastError();
}

} // namespace
