//===- CompiledGraph.cpp - kiln::compile, prepare and the cache key -------===//
#include "codegen/CompiledGraph.h"

#include "codegen/CompileCache.h"
#include "codegen/Codegen.h"
#include "codegen/PreparedRun.h"
#include "ir/Printer.h"
#include "ir/Verifier.h"

#include <llvm/Support/raw_ostream.h>

namespace kiln {

namespace {

std::string cacheKey(const std::string &text, const CompileOptions &o,
                     const SymbolBindings &b, const codegen::Jit &jit) {
  std::string key = text;
  key += o.mode == codegen::ShapeMode::Static ? "|static" : "|dynamic";
  key += o.eval.numerics == Numerics::Golden ? "|golden" : "|npu-compat";
  key += std::string("|isa=") + codegen::isaName(codegen::resolveISA(o.isa));
  if (o.mode == codegen::ShapeMode::Static)
    for (const auto &[sym, size] : b)
      key += "|" + sym + "=" + std::to_string(size);
  return key + "|" + jit.cpuName() + "|" + jit.cpuFeatures() + "|" +
         codegen::compilerVersion();
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
  cg->cacheDir_ = codegen::resolveCacheDir(options.cacheDir);
  cg->diags_ = &diags;
  unsigned threads =
      options.threads ? options.threads : ThreadPool::hardwareThreads();
  cg->pool_ = codegen::startRuntime(threads, diags);
  if (!cg->pool_)
    return nullptr;
  return cg;
}

std::shared_ptr<CompiledGraph::Prepared>
CompiledGraph::preparedFor(const SymbolBindings &bindings,
                           const Graph &errorsAt) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (const auto &p : prepared_)
    if (p->bindings == bindings)
      return p;
  DiagEngine &diags = errorsAt.diags();
  if (!codegen::hostSupports(options_.isa)) {
    emitError(diags, errorsAt.loc())
        << "this host cannot run int8 GEMM code for isa="
        << codegen::isaName(options_.isa);
    return nullptr;
  }
  FailureOr<codegen::BufferPlan> plan = codegen::planBuffers(errorsAt, bindings);
  if (plan.failed())
    return nullptr;
  std::string key = cacheKey(text_, options_, bindings, codegen::jit());
  FailureOr<codegen::KernelFn> fn = codegen::kernelFor(
      key, cacheDir_, diags, [&](const std::string &entry) {
        return codegen::generate(*graph_, options_.mode, bindings,
                                 options_.eval, entry, options_.isa);
      });
  if (fn.failed())
    return nullptr;
  auto p = std::make_shared<Prepared>(*graph_, bindings, *fn, std::move(*plan));
  prepared_.insert(prepared_.begin(), p);
  if (prepared_.size() > kPrepared)
    prepared_.pop_back();
  return p;
}

LogicalResult CompiledGraph::prepare(const SymbolBindings &bindings) {
  if (options_.mode == codegen::ShapeMode::Static)
    for (const std::string &s : graph_->symbols())
      if (!bindings.count(s))
        return emitError(*diags_, graph_->loc())
               << "prepare: symbol " << s << " of @" << graph_->name()
               << " is not bound";
  return success(preparedFor(bindings, *graph_) != nullptr);
}

FailureOr<std::string> CompiledGraph::llvmIR(const SymbolBindings &bindings,
                                             bool optimized) {
  FailureOr<codegen::GeneratedModule> gen = codegen::generate(
      *graph_, options_.mode, bindings, options_.eval, "kiln_" + graph_->name(),
      options_.isa);
  if (gen.failed())
    return failure();
  if (optimized) {
    codegen::Jit &jit = codegen::jit();
    gen->module->setDataLayout(jit.dataLayout());
    gen->module->setTargetTriple(jit.targetTriple());
    jit.optimize(*gen->module);
  }
  std::string s;
  llvm::raw_string_ostream os(s);
  gen->module->print(os, nullptr);
  return os.str();
}

} // namespace kiln
