//===- Builder.h - the C++ graph API ----------------------------*- C++ -*-===//
//
//   kiln::Graph g("ffn");
//   kiln::Builder b(g);
//   Value *x = b.param("x", {DType::F16, {"M", 4096}});
//   Value *w = b.param("w", {DType::F16, {4096, 1024}});
//   b.returns({{b.matmul({.lhs = x, .rhs = w}), "y"}});
//
// Every op records the caller's std::source_location, so diagnostics point
// at the user's C++ line just as they point at a .kir line for parsed IR.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"

#include <cassert>
#include <source_location>
#include <vector>

namespace kiln {

/// The results of a created op; converts to Value* when there is exactly one.
class Results {
public:
  explicit Results(Op *op) : op_(op) {}
  operator Value *() const {
    assert(op_->numResults() == 1 && "op has several results; index them");
    return op_->result(0);
  }
  Value *operator[](unsigned i) const { return op_->result(i); }
  Op *op() const { return op_; }

private:
  Op *op_;
};

class Builder {
public:
  explicit Builder(Graph &graph) : graph_(graph) {}

  Graph &graph() const { return graph_; }
  /// False once any op failed to verify (the error has been reported).
  bool ok() const { return ok_; }

  /// Declares symbols used in parameter types, e.g. b.symbols({"M"}).
  void symbols(std::initializer_list<std::string> names);
  Value *param(std::string name, TensorType type);
  /// Sets the graph results.
  void returns(std::vector<GraphResult> results);

  /// Creates an op of any kind; result types come from its shape inference
  /// (`declared` is needed only by `constant`). Inserted at the end, or
  /// before the insertion point when one is set.
  Results create(OpKind kind, std::vector<Value *> operands, OpAttrs attrs,
                 Location loc, std::vector<TensorType> declared = {});

  /// Insert new ops before `op` (nullptr: at the end).
  void setInsertionPoint(Op *op) { insertBefore_ = op; }

  /// A constant tensor of `type` holding `values` (one value = splat).
  Value *constant(TensorType type, std::vector<double> values,
                  std::source_location loc = std::source_location::current());

  // One method per op in ir/Ops.def: b.matmul({.lhs = x, .rhs = w}, {...}).
#define OPERANDS(...)
#define ATTRS(...)
#define OP(Class, name, traits, operands, attrs)                               \
  Results name(const ops::Class::Operands &o, ops::Class::Attrs a = {},        \
               std::source_location loc = std::source_location::current()) {   \
    return create(OpKind::Class, ops::operandList(o), std::move(a),            \
                  Location::fromCpp(loc));                                     \
  }
#define NPU_OP(Class, name, traits, operands, attrs)                           \
  OP(Class, npu_##name, traits, operands, attrs)
#include "ir/Ops.def"
#undef OPERANDS
#undef ATTRS

private:
  Graph &graph_;
  Op *insertBefore_ = nullptr;
  bool ok_ = true;
};

} // namespace kiln
