//===- BuilderTest.cpp - the C++ graph API builds what the parser builds --===//
#include "ir/Builder.h"
#include "ir/Parser.h"
#include "ir/Printer.h"
#include "ir/Verifier.h"

#include <gtest/gtest.h>

namespace kiln {
namespace {

/// Collects diagnostics instead of printing them.
struct Collect {
  std::vector<Diagnostic> diags;
  DiagEngine engine{[this](const Diagnostic &d) { diags.push_back(d); }};
};

std::unique_ptr<Module> parse(const std::string &text, DiagEngine &diags) {
  return parseModule(text, "test.kir", diags);
}

TEST(Builder, BuildsWhatTheParserBuilds) {
  const std::string text =
      "func @moe(%x: i8[M,64], %w: i8[4,64,32] NZ, %gl: i64[4], "
      "%ws: f32[32], %xs: f32[M]) -> (q: i8[M,16], scale: f32[M]) sym(M) {\n"
      "  %0 = matmul(%x, %w, group_list = %gl) {group_list_type = count} : "
      "i32[M,32]\n"
      "  %1 = dequant(%0, %ws, row_scale = %xs) : f32[M,32]\n"
      "  %2 = swiglu(%1) : f32[M,16]\n"
      "  %3, %4 = quant(%2) {mode = dynamic} : (i8[M,16], f32[M])\n"
      "  return %3, %4\n"
      "}\n";
  Collect c;
  std::unique_ptr<Module> parsed = parse(text, c.engine);
  ASSERT_TRUE(parsed);
  ASSERT_TRUE(succeeded(verify(*parsed)));

  Graph g("moe");
  g.setDiags(c.engine);
  Builder b(g);
  b.symbols({"M"});
  Value *x = b.param("x", {DType::I8, {"M", 64}});
  Value *w = b.param("w", {DType::I8, {4, 64, 32}, Layout::NZ});
  Value *gl = b.param("gl", {DType::I64, {4}});
  Value *ws = b.param("ws", {DType::F32, {32}});
  Value *xs = b.param("xs", {DType::F32, {"M"}});
  Value *acc = b.matmul({.lhs = x, .rhs = w, .group_list = gl},
                        {.group_list_type = GroupListType::Count});
  Value *y = b.dequant({.input = acc, .scale = ws, .row_scale = xs});
  Value *a = b.swiglu({.input = y});
  Results q = b.quant({.input = a}, {.mode = QuantMode::Dynamic});
  b.returns({{q[0], "q"}, {q[1], "scale"}});
  ASSERT_TRUE(b.ok()) << (c.diags.empty() ? "" : c.diags[0].message);
  ASSERT_TRUE(succeeded(verify(g)));
  EXPECT_EQ(toString(g), text);
  EXPECT_EQ(toString(g), toString(*parsed->graphs[0]));
}

TEST(Builder, ErrorsPointAtTheCallersLine) {
  Collect c;
  Graph g("bad");
  g.setDiags(c.engine);
  Builder b(g);
  Value *x = b.param("x", {DType::I8, {4, 64}});
  Value *w = b.param("w", {DType::I8, {32, 8}});
  unsigned line = __LINE__ + 1;
  b.matmul({.lhs = x, .rhs = w});
  EXPECT_FALSE(b.ok());
  ASSERT_EQ(c.diags.size(), 1u);
  EXPECT_EQ(c.diags[0].loc.line, line);
  EXPECT_NE(c.diags[0].loc.file.find("BuilderTest.cpp"), std::string::npos);
  EXPECT_NE(c.diags[0].message.find("'matmul' op"), std::string::npos);
}

TEST(Builder, ConstantTakesItsType) {
  Graph g("c");
  Builder b(g);
  Value *c = b.constant({DType::F32, {2, 2}}, {1, 2, 3, 4});
  b.returns({{c, ""}});
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(toString(g), "func @c() -> f32[2,2] {\n"
                         "  %0 = constant {value = [1, 2, 3, 4]} : f32[2,2]\n"
                         "  return %0\n"
                         "}\n");
}

TEST(Graph, UsesTrackOperandsAndResults) {
  Graph g("u");
  Builder b(g);
  Value *x = b.param("x", {DType::F32, {4}});
  Value *s = b.add({.lhs = x, .rhs = x});
  Value *m = b.mul({.lhs = s, .rhs = x});
  b.returns({{m, "m"}, {s, "s"}});
  EXPECT_EQ(x->uses().size(), 3u);
  EXPECT_EQ(s->uses().size(), 2u); // mul operand + graph result
  EXPECT_FALSE(s->hasOneUse());

  // RAUW rewires ops and graph results alike.
  Value *s2 = b.add({.lhs = x, .rhs = x});
  s->replaceAllUsesWith(s2);
  EXPECT_TRUE(s->unused());
  EXPECT_EQ(g.results()[1].value, s2);
  EXPECT_EQ(m->definingOp()->operand(0), s2);
  g.erase(s->definingOp());
  // s2 was appended after its new user, so the order is now wrong.
  DiagEngine quiet([](const Diagnostic &) {});
  g.setDiags(quiet);
  EXPECT_TRUE(failed(verify(g)));
}

TEST(Graph, InsertionPointKeepsOrder) {
  Graph g("o");
  Builder b(g);
  Value *x = b.param("x", {DType::F32, {4}});
  Value *m = b.mul({.lhs = x, .rhs = x});
  b.returns({{m, ""}});
  b.setInsertionPoint(m->definingOp());
  Value *a = b.add({.lhs = x, .rhs = x});
  m->definingOp()->setOperand(0, a);
  EXPECT_TRUE(succeeded(verify(g)));
  EXPECT_EQ(g.ops().front()->kind(), OpKind::Add);
}

TEST(Verifier, ReportsUseBeforeDefinition) {
  Collect c;
  Graph g("v");
  g.setDiags(c.engine);
  Builder b(g);
  Value *x = b.param("x", {DType::F32, {4}});
  Value *m = b.mul({.lhs = x, .rhs = x});
  Value *a = b.add({.lhs = x, .rhs = x});
  m->definingOp()->setOperand(0, a);
  b.returns({{m, ""}});
  EXPECT_TRUE(failed(verify(g)));
  ASSERT_FALSE(c.diags.empty());
  EXPECT_NE(c.diags[0].message.find("used before it is defined"),
            std::string::npos);
}

TEST(Parser, StopsAtTheFirstErrorWithALocation) {
  Collect c;
  EXPECT_FALSE(parse("func @f(%x: f32[2]) -> f32[2] {\n  %0 = nope(%x) : "
                     "f32[2]\n  return %0\n}\n",
                     c.engine));
  ASSERT_EQ(c.diags.size(), 1u);
  EXPECT_EQ(c.diags[0].loc.line, 2u);
  EXPECT_EQ(c.diags[0].loc.col, 8u);
  EXPECT_EQ(c.diags[0].message, "unknown op 'nope'");
}

TEST(Parser, NeverCrashesOnTruncatedInput) {
  const std::string text =
      "func @moe(%x: i8[M,64], %w: i8[4,64,32] NZ, %gl: i64[4]) -> "
      "(q: i32[M,32]) sym(M) {\n"
      "  %0 = matmul(%x, %w, group_list = %gl) {group_list_type = count, "
      "transpose_rhs = false} : i32[M,32]\n"
      "  return %0\n}\n";
  for (size_t n = 0; n < text.size(); ++n) {
    Collect c;
    std::unique_ptr<Module> m = parse(text.substr(0, n), c.engine);
    if (m)
      continue; // a prefix may itself be a valid (empty) module
    EXPECT_EQ(c.diags.size(), 1u) << "prefix of length " << n;
  }
}

} // namespace
} // namespace kiln
