//===- Graph.h - functions of ops and modules of functions ------*- C++ -*-===//
#pragma once

#include "ir/Op.h"

#include <list>
#include <memory>
#include <string>
#include <vector>

namespace kiln {

/// A named graph result.
struct GraphResult {
  Value *value;
  std::string name; ///< empty for unnamed results
};

/// A function: named parameters, declared symbols, ops in topological order,
/// and results.
class Graph {
public:
  explicit Graph(std::string name, Location loc = {});
  ~Graph();

  const std::string &name() const { return name_; }
  const Location &loc() const { return loc_; }

  Value *addParam(std::string name, TensorType type);
  std::span<const std::unique_ptr<Value>> params() const { return params_; }
  Value *param(unsigned i) const { return params_[i].get(); }
  Value *lookupParam(std::string_view name) const;

  /// Symbolic dims usable in this graph's types, in declaration order.
  const std::vector<std::string> &symbols() const { return symbols_; }
  void declareSymbol(std::string name);
  bool hasSymbol(std::string_view name) const;

  /// Ops in order. Mutate only through append/insertBefore/erase.
  const std::list<std::unique_ptr<Op>> &ops() const { return ops_; }
  /// A copy of the op list, safe to iterate while the graph changes.
  std::vector<Op *> opList() const;
  Op *append(std::unique_ptr<Op> op);
  Op *insertBefore(Op *anchor, std::unique_ptr<Op> op);
  /// Removes an op whose results are unused.
  void erase(Op *op);

  const std::vector<GraphResult> &results() const { return results_; }
  void setResults(std::vector<GraphResult> results);
  void setResultValue(unsigned i, Value *v);

  /// A deep copy: same names, types, attributes and source locations (so a
  /// transformed or compiled copy reports errors where the user wrote them).
  std::unique_ptr<Graph> clone() const;

  /// Where this graph's ops report errors.
  DiagEngine &diags() const { return *diags_; }
  void setDiags(DiagEngine &engine) { diags_ = &engine; }

private:
  std::string name_;
  Location loc_;
  std::vector<std::unique_ptr<Value>> params_;
  std::vector<std::string> symbols_;
  std::list<std::unique_ptr<Op>> ops_;
  std::vector<GraphResult> results_;
  DiagEngine *diags_;
};

/// What one .kir file holds: one or more functions.
struct Module {
  std::vector<std::unique_ptr<Graph>> graphs;
  Graph *lookup(std::string_view name) const;
};

} // namespace kiln
