//===- TransposeTest.cpp - transpose: permutations and errors -------------===//
#include "OpTestUtil.h"

using namespace kiln;
using namespace kiln::testing;

namespace {

Op *transpose(TestGraph &g, TensorType type, IntList perm) {
  Value *x = g.b.param("x", std::move(type));
  Op *op = g.b.transpose({.input = x}, {.perm = perm}).op();
  return g.b.ok() ? op : nullptr;
}


TEST(TransposeTest, Matrix) {
  TestGraph g;
  Op *op = transpose(g, {DType::F32, {2, 3}}, {1, 0});
  ASSERT_TRUE(op) << g.lastError();
  EXPECT_EQ(op->result()->type(), (TensorType{DType::F32, {3, 2}}));
  Tensor x = makeTensor(DType::F32, {2, 3}, iota(6));
  auto out = evalOp(*op, {&x});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(values(out[0]), (std::vector<double>{0, 3, 1, 4, 2, 5}));
}

TEST(TransposeTest, Rank3Rotation) {
  // r[k][i][j] = x[i][j][k] = 12i + 4j + k.
  TestGraph g;
  Op *op = transpose(g, {DType::BF16, {2, 3, 4}}, {2, 0, 1});
  ASSERT_TRUE(op) << g.lastError();
  EXPECT_EQ(op->result()->type(), (TensorType{DType::BF16, {4, 2, 3}}));
  Tensor x = makeTensor(DType::BF16, {2, 3, 4}, iota(24));
  auto out = evalOp(*op, {&x});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(values(out[0]),
            (std::vector<double>{0, 4, 8,  12, 16, 20, 1, 5, 9,  13, 17, 21,
                                 2, 6, 10, 14, 18, 22, 3, 7, 11, 15, 19, 23}));
}

TEST(TransposeTest, I4AndI64AreExact) {
  TestGraph g;
  Op *op = transpose(g, {DType::I4, {3, 17}}, {1, 0});
  ASSERT_TRUE(op) << g.lastError();
  std::vector<double> in, expected;
  for (int i = 0; i < 51; ++i)
    in.push_back(i % 16 - 8);
  for (int j = 0; j < 17; ++j)
    for (int i = 0; i < 3; ++i)
      expected.push_back(in[i * 17 + j]);
  Tensor x = makeTensor(DType::I4, {3, 17}, in);
  auto out = evalOp(*op, {&x});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(values(out[0]), expected);

  TestGraph g64;
  Op *op64 = transpose(g64, {DType::I64, {1, 2}}, {1, 0});
  ASSERT_TRUE(op64) << g64.lastError();
  Tensor y(DType::I64, {1, 2});
  y.setInt(0, (int64_t{1} << 60) + 1); // not a double
  y.setInt(1, -((int64_t{1} << 59) + 3));
  auto out64 = evalOp(*op64, {&y});
  ASSERT_EQ(out64.size(), 1u);
  EXPECT_EQ(out64[0].getInt(0), (int64_t{1} << 60) + 1);
  EXPECT_EQ(out64[0].getInt(1), -((int64_t{1} << 59) + 3));
}

TEST(TransposeTest, SymbolsMoveWithTheirDims) {
  TestGraph g;
  g.b.symbols({"M"});
  Op *op = transpose(g, {DType::F16, {"M", 7, 1}}, {1, 2, 0});
  ASSERT_TRUE(op) << g.lastError();
  EXPECT_EQ(op->result()->type(), (TensorType{DType::F16, {7, 1, "M"}}));
}

TEST(TransposeTest, IdentityAndRankZero) {
  TestGraph g;
  Op *op = transpose(g, {DType::F32, {}}, {});
  ASSERT_TRUE(op) << g.lastError();
  Tensor x = makeTensor(DType::F32, {}, {42});
  auto out = evalOp(*op, {&x});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(values(out[0]), (std::vector<double>{42}));
}

TEST(TransposeTest, Errors) {
  struct Case {
    TensorType type;
    IntList perm;
    const char *message;
  } cases[] = {
      {{DType::F32, {2, 3}},
       {1, 1},
       "'transpose' op perm [1, 1] is not a permutation of 0..1 for input "
       "f32[2,3]"},
      {{DType::F32, {2, 3}},
       {0},
       "'transpose' op perm [0] is not a permutation of 0..1 for input "
       "f32[2,3]"},
      {{DType::F32, {2, 3}},
       {0, 2},
       "'transpose' op perm [0, 2] is not a permutation of 0..1 for input "
       "f32[2,3]"},
      {{DType::F32, {2, 3}},
       {-1, 0},
       "'transpose' op perm [-1, 0] is not a permutation of 0..1 for input "
       "f32[2,3]"},
      {{DType::F32, {16, 16}, Layout::NZ},
       {1, 0},
       "'transpose' op input must be in ND layout, got f32[16,16] NZ"},
  };
  for (const Case &c : cases) {
    TestGraph g;
    EXPECT_FALSE(transpose(g, c.type, c.perm));
    EXPECT_EQ(g.lastError(), c.message);
  }
}

} // namespace
