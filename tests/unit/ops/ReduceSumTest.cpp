//===- ReduceSumTest.cpp - reduce_sum: dims, order, precision, wrap -------===//
#include "OpTestUtil.h"

#include <limits>

using namespace kiln;
using namespace kiln::testing;

namespace {

/// Builds reduce_sum over a parameter of `type`; null op if it failed.
Op *reduce(TestGraph &g, TensorType type, IntList dims, bool keep = false) {
  Value *x = g.b.param("x", std::move(type));
  Op *op = g.b.reduce_sum({.input = x}, {.dims = dims, .keep_dims = keep}).op();
  return g.b.ok() ? op : nullptr;
}


TEST(ReduceSumTest, RowsColumnsAndAll) {
  Tensor x = makeTensor(DType::F32, {2, 3}, {1, 2, 3, 4, 5, 6});
  struct Case {
    IntList dims;
    bool keep;
    TensorType type;
    std::vector<double> expected;
  } cases[] = {
      {{1}, false, {DType::F32, {2}}, {6, 15}},
      {{-1}, true, {DType::F32, {2, 1}}, {6, 15}},
      {{0}, false, {DType::F32, {3}}, {5, 7, 9}},
      {{0, 1}, false, {DType::F32, {}}, {21}},
      {{1, 0}, true, {DType::F32, {1, 1}}, {21}},
  };
  for (const Case &c : cases) {
    TestGraph g;
    Op *op = reduce(g, {DType::F32, {2, 3}}, c.dims, c.keep);
    ASSERT_TRUE(op) << g.lastError();
    EXPECT_EQ(op->result()->type(), c.type);
    auto out = evalOp(*op, {&x});
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(values(out[0]), c.expected);
  }
}

TEST(ReduceSumTest, OuterAndInnerOfRank3) {
  // x[i][j][k] = 12i + 4j + k; sum over i, k = 32j + 60.
  TestGraph g;
  Op *op = reduce(g, {DType::F32, {2, 3, 4}}, {0, 2});
  ASSERT_TRUE(op) << g.lastError();
  EXPECT_EQ(op->result()->type(), (TensorType{DType::F32, {3}}));
  Tensor x = makeTensor(DType::F32, {2, 3, 4}, iota(24));
  auto out = evalOp(*op, {&x});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(values(out[0]), (std::vector<double>{60, 92, 124}));
}

TEST(ReduceSumTest, OddShape) {
  TestGraph g;
  Op *op = reduce(g, {DType::F16, {3, 17}}, {1});
  ASSERT_TRUE(op) << g.lastError();
  Tensor x = makeTensor(DType::F16, {3, 17}, iota(51));
  auto out = evalOp(*op, {&x});
  ASSERT_EQ(out.size(), 1u);
  // Row r sums 17r + 0..16 = 289r + 136.
  EXPECT_EQ(values(out[0]), (std::vector<double>{136, 425, 714}));
}

TEST(ReduceSumTest, SymbolsPropagate) {
  TestGraph g;
  g.b.symbols({"M"});
  Op *op = reduce(g, {DType::F32, {"M", 4}}, {1});
  ASSERT_TRUE(op) << g.lastError();
  EXPECT_EQ(op->result()->type(), (TensorType{DType::F32, {"M"}}));
  TestGraph g2;
  g2.b.symbols({"M"});
  Op *op2 = reduce(g2, {DType::BF16, {"M", 4}}, {0}, true);
  ASSERT_TRUE(op2) << g2.lastError();
  EXPECT_EQ(op2->result()->type(), (TensorType{DType::BF16, {1, 4}}));
}

TEST(ReduceSumTest, BF16AccumulatesInF32AndRoundsOnce) {
  // In bf16, 256 + 1 ties back to 256 at every step; in fp32 the sum is
  // 258, a bf16 value. [1, 2^-8] sums to a bf16 tie that rounds to 1.
  TestGraph g;
  Op *op = reduce(g, {DType::BF16, {2, 3}}, {1});
  ASSERT_TRUE(op) << g.lastError();
  Tensor x = makeTensor(DType::BF16, {2, 3}, {256, 1, 1, 1, 0.00390625, 0});
  auto out = evalOp(*op, {&x});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(values(out[0]), (std::vector<double>{258, 1}));
}

TEST(ReduceSumTest, AscendingRowMajorOrder) {
  // fp32: (1e8 + 1) - 1e8 = 0, while 1e8 - 1e8 + 1 = 1. Reducing [2,2] over
  // dims [1, 0] still walks x[0,0], x[0,1], x[1,0], x[1,1].
  TestGraph g;
  Op *op = reduce(g, {DType::F32, {2, 2}}, {1, 0});
  ASSERT_TRUE(op) << g.lastError();
  Tensor x = makeTensor(DType::F32, {2, 2}, {1e8, 1, -1e8, 0});
  auto out = evalOp(*op, {&x});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(values(out[0]), (std::vector<double>{0}));
}

TEST(ReduceSumTest, I8SumsIntoI32) {
  TestGraph g;
  Op *op = reduce(g, {DType::I8, {2, 3}}, {1});
  ASSERT_TRUE(op) << g.lastError();
  EXPECT_EQ(op->result()->type(), (TensorType{DType::I32, {2}}));
  Tensor x = makeTensor(DType::I8, {2, 3}, {127, 127, 127, -128, -128, -128});
  auto out = evalOp(*op, {&x});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(values(out[0]), (std::vector<double>{381, -384}));
}

TEST(ReduceSumTest, I32AndI64Wrap) {
  TestGraph g;
  Op *op = reduce(g, {DType::I32, {2, 2}}, {1});
  ASSERT_TRUE(op) << g.lastError();
  EXPECT_EQ(op->result()->type(), (TensorType{DType::I32, {2}}));
  Tensor x = makeTensor(DType::I32, {2, 2},
                        {2147483647, 1, -2147483648.0, -2147483648.0});
  auto out = evalOp(*op, {&x});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(values(out[0]), (std::vector<double>{-2147483648.0, 0}));

  TestGraph g64;
  Op *op64 = reduce(g64, {DType::I64, {3}}, {0});
  ASSERT_TRUE(op64) << g64.lastError();
  EXPECT_EQ(op64->result()->type(), (TensorType{DType::I64, {}}));
  Tensor y(DType::I64, {3});
  y.setInt(0, std::numeric_limits<int64_t>::max());
  y.setInt(1, 1);
  y.setInt(2, 2);
  auto out64 = evalOp(*op64, {&y});
  ASSERT_EQ(out64.size(), 1u);
  EXPECT_EQ(out64[0].getInt(0), std::numeric_limits<int64_t>::min() + 2);
}

TEST(ReduceSumTest, Errors) {
  struct Case {
    TensorType type;
    IntList dims;
    const char *message;
  } cases[] = {
      {{DType::F32, {2, 3}}, {}, "'reduce_sum' op dims must not be empty"},
      {{DType::F32, {2, 3}},
       {2},
       "'reduce_sum' op dims[0] = 2 is out of range for rank 2"},
      {{DType::F32, {2, 3}},
       {0, -3},
       "'reduce_sum' op dims[1] = -3 is out of range for rank 2"},
      {{DType::F32, {2, 3}},
       {1, -1},
       "'reduce_sum' op dims[1] = -1 reduces dim 1 twice"},
      {{DType::I4, {2, 8}},
       {1},
       "'reduce_sum' op input must be i8, i32, i64, f16, bf16 or f32, got i4"},
  };
  for (const Case &c : cases) {
    TestGraph g;
    EXPECT_FALSE(reduce(g, c.type, c.dims));
    EXPECT_EQ(g.lastError(), c.message);
  }
}

} // namespace
