//===- SwiGLUTest.cpp - swiglu inference and reference kernel -------------===//
#include "OpTestUtil.h"

namespace kiln {
namespace {

using namespace kiln::testing;


std::vector<double> swiglu(const Tensor &x, SwigluHalf half,
                           TensorType *type = nullptr) {
  TestGraph g;
  Value *vx = g.b.param("x", x.type());
  Results r = g.b.swiglu({.input = vx}, {.activate = half});
  EXPECT_TRUE(g.b.ok()) << g.lastError();
  if (type)
    *type = r.op()->result()->type();
  auto outs = evalOp(*r.op(), {&x});
  return outs.empty() ? std::vector<double>{} : values(outs[0]);
}

// silu(1) = 1 / (1 + e^-1) = 0.7310585786300049
// silu(-2) = -2 / (1 + e^2) = -0.2384058440442351
constexpr double kSilu1 = 0.7310585786300049;
constexpr double kSiluM2 = -0.2384058440442351;

TEST(SwiGLUTest, FirstHalfActivated) {
  // Rows [a0, a1, a2 | g0, g1, g2]: [0, 1, -2 | 3, 2, 1], [1, 100, -100 |
  // -1, 0.5, 4].
  Tensor x = makeTensor(DType::F32, {2, 1, 6},
                        {0, 1, -2, 3, 2, 1, 1, 100, -100, -1, 0.5, 4});
  TensorType type;
  std::vector<double> got = swiglu(x, SwigluHalf::First, &type);
  EXPECT_EQ(type, (TensorType{DType::F32, {2, 1, 3}}));
  std::vector<double> want = {0, 2 * kSilu1, kSiluM2, -kSilu1, 50, 0};
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i)
    EXPECT_FLOAT_EQ(got[i], want[i]) << i;
}

TEST(SwiGLUTest, SecondHalfActivated) {
  // The same rows with the halves swapped give the same numbers.
  Tensor x = makeTensor(DType::F32, {2, 6},
                        {3, 2, 1, 0, 1, -2, -1, 0.5, 4, 1, 100, -100});
  std::vector<double> got = swiglu(x, SwigluHalf::Second);
  std::vector<double> want = {0, 2 * kSilu1, kSiluM2, -kSilu1, 50, 0};
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i)
    EXPECT_FLOAT_EQ(got[i], want[i]) << i;
}

TEST(SwiGLUTest, HalfPrecisionRoundsOnce) {
  // silu(1) * 1: f16 step 2^-11 there -> 1497 * 2^-11 = 0.73095703125;
  // bf16 step 2^-8 -> 187 * 2^-8 = 0.73046875.
  Tensor h = makeTensor(DType::F16, {2}, {1, 1});
  EXPECT_EQ(swiglu(h, SwigluHalf::First), (std::vector<double>{0.73095703125}));
  Tensor b = makeTensor(DType::BF16, {2}, {1, 1});
  TensorType type;
  EXPECT_EQ(swiglu(b, SwigluHalf::First, &type),
            (std::vector<double>{0.73046875}));
  EXPECT_EQ(type, (TensorType{DType::BF16, {1}}));
}

TEST(SwiGLUTest, SymbolicLeadingDims) {
  TestGraph g;
  g.b.symbols({"M"});
  Value *x = g.b.param("x", {DType::BF16, {"M", 8}});
  Results r = g.b.swiglu({.input = x});
  ASSERT_TRUE(g.b.ok()) << g.lastError();
  EXPECT_EQ(r.op()->result()->type(), (TensorType{DType::BF16, {"M", 4}}));
}

TEST(SwiGLUTest, InferenceErrors) {
  const std::pair<TensorType, const char *> cases[] = {
      {{DType::I8, {4, 8}},
       "'swiglu' op input must be f16, bf16 or f32, got i8"},
      {{DType::F16, {16, 32}, Layout::NZ}, "input must be in ND layout"},
      {{DType::F32, {}}, "input must have rank >= 1, got f32[]"},
      {{DType::F32, {4, 7}},
       "'swiglu' op last dim must be a static even size, got 7"},
      {{DType::F32, {4, "N"}}, "last dim must be a static even size, got N"},
      {{DType::F32, {4, 0}}, "last dim must be a static even size, got 0"},
  };
  for (const auto &[type, error] : cases) {
    SCOPED_TRACE(error);
    TestGraph g;
    g.b.symbols({"N"});
    g.b.swiglu({.input = g.b.param("x", type)});
    expectError(g, error);
  }
}

} // namespace
} // namespace kiln
