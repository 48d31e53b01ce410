//===- SingleOp.cpp - run one op eagerly ----------------------------------===//
//
// Each call builds and verifies its one-op graph (so errors carry the
// caller's location), then runs it: on the JIT, through a process-wide map
// from the graph's text and numerics to a CompiledGraph (static mode: the
// text holds the input shapes), run with the call's graph as the place to
// report data errors; or on the reference executor.
//
//===----------------------------------------------------------------------===//
#include "runtime/SingleOp.h"

#include "codegen/CompiledGraph.h"
#include "ir/Builder.h"
#include "ir/Printer.h"
#include "ir/Verifier.h"
#include "runtime/Executor.h"

#include <cstdlib>
#include <cstring>
#include <mutex>
#include <unordered_map>

namespace kiln {

namespace {

constexpr int kUnset = -1;
thread_local int scopedBackend = kUnset;

/// Where diagnostics of the current call on this thread go: the shared
/// compiled graphs outlive any one call, so their DiagEngine forwards here.
thread_local std::string *callMessages = nullptr;

void collect(std::string &messages, const Diagnostic &d) {
  messages += (messages.empty() ? "" : "\n") + format(d);
}

struct EagerCache {
  std::mutex mutex;
  std::unordered_map<std::string, std::unique_ptr<CompiledGraph>> graphs;
  EagerCacheStats stats;
  DiagEngine diags{[](const Diagnostic &d) {
    if (callMessages)
      collect(*callMessages, d);
  }};
};

EagerCache &eagerCache() {
  static EagerCache c;
  return c;
}

/// The compiled form of `g`, compiled on the first call with its text.
CompiledGraph *compiledFor(const Graph &g, const EvalOptions &options) {
  std::string key = toString(g);
  key += options.numerics == Numerics::Golden ? "|golden" : "|npu-compat";
  EagerCache &c = eagerCache();
  std::lock_guard<std::mutex> lock(c.mutex);
  std::unique_ptr<CompiledGraph> &cg = c.graphs[key];
  if (cg) {
    ++c.stats.hits;
    return cg.get();
  }
  CompileOptions co;
  co.mode = codegen::ShapeMode::Static;
  co.eval.numerics = options.numerics;
  cg = compile(g, co, c.diags);
  if (!cg) {
    c.graphs.erase(key);
    return nullptr;
  }
  ++c.stats.compiled;
  return cg.get();
}

FailureOr<std::vector<Tensor>> runCompiled(const Graph &g,
                                           std::span<const Tensor> args,
                                           const EvalOptions &options,
                                           std::string &messages) {
  callMessages = &messages;
  CompiledGraph *cg = compiledFor(g, options);
  FailureOr<std::vector<Tensor>> out =
      cg ? cg->run(args, {}, g) : FailureOr<std::vector<Tensor>>(failure());
  callMessages = nullptr;
  return out;
}

} // namespace

EagerBackend eagerBackend() {
  if (scopedBackend != kUnset)
    return static_cast<EagerBackend>(scopedBackend);
  static const EagerBackend fromEnv = [] {
    const char *v = std::getenv("KILN_EAGER");
    return v && std::strcmp(v, "reference") == 0 ? EagerBackend::Reference
                                                 : EagerBackend::Jit;
  }();
  return fromEnv;
}

EagerBackendScope::EagerBackendScope(EagerBackend backend)
    : previous_(scopedBackend) {
  scopedBackend = static_cast<int>(backend);
}

EagerBackendScope::~EagerBackendScope() { scopedBackend = previous_; }

EagerCacheStats eagerCacheStats() {
  EagerCache &c = eagerCache();
  std::lock_guard<std::mutex> lock(c.mutex);
  return c.stats;
}

std::vector<Tensor> runSingleOp(OpKind kind,
                                const std::vector<const Tensor *> &inputs,
                                OpAttrs attrs, std::source_location loc,
                                const EvalOptions &options) {
  std::string messages;
  DiagEngine diags([&](const Diagnostic &d) { collect(messages, d); });
  Graph g(std::string(opInfo(kind).mnemonic), Location::fromCpp(loc));
  g.setDiags(diags);
  Builder b(g);
  std::vector<Value *> operands;
  std::vector<Tensor> args;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i]) {
      operands.push_back(nullptr);
      continue;
    }
    operands.push_back(b.param(std::string(opInfo(kind).operands[i].name),
                               inputs[i]->type()));
    args.push_back(*inputs[i]);
  }
  Results r = b.create(kind, operands, std::move(attrs), Location::fromCpp(loc));
  std::vector<GraphResult> results;
  for (Value *v : r.op()->results())
    results.push_back({v, ""});
  b.returns(std::move(results));
  if (!b.ok() || failed(verify(g)))
    throw Error(messages);
  // A communicator is a run-time argument compiled graphs do not take per
  // call yet: such calls run on the reference executor.
  bool jit = eagerBackend() == EagerBackend::Jit && !options.comm;
  FailureOr<std::vector<Tensor>> out =
      jit ? runCompiled(g, args, options, messages)
          : runReference(g, args, options);
  if (out.failed())
    throw Error(messages);
  return std::move(*out);
}

} // namespace kiln
