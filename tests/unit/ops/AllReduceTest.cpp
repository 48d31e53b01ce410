//===- AllReduceTest.cpp - allreduce inference and reference kernel -------===//
#include "OpTestUtil.h"

#include <cmath>

namespace kiln {
namespace {

using namespace kiln::testing;

TEST(AllReduceTest, SingleRankCopiesExactly) {
  for (DType t : {DType::F16, DType::BF16, DType::F32}) {
    TestGraph g;
    Value *x = g.b.param("x", {t, {2, 3}});
    Results r = g.b.allreduce({.input = x});
    ASSERT_TRUE(g.b.ok()) << g.lastError();
    EXPECT_EQ(r.op()->result()->type(), (TensorType{t, {2, 3}}));
    // Values exact in every dtype, including -0.
    Tensor in = makeTensor(t, {2, 3}, {1.5, -0.0, 448, -3.25, 0.125, 7});
    auto outs = evalOp(*r.op(), {&in});
    ASSERT_EQ(outs.size(), 1u);
    EXPECT_TRUE(outs[0].sameValues(in));
    EXPECT_TRUE(std::signbit(outs[0].getDouble(1)));
  }
}

TEST(AllReduceTest, KeepsNZLayoutAndSymbols) {
  TestGraph g;
  g.b.symbols({"M"});
  Value *x = g.b.param("x", {DType::F16, {"M", 32}, Layout::NZ});
  Results r = g.b.allreduce({.input = x});
  ASSERT_TRUE(g.b.ok()) << g.lastError();
  EXPECT_EQ(r.op()->result()->type(),
            (TensorType{DType::F16, {"M", 32}, Layout::NZ}));

  TestGraph s;
  Value *y = s.b.param("y", {DType::F32, {17, 9}, Layout::NZ});
  Results ry = s.b.allreduce({.input = y});
  std::vector<double> v;
  for (int i = 0; i < 17 * 9; ++i)
    v.push_back(i * 0.25 - 10);
  Tensor in = makeTensor(DType::F32, {17, 9}, v).toLayout(Layout::NZ);
  auto outs = evalOp(*ry.op(), {&in});
  ASSERT_EQ(outs.size(), 1u);
  EXPECT_EQ(values(outs[0]), v);
}

TEST(AllReduceTest, InferenceErrors) {
  TestGraph g;
  g.b.allreduce({.input = g.b.param("x", {DType::I32, {4}})});
  EXPECT_FALSE(g.b.ok());
  EXPECT_NE(g.lastError().find(
                "'allreduce' op input must be f16, bf16 or f32, got i32"),
            std::string::npos)
      << g.lastError();
}

} // namespace
} // namespace kiln
