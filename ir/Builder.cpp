//===- Builder.cpp - the C++ graph API ------------------------------------===//
#include "ir/Builder.h"

namespace kiln {

void Builder::symbols(std::initializer_list<std::string> names) {
  for (const std::string &n : names)
    graph_.declareSymbol(n);
}

Value *Builder::param(std::string name, TensorType type) {
  return graph_.addParam(std::move(name), std::move(type));
}

void Builder::returns(std::vector<GraphResult> results) {
  graph_.setResults(std::move(results));
}

Results Builder::create(OpKind kind, std::vector<Value *> operands,
                        OpAttrs attrs, Location loc,
                        std::vector<TensorType> declared) {
  // Infer on a detached op first so the diagnostic engine is the graph's.
  auto op = std::make_unique<Op>(kind, std::move(operands), std::move(attrs),
                                 declared, std::move(loc));
  Op *raw = insertBefore_ ? graph_.insertBefore(insertBefore_, std::move(op))
                          : graph_.append(std::move(op));
  std::vector<TensorType> types = declared;
  if (failed(raw->info().infer(*raw, types))) {
    ok_ = false;
    // Keep the result count stable for callers indexing results.
    if (types.empty())
      types.push_back(TensorType{});
  }
  // Rebuild the op with inferred result types when the count changed.
  if (types.size() != raw->numResults()) {
    std::vector<Value *> ops(raw->operands().begin(), raw->operands().end());
    auto fresh = std::make_unique<Op>(raw->kind(), ops, raw->attrVariant(),
                                      types, raw->loc());
    Op *anchor = raw;
    Op *made = graph_.insertBefore(anchor, std::move(fresh));
    graph_.erase(anchor);
    return Results(made);
  }
  for (unsigned i = 0; i < types.size(); ++i)
    raw->result(i)->setType(types[i]);
  return Results(raw);
}

Value *Builder::constant(TensorType type, std::vector<double> values,
                         std::source_location loc) {
  return create(OpKind::Constant, {},
                ops::Constant::Attrs{Elements{std::move(values)}},
                Location::fromCpp(loc), {std::move(type)});
}

} // namespace kiln
