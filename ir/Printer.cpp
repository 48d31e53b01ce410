//===- Printer.cpp - a Module to .kir text --------------------------------===//
#include "ir/Printer.h"

#include <fmt/format.h>

#include <cmath>
#include <map>
#include <ostream>
#include <set>
#include <sstream>

namespace kiln {

namespace {

// Attribute values, one overload per attribute type (see Attributes.h).
void printValue(std::ostream &os, bool v) { os << (v ? "true" : "false"); }
void printValue(std::ostream &os, int64_t v) { os << v; }
void printValue(std::ostream &os, double v) {
  if (std::isnan(v))
    os << "nan";
  else if (std::isinf(v))
    os << (v < 0 ? "-inf" : "inf");
  else
    os << fmt::format("{}", v); // shortest form that reads back exactly
}
void printValue(std::ostream &os, DType v) { os << v; }
void printValue(std::ostream &os, const std::optional<DType> &v) {
  os << (v ? toString(*v) : "none");
}
void printValue(std::ostream &os, Layout v) { os << v; }
void printValue(std::ostream &os, const Dim &v) { os << v; }
template <SpelledEnum E> void printValue(std::ostream &os, E v) {
  os << toString(v);
}
template <class T> void printValue(std::ostream &os, const std::vector<T> &v) {
  os << '[';
  for (size_t i = 0; i < v.size(); ++i) {
    os << (i ? ", " : "");
    printValue(os, v[i]);
  }
  os << ']';
}
void printValue(std::ostream &os, const Elements &v) {
  printValue(os, v.values);
}

/// Names every value of a graph: parameters by name, results by number.
class Namer {
public:
  explicit Namer(const Graph &g) {
    std::set<std::string> taken;
    for (const auto &p : g.params()) {
      names_[p.get()] = p->name();
      taken.insert(p->name());
    }
    unsigned next = 0;
    for (const auto &op : g.ops())
      for (Value *r : op->results()) {
        while (taken.count(std::to_string(next)))
          ++next;
        names_[r] = std::to_string(next++);
      }
  }
  std::string operator()(const Value *v) const {
    auto it = names_.find(v);
    return it == names_.end() ? "<<null>>" : "%" + it->second;
  }

private:
  std::map<const Value *, std::string> names_;
};

void printAttrs(std::ostream &os, const OpAttrs &attrs) {
  std::ostringstream body;
  bool first = true;
  std::visit(
      [&](const auto &a) {
        if constexpr (!std::is_same_v<std::decay_t<decltype(a)>,
                                      std::monostate>)
          ops::visitAttrs(a, [&](std::string_view name, const auto &value,
                                 const auto &dflt) {
            if (value == dflt)
              return;
            body << (first ? "" : ", ") << name << " = ";
            printValue(body, value);
            first = false;
          });
      },
      attrs);
  if (!first)
    os << " {" << body.str() << '}';
}

void printOp(std::ostream &os, const Op &op, const Namer &name) {
  os << "  ";
  for (unsigned i = 0; i < op.numResults(); ++i)
    os << (i ? ", " : "") << name(op.result(i));
  os << " = " << op.mnemonic();
  if (op.numOperands())
    os << '(';
  bool first = true;
  for (unsigned i = 0; i < op.numOperands(); ++i) {
    Value *v = op.operand(i);
    const OperandSpec &spec = op.info().operands[i];
    if (!v && spec.optional)
      continue;
    os << (first ? "" : ", ");
    if (spec.optional)
      os << spec.name << " = ";
    os << name(v);
    first = false;
  }
  if (op.numOperands())
    os << ')';
  printAttrs(os, op.attrVariant());
  os << " : ";
  if (op.numResults() != 1)
    os << '(';
  for (unsigned i = 0; i < op.numResults(); ++i)
    os << (i ? ", " : "") << op.result(i)->type();
  if (op.numResults() != 1)
    os << ')';
  os << '\n';
}

} // namespace

void print(std::ostream &os, const Graph &g) {
  Namer name(g);
  os << "func @" << g.name() << '(';
  for (size_t i = 0; i < g.params().size(); ++i) {
    const Value *p = g.param(i);
    os << (i ? ", " : "") << name(p) << ": " << p->type();
  }
  os << ") -> ";
  const auto &results = g.results();
  bool bare = results.size() == 1 && results[0].name.empty();
  if (!bare)
    os << '(';
  for (size_t i = 0; i < results.size(); ++i) {
    os << (i ? ", " : "");
    if (!results[i].name.empty())
      os << results[i].name << ": ";
    if (results[i].value)
      os << results[i].value->type();
  }
  if (!bare)
    os << ')';
  if (!g.symbols().empty()) {
    os << " sym(";
    for (size_t i = 0; i < g.symbols().size(); ++i)
      os << (i ? ", " : "") << g.symbols()[i];
    os << ')';
  }
  os << " {\n";
  for (const auto &op : g.ops())
    printOp(os, *op, name);
  os << "  return";
  for (size_t i = 0; i < results.size(); ++i)
    os << (i ? ", " : " ") << name(results[i].value);
  os << "\n}\n";
}

void print(std::ostream &os, const Module &m) {
  for (size_t i = 0; i < m.graphs.size(); ++i) {
    if (i)
      os << '\n';
    print(os, *m.graphs[i]);
  }
}

std::string toString(const Graph &g) {
  std::ostringstream os;
  print(os, g);
  return os.str();
}

void printDot(std::ostream &os, const Graph &g) {
  Namer name(g);
  std::map<const Value *, std::string> node;
  os << "digraph \"" << g.name() << "\" {\n  rankdir=TB;\n";
  for (const auto &p : g.params()) {
    std::string id = "p" + std::to_string(p->index());
    node[p.get()] = id;
    os << "  " << id << " [shape=ellipse, label=\"" << name(p.get()) << "\\n"
       << p->type() << "\"];\n";
  }
  unsigned n = 0;
  for (const auto &op : g.ops()) {
    std::string id = "op" + std::to_string(n++);
    for (Value *r : op->results())
      node[r] = id;
    os << "  " << id << " [shape=box, label=\"" << op->mnemonic();
    for (Value *r : op->results())
      os << "\\n" << r->type();
    os << "\"];\n";
    for (Value *v : op->operands())
      if (v)
        os << "  " << node[v] << " -> " << id << ";\n";
  }
  for (size_t i = 0; i < g.results().size(); ++i) {
    const GraphResult &r = g.results()[i];
    os << "  r" << i << " [shape=doublecircle, label=\""
       << (r.name.empty() ? "out" + std::to_string(i) : r.name) << "\"];\n";
    if (r.value)
      os << "  " << node[r.value] << " -> r" << i << ";\n";
  }
  os << "}\n";
}

} // namespace kiln
