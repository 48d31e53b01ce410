//===- CompiledGraph.cpp - kiln::compile and the compile cache ------------===//
#include "codegen/CompiledGraph.h"

#include "codegen/Codegen.h"
#include "codegen/Jit.h"
#include "codegen/Lowering.h"
#include "codegen/RuntimeCalls.h"
#include "ir/Printer.h"
#include "ir/Verifier.h"
#include "runtime/KernelErrors.h"

#include <llvm/Support/raw_ostream.h>

#include <atomic>
#include <map>
#include <mutex>
#include <unordered_map>

namespace kiln {

namespace {

/// One JIT and one cache for the process: artefacts outlive the
/// CompiledGraph that made them, so a second compile of the same graph and
/// shapes is a lookup.
struct Cache {
  std::mutex mutex;
  std::unique_ptr<codegen::Jit> jit;
  std::unordered_map<std::string, void *> kernels;
  /// One pool per thread count: starting threads per compile() would cost
  /// more than a cache hit.
  std::map<unsigned, std::unique_ptr<ThreadPool>> pools;
  unsigned next = 0;
};

Cache &cache() {
  static Cache c;
  return c;
}

std::string cacheKey(const std::string &text, const CompileOptions &o,
                     const SymbolBindings &b, const codegen::Jit &jit) {
  std::string key = text;
  key += o.mode == codegen::ShapeMode::Static ? "|static" : "|dynamic";
  key += o.eval.numerics == Numerics::Golden ? "|golden" : "|npu-compat";
  if (o.mode == codegen::ShapeMode::Static)
    for (const auto &[sym, size] : b)
      key += "|" + sym + "=" + std::to_string(size);
  return key + "|" + jit.cpuName() + "|" + jit.cpuFeatures();
}

} // namespace

CompiledGraph::~CompiledGraph() = default;

std::unique_ptr<CompiledGraph> compile(const Graph &g,
                                       const CompileOptions &options,
                                       DiagEngine &diags) {
  if (failed(verify(g)))
    return nullptr;
  auto cg = std::unique_ptr<CompiledGraph>(new CompiledGraph());
  cg->text_ = toString(g);
  cg->graph_ = g.clone();
  cg->graph_->setDiags(diags);
  cg->options_ = options;
  cg->diags_ = &diags;
  Cache &c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  unsigned threads =
      options.threads ? options.threads : ThreadPool::hardwareThreads();
  std::unique_ptr<ThreadPool> &pool = c.pools[threads];
  if (!pool)
    pool = std::make_unique<ThreadPool>(threads);
  cg->pool_ = pool.get();
  if (!c.jit) {
    c.jit = codegen::Jit::create(diags, codegen::runtimeSymbols());
    if (!c.jit)
      return nullptr;
  }
  return cg;
}

FailureOr<CompiledGraph::KernelFn>
CompiledGraph::kernelFor(const SymbolBindings &bindings) {
  Cache &c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  std::string key = cacheKey(text_, options_, bindings, *c.jit);
  if (auto it = c.kernels.find(key); it != c.kernels.end())
    return reinterpret_cast<KernelFn>(it->second);
  std::string entry = "kiln_" + graph_->name() + "_" + std::to_string(c.next++);
  FailureOr<codegen::GeneratedModule> gen = codegen::generate(
      *graph_, options_.mode, bindings, options_.eval, entry);
  if (gen.failed())
    return failure();
  if (failed(c.jit->addModule(std::move(gen->module), std::move(gen->context),
                              *diags_)))
    return failure();
  void *fn = c.jit->lookup(entry, *diags_);
  if (!fn)
    return failure();
  c.kernels[key] = fn;
  return reinterpret_cast<KernelFn>(fn);
}

FailureOr<std::string> CompiledGraph::llvmIR(const SymbolBindings &bindings,
                                             bool optimized) {
  FailureOr<codegen::GeneratedModule> gen = codegen::generate(
      *graph_, options_.mode, bindings, options_.eval, "kiln_" + graph_->name());
  if (gen.failed())
    return failure();
  if (optimized) {
    Cache &c = cache();
    gen->module->setDataLayout(c.jit->dataLayout());
    gen->module->setTargetTriple(c.jit->targetTriple());
    c.jit->optimize(*gen->module);
  }
  std::string s;
  llvm::raw_string_ostream os(s);
  gen->module->print(os, nullptr);
  return os.str();
}

FailureOr<std::vector<Tensor>> CompiledGraph::run(std::span<const Tensor> inputs,
                                                  const SymbolBindings &preset) {
  const Graph &g = *graph_;
  std::vector<const Tensor *> ptrs;
  for (const Tensor &t : inputs)
    ptrs.push_back(&t);
  FailureOr<SymbolBindings> bound = bindSymbols(g, ptrs, preset);
  if (bound.failed())
    return failure();
  FailureOr<KernelFn> fn = kernelFor(*bound);
  if (fn.failed())
    return failure();

  // One buffer per value in codegen's order: inputs as given, every op
  // result freshly zeroed.
  std::vector<const Value *> order = codegen::bufferOrder(g);
  std::vector<Tensor> values(inputs.begin(), inputs.end());
  std::map<const Value *, size_t> index;
  for (size_t i = 0; i < order.size(); ++i) {
    index[order[i]] = i;
    if (i < inputs.size())
      continue;
    const TensorType &t = order[i]->type();
    FailureOr<Shape> shape = resolveShape(t, *bound, g.diags(), g.loc());
    if (shape.failed())
      return failure();
    values.emplace_back(t.dtype, std::move(*shape), t.layout);
  }
  std::vector<void *> buffers;
  for (Tensor &t : values)
    buffers.push_back(t.data());
  std::vector<int64_t> dims;
  for (const std::string &s : g.symbols())
    dims.push_back(bound->count(s) ? bound->at(s) : 0);
  codegen::RuntimeContext rt{&g, pool_, {}};
  if ((*fn)(buffers.data(), dims.data(), &rt) != 0)
    return failure();

  std::vector<Tensor> results;
  for (const GraphResult &r : g.results())
    results.push_back(values[index.at(r.value)]);
  return results;
}

} // namespace kiln
