//===- DCE.cpp - remove ops whose results are unused ----------------------===//
#include "passes/Pass.h"

namespace kiln {

/// Walks ops backwards so a chain of dead ops goes in one sweep. Ops with
/// side effects (allreduce) stay even when unused: other ranks wait on them.
LogicalResult runDCE(Graph &g, const PassOptions &) {
  std::vector<Op *> ops = g.opList();
  for (auto it = ops.rbegin(); it != ops.rend(); ++it) {
    Op *op = *it;
    if (op->info().hasTrait(kSideEffect))
      continue;
    bool dead = true;
    for (Value *r : op->results())
      dead &= r->unused();
    if (dead)
      g.erase(op);
  }
  return success();
}

} // namespace kiln
