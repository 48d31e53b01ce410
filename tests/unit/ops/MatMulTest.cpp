//===- MatMulTest.cpp - matmul inference and reference kernel -------------===//
#include "OpTestUtil.h"

#include <cmath>

namespace kiln {
namespace {

using namespace kiln::testing;


TEST(MatMulTest, Int8FullRange) {
  TestGraph g;
  Value *x = g.b.param("x", {DType::I8, {2, 3}});
  Value *w = g.b.param("w", {DType::I8, {3, 2}});
  Results r = g.b.matmul({.lhs = x, .rhs = w});
  ASSERT_TRUE(g.b.ok()) << g.lastError();
  EXPECT_EQ(r.op()->result()->type(), (TensorType{DType::I32, {2, 2}}));
  Tensor a = makeTensor(DType::I8, {2, 3}, {-128, -128, -128, 127, -128, 1});
  Tensor b = makeTensor(DType::I8, {3, 2}, {-128, 127, -128, -128, -128, 0});
  auto outs = evalOp(*r.op(), {&a, &b, nullptr});
  ASSERT_EQ(outs.size(), 1u);
  EXPECT_EQ(values(outs[0]), (std::vector<double>{49152, 128, 0, 32513}));
}

TEST(MatMulTest, Int8LongSumAndI32Wrap) {
  // -128 * -128 * 200 = 3276800; 16384 * 131073 = 2147500032 wraps to
  // 2147500032 - 2^32 = -2147467264 in i32.
  for (auto [k, want] :
       {std::pair<int64_t, double>{200, 3276800}, {131073, -2147467264.0}}) {
    TestGraph g;
    Value *x = g.b.param("x", {DType::I8, {1, k}});
    Value *w = g.b.param("w", {DType::I8, {k, 1}});
    Results r = g.b.matmul({.lhs = x, .rhs = w});
    ASSERT_TRUE(g.b.ok()) << g.lastError();
    Tensor a = makeTensor(DType::I8, {1, k}, std::vector<double>(k, -128));
    Tensor b = makeTensor(DType::I8, {k, 1}, std::vector<double>(k, -128));
    auto outs = evalOp(*r.op(), {&a, &b, nullptr});
    ASSERT_EQ(outs.size(), 1u);
    EXPECT_EQ(outs[0].getInt(0), static_cast<int64_t>(want));
  }
}

TEST(MatMulTest, BothTransposedOddShape) {
  // A = [[1,2],[3,4],[5,6]] stored as A^T; B = [[1,0,-1],[2,1,0]] as B^T.
  TestGraph g;
  Value *x = g.b.param("x", {DType::F32, {2, 3}});
  Value *w = g.b.param("w", {DType::F32, {3, 2}});
  Results r = g.b.matmul({.lhs = x, .rhs = w},
                         {.transpose_lhs = true, .transpose_rhs = true});
  ASSERT_TRUE(g.b.ok()) << g.lastError();
  EXPECT_EQ(r.op()->result()->type(), (TensorType{DType::F32, {3, 3}}));
  Tensor a = makeTensor(DType::F32, {2, 3}, {1, 3, 5, 2, 4, 6});
  Tensor b = makeTensor(DType::F32, {3, 2}, {1, 2, 0, 1, -1, 0});
  auto outs = evalOp(*r.op(), {&a, &b, nullptr});
  ASSERT_EQ(outs.size(), 1u);
  EXPECT_EQ(values(outs[0]),
            (std::vector<double>{5, 2, -1, 11, 4, -3, 17, 6, -5}));
}

TEST(MatMulTest, Int8TransposeRhsOnly) {
  TestGraph g;
  Value *x = g.b.param("x", {DType::I8, {1, 3}});
  Value *w = g.b.param("w", {DType::I8, {2, 3}});
  Results r = g.b.matmul({.lhs = x, .rhs = w}, {.transpose_rhs = true});
  ASSERT_TRUE(g.b.ok()) << g.lastError();
  Tensor a = makeTensor(DType::I8, {1, 3}, {1, -2, 3});
  Tensor b = makeTensor(DType::I8, {2, 3}, {127, 1, 0, -128, 0, 2});
  auto outs = evalOp(*r.op(), {&a, &b, nullptr});
  ASSERT_EQ(outs.size(), 1u);
  EXPECT_EQ(values(outs[0]), (std::vector<double>{125, -122}));
}

TEST(MatMulTest, BatchedAndBroadcast) {
  Tensor a = makeTensor(DType::F32, {2, 1, 2}, {1, 2, -1, 5});
  Tensor b3 = makeTensor(DType::F32, {2, 2, 1}, {3, 4, 2, 1});
  Tensor b2 = makeTensor(DType::F32, {2, 1}, {3, 4});
  {
    TestGraph g;
    Value *x = g.b.param("x", {DType::F32, {2, 1, 2}});
    Value *w = g.b.param("w", {DType::F32, {2, 2, 1}});
    Results r = g.b.matmul({.lhs = x, .rhs = w});
    ASSERT_TRUE(g.b.ok()) << g.lastError();
    EXPECT_EQ(r.op()->result()->type(), (TensorType{DType::F32, {2, 1, 1}}));
    auto outs = evalOp(*r.op(), {&a, &b3, nullptr});
    ASSERT_EQ(outs.size(), 1u);
    EXPECT_EQ(values(outs[0]), (std::vector<double>{11, 3}));
  }
  {
    TestGraph g;
    Value *x = g.b.param("x", {DType::F32, {2, 1, 2}});
    Value *w = g.b.param("w", {DType::F32, {2, 1}});
    Results r = g.b.matmul({.lhs = x, .rhs = w});
    ASSERT_TRUE(g.b.ok()) << g.lastError();
    EXPECT_EQ(r.op()->result()->type(), (TensorType{DType::F32, {2, 1, 1}}));
    auto outs = evalOp(*r.op(), {&a, &b2, nullptr});
    ASSERT_EQ(outs.size(), 1u);
    EXPECT_EQ(values(outs[0]), (std::vector<double>{11, 17}));
  }
  {
    // Rank-2 lhs broadcast over rhs's batch: [1,2] x [2,2,1].
    TestGraph g;
    Value *x = g.b.param("x", {DType::F32, {1, 2}});
    Value *w = g.b.param("w", {DType::F32, {2, 2, 1}});
    Results r = g.b.matmul({.lhs = x, .rhs = w});
    ASSERT_TRUE(g.b.ok()) << g.lastError();
    EXPECT_EQ(r.op()->result()->type(), (TensorType{DType::F32, {2, 1, 1}}));
    Tensor a2 = makeTensor(DType::F32, {1, 2}, {1, 2});
    auto outs = evalOp(*r.op(), {&a2, &b3, nullptr});
    ASSERT_EQ(outs.size(), 1u);
    EXPECT_EQ(values(outs[0]), (std::vector<double>{11, 4}));
  }
}

/// Runs a [1,k] x [k,n] float matmul and returns the result values.
std::vector<double> floatMatMul(DType in, std::optional<DType> out,
                                std::vector<double> lhs,
                                std::vector<double> rhs, int64_t n) {
  int64_t k = static_cast<int64_t>(lhs.size());
  TestGraph g;
  Value *x = g.b.param("x", {in, {1, k}});
  Value *w = g.b.param("w", {in, {k, n}});
  Results r = g.b.matmul({.lhs = x, .rhs = w}, {.out_dtype = out});
  EXPECT_TRUE(g.b.ok()) << g.lastError();
  EXPECT_EQ(r.op()->result()->type().dtype, out.value_or(in));
  Tensor a = makeTensor(in, {1, k}, lhs);
  Tensor b = makeTensor(in, {k, n}, rhs);
  auto outs = evalOp(*r.op(), {&a, &b, nullptr});
  return outs.empty() ? std::vector<double>{} : values(outs[0]);
}

TEST(MatMulTest, FloatAccumulatesInF32Ascending) {
  // f16: 2048 + 1 + 1 = 2050 in fp32 (an f16 accumulator would stay 2048).
  EXPECT_EQ(floatMatMul(DType::F16, {}, {2048, 1, 1}, {1, 1, 1}, 1),
            (std::vector<double>{2050}));
  // bf16 the same way: 256 + 1 + 1 = 258 (bf16 steps by 2 there).
  EXPECT_EQ(floatMatMul(DType::BF16, {}, {256, 1, 1}, {1, 1, 1}, 1),
            (std::vector<double>{258}));
  // Ascending k in fp32: (1e8 + 1) rounds back to 1e8, minus 1e8 is 0.
  EXPECT_EQ(floatMatMul(DType::F32, {}, {1e8, 1, -1e8}, {1, 1, 1}, 1),
            (std::vector<double>{0}));
}

TEST(MatMulTest, FloatOutDtypeRoundsOnce) {
  // f32 2049.5 -> f16 (step 2) = 2050; f32 1 + 1/256 -> bf16 tie -> 1.
  EXPECT_EQ(floatMatMul(DType::F32, DType::F16, {2049, 0.5}, {1, 1}, 1),
            (std::vector<double>{2050}));
  EXPECT_EQ(floatMatMul(DType::F32, DType::BF16, {1, 1.0 / 256}, {1, 1}, 1),
            (std::vector<double>{1}));
  // bf16 x bf16 -> f32 keeps the exact fp32 sum 256 + 1 = 257.
  EXPECT_EQ(floatMatMul(DType::BF16, DType::F32, {256, 1}, {1, 1}, 1),
            (std::vector<double>{257}));
}

TEST(MatMulTest, NZRhsMatchesHandPicks) {
  // lhs rows pick rhs row 17 and minus rhs row 3; rhs spans two fractals in
  // each direction (20 rows > 16, 33 cols > 32).
  const int64_t k = 20, n = 33;
  std::vector<double> lhs(2 * k, 0), rhs(k * n);
  lhs[17] = 1;
  lhs[k + 3] = -1;
  for (int64_t i = 0; i < k * n; ++i)
    rhs[i] = static_cast<double>((i * 7) % 256 - 128);
  TestGraph g;
  Value *x = g.b.param("x", {DType::I8, {2, k}});
  Value *w = g.b.param("w", {DType::I8, {k, n}, Layout::NZ});
  Results r = g.b.matmul({.lhs = x, .rhs = w});
  ASSERT_TRUE(g.b.ok()) << g.lastError();
  EXPECT_EQ(r.op()->result()->type(), (TensorType{DType::I32, {2, n}}));
  Tensor a = makeTensor(DType::I8, {2, k}, lhs);
  Tensor b = makeTensor(DType::I8, {k, n}, rhs).toLayout(Layout::NZ);
  ASSERT_EQ(b.layout(), Layout::NZ);
  auto outs = evalOp(*r.op(), {&a, &b, nullptr});
  ASSERT_EQ(outs.size(), 1u);
  for (int64_t j = 0; j < n; ++j) {
    EXPECT_EQ(outs[0].getInt(j), rhs[17 * n + j]) << j;
    EXPECT_EQ(outs[0].getInt(n + j), -rhs[3 * n + j]) << j;
  }
}

// Grouped: rows r0..r4 = [1,2] [3,-4] [-128,127] [5,6] [7,7]; experts
// e0 = I, e1 = 9s (empty group), e2 = [[-128,1],[-1,2]]; row 4 is past the
// last group.
const std::vector<double> kGroupedLhs = {1, 2, 3, -4, -128, 127, 5, 6, 7, 7};
const std::vector<double> kGroupedWant = {1,   2,    3,  -4, 16257,
                                          126, -646, 17, 0,  0};

std::vector<double> groupedMatMul(GroupListType type,
                                  const std::vector<double> &list,
                                  bool transposedNZ, std::string *err) {
  TestGraph g;
  TensorType wType{DType::I8, {3, 2, 2}};
  if (transposedNZ)
    wType.layout = Layout::NZ;
  Value *x = g.b.param("x", {DType::I8, {5, 2}});
  Value *w = g.b.param("w", wType);
  Value *gl = g.b.param("g", {DType::I64, {3}});
  Results r =
      g.b.matmul({.lhs = x, .rhs = w, .group_list = gl},
                 {.transpose_rhs = transposedNZ, .group_list_type = type});
  EXPECT_TRUE(g.b.ok()) << g.lastError();
  EXPECT_EQ(r.op()->result()->type(), (TensorType{DType::I32, {5, 2}}));
  Tensor a = makeTensor(DType::I8, {5, 2}, kGroupedLhs);
  Tensor b = transposedNZ
                 ? makeTensor(DType::I8, {3, 2, 2},
                              {1, 0, 0, 1, 9, 9, 9, 9, -128, -1, 1, 2})
                       .toLayout(Layout::NZ)
                 : makeTensor(DType::I8, {3, 2, 2},
                              {1, 0, 0, 1, 9, 9, 9, 9, -128, 1, -1, 2});
  Tensor groups = makeTensor(DType::I64, {3}, list);
  auto outs = evalOp(*r.op(), {&a, &b, &groups});
  if (err)
    *err = g.lastError();
  return outs.empty() ? std::vector<double>{} : values(outs[0]);
}

TEST(MatMulTest, GroupedCountAndCumsum) {
  EXPECT_EQ(groupedMatMul(GroupListType::Count, {2, 0, 2}, false, nullptr),
            kGroupedWant);
  EXPECT_EQ(groupedMatMul(GroupListType::Cumsum, {2, 2, 4}, false, nullptr),
            kGroupedWant);
  // Same experts stored transposed ([E, N, K]) in NZ.
  EXPECT_EQ(groupedMatMul(GroupListType::Count, {2, 0, 2}, true, nullptr),
            kGroupedWant);
}

TEST(MatMulTest, GroupedBadListsAreRunTimeErrors) {
  std::string err;
  EXPECT_TRUE(
      groupedMatMul(GroupListType::Count, {3, 3, 0}, false, &err).empty());
  EXPECT_NE(err.find("group_list[1] = 3 takes the groups past the 5"),
            std::string::npos)
      << err;
  EXPECT_TRUE(
      groupedMatMul(GroupListType::Cumsum, {2, 1, 4}, false, &err).empty());
  EXPECT_NE(err.find("group_list[1] = 1 is less than"), std::string::npos)
      << err;
  EXPECT_TRUE(
      groupedMatMul(GroupListType::Count, {2, -1, 2}, false, &err).empty());
  EXPECT_NE(err.find("negative"), std::string::npos) << err;
}

TEST(MatMulTest, SymbolicDimsPropagate) {
  TestGraph g;
  g.b.symbols({"B", "M", "N", "E"});
  Value *x = g.b.param("x", {DType::BF16, {"B", "M", 64}});
  Value *w = g.b.param("w", {DType::BF16, {"B", 64, "N"}});
  Results r = g.b.matmul({.lhs = x, .rhs = w}, {.out_dtype = DType::F32});
  ASSERT_TRUE(g.b.ok()) << g.lastError();
  EXPECT_EQ(r.op()->result()->type(),
            (TensorType{DType::F32, {"B", "M", "N"}}));
  Value *gx = g.b.param("gx", {DType::I8, {"M", 16}});
  Value *gw = g.b.param("gw", {DType::I8, {"E", 16, 8}, Layout::NZ});
  Value *gl = g.b.param("gl", {DType::I32, {"E"}});
  Results gr = g.b.matmul({.lhs = gx, .rhs = gw, .group_list = gl});
  ASSERT_TRUE(g.b.ok()) << g.lastError();
  EXPECT_EQ(gr.op()->result()->type(), (TensorType{DType::I32, {"M", 8}}));
}

struct InferCase {
  const char *name;
  TensorType lhs, rhs;
  std::optional<TensorType> groupList;
  ops::MatMul::Attrs attrs;
  const char *error;
};

TEST(MatMulTest, InferenceErrors) {
  using A = ops::MatMul::Attrs;
  const TensorType i8_4x64{DType::I8, {4, 64}};
  const InferCase cases[] = {
      {"k",
       i8_4x64,
       {DType::I8, {32, 8}},
       {},
       {},
       "'matmul' op contracting dims differ: lhs K=64, rhs K=32"},
      {"kT",
       {DType::I8, {64, 4}},
       {DType::I8, {8, 32}},
       {},
       A{.transpose_lhs = true, .transpose_rhs = true},
       "contracting dims differ: lhs K=64, rhs K=32"},
      {"symK",
       {DType::F16, {4, "K"}},
       {DType::F16, {"J", 8}},
       {},
       {},
       "contracting dims differ: lhs K=K, rhs K=J"},
      {"batch",
       {DType::F32, {2, 4, 8}},
       {DType::F32, {3, 8, 4}},
       {},
       {},
       "'matmul' op batch dims differ: [2] vs [3]"},
      {"batchRank",
       {DType::F32, {2, 4, 8}},
       {DType::F32, {5, 2, 8, 4}},
       {},
       {},
       "batch dims differ: [2] vs [5,2]"},
      {"groups",
       {DType::I8, {"M", 16}},
       {DType::I8, {8, 16, 4}},
       TensorType{DType::I64, {4}},
       {},
       "'matmul' op group_list has 4 groups but rhs has 8 experts"},
      {"i4",
       {DType::I4, {4, 8}},
       {DType::I4, {8, 8}},
       {},
       {},
       "i4 operands are not accepted; dequant first"},
      {"i64",
       {DType::I64, {4, 8}},
       {DType::I64, {8, 8}},
       {},
       {},
       "lhs must be i8, f16, bf16 or f32, got i64"},
      {"mixed",
       {DType::I8, {4, 8}},
       {DType::F16, {8, 8}},
       {},
       {},
       "lhs and rhs dtypes differ: i8 vs f16"},
      {"lhsNZ",
       {DType::F16, {32, 16}, Layout::NZ},
       {DType::F16, {16, 8}},
       {},
       {},
       "lhs must be in ND layout"},
      {"i8out",
       i8_4x64,
       {DType::I8, {64, 8}},
       {},
       A{.out_dtype = DType::F32},
       "out_dtype must be i32 for i8 operands, got f32"},
      {"fout",
       {DType::F16, {4, 8}},
       {DType::F16, {8, 8}},
       {},
       A{.out_dtype = DType::I32},
       "out_dtype must be a float dtype for f16 operands, got i32"},
      {"typeNoList",
       i8_4x64,
       {DType::I8, {64, 8}},
       {},
       A{.group_list_type = GroupListType::Count},
       "group_list_type is set but there is no group_list"},
      {"lhsRank",
       {DType::F32, {8}},
       {DType::F32, {8, 8}},
       {},
       {},
       "lhs must have rank >= 2, got f32[8]"},
      {"rhsRank",
       {DType::F32, {4, 8}},
       {DType::F32, {8}},
       {},
       {},
       "rhs must have rank >= 2, got f32[8]"},
      {"gTransLhs",
       {DType::I8, {16, 4}},
       {DType::I8, {2, 16, 4}},
       TensorType{DType::I64, {2}},
       A{.transpose_lhs = true},
       "transpose_lhs is not supported with group_list"},
      {"gLhsRank",
       {DType::I8, {2, 4, 16}},
       {DType::I8, {2, 16, 4}},
       TensorType{DType::I64, {2}},
       {},
       "grouped lhs must have rank 2"},
      {"gRhsRank",
       {DType::I8, {4, 16}},
       {DType::I8, {16, 4}},
       TensorType{DType::I64, {2}},
       {},
       "grouped rhs must have rank 3"},
      {"gDType",
       {DType::I8, {4, 16}},
       {DType::I8, {2, 16, 4}},
       TensorType{DType::F32, {2}},
       {},
       "group_list must be i32 or i64, got f32"},
      {"gRank",
       {DType::I8, {4, 16}},
       {DType::I8, {2, 16, 4}},
       TensorType{DType::I64, {2, 1}},
       {},
       "group_list must have rank 1"},
      {"gK",
       {DType::I8, {4, 16}},
       {DType::I8, {2, 16, 4}},
       TensorType{DType::I64, {2}},
       A{.transpose_rhs = true},
       "contracting dims differ: lhs K=16, rhs K=4"},
  };
  for (const InferCase &c : cases) {
    SCOPED_TRACE(c.name);
    TestGraph g;
    g.b.symbols({"M", "K", "J"});
    Value *x = g.b.param("x", c.lhs);
    Value *w = g.b.param("w", c.rhs);
    Value *gl = c.groupList ? g.b.param("g", *c.groupList) : nullptr;
    g.b.matmul({.lhs = x, .rhs = w, .group_list = gl}, c.attrs);
    expectError(g, c.error);
  }
}

} // namespace
} // namespace kiln
