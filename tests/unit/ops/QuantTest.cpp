//===- QuantTest.cpp - quant inference and reference kernel ---------------===//
#include "OpTestUtil.h"

#include <cmath>
#include <limits>

namespace kiln {
namespace {

using namespace kiln::testing;


/// Static quant of `x` by `scale` (and `offset`); returns the i8 values.
std::vector<double> quantStatic(const Tensor &x, const Tensor &scale,
                                const Tensor *offset) {
  TestGraph g;
  Value *vx = g.b.param("x", x.type());
  Value *vs = g.b.param("s", scale.type());
  Value *vo = offset ? g.b.param("o", offset->type()) : nullptr;
  Results r = g.b.quant({.input = vx, .scale = vs, .offset = vo});
  EXPECT_TRUE(g.b.ok()) << g.lastError();
  EXPECT_EQ(r.op()->numResults(), 1u);
  EXPECT_EQ(r.op()->result()->type(), (TensorType{DType::I8, x.type().dims}));
  auto outs = evalOp(*r.op(), {&x, &scale, offset});
  return outs.empty() ? std::vector<double>{} : values(outs[0]);
}

TEST(QuantTest, StaticRoundsHalfEvenAndSaturates) {
  double nan = std::numeric_limits<double>::quiet_NaN();
  Tensor x =
      makeTensor(DType::F32, {7}, {0.25, 0.75, -0.25, 1000, -1000, 2.5, nan});
  Tensor s = makeTensor(DType::F32, {}, {2});
  EXPECT_EQ(quantStatic(x, s, nullptr),
            (std::vector<double>{0, 2, 0, 127, -128, 5, 0}));
}

TEST(QuantTest, StaticPerChannelOffset) {
  // t = [[2.5, 1 + 0.5], [-2.5, 127 + 0.5]] -> [[2, 2], [-2, 128 -> 127]].
  Tensor x = makeTensor(DType::F16, {2, 2}, {1.25, 0.5, -1.25, 63.5});
  Tensor s = makeTensor(DType::F32, {2}, {2, 2});
  Tensor o = makeTensor(DType::F32, {2}, {0, 0.5});
  EXPECT_EQ(quantStatic(x, s, &o), (std::vector<double>{2, 2, -2, 127}));
}

TEST(QuantTest, StaticRoundsProductAndSumInF32) {
  // (1 + 2^-23) * (0.5 - 2^-25) = 0.5 + 2^-25 - 2^-48: fp32 rounds the
  // product to exactly 0.5, which rounds half-even to 0 (exact math gives 1).
  Tensor x = makeTensor(DType::F32, {1}, {1.0 + std::ldexp(1.0, -23)});
  Tensor s = makeTensor(DType::F32, {1}, {0.5 - std::ldexp(1.0, -25)});
  EXPECT_EQ(quantStatic(x, s, nullptr), (std::vector<double>{0}));
  // 1 * 0.5 + 2^-25: the fp32 sum ties back to 0.5 -> 0 (exact gives 1).
  Tensor one = makeTensor(DType::F32, {1}, {1});
  Tensor half = makeTensor(DType::F32, {1}, {0.5});
  Tensor tiny = makeTensor(DType::F32, {1}, {std::ldexp(1.0, -25)});
  EXPECT_EQ(quantStatic(one, half, &tiny), (std::vector<double>{0}));
}

/// Dynamic quant of a [3,4] f32 input; returns {q, scales}.
std::pair<std::vector<double>, std::vector<double>>
quantDynamic(const std::vector<double> &x, EvalOptions options = {}) {
  TestGraph g;
  Value *vx = g.b.param("x", {DType::F32, {3, 4}});
  Results r = g.b.quant({.input = vx}, {.mode = QuantMode::Dynamic});
  EXPECT_TRUE(g.b.ok()) << g.lastError();
  EXPECT_EQ(r.op()->numResults(), 2u);
  EXPECT_EQ(r[0]->type(), (TensorType{DType::I8, {3, 4}}));
  EXPECT_EQ(r[1]->type(), (TensorType{DType::F32, {3}}));
  Tensor t = makeTensor(DType::F32, {3, 4}, x);
  auto outs = evalOp(*r.op(), {&t, nullptr, nullptr}, options);
  if (outs.size() != 2)
    return {};
  return {values(outs[0]), values(outs[1])};
}

// Row 0: max 127 -> s = 1, 101.49 -> 101. Row 1: all zero -> s = 0, q = 0.
// Row 2: max 254 -> s = 2, inv = 0.5: 2.5 -> 2, 3.5 -> 4, 0.5 -> 0.
const std::vector<double> kDynIn = {127, 101.49, -0.5, 2.5, 0,    0,
                                    0,   0,      5,    7,   -254, 1};

TEST(QuantTest, DynamicPerToken) {
  auto [q, s] = quantDynamic(kDynIn);
  EXPECT_EQ(q,
            (std::vector<double>{127, 101, 0, 2, 0, 0, 0, 0, 2, 4, -127, 0}));
  EXPECT_EQ(s, (std::vector<double>{1, 0, 2}));
  for (double v : s)
    EXPECT_FALSE(std::isnan(v));
}

TEST(QuantTest, DynamicNpuCompatRoundsThroughF16) {
  // 101.49 -> f16 101.5 -> 102 (OPS.md §4.4); the rest is unchanged.
  auto [q, s] =
      quantDynamic(kDynIn, EvalOptions{.numerics = Numerics::NpuCompat});
  EXPECT_EQ(q,
            (std::vector<double>{127, 102, 0, 2, 0, 0, 0, 0, 2, 4, -127, 0}));
  EXPECT_EQ(s, (std::vector<double>{1, 0, 2}));
}

TEST(QuantTest, DynamicNegativeMax) {
  // max|x| comes from a negative value: -63.5 -> s = 0.5, inv = 2.
  auto [q, s] =
      quantDynamic({-63.5, 1.25, 0.25, 0.75, 0, 0, 0, 0, 0, 0, 0, -127});
  EXPECT_EQ(q, (std::vector<double>{-127, 2, 0, 2, 0, 0, 0, 0, 0, 0, 0, -127}));
  EXPECT_EQ(s, (std::vector<double>{0.5, 0, 1}));
}

TEST(QuantTest, DynamicMultipliesByReciprocalOfScale) {
  // s = f32(2.75 / 127) = 0x1.62c58cp-6 and inv = f32(1 / s) = 46.181816...,
  // just below 127 / 2.75 = 46.181818..., so 1.375 * inv = 63.499996 -> 63.
  // (127 / amax, or exact math, would give the tie 63.5 -> 64.)
  auto [q, s] =
      quantDynamic({2.75, 1.375, -1.375, 0.25, 0, 0, 0, 0, 0, 0, 0, 0});
  EXPECT_EQ(q, (std::vector<double>{127, 63, -63, 12, 0, 0, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(s, (std::vector<double>{0x1.62c58cp-6, 0, 0}));
}

TEST(QuantTest, SymbolicDynamicTypes) {
  TestGraph g;
  g.b.symbols({"M"});
  Value *x = g.b.param("x", {DType::BF16, {2, "M", 64}});
  Results r = g.b.quant({.input = x}, {.mode = QuantMode::Dynamic});
  ASSERT_TRUE(g.b.ok()) << g.lastError();
  EXPECT_EQ(r[0]->type(), (TensorType{DType::I8, {2, "M", 64}}));
  EXPECT_EQ(r[1]->type(), (TensorType{DType::F32, {2, "M"}}));
}

struct InferCase {
  const char *name;
  TensorType input;
  std::optional<TensorType> scale, offset;
  ops::Quant::Attrs attrs;
  const char *error;
};

TEST(QuantTest, InferenceErrors) {
  using A = ops::Quant::Attrs;
  const TensorType x{DType::F32, {4, 8}}, s{DType::F32, {8}};
  const A dyn{.mode = QuantMode::Dynamic};
  const InferCase cases[] = {
      {"inDType",
       {DType::I8, {4, 8}},
       s,
       {},
       {},
       "'quant' op input must be f16, bf16 or f32, got i8"},
      {"inNZ",
       {DType::F16, {16, 16}, Layout::NZ},
       {},
       {},
       dyn,
       "input must be in ND layout"},
      {"outDType",
       x,
       s,
       {},
       A{.out_dtype = DType::I4},
       "out_dtype must be i8 (the only supported quant output), got i4"},
      {"dynScale",
       x,
       s,
       {},
       dyn,
       "dynamic quant takes no scale operand; it computes per-row scales"},
      {"dynOffset", x, {}, s, dyn, "dynamic quant takes no offset operand"},
      {"dynRank",
       {DType::F32, {}},
       {},
       {},
       dyn,
       "dynamic quant needs rank >= 1 input, got f32[]"},
      {"noScale", x, {}, {}, {}, "static quant requires a scale operand"},
      {"noScaleOffset", x, {}, s, {}, "static quant requires a scale operand"},
      {"scaleDType",
       x,
       TensorType{DType::I32, {8}},
       {},
       {},
       "scale must be f16, bf16 or f32, got i32"},
      {"scaleNZ",
       {DType::F32, {32, 32}},
       TensorType{DType::F32, {32, 32}, Layout::NZ},
       {},
       {},
       "scale must be in ND layout"},
      {"broadcast",
       x,
       TensorType{DType::F32, {4}},
       {},
       {},
       "scale [4] does not broadcast to input [4,8]"},
      {"offsetType",
       x,
       s,
       TensorType{DType::BF16, {8}},
       {},
       "offset must have scale's type f32[8], got bf16[8]"},
      {"offsetShape",
       x,
       s,
       TensorType{DType::F32, {1, 8}},
       {},
       "offset must have scale's type f32[8], got f32[1,8]"},
  };
  for (const InferCase &c : cases) {
    SCOPED_TRACE(c.name);
    TestGraph g;
    Value *vx = g.b.param("x", c.input);
    Value *vs = c.scale ? g.b.param("s", *c.scale) : nullptr;
    Value *vo = c.offset ? g.b.param("o", *c.offset) : nullptr;
    g.b.quant({.input = vx, .scale = vs, .offset = vo}, c.attrs);
    expectError(g, c.error);
  }
}

} // namespace
} // namespace kiln
