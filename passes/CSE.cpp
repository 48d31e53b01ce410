//===- CSE.cpp - merge identical pure ops ---------------------------------===//
#include "passes/Pass.h"

#include <map>
#include <tuple>

namespace kiln {

/// Two pure ops are the same computation when kind, operands, attributes and
/// result types agree; the later one is replaced by the earlier.
LogicalResult runCSE(Graph &g, const PassOptions &) {
  using Key = std::tuple<OpKind, std::vector<Value *>>;
  std::map<Key, std::vector<Op *>> seen;
  for (Op *op : g.opList()) {
    if (!op->info().hasTrait(kPure))
      continue;
    Key key{op->kind(),
            std::vector<Value *>(op->operands().begin(), op->operands().end())};
    std::vector<Op *> &candidates = seen[key];
    Op *match = nullptr;
    for (Op *c : candidates) {
      if (c->attrVariant() != op->attrVariant())
        continue;
      bool sameTypes = c->numResults() == op->numResults();
      for (unsigned i = 0; sameTypes && i < c->numResults(); ++i)
        sameTypes = c->result(i)->type() == op->result(i)->type();
      if (sameTypes) {
        match = c;
        break;
      }
    }
    if (!match) {
      candidates.push_back(op);
      continue;
    }
    for (unsigned i = 0; i < op->numResults(); ++i)
      op->result(i)->replaceAllUsesWith(match->result(i));
    g.erase(op);
  }
  return success();
}

} // namespace kiln
