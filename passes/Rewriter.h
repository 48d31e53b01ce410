//===- Rewriter.h - IR mutation for patterns, and the driver ----*- C++ -*-===//
#pragma once

#include "ir/Builder.h"
#include "passes/Pass.h"

#include <string_view>

namespace kiln {

/// Everything a pattern may do to the graph goes through here, so use-lists
/// stay consistent and dead producers of a replaced op are cleaned up.
class Rewriter {
public:
  /// `explain`: report notMatched reasons as remarks.
  Rewriter(Graph &g, bool explain) : g_(g), explain_(explain) {}

  Graph &graph() const { return g_; }
  /// A Builder inserting before `op` (new ops keep topological order).
  Builder builderBefore(Op *op) const;
  /// Replaces every use of `root`'s results by `values` (one per result)
  /// and erases `root` and every producer that became dead.
  void replace(Op *root, const std::vector<Value *> &values);
  /// Records why `root` did not become `fusedOp`; printed as a remark at
  /// the root's location under --debug-fusion. Always returns failure().
  LogicalResult notMatched(const Op &root, std::string_view fusedOp,
                           std::string_view reason) const;

private:
  Graph &g_;
  bool explain_;
};

/// A fusion pattern: rewrites around `root` or returns failure.
using PatternFn = LogicalResult (*)(Op &root, Rewriter &rw);

/// Applies `pattern` to every op until nothing changes (a pattern must only
/// fire when it removes its root, so this terminates). Under --debug-fusion
/// a last sweep reports, once per candidate, why it did not fuse.
LogicalResult applyPattern(Graph &g, const PassOptions &options,
                           PatternFn pattern);

} // namespace kiln
