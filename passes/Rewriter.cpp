//===- Rewriter.cpp - IR mutation for patterns, and the driver ------------===//
#include "passes/Rewriter.h"

#include <algorithm>

namespace kiln {

Builder Rewriter::builderBefore(Op *op) const {
  Builder b(g_);
  b.setInsertionPoint(op);
  return b;
}

void Rewriter::replace(Op *root, const std::vector<Value *> &values) {
  std::vector<Op *> producers;
  for (Value *v : root->operands())
    if (v && v->definingOp())
      producers.push_back(v->definingOp());
  for (unsigned i = 0; i < root->numResults(); ++i)
    root->result(i)->replaceAllUsesWith(values[i]);
  g_.erase(root);
  // Erase the now-dead chain that fed the root, nearest producers first.
  while (!producers.empty()) {
    Op *op = producers.back();
    producers.pop_back();
    if (!op->info().hasTrait(kPure))
      continue;
    bool dead = true;
    for (Value *r : op->results())
      dead &= r->unused();
    if (!dead)
      continue;
    for (Value *v : op->operands())
      if (v && v->definingOp())
        producers.push_back(v->definingOp());
    // The same producer may have been queued twice; erase it once.
    producers.erase(std::remove(producers.begin(), producers.end(), op),
                    producers.end());
    g_.erase(op);
  }
}

LogicalResult Rewriter::notMatched(const Op &root, std::string_view fusedOp,
                                   std::string_view reason) const {
  if (explain_)
    root.emitRemark() << "not fused into " << fusedOp << ": " << reason;
  return failure();
}

LogicalResult applyPattern(Graph &g, const PassOptions &options,
                           PatternFn pattern) {
  Rewriter rw(g, /*explain=*/false);
  bool changed = true;
  while (changed) {
    changed = false;
    for (Op *op : g.opList()) {
      if (succeeded(pattern(*op, rw))) {
        changed = true;
        break; // the op list changed; start over
      }
    }
  }
  if (options.debugFusion) {
    Rewriter explainer(g, /*explain=*/true);
    for (Op *op : g.opList())
      (void)pattern(*op, explainer); // nothing fires at the fixed point
  }
  return success();
}

} // namespace kiln
