//===- Graph.cpp - values, ops and graphs ---------------------------------===//
#include "ir/Graph.h"

#include <algorithm>
#include <cassert>
#include <map>

namespace kiln {

//===----------------------------------------------------------------------===//
// Value
//===----------------------------------------------------------------------===//

void Value::replaceAllUsesWith(Value *other) {
  assert(other != this && "replacing a value with itself");
  // setOperand edits uses_, so walk a copy.
  for (Use use : std::vector<Use>(uses_)) {
    if (use.user)
      use.user->setOperand(use.index, other);
    else
      graph()->setResultValue(use.index, other);
  }
}

Graph *Value::graph() const { return def_ ? def_->parent() : owner_; }

//===----------------------------------------------------------------------===//
// Op
//===----------------------------------------------------------------------===//

Op::Op(OpKind kind, std::vector<Value *> operands, OpAttrs attrs,
       const std::vector<TensorType> &resultTypes, Location loc)
    : kind_(kind), operands_(std::move(operands)), attrs_(std::move(attrs)),
      loc_(std::move(loc)) {
  for (unsigned i = 0; i < operands_.size(); ++i)
    if (operands_[i])
      operands_[i]->uses_.push_back({this, i});
  for (unsigned i = 0; i < resultTypes.size(); ++i)
    results_.push_back(
        std::unique_ptr<Value>(new Value(resultTypes[i], this, i, {})));
}

Op::~Op() {
  for (unsigned i = 0; i < operands_.size(); ++i)
    setOperand(i, nullptr);
}

void Op::setOperand(unsigned i, Value *v) {
  if (Value *old = operands_[i])
    std::erase(old->uses_, Use{this, i});
  operands_[i] = v;
  if (v)
    v->uses_.push_back({this, i});
}

std::vector<Value *> Op::results() const {
  std::vector<Value *> out;
  for (const auto &r : results_)
    out.push_back(r.get());
  return out;
}

InFlightDiag Op::emitError() const {
  DiagEngine &engine = parent_ ? parent_->diags() : DiagEngine::stderrEngine();
  InFlightDiag d(engine, Severity::Error, loc_);
  d << '\'' << mnemonic() << "' op ";
  return d;
}

InFlightDiag Op::emitRemark() const {
  DiagEngine &engine = parent_ ? parent_->diags() : DiagEngine::stderrEngine();
  InFlightDiag d(engine, Severity::Remark, loc_);
  d << '\'' << mnemonic() << "' op ";
  return d;
}

//===----------------------------------------------------------------------===//
// Graph
//===----------------------------------------------------------------------===//

Graph::Graph(std::string name, Location loc)
    : name_(std::move(name)), loc_(std::move(loc)),
      diags_(&DiagEngine::stderrEngine()) {}

Graph::~Graph() {
  // Drop every use first: ops may be destroyed in any order (a pass may have
  // left them out of order, which the verifier reports but must survive).
  setResults({});
  for (const auto &op : ops_)
    for (unsigned i = 0; i < op->numOperands(); ++i)
      op->setOperand(i, nullptr);
  ops_.clear();
}

Value *Graph::addParam(std::string name, TensorType type) {
  unsigned index = params_.size();
  params_.push_back(std::unique_ptr<Value>(
      new Value(std::move(type), nullptr, index, std::move(name), this)));
  return params_.back().get();
}

Value *Graph::lookupParam(std::string_view name) const {
  for (const auto &p : params_)
    if (p->name() == name)
      return p.get();
  return nullptr;
}

void Graph::declareSymbol(std::string name) {
  if (!hasSymbol(name))
    symbols_.push_back(std::move(name));
}

bool Graph::hasSymbol(std::string_view name) const {
  return std::find(symbols_.begin(), symbols_.end(), name) != symbols_.end();
}

std::vector<Op *> Graph::opList() const {
  std::vector<Op *> out;
  for (const auto &op : ops_)
    out.push_back(op.get());
  return out;
}

Op *Graph::append(std::unique_ptr<Op> op) {
  op->parent_ = this;
  ops_.push_back(std::move(op));
  return ops_.back().get();
}

Op *Graph::insertBefore(Op *anchor, std::unique_ptr<Op> op) {
  auto it = std::find_if(ops_.begin(), ops_.end(),
                         [&](const auto &o) { return o.get() == anchor; });
  assert(it != ops_.end() && "anchor is not in this graph");
  op->parent_ = this;
  return ops_.insert(it, std::move(op))->get();
}

void Graph::erase(Op *op) {
  for (Value *r : op->results()) {
    (void)r;
    assert(r->unused() && "erasing an op whose results are still used");
  }
  ops_.remove_if([&](const auto &o) { return o.get() == op; });
}

void Graph::setResults(std::vector<GraphResult> results) {
  for (unsigned i = 0; i < results_.size(); ++i)
    if (Value *old = results_[i].value)
      std::erase(old->uses_, Use{nullptr, i});
  results_ = std::move(results);
  for (unsigned i = 0; i < results_.size(); ++i)
    if (Value *v = results_[i].value)
      v->uses_.push_back({nullptr, i});
}

void Graph::setResultValue(unsigned i, Value *v) {
  if (Value *old = results_[i].value)
    std::erase(old->uses_, Use{nullptr, i});
  results_[i].value = v;
  if (v)
    v->uses_.push_back({nullptr, i});
}

std::unique_ptr<Graph> Graph::clone() const {
  auto g = std::make_unique<Graph>(name_, loc_);
  g->diags_ = diags_;
  g->symbols_ = symbols_;
  std::map<const Value *, Value *> map;
  for (const auto &p : params_)
    map[p.get()] = g->addParam(p->name(), p->type());
  for (const auto &op : ops_) {
    std::vector<Value *> operands;
    for (Value *v : op->operands())
      operands.push_back(v ? map.at(v) : nullptr);
    std::vector<TensorType> types;
    for (Value *r : op->results())
      types.push_back(r->type());
    Op *copy = g->append(std::make_unique<Op>(op->kind(), std::move(operands),
                                              op->attrVariant(), types,
                                              op->loc()));
    for (unsigned i = 0; i < op->numResults(); ++i)
      map[op->result(i)] = copy->result(i);
  }
  std::vector<GraphResult> results;
  for (const GraphResult &r : results_)
    results.push_back({r.value ? map.at(r.value) : nullptr, r.name});
  g->setResults(std::move(results));
  return g;
}

Graph *Module::lookup(std::string_view name) const {
  for (const auto &g : graphs)
    if (g->name() == name)
      return g.get();
  return nullptr;
}

} // namespace kiln
