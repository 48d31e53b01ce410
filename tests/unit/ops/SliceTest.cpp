//===- SliceTest.cpp - slice: ranges, symbols, run-time checks ------------===//
#include "OpTestUtil.h"

using namespace kiln;
using namespace kiln::testing;

namespace {

Op *slice(TestGraph &g, TensorType type, ops::Slice::Attrs attrs) {
  Value *x = g.b.param("x", std::move(type));
  Op *op = g.b.slice({.input = x}, attrs).op();
  return g.b.ok() ? op : nullptr;
}


TEST(SliceTest, InnerAxis) {
  TestGraph g;
  Op *op = slice(g, {DType::F32, {3, 5}}, {.axis = 1, .start = 1, .size = 3});
  ASSERT_TRUE(op) << g.lastError();
  EXPECT_EQ(op->result()->type(), (TensorType{DType::F32, {3, 3}}));
  Tensor x = makeTensor(DType::F32, {3, 5}, iota(15));
  auto out = evalOp(*op, {&x});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(values(out[0]),
            (std::vector<double>{1, 2, 3, 6, 7, 8, 11, 12, 13}));
}

TEST(SliceTest, OuterAxisAndNegativeAxis) {
  TestGraph g;
  Op *op = slice(g, {DType::I8, {3, 5}}, {.axis = 0, .start = 2, .size = 1});
  ASSERT_TRUE(op) << g.lastError();
  Tensor x = makeTensor(DType::I8, {3, 5}, iota(15));
  auto out = evalOp(*op, {&x});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(values(out[0]), (std::vector<double>{10, 11, 12, 13, 14}));

  TestGraph g2;
  Op *op2 = slice(g2, {DType::I8, {3, 5}}, {.axis = -1, .start = 4, .size = 1});
  ASSERT_TRUE(op2) << g2.lastError();
  EXPECT_EQ(op2->result()->type(), (TensorType{DType::I8, {3, 1}}));
  auto out2 = evalOp(*op2, {&x});
  ASSERT_EQ(out2.size(), 1u);
  EXPECT_EQ(values(out2[0]), (std::vector<double>{4, 9, 14}));
}

TEST(SliceTest, I4OddWidthAndEmpty) {
  TestGraph g;
  Op *op = slice(g, {DType::I4, {2, 17}}, {.axis = 1, .start = 9, .size = 8});
  ASSERT_TRUE(op) << g.lastError();
  std::vector<double> in;
  for (int i = 0; i < 34; ++i)
    in.push_back(i % 16 - 8);
  Tensor x = makeTensor(DType::I4, {2, 17}, in);
  auto out = evalOp(*op, {&x});
  ASSERT_EQ(out.size(), 1u);
  // Row 0: elements 9..16 -> 1..7, -8; row 1: 26..33 -> 2..7, -8, -7.
  EXPECT_EQ(values(out[0]), (std::vector<double>{1, 2, 3, 4, 5, 6, 7, -8, 2, 3,
                                                 4, 5, 6, 7, -8, -7}));

  TestGraph g2;
  Op *op2 = slice(g2, {DType::F32, {3, 5}}, {.axis = 1, .start = 5, .size = 0});
  ASSERT_TRUE(op2) << g2.lastError();
  EXPECT_EQ(op2->result()->type(), (TensorType{DType::F32, {3, 0}}));
}

TEST(SliceTest, SymbolicAxisCheckedAtRunTime) {
  TestGraph g;
  g.b.symbols({"M"});
  Op *op = slice(g, {DType::F32, {"M", 4}}, {.axis = 0, .start = 1, .size = 2});
  ASSERT_TRUE(op) << g.lastError();
  EXPECT_EQ(op->result()->type(), (TensorType{DType::F32, {2, 4}}));
  Tensor ok = makeTensor(DType::F32, {3, 4}, iota(12));
  auto out = evalOp(*op, {&ok});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(values(out[0]), (std::vector<double>{4, 5, 6, 7, 8, 9, 10, 11}));

  Tensor tooShort = makeTensor(DType::F32, {2, 4}, iota(8));
  EXPECT_TRUE(evalOp(*op, {&tooShort}).empty());
  EXPECT_EQ(g.lastError(),
            "'slice' op slice [1, 3) exceeds dim 0 of size 2 at run time");
}

TEST(SliceTest, SymbolsInOtherDimsPropagate) {
  TestGraph g;
  g.b.symbols({"M"});
  Op *op = slice(g, {DType::F16, {"M", 8}}, {.axis = 1, .start = 4, .size = 4});
  ASSERT_TRUE(op) << g.lastError();
  EXPECT_EQ(op->result()->type(), (TensorType{DType::F16, {"M", 4}}));
}

TEST(SliceTest, Errors) {
  struct Case {
    TensorType type;
    ops::Slice::Attrs attrs;
    const char *message;
  } cases[] = {
      {{DType::F32, {3, 5}},
       {.axis = 2, .start = 0, .size = 1},
       "'slice' op axis 2 is out of range for input f32[3,5]"},
      {{DType::F32, {3, 5}},
       {.axis = -3, .start = 0, .size = 1},
       "'slice' op axis -3 is out of range for input f32[3,5]"},
      {{DType::F32, {3, 5}},
       {.axis = 1, .start = -1, .size = 1},
       "'slice' op start (-1) and size (1) must be >= 0"},
      {{DType::F32, {3, 5}},
       {.axis = 1, .start = 0, .size = -2},
       "'slice' op start (0) and size (-2) must be >= 0"},
      {{DType::F32, {3, 5}},
       {.axis = 1, .start = 3, .size = 3},
       "'slice' op slice [3, 6) exceeds dim 1 of size 5"},
      {{DType::F32, {16, 16}, Layout::NZ},
       {.axis = 0, .start = 0, .size = 1},
       "'slice' op input must be in ND layout, got f32[16,16] NZ"},
  };
  for (const Case &c : cases) {
    TestGraph g;
    EXPECT_FALSE(slice(g, c.type, c.attrs));
    EXPECT_EQ(g.lastError(), c.message);
  }
}

} // namespace
