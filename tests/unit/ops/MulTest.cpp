//===- MulTest.cpp - mul: broadcasting, rounding, wrap --------------------===//
#include "OpTestUtil.h"

#include <limits>

using namespace kiln;
using namespace kiln::testing;

namespace {

TEST(MulTest, BroadcastsColumn) {
  TestGraph g;
  Value *x = g.b.param("x", {DType::F32, {2, 3}});
  Value *y = g.b.param("y", {DType::F32, {2, 1}});
  Op *op = g.b.mul({.lhs = x, .rhs = y}).op();
  ASSERT_TRUE(g.b.ok()) << g.lastError();
  EXPECT_EQ(op->result()->type(), (TensorType{DType::F32, {2, 3}}));
  Tensor a = makeTensor(DType::F32, {2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor b = makeTensor(DType::F32, {2, 1}, {-1, 0.5});
  auto out = evalOp(*op, {&a, &b});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(values(out[0]), (std::vector<double>{-1, -2, -3, 2, 2.5, 3}));
}

TEST(MulTest, OuterProductWithSymbols) {
  TestGraph g;
  g.b.symbols({"M", "N"});
  Value *x = g.b.param("x", {DType::F32, {"M", 1}});
  Value *y = g.b.param("y", {DType::F32, {1, "N"}});
  Op *op = g.b.mul({.lhs = x, .rhs = y}).op();
  ASSERT_TRUE(g.b.ok()) << g.lastError();
  EXPECT_EQ(op->result()->type(), (TensorType{DType::F32, {"M", "N"}}));
}

TEST(MulTest, BF16RoundsTiesToEven) {
  TestGraph g;
  Value *x = g.b.param("x", {DType::BF16, {2}});
  Op *op = g.b.mul({.lhs = x, .rhs = x}).op();
  // bf16 ulp in [2, 4) is 2^-6. 3 * 129/128 = 193.5 ulps -> 194 (even);
  // 3 * 131/128 = 196.5 ulps -> 196 (even).
  Tensor a = makeTensor(DType::BF16, {2}, {3, 3});
  Tensor b = makeTensor(DType::BF16, {2}, {1.0078125, 1.0234375});
  auto out = evalOp(*op, {&a, &b});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(values(out[0]), (std::vector<double>{3.03125, 3.0625}));
}

TEST(MulTest, F16ProductRounded) {
  TestGraph g;
  Value *x = g.b.param("x", {DType::F16, {3}});
  Op *op = g.b.mul({.lhs = x, .rhs = x}).op();
  // 45 * 91 = 4095: f16 ulp at [2048, 4096) is 2, tie -> 4096 (even).
  // 300 * 300 = 90000 overflows to inf; 2^-12 * 2^-13 = 2^-25 ties to 0.
  Tensor a = makeTensor(DType::F16, {3}, {45, 300, 0.000244140625});
  Tensor b = makeTensor(DType::F16, {3}, {91, 300, 0.0001220703125});
  auto out = evalOp(*op, {&a, &b});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(
      values(out[0]),
      (std::vector<double>{4096, std::numeric_limits<double>::infinity(), 0}));
}

TEST(MulTest, IntegersWrap) {
  TestGraph g;
  Value *x = g.b.param("x", {DType::I8, {3}});
  Op *op = g.b.mul({.lhs = x, .rhs = x}).op();
  Tensor a = makeTensor(DType::I8, {3}, {16, -128, 127});
  Tensor b = makeTensor(DType::I8, {3}, {8, -1, 127});
  auto out = evalOp(*op, {&a, &b});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(values(out[0]), (std::vector<double>{-128, -128, 1}));

  Value *y = g.b.param("y", {DType::I32, {2}});
  Op *op32 = g.b.mul({.lhs = y, .rhs = y}).op();
  Tensor c = makeTensor(DType::I32, {2}, {65536, 46341});
  Tensor d = makeTensor(DType::I32, {2}, {65536, 46341});
  auto out32 = evalOp(*op32, {&c, &d});
  ASSERT_EQ(out32.size(), 1u);
  EXPECT_EQ(values(out32[0]), (std::vector<double>{0, -2147479015}));

  Value *z = g.b.param("z", {DType::I64, {2}});
  Op *op64 = g.b.mul({.lhs = z, .rhs = z}).op();
  Tensor e = makeTensor(DType::I64, {2}, {4611686018427387904.0, 3037000500});
  Tensor f = makeTensor(DType::I64, {2}, {4, 3037000500});
  auto out64 = evalOp(*op64, {&e, &f});
  ASSERT_EQ(out64.size(), 1u);
  EXPECT_EQ(out64[0].getInt(0), 0);
  EXPECT_EQ(out64[0].getInt(1), int64_t{-9223372036709301616});
}

TEST(MulTest, ErrorNoBroadcast) {
  TestGraph g;
  Value *x = g.b.param("x", {DType::I32, {2, 3}});
  Value *y = g.b.param("y", {DType::I32, {2}});
  g.b.mul({.lhs = x, .rhs = y});
  EXPECT_FALSE(g.b.ok());
  EXPECT_EQ(g.lastError(), "'mul' op operands do not broadcast: [2,3] vs [2]");
}

TEST(MulTest, ErrorDTypeMismatch) {
  TestGraph g;
  Value *x = g.b.param("x", {DType::BF16, {2}});
  Value *y = g.b.param("y", {DType::F16, {2}});
  g.b.mul({.lhs = x, .rhs = y});
  EXPECT_FALSE(g.b.ok());
  EXPECT_EQ(g.lastError(),
            "'mul' op operands must have the same dtype, got bf16 and f16");
}

TEST(MulTest, ErrorI4) {
  TestGraph g;
  Value *x = g.b.param("x", {DType::I4, {2}});
  g.b.mul({.lhs = x, .rhs = x});
  EXPECT_FALSE(g.b.ok());
  EXPECT_NE(g.lastError().find("got i4"), std::string::npos) << g.lastError();
}

} // namespace
