//===- LoweringTestUtil.h - compare compiled runs with the reference -----===//
//
// Helpers for LoweringTest.cpp: parse a .kir graph, compile it once per
// shape mode, run it on seeded random inputs over many sizes and compare
// each result bit for bit with runReference; and check that run-time data
// errors carry the reference's words.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "codegen/CompiledGraph.h"
#include "ir/Parser.h"
#include "ir/Verifier.h"
#include "runtime/Executor.h"
#include "runtime/RandomInputs.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <functional>
#include <random>
#include <sstream>

namespace kiln::lowering_test {

using codegen::ShapeMode;

/// A parsed, verified graph whose diagnostics are collected.
struct Kir {
  std::vector<Diagnostic> diags;
  DiagEngine engine{[this](const Diagnostic &d) { diags.push_back(d); }};
  std::unique_ptr<Module> module;
  Graph *g = nullptr;

  explicit Kir(std::string_view text) {
    module = parseModule(text, "lowering_test.kir", engine);
    if (!module || module->graphs.empty()) {
      ADD_FAILURE() << "parse failed: " << errors();
      return;
    }
    g = module->graphs.front().get();
    if (failed(verify(*g))) {
      ADD_FAILURE() << "verify failed: " << errors();
      g = nullptr;
    }
  }
  std::string errors() const {
    std::string s;
    for (const Diagnostic &d : diags)
      s += d.message + "\n";
    return s;
  }
};

inline std::string str(const SymbolBindings &dims) {
  std::ostringstream os;
  for (const auto &[sym, size] : dims)
    os << sym << "=" << size << " ";
  return os.str();
}

/// Same dtype, shape and bits: floats by bit pattern (so -0 differs from
/// +0), any NaN matching any NaN.
inline ::testing::AssertionResult sameBits(const Tensor &want,
                                           const Tensor &got) {
  if (want.dtype() != got.dtype() || want.shape() != got.shape())
    return ::testing::AssertionFailure()
           << "type differs: " << toString(want.shape()) << " vs "
           << toString(got.shape());
  for (int64_t i = 0; i < want.numel(); ++i) {
    if (isInteger(want.dtype())) {
      if (want.getInt(i) != got.getInt(i))
        return ::testing::AssertionFailure()
               << "element " << i << ": want " << want.getInt(i) << ", got "
               << got.getInt(i);
      continue;
    }
    double a = want.getDouble(i), b = got.getDouble(i);
    if (std::isnan(a) && std::isnan(b))
      continue;
    if (std::bit_cast<uint64_t>(a) != std::bit_cast<uint64_t>(b))
      return ::testing::AssertionFailure()
             << "element " << i << ": want " << a << ", got " << b;
  }
  return ::testing::AssertionSuccess();
}

/// Changes the random inputs of one run (sizes, seed) before it runs.
using Adjust = std::function<void(std::vector<Tensor> &, const SymbolBindings &,
                                  std::mt19937_64 &)>;

inline std::vector<Tensor> inputsFor(const Graph &g, const SymbolBindings &dims,
                                     uint64_t seed, const Adjust &adjust) {
  std::vector<Tensor> inputs;
  for (unsigned p = 0; p < g.params().size(); ++p) {
    FailureOr<Tensor> t = randomInput(g, p, dims, seed);
    EXPECT_FALSE(t.failed()) << "input " << p << " for " << str(dims);
    inputs.push_back(t.failed() ? Tensor() : std::move(*t));
  }
  std::mt19937_64 rng(seed);
  if (adjust)
    adjust(inputs, dims, rng);
  return inputs;
}

/// Compiles `k` once with `options` and checks every size in `sizes` bit
/// for bit against the reference (inputs seeded from `seed` + 1 on).
inline void expectCompiledMatches(Kir &k, const CompileOptions &options,
                                  const std::vector<SymbolBindings> &sizes,
                                  const Adjust &adjust = {}, uint64_t seed = 0) {
  ASSERT_TRUE(k.g);
  std::unique_ptr<CompiledGraph> exe = compile(*k.g, options, k.engine);
  ASSERT_TRUE(exe) << k.errors();
  const char *mode =
      options.mode == ShapeMode::Static ? "static " : "dynamic ";
  for (const SymbolBindings &dims : sizes) {
    std::vector<Tensor> inputs = inputsFor(*k.g, dims, ++seed, adjust);
    FailureOr<std::vector<Tensor>> want =
        runReference(*k.g, inputs, options.eval, dims);
    ASSERT_FALSE(want.failed()) << str(dims) << k.errors();
    FailureOr<std::vector<Tensor>> got = exe->run(inputs, dims);
    ASSERT_FALSE(got.failed()) << str(dims) << k.errors();
    ASSERT_EQ(want->size(), got->size());
    for (size_t r = 0; r < want->size(); ++r)
      ASSERT_TRUE(sameBits((*want)[r], (*got)[r]))
          << mode << str(dims) << "result " << r;
  }
}

/// Compiles `k` once in `mode` and checks every size in `sizes` against the
/// reference.
inline void expectMatches(Kir &k, ShapeMode mode,
                          const std::vector<SymbolBindings> &sizes,
                          const Adjust &adjust = {},
                          Numerics numerics = Numerics::Golden) {
  expectCompiledMatches(k, {.mode = mode, .eval = {numerics}}, sizes, adjust);
}

/// Dynamic mode over all of `sizes`, static mode over `staticSizes`.
inline void expectMatchesBoth(Kir &k, const std::vector<SymbolBindings> &sizes,
                              const std::vector<SymbolBindings> &staticSizes,
                              const Adjust &adjust = {},
                              Numerics numerics = Numerics::Golden) {
  expectMatches(k, ShapeMode::Dynamic, sizes, adjust, numerics);
  expectMatches(k, ShapeMode::Static, staticSizes, adjust, numerics);
}

/// Every combination of `values` for the symbols `names`.
inline std::vector<SymbolBindings> grid(const std::vector<std::string> &names,
                                        const std::vector<int64_t> &values,
                                        SymbolBindings fixed = {}) {
  std::vector<SymbolBindings> out{fixed};
  for (const std::string &n : names) {
    std::vector<SymbolBindings> next;
    for (const SymbolBindings &b : out)
      for (int64_t v : values) {
        SymbolBindings c = b;
        c[n] = v;
        next.push_back(c);
      }
    out = std::move(next);
  }
  return out;
}

inline const std::vector<int64_t> kSizes = {1, 2, 3, 7, 17, 33};

/// Replaces string `from` by `to` everywhere in `text`.
inline std::string subst(std::string text, const std::string &from,
                         const std::string &to) {
  for (size_t p = text.find(from); p != std::string::npos;
       p = text.find(from, p + to.size()))
    text.replace(p, from.size(), to);
  return text;
}

/// Groups that need not cover every row: random ends in [0, rows], sorted,
/// so later rows may be in no group and some groups are empty.
inline void partialGroups(Tensor &t, int64_t rows, bool count,
                          std::mt19937_64 &rng) {
  std::uniform_int_distribution<int64_t> cut(0, rows);
  std::vector<int64_t> ends(t.numel());
  for (int64_t &e : ends)
    e = cut(rng);
  std::sort(ends.begin(), ends.end());
  for (size_t g = 0; g < ends.size(); ++g)
    t.setInt(g, count ? ends[g] - (g ? ends[g - 1] : 0) : ends[g]);
}

/// Runs a graph expected to fail at run time: compiled and reference both
/// fail, with the same message containing `what`.
inline void expectSameError(const std::string &text, std::vector<Tensor> inputs,
                            const std::string &what, ShapeMode mode) {
  Kir k(text);
  ASSERT_TRUE(k.g);
  FailureOr<std::vector<Tensor>> want = runReference(*k.g, inputs);
  ASSERT_TRUE(want.failed());
  ASSERT_FALSE(k.diags.empty());
  std::string refMessage = k.diags.back().message;
  EXPECT_NE(refMessage.find(what), std::string::npos) << refMessage;
  k.diags.clear();
  std::unique_ptr<CompiledGraph> exe =
      compile(*k.g, {.mode = mode, .eval = {}}, k.engine);
  ASSERT_TRUE(exe) << k.errors();
  FailureOr<std::vector<Tensor>> got = exe->run(inputs);
  EXPECT_TRUE(got.failed());
  ASSERT_EQ(k.diags.size(), 1u) << k.errors();
  EXPECT_EQ(k.diags.back().message, refMessage);
}

inline Tensor ints(DType dtype, std::vector<int64_t> values) {
  Tensor t(dtype, {static_cast<int64_t>(values.size())});
  for (size_t i = 0; i < values.size(); ++i)
    t.setInt(static_cast<int64_t>(i), values[i]);
  return t;
}

inline Tensor filled(DType dtype, Shape shape, double v,
                     Layout layout = Layout::ND) {
  Tensor t(dtype, std::move(shape), layout);
  for (int64_t i = 0; i < t.numel(); ++i)
    t.setDouble(i, v);
  return t;
}

} // namespace kiln::lowering_test
