//===- DequantTest.cpp - dequant inference and reference kernel -----------===//
#include "OpTestUtil.h"

namespace kiln {
namespace {

using namespace kiln::testing;


/// Builds dequant over params of the given types and evaluates it.
struct DequantRun {
  TestGraph g;
  Op *op = nullptr;

  DequantRun(const Tensor &x, const Tensor &scale, const Tensor *offset,
             const Tensor *rowScale, ops::Dequant::Attrs attrs = {}) {
    Value *vx = g.b.param("x", x.type());
    Value *vs = g.b.param("s", scale.type());
    Value *vo = offset ? g.b.param("o", offset->type()) : nullptr;
    Value *vr = rowScale ? g.b.param("r", rowScale->type()) : nullptr;
    op = g.b.dequant({.input = vx, .scale = vs, .offset = vo, .row_scale = vr},
                     attrs)
             .op();
    EXPECT_TRUE(g.b.ok()) << g.lastError();
    outs = evalOp(*op, {&x, &scale, offset, rowScale, nullptr});
  }
  std::vector<double> result() const {
    return outs.empty() ? std::vector<double>{} : values(outs[0]);
  }
  std::vector<Tensor> outs;
};

TEST(DequantTest, PerChannelOffsetAndRowScale) {
  Tensor x = makeTensor(DType::I8, {2, 3}, {-128, 127, 0, 1, -1, 64});
  Tensor s = makeTensor(DType::F32, {3}, {0.5, 0.25, 2});
  Tensor o = makeTensor(DType::F32, {3}, {1, -1, 0.5});
  Tensor rs = makeTensor(DType::F32, {2}, {2, -1});
  DequantRun plain(x, s, &o, nullptr);
  EXPECT_EQ(plain.op->result()->type(), (TensorType{DType::F32, {2, 3}}));
  EXPECT_EQ(plain.result(),
            (std::vector<double>{-63.5, 31.5, 1, 1, -0.5, 129}));
  DequantRun rows(x, s, &o, &rs);
  EXPECT_EQ(rows.result(), (std::vector<double>{-127, 63, 2, -1, 0.5, -129}));
  DequantRun noOffset(x, s, nullptr, &rs);
  EXPECT_EQ(noOffset.result(),
            (std::vector<double>{-128, 63.5, 0, -0.5, 0.25, -128}));
}

TEST(DequantTest, PerRowScaleShape) {
  Tensor x = makeTensor(DType::I8, {2, 2}, {4, -4, 8, 127});
  Tensor s = makeTensor(DType::BF16, {2, 1}, {0.5, -2});
  DequantRun run(x, s, nullptr, nullptr);
  EXPECT_EQ(run.result(), (std::vector<double>{2, -2, -16, -254}));
}

TEST(DequantTest, Int4PerTensorF16Scale) {
  std::vector<double> raw;
  for (int v = -8; v < 8; ++v)
    raw.push_back(v);
  Tensor x = makeTensor(DType::I4, {2, 8}, raw);
  Tensor s = makeTensor(DType::F16, {}, {0.5});
  DequantRun run(x, s, nullptr, nullptr, {.out_dtype = DType::F16});
  EXPECT_EQ(run.op->result()->type(), (TensorType{DType::F16, {2, 8}}));
  EXPECT_EQ(run.result(),
            (std::vector<double>{-4, -3.5, -3, -2.5, -2, -1.5, -1, -0.5, 0, 0.5,
                                 1, 1.5, 2, 2.5, 3, 3.5}));
}

TEST(DequantTest, PerGroupPartialLastGroup) {
  // K = 5 rows grouped by 2 along axis -2: groups {0,1}, {2,3}, {4}.
  Tensor x = makeTensor(DType::I8, {5, 2}, {1, 2, 3, 4, 5, 6, 7, 8, -128, 127});
  Tensor s = makeTensor(DType::F32, {3, 2}, {1, 10, 2, 20, 3, 30});
  Tensor o = makeTensor(DType::F32, {3, 2}, {0, 1, -1, 0, 2, -2});
  DequantRun run(x, s, nullptr, nullptr, {.group_size = 2});
  EXPECT_EQ(run.result(),
            (std::vector<double>{1, 20, 3, 40, 10, 120, 14, 160, -384, 3810}));
  DequantRun withOffset(x, s, &o, nullptr, {.group_size = 2});
  EXPECT_EQ(withOffset.result(),
            (std::vector<double>{1, 30, 3, 50, 8, 120, 12, 160, -378, 3750}));
}

TEST(DequantTest, PerGroupAlongLastAxisBroadcastRows) {
  Tensor x = makeTensor(DType::I8, {2, 5}, {1, 1, 1, 1, 1, 2, 2, 2, 2, 2});
  Tensor s = makeTensor(DType::F32, {1, 3}, {1, 2, 3});
  DequantRun run(x, s, nullptr, nullptr, {.group_size = 2, .group_axis = -1});
  EXPECT_EQ(run.result(), (std::vector<double>{1, 1, 2, 2, 3, 2, 2, 4, 4, 6}));
}

TEST(DequantTest, Fp32StepwiseRounding) {
  // float(2^24) + 1.0f rounds to 2^24, times 3 = 50331648. One double
  // expression would give 3 * (2^24 + 1) -> f32 50331652.
  Tensor x = makeTensor(DType::I32, {1}, {16777216});
  Tensor s = makeTensor(DType::F32, {1}, {3});
  Tensor o = makeTensor(DType::F32, {1}, {1});
  DequantRun run(x, s, &o, nullptr);
  EXPECT_EQ(run.result(), (std::vector<double>{50331648}));
  // float(2^24 + 1) itself rounds to 2^24.
  Tensor x2 = makeTensor(DType::I32, {1}, {16777217});
  Tensor one = makeTensor(DType::F32, {1}, {1});
  DequantRun run2(x2, one, nullptr, nullptr);
  EXPECT_EQ(run2.result(), (std::vector<double>{16777216}));
}

TEST(DequantTest, Bf16OutputTiesToEven) {
  // 257 and 259 are ties in bf16 (step 2 above 256): 256 and 260.
  Tensor x = makeTensor(DType::I32, {2}, {257, 259});
  Tensor s = makeTensor(DType::F32, {}, {1});
  DequantRun run(x, s, nullptr, nullptr, {.out_dtype = DType::BF16});
  EXPECT_EQ(run.result(), (std::vector<double>{256, 260}));
}

TEST(DequantTest, NZInputGivesNDResult) {
  // 20 x 40 int8 NZ weight (two fractals each way), per-channel scale j/2.
  std::vector<double> raw, scale, want;
  for (int64_t j = 0; j < 40; ++j)
    scale.push_back(j * 0.5);
  for (int64_t i = 0; i < 20 * 40; ++i) {
    raw.push_back(static_cast<double>(i % 256 - 128));
    want.push_back(raw.back() * scale[i % 40]);
  }
  Tensor x = makeTensor(DType::I8, {20, 40}, raw).toLayout(Layout::NZ);
  Tensor s = makeTensor(DType::F32, {40}, scale);
  DequantRun run(x, s, nullptr, nullptr);
  EXPECT_EQ(run.op->result()->type(), (TensorType{DType::F32, {20, 40}}));
  ASSERT_EQ(run.outs.size(), 1u);
  EXPECT_EQ(run.outs[0].layout(), Layout::ND);
  EXPECT_EQ(run.result(), want);
}

TEST(DequantTest, Int4NZPerGroup) {
  // i4 [20, 70] NZ (n0 = 64: two fractal columns), groups of 8 rows:
  // rows 0-7 x1, 8-15 x2, 16-19 (partial) x0.5.
  std::vector<double> raw, want;
  const double groupScale[] = {1, 2, 0.5};
  for (int64_t i = 0; i < 20; ++i)
    for (int64_t j = 0; j < 70; ++j) {
      raw.push_back(static_cast<double>((i * 70 + j) % 16 - 8));
      want.push_back(raw.back() * groupScale[i / 8]);
    }
  Tensor x = makeTensor(DType::I4, {20, 70}, raw).toLayout(Layout::NZ);
  ASSERT_EQ(values(x), raw);
  Tensor s = makeTensor(DType::F32, {3, 1}, {1, 2, 0.5});
  DequantRun run(x, s, nullptr, nullptr, {.group_size = 8});
  EXPECT_EQ(run.result(), want);
}

TEST(DequantTest, SymbolicDimsPropagate) {
  TestGraph g;
  g.b.symbols({"M"});
  Value *x = g.b.param("x", {DType::I8, {"M", 64}});
  Value *s = g.b.param("s", {DType::F16, {64}});
  Value *r = g.b.param("r", {DType::F32, {"M"}});
  Results d = g.b.dequant({.input = x, .scale = s, .row_scale = r},
                          {.out_dtype = DType::BF16});
  ASSERT_TRUE(g.b.ok()) << g.lastError();
  EXPECT_EQ(d.op()->result()->type(), (TensorType{DType::BF16, {"M", 64}}));
}

struct InferCase {
  const char *name;
  TensorType input, scale;
  std::optional<TensorType> offset, rowScale;
  ops::Dequant::Attrs attrs;
  const char *error;
};

TEST(DequantTest, InferenceErrors) {
  using A = ops::Dequant::Attrs;
  const TensorType x{DType::I8, {2, 3}}, s{DType::F32, {3}};
  const InferCase cases[] = {
      {"inDType",
       {DType::F32, {2, 3}},
       s,
       {},
       {},
       {},
       "'dequant' op input must be i4, i8 or i32, got f32"},
      {"scaleDType",
       x,
       {DType::I8, {3}},
       {},
       {},
       {},
       "scale must be f16, bf16 or f32, got i8"},
      {"scaleNZ",
       {DType::I8, {32, 32}},
       {DType::F32, {32, 32}, Layout::NZ},
       {},
       {},
       {},
       "scale must be in ND layout"},
      {"rank0",
       {DType::I8, {}},
       {DType::F32, {}},
       {},
       {},
       {},
       "input must have rank >= 1, got i8[]"},
      {"outDType",
       x,
       s,
       {},
       {},
       A{.out_dtype = DType::I8},
       "out_dtype must be a float dtype, got i8"},
      {"offsetDType",
       x,
       s,
       TensorType{DType::F16, {3}},
       {},
       {},
       "offset must have scale's type f32[3], got f16[3]"},
      {"offsetShape",
       x,
       s,
       TensorType{DType::F32, {1}},
       {},
       {},
       "offset must have scale's type f32[3], got f32[1]"},
      {"rowDType",
       x,
       s,
       {},
       TensorType{DType::F16, {2}},
       {},
       "row_scale must be f32, got f16"},
      {"rowShape",
       x,
       s,
       {},
       TensorType{DType::F32, {3}},
       {},
       "row_scale must have input's dims without the last one, [2], got [3]"},
      {"groupSize",
       x,
       s,
       {},
       {},
       A{.group_size = -1},
       "group_size must be >= 0, got -1"},
      {"axisNoGroups",
       x,
       s,
       {},
       {},
       A{.group_axis = 0},
       "group_axis is set but group_size is 0"},
      {"broadcast",
       x,
       {DType::F32, {4}},
       {},
       {},
       {},
       "scale [4] does not broadcast to input [2,3]"},
      {"axisRange",
       x,
       {DType::F32, {1, 3}},
       {},
       {},
       A{.group_size = 2, .group_axis = 2},
       "group_axis 2 is out of range for rank 2 input"},
      {"groupRank",
       {DType::I8, {5, 2}},
       {DType::F32, {2}},
       {},
       {},
       A{.group_size = 2},
       "per-group scale must have input's rank 2, got"},
      {"groupSym",
       {DType::I8, {"K", 2}},
       {DType::F32, {3, 2}},
       {},
       {},
       A{.group_size = 2},
       "input dim 0 must be static for per-group dequant, got K"},
      {"groupCount",
       {DType::I8, {5, 2}},
       {DType::F32, {2, 2}},
       {},
       {},
       A{.group_size = 2},
       "scale dim 0 must be ceil(5/2) = 3 groups, got 2"},
      {"groupOthers",
       {DType::I8, {5, 2}},
       {DType::F32, {3, 4}},
       {},
       {},
       A{.group_size = 2},
       "scale [3,4] does not broadcast to input [5,2] outside group_axis 0"},
  };
  for (const InferCase &c : cases) {
    SCOPED_TRACE(c.name);
    TestGraph g;
    g.b.symbols({"K"});
    Value *vx = g.b.param("x", c.input);
    Value *vs = g.b.param("s", c.scale);
    Value *vo = c.offset ? g.b.param("o", *c.offset) : nullptr;
    Value *vr = c.rowScale ? g.b.param("r", *c.rowScale) : nullptr;
    g.b.dequant({.input = vx, .scale = vs, .offset = vo, .row_scale = vr},
                c.attrs);
    expectError(g, c.error);
  }
}

} // namespace
} // namespace kiln

