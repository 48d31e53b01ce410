//===- ReshapeTest.cpp - reshape: element counts, symbols, copies ---------===//
#include "OpTestUtil.h"

using namespace kiln;
using namespace kiln::testing;

namespace {

Op *reshape(TestGraph &g, TensorType type, DimList shape) {
  Value *x = g.b.param("x", std::move(type));
  Op *op = g.b.reshape({.input = x}, {.shape = shape}).op();
  return g.b.ok() ? op : nullptr;
}

TEST(ReshapeTest, KeepsRowMajorOrder) {
  TestGraph g;
  Op *op = reshape(g, {DType::F32, {2, 3}}, {3, 1, 2});
  ASSERT_TRUE(op) << g.lastError();
  EXPECT_EQ(op->result()->type(), (TensorType{DType::F32, {3, 1, 2}}));
  Tensor x = makeTensor(DType::F32, {2, 3}, {1, 2, 3, 4, 5, 6});
  auto out = evalOp(*op, {&x});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].shape(), (Shape{3, 1, 2}));
  EXPECT_EQ(values(out[0]), (std::vector<double>{1, 2, 3, 4, 5, 6}));
}

TEST(ReshapeTest, I4OddRowsRepack) {
  // [3,17] -> [17,3]: the packed rows have different padding.
  TestGraph g;
  Op *op = reshape(g, {DType::I4, {3, 17}}, {17, 3});
  ASSERT_TRUE(op) << g.lastError();
  std::vector<double> in;
  for (int i = 0; i < 51; ++i)
    in.push_back(i % 16 - 8);
  Tensor x = makeTensor(DType::I4, {3, 17}, in);
  auto out = evalOp(*op, {&x});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(values(out[0]), in);
}

TEST(ReshapeTest, I64IsExact) {
  TestGraph g;
  Op *op = reshape(g, {DType::I64, {2}}, {1, 2});
  ASSERT_TRUE(op) << g.lastError();
  Tensor x(DType::I64, {2});
  x.setInt(0, (int64_t{1} << 62) + 1);
  x.setInt(1, -7);
  auto out = evalOp(*op, {&x});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].getInt(0), (int64_t{1} << 62) + 1);
  EXPECT_EQ(out[0].getInt(1), -7);
}

TEST(ReshapeTest, SymbolsMustMatchAsAMultiset) {
  TestGraph g;
  g.b.symbols({"M", "N"});
  Value *x = g.b.param("x", {DType::F16, {"M", 8}});
  Op *op = g.b.reshape({.input = x}, {.shape = {"M", 2, 4}}).op();
  ASSERT_TRUE(g.b.ok()) << g.lastError();
  EXPECT_EQ(op->result()->type(), (TensorType{DType::F16, {"M", 2, 4}}));
  Value *y = g.b.param("y", {DType::F16, {"M", "N", 4}});
  Op *op2 = g.b.reshape({.input = y}, {.shape = {2, "N", 2, "M"}}).op();
  ASSERT_TRUE(g.b.ok()) << g.lastError();
  EXPECT_EQ(op2->result()->type(), (TensorType{DType::F16, {2, "N", 2, "M"}}));
}

TEST(ReshapeTest, Errors) {
  struct Case {
    TensorType type;
    DimList shape;
    const char *message;
  } cases[] = {
      {{DType::F32, {"M", 8}},
       {"N", 8},
       "'reshape' op shape [N,8] does not have the element count of input "
       "[M,8]"},
      {{DType::F32, {"M", 8}},
       {8},
       "'reshape' op shape [8] does not have the element count of input "
       "[M,8]"},
      {{DType::F32, {4, 4}},
       {2, 4},
       "'reshape' op shape [2,4] does not have the element count of input "
       "[4,4]"},
      {{DType::F32, {4, 4}},
       {"K", 4},
       "'reshape' op shape [K,4] uses undeclared symbol K"},
      {{DType::F32, {4, 4}},
       {-1, 16},
       "'reshape' op shape [-1,16] has a negative dim -1"},
      {{DType::F32, {16, 16}, Layout::NZ},
       {256},
       "'reshape' op input must be in ND layout, got f32[16,16] NZ"},
  };
  for (const Case &c : cases) {
    TestGraph g;
    g.b.symbols({"M", "N"});
    EXPECT_FALSE(reshape(g, c.type, c.shape));
    EXPECT_EQ(g.lastError(), c.message);
  }
}

} // namespace
