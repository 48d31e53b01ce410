//===- OpTestUtil.h - run one op's reference kernel in a unit test --------===//
#pragma once

#include "ir/Builder.h"
#include "runtime/Eval.h"
#include "runtime/Tensor.h"

#include <gtest/gtest.h>

#include <vector>

namespace kiln::testing {

/// A Tensor of `dtype`/`shape` holding `values` in logical row-major order.
inline Tensor makeTensor(DType dtype, Shape shape, const std::vector<double> &values,
                         Layout layout = Layout::ND) {
  Tensor t(dtype, std::move(shape), layout);
  EXPECT_EQ(static_cast<int64_t>(values.size()), t.numel());
  for (size_t i = 0; i < values.size(); ++i)
    t.setDouble(static_cast<int64_t>(i), values[i]);
  return t;
}

/// All values of `t` in logical row-major order.
inline std::vector<double> values(const Tensor &t) {
  std::vector<double> out;
  for (int64_t i = 0; i < t.numel(); ++i)
    out.push_back(t.getDouble(i));
  return out;
}

/// Evaluates `op` (whose result types must be static) on `inputs` (nullptr
/// for absent optional operands). Returns the outputs, or an empty vector
/// if the kernel reported an error.
inline std::vector<Tensor> evalOp(const Op &op,
                                  std::vector<const Tensor *> inputs,
                                  EvalOptions options = {}) {
  std::vector<Tensor> outs;
  for (unsigned i = 0; i < op.numResults(); ++i) {
    const TensorType &t = op.result(i)->type();
    Shape shape;
    for (const Dim &d : t.dims)
      shape.push_back(d.size());
    outs.emplace_back(t.dtype, shape, t.layout);
  }
  EvalContext ctx(op, std::move(inputs), outs, options);
  if (failed(op.info().eval(op, ctx)))
    return {};
  return outs;
}

/// A graph whose diagnostics are collected instead of printed.
struct TestGraph {
  std::vector<Diagnostic> diags;
  DiagEngine engine{[this](const Diagnostic &d) { diags.push_back(d); }};
  Graph graph{"test"};
  Builder b{graph};
  TestGraph() { graph.setDiags(engine); }
  std::string lastError() const {
    return diags.empty() ? std::string() : diags.back().message;
  }
};

/// The builder failed with an error containing `what`.
inline void expectError(const TestGraph &g, const std::string &what) {
  EXPECT_FALSE(g.b.ok());
  EXPECT_NE(g.lastError().find(what), std::string::npos)
      << "got: " << g.lastError();
}

/// 0, 1, ..., n-1.
inline std::vector<double> iota(int n) {
  std::vector<double> v;
  for (int i = 0; i < n; ++i)
    v.push_back(i);
  return v;
}

} // namespace kiln::testing
