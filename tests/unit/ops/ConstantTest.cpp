//===- ConstantTest.cpp - constant: literals, splats, range checks --------===//
#include "OpTestUtil.h"

#include <limits>

using namespace kiln;
using namespace kiln::testing;

namespace {

/// The op defining a constant of `type` built from `vals`; null if it failed.
Op *constant(TestGraph &g, TensorType type, std::vector<double> vals) {
  Value *v = g.b.constant(std::move(type), std::move(vals));
  return g.b.ok() ? v->definingOp() : nullptr;
}

std::vector<double> evalValues(const Op &op) {
  auto out = evalOp(op, {});
  EXPECT_EQ(out.size(), 1u);
  return out.empty() ? std::vector<double>{} : values(out[0]);
}

TEST(ConstantTest, IntegerList) {
  TestGraph g;
  Op *op = constant(g, {DType::I32, {3}}, {1, -2, 2147483647});
  ASSERT_TRUE(op) << g.lastError();
  EXPECT_EQ(op->result()->type(), (TensorType{DType::I32, {3}}));
  EXPECT_EQ(evalValues(*op), (std::vector<double>{1, -2, 2147483647}));
}

TEST(ConstantTest, SplatFillsEveryElement) {
  TestGraph g;
  Op *op = constant(g, {DType::F32, {3, 17}}, {0.5});
  ASSERT_TRUE(op) << g.lastError();
  EXPECT_EQ(evalValues(*op), std::vector<double>(51, 0.5));
}

TEST(ConstantTest, SplatMayHaveSymbols) {
  TestGraph g;
  g.b.symbols({"M"});
  Op *op = constant(g, {DType::I8, {"M", 4}}, {-128});
  ASSERT_TRUE(op) << g.lastError();
  EXPECT_EQ(op->result()->type(), (TensorType{DType::I8, {"M", 4}}));
}

TEST(ConstantTest, RankZero) {
  TestGraph g;
  Op *op = constant(g, {DType::F32, {}}, {-3.25});
  ASSERT_TRUE(op) << g.lastError();
  EXPECT_EQ(evalValues(*op), (std::vector<double>{-3.25}));
}

TEST(ConstantTest, FloatLiteralsRoundToNearestEven) {
  TestGraph g;
  // f16: 2049 ties to 2048, 0.1 -> 0x2E66, 70000 overflows to inf.
  Op *h = constant(g, {DType::F16, {3}}, {2049, 0.1, 70000});
  ASSERT_TRUE(h) << g.lastError();
  EXPECT_EQ(evalValues(*h),
            (std::vector<double>{2048, 0.0999755859375,
                                 std::numeric_limits<double>::infinity()}));
  // bf16: 1 + 2^-8 ties to 1; 1 + 3*2^-8 ties to 1 + 2^-6.
  Op *b = constant(g, {DType::BF16, {2}}, {1.00390625, 1.01171875});
  ASSERT_TRUE(b) << g.lastError();
  EXPECT_EQ(evalValues(*b), (std::vector<double>{1.0, 1.015625}));
}

TEST(ConstantTest, IntegerRangeEdges) {
  TestGraph g;
  Op *i8 = constant(g, {DType::I8, {2}}, {-128, 127});
  ASSERT_TRUE(i8) << g.lastError();
  EXPECT_EQ(evalValues(*i8), (std::vector<double>{-128, 127}));
  Op *i4 = constant(g, {DType::I4, {3}}, {-8, 7, 0});
  ASSERT_TRUE(i4) << g.lastError();
  EXPECT_EQ(evalValues(*i4), (std::vector<double>{-8, 7, 0}));
  Op *i32 = constant(g, {DType::I32, {1}}, {-2147483648.0});
  ASSERT_TRUE(i32) << g.lastError();
  EXPECT_EQ(evalValues(*i32), (std::vector<double>{-2147483648.0}));
  Op *i64 = constant(g, {DType::I64, {2}},
                     {9007199254740992.0, -9.223372036854775808e18});
  ASSERT_TRUE(i64) << g.lastError();
  auto out = evalOp(*i64, {});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].getInt(0), int64_t{1} << 53);
  EXPECT_EQ(out[0].getInt(1), std::numeric_limits<int64_t>::min());
}

TEST(ConstantTest, ErrorNoDeclaredType) {
  TestGraph g;
  g.b.create(OpKind::Constant, {}, ops::Constant::Attrs{Elements{{1.0}}},
             Location{});
  EXPECT_FALSE(g.b.ok());
  EXPECT_EQ(g.lastError(),
            "'constant' op constant needs a declared result type");
}

TEST(ConstantTest, Errors) {
  constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  struct Case {
    TensorType type;
    std::vector<double> vals;
    const char *message;
  } cases[] = {
      {{DType::F32, {2, 3}},
       {1, 2, 3, 4, 5},
       "'constant' op value has 5 elements but f32[2,3] needs 6 (or 1 for a "
       "splat)"},
      {{DType::F32, {2}},
       {},
       "'constant' op value has 0 elements but f32[2] needs 2 (or 1 for a "
       "splat)"},
      {{DType::F32, {"M", 2}},
       {1, 2},
       "'constant' op a non-splat value needs a static type, got f32[M,2]"},
      {{DType::F32, {16, 16}, Layout::NZ},
       {0},
       "'constant' op result type must be in ND layout, got f32[16,16] NZ"},
      {{DType::I32, {2}},
       {1, 1.5},
       "'constant' op value[1] = 1.5 is not an integer, as i32 requires"},
      {{DType::I8, {1}},
       {kNaN},
       "'constant' op value[0] = nan is not an integer, as i8 requires"},
      {{DType::I8, {2}},
       {127, 128},
       "'constant' op value[1] = 128 is out of range for i8 [-128, 127]"},
      {{DType::I8, {1}},
       {-129},
       "'constant' op value[0] = -129 is out of range for i8 [-128, 127]"},
      {{DType::I4, {2}},
       {-9, 0},
       "'constant' op value[0] = -9 is out of range for i4 [-8, 7]"},
      {{DType::I32, {1}},
       {2147483648.0},
       "'constant' op value[0] = 2147483648 is out of range for i32 "
       "[-2147483648, 2147483647]"},
      {{DType::I64, {1}},
       {9.223372036854775808e18},
       "'constant' op value[0] = 9.223372036854776e+18 is out of range for i64 "
       "[-9223372036854775808, 9223372036854775807]"},
  };
  for (const Case &c : cases) {
    TestGraph g;
    g.b.symbols({"M"});
    EXPECT_FALSE(constant(g, c.type, c.vals));
    EXPECT_EQ(g.lastError(), c.message);
  }
}

} // namespace