namespace kiln {
namespace {

using namespace kiln::testing;

/// dequant(acc, scale, group_list = gl): row m uses scale[group of m].
std::vector<Tensor> runExpertDequant(TestGraph &g, const Tensor &acc,
                                     const Tensor &scale, const Tensor &gl,
                                     GroupListType type) {
  Value *vx = g.b.param("x", acc.type());
  Value *vs = g.b.param("s", scale.type());
  Value *vg = g.b.param("g", gl.type());
  Op *op = g.b.dequant({.input = vx, .scale = vs, .group_list = vg},
                       {.group_list_type = type})
               .op();
  if (!g.b.ok())
    return {};
  return evalOp(*op, {&acc, &scale, nullptr, nullptr, &gl});
}

TEST(DequantTest, PerExpertScalesFollowTheGroupList) {
  Tensor acc = makeTensor(DType::I32, {4, 2}, {1, 2, 3, 4, 5, 6, 7, 8});
  Tensor scale = makeTensor(DType::F32, {2, 2}, {1, 10, 0.5, -1});
  Tensor counts = makeTensor(DType::I64, {2}, {1, 2});
  TestGraph g;
  std::vector<Tensor> out =
      runExpertDequant(g, acc, scale, counts, GroupListType::Count);
  ASSERT_EQ(out.size(), 1u) << g.lastError();
  // Row 0 -> expert 0, rows 1-2 -> expert 1, row 3 past the groups -> 0.
  EXPECT_EQ(values(out[0]),
            (std::vector<double>{1, 20, 1.5, -4, 2.5, -6, 0, 0}));

  Tensor perTensor = makeTensor(DType::F32, {2, 1}, {2, 3});
  Tensor cumsum = makeTensor(DType::I64, {2}, {1, 3});
  TestGraph g2;
  out = runExpertDequant(g2, acc, perTensor, cumsum, GroupListType::Cumsum);
  ASSERT_EQ(out.size(), 1u) << g2.lastError();
  EXPECT_EQ(values(out[0]),
            (std::vector<double>{2, 4, 9, 12, 15, 18, 0, 0}));
}

TEST(DequantTest, PerExpertErrors) {
  Tensor acc = makeTensor(DType::I32, {4, 2}, {1, 2, 3, 4, 5, 6, 7, 8});
  Tensor counts = makeTensor(DType::I64, {2}, {1, 2});
  TestGraph g;
  Tensor three = makeTensor(DType::F32, {3, 2}, {1, 1, 1, 1, 1, 1});
  EXPECT_TRUE(runExpertDequant(g, acc, three, counts, GroupListType::Count)
                  .empty());
  EXPECT_NE(g.lastError().find("scale must be [E, N] or [E, 1] with E = 2"),
            std::string::npos)
      << g.lastError();

  // A decreasing cumsum list is a run-time data error naming the entry.
  Tensor scale = makeTensor(DType::F32, {2, 2}, {1, 1, 1, 1});
  Tensor bad = makeTensor(DType::I64, {2}, {3, 1});
  TestGraph g2;
  EXPECT_TRUE(
      runExpertDequant(g2, acc, scale, bad, GroupListType::Cumsum).empty());
  EXPECT_NE(g2.lastError().find("group_list[1] = 1 is less than"),
            std::string::npos)
      << g2.lastError();
}

} // namespace
} // namespace kiln
