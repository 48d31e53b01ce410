//===- Executor.cpp - the reference interpreter ---------------------------===//
#include "runtime/Executor.h"

#include "runtime/Communicator.h"

#include <fmt/core.h>

#include <unordered_map>

namespace kiln {

FailureOr<SymbolBindings> bindSymbols(const Graph &g,
                                      std::span<const Tensor *const> inputs,
                                      const SymbolBindings &preset) {
  DiagEngine &diags = g.diags();
  if (inputs.size() != g.params().size())
    return emitError(diags, g.loc())
           << "@" << g.name() << " takes " << g.params().size()
           << " inputs, got " << inputs.size();
  SymbolBindings bound = preset;
  std::map<std::string, std::string, std::less<>> boundBy;
  for (const auto &[sym, size] : preset)
    boundBy[sym] = "--dim " + sym + "=" + std::to_string(size);
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i])
      continue;
    const Value *p = g.param(i);
    const TensorType &t = p->type();
    const Tensor &in = *inputs[i];
    auto where = [&] {
      InFlightDiag d = emitError(diags, g.loc());
      d << "input %" << p->name() << ": ";
      return d;
    };
    if (in.dtype() != t.dtype)
      return where() << "dtype " << in.dtype() << " does not match " << t;
    if (in.layout() != t.layout)
      return where() << "layout " << in.layout() << " does not match " << t;
    if (in.rank() != t.rank())
      return where() << "shape " << toString(in.shape())
                     << " does not match " << t;
    for (int64_t d = 0; d < t.rank(); ++d) {
      const Dim &dim = t.dims[d];
      int64_t size = in.dim(d);
      if (dim.isStatic()) {
        if (dim.size() != size)
          return where() << "shape " << toString(in.shape())
                         << " does not match " << t;
        continue;
      }
      std::string here = "%" + p->name() + " dim " + std::to_string(d);
      auto [it, fresh] = bound.try_emplace(dim.symbol(), size);
      if (fresh) {
        boundBy[dim.symbol()] = here;
      } else if (it->second != size) {
        return where() << "dim " << d << " is " << size << " but "
                       << dim.symbol() << " = " << it->second << " (from "
                       << boundBy[dim.symbol()] << ")";
      }
    }
  }
  return bound;
}

FailureOr<Shape> resolveShape(const TensorType &t, const SymbolBindings &b,
                              DiagEngine &diags, const Location &loc) {
  Shape s;
  for (const Dim &d : t.dims) {
    if (d.isStatic()) {
      s.push_back(d.size());
      continue;
    }
    auto it = b.find(d.symbol());
    if (it == b.end())
      return emitError(diags, loc)
             << "symbol " << d.symbol()
             << " is not bound by any input; give its size (--dim "
             << d.symbol() << "=N)";
    s.push_back(it->second);
  }
  return s;
}

FailureOr<SymbolBindings> bindSymbols(const Graph &g,
                                      std::span<const Tensor> inputs,
                                      const SymbolBindings &preset) {
  std::vector<const Tensor *> ptrs;
  for (const Tensor &t : inputs)
    ptrs.push_back(&t);
  return bindSymbols(g, ptrs, preset);
}

FailureOr<std::vector<Tensor>> runReference(const Graph &g,
                                            std::span<const Tensor> inputs,
                                            const EvalOptions &options,
                                            const SymbolBindings &preset) {
  FailureOr<SymbolBindings> bindings = bindSymbols(g, inputs, preset);
  if (bindings.failed())
    return failure();
  std::unordered_map<const Value *, Tensor> env;
  for (size_t i = 0; i < inputs.size(); ++i)
    env[g.param(i)] = inputs[i];

  for (const auto &op : g.ops()) {
    std::vector<const Tensor *> ins;
    for (const Value *v : op->operands())
      ins.push_back(v ? &env.at(v) : nullptr);
    std::vector<Tensor> outs;
    for (const Value *r : op->results()) {
      FailureOr<Shape> shape =
          resolveShape(r->type(), *bindings, g.diags(), op->loc());
      if (shape.failed())
        return failure();
      outs.emplace_back(r->type().dtype, std::move(*shape), r->type().layout);
    }
    EvalContext ctx(*op, std::move(ins), outs, options);
    if (failed(op->info().eval(*op, ctx))) {
      if (options.comm) // the other ranks must not wait for this one
        options.comm->abort(fmt::format("'{}' at {}:{} failed",
                                        op->mnemonic(), op->loc().file,
                                        op->loc().line));
      return failure();
    }
    for (unsigned i = 0; i < outs.size(); ++i)
      env[op->result(i)] = std::move(outs[i]);
  }
  std::vector<Tensor> results;
  for (const GraphResult &r : g.results())
    results.push_back(env.at(r.value));
  return results;
}

} // namespace kiln
