//===- Verifier.cpp - structural and per-op checks ------------------------===//
#include "ir/Verifier.h"

#include <set>

namespace kiln {

namespace {

LogicalResult verifySymbols(const Graph &g, const TensorType &t,
                            const Location &loc) {
  for (const Dim &d : t.dims)
    if (d.isSymbol() && !g.hasSymbol(d.symbol()))
      return emitError(g.diags(), loc)
             << "unknown symbol '" << d.symbol() << "' in type " << t;
  return success();
}

LogicalResult verifyOp(const Graph &g, const Op &op,
                       const std::set<const Value *> &defined) {
  for (unsigned i = 0; i < op.numOperands(); ++i) {
    const Value *v = op.operand(i);
    const OperandSpec &spec = op.info().operands[i];
    if (!v) {
      if (spec.optional)
        continue;
      return op.emitError() << "is missing its '" << spec.name << "' operand";
    }
    if (!defined.count(v))
      return op.emitError() << "operand '" << spec.name
                            << "' is used before it is defined";
  }
  std::vector<TensorType> types;
  for (Value *r : op.results())
    types.push_back(r->type());
  std::vector<TensorType> inferred = types;
  if (failed(op.info().infer(op, inferred)))
    return failure();
  if (inferred.size() != types.size())
    return op.emitError() << "has " << types.size() << " result"
                          << (types.size() == 1 ? "" : "s") << " but produces "
                          << inferred.size();
  for (size_t i = 0; i < types.size(); ++i) {
    if (failed(verifySymbols(g, types[i], op.loc())))
      return failure();
    if (types[i] != inferred[i])
      return op.emitError() << "result #" << i << " is declared "
                            << types[i] << " but the op produces "
                            << inferred[i];
  }
  return success();
}

} // namespace

LogicalResult verify(const Graph &g) {
  std::set<const Value *> defined;
  for (const auto &p : g.params()) {
    if (failed(verifySymbols(g, p->type(), g.loc())))
      return failure();
    defined.insert(p.get());
  }
  for (const auto &op : g.ops()) {
    if (op->parent() != &g)
      return op->emitError() << "belongs to another graph";
    if (failed(verifyOp(g, *op, defined)))
      return failure();
    for (Value *r : op->results())
      defined.insert(r);
  }
  for (size_t i = 0; i < g.results().size(); ++i) {
    const Value *v = g.results()[i].value;
    if (!v || !defined.count(v))
      return emitError(g.diags(), g.loc())
             << "result #" << i << " of @" << g.name() << " is not defined";
  }
  return success();
}

LogicalResult verify(const Module &m) {
  bool ok = true;
  for (const auto &g : m.graphs)
    ok &= succeeded(verify(*g));
  return success(ok);
}

} // namespace kiln
