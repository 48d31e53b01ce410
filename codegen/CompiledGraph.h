//===- CompiledGraph.h - kiln::compile and running compiled graphs -*- C++ -*-=//
//
//   auto exe = kiln::compile(graph, {.mode = codegen::ShapeMode::Dynamic});
//   FailureOr<std::vector<Tensor>> out = exe->run(inputs);
//
// Static mode (torch.compile(dynamic=False)) specialises the kernel to the
// input shapes of each call: one compiled artefact per shape signature,
// compiled on first use (or by prepare()). Dynamic mode compiles once with
// symbols as run-time arguments and checks every call's shapes against the
// graph. Artefacts are cached process-wide and optionally on disk, keyed by
// graph text, mode, shapes, numerics, ISA, CPU and kiln/LLVM build
// (codegen/CompileCache.h).
//
// Per shape binding a CompiledGraph keeps the kernel, its buffer plan
// (codegen/BufferPlan.h: intermediates share one arena) and a small pool
// of arenas. run() is thread-safe: concurrent calls take different arenas
// from the pool (a new one when all are busy; at most kIdleArenas are
// kept), so they never share intermediate memory. A call that repeats an
// earlier call's input shapes skips symbol binding and the cache lookup.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "codegen/ShapeABI.h"
#include "codegen/TargetISA.h"
#include "ir/Graph.h"
#include "runtime/Eval.h"
#include "runtime/Executor.h"
#include "runtime/Tensor.h"
#include "runtime/ThreadPool.h"

#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

namespace kiln {

struct CompileOptions {
  codegen::ShapeMode mode = codegen::ShapeMode::Static;
  EvalOptions eval = {};
  /// Threads the kernels split loops across, the caller included; 0 means
  /// every core.
  unsigned threads = 0;
  /// The int8 GEMM sequence (codegen/TargetISA.h); part of the cache key.
  codegen::TargetISA isa = codegen::TargetISA::Auto;
  /// Directory of the persistent compile cache (created on first store);
  /// empty: $KILN_CACHE_DIR if set, else none.
  std::string cacheDir = "";
};

class CompiledGraph {
public:
  ~CompiledGraph();
  /// Runs on `inputs` (one per parameter); `preset` binds symbols no input
  /// determines. Shape and data errors are reported to the graph's diags.
  FailureOr<std::vector<Tensor>> run(std::span<const Tensor> inputs,
                                     const SymbolBindings &preset = {});
  /// As run(), reporting errors to `errorsAt` instead: a graph identical
  /// to graph() (the same ops in the same order), e.g. the eager API's
  /// per-call graph, whose locations and diags the user sees.
  FailureOr<std::vector<Tensor>> run(std::span<const Tensor> inputs,
                                     const SymbolBindings &preset,
                                     const Graph &errorsAt);
  /// Compiles the kernel and plans the buffers for `bindings` ahead of the
  /// first run; an unbound symbol or a compile error is reported now.
  LogicalResult prepare(const SymbolBindings &bindings);
  /// The (unoptimised, then optimised) LLVM IR for the given bindings.
  FailureOr<std::string> llvmIR(const SymbolBindings &bindings, bool optimized);
  const Graph &graph() const { return *graph_; }

  /// Idle arenas kept per shape binding, and shape bindings kept.
  static constexpr size_t kIdleArenas = 2, kPrepared = 8;

private:
  friend std::unique_ptr<CompiledGraph> compile(const Graph &,
                                                const CompileOptions &,
                                                DiagEngine &);
  struct Prepared;
  /// The kernel and buffer plan for `bindings`, made on first use.
  std::shared_ptr<Prepared> preparedFor(const SymbolBindings &bindings,
                                        const Graph &errorsAt);
  /// The entry an earlier call with these input shapes and preset used.
  std::shared_ptr<Prepared> lookupSignature(std::span<const Tensor> inputs,
                                            const SymbolBindings &preset);

  std::unique_ptr<Graph> graph_; ///< a private copy of the graph
  std::string text_;
  CompileOptions options_;
  std::string cacheDir_; ///< options_.cacheDir or $KILN_CACHE_DIR
  DiagEngine *diags_;
  ThreadPool *pool_ = nullptr; ///< shared by graphs with the same threads
  std::mutex mutex_;           ///< guards prepared_
  std::vector<std::shared_ptr<Prepared>> prepared_; ///< newest first
};

/// Prepares `g` for compiled execution; nullptr (after an error) if the
/// graph does not verify or the JIT cannot start.
std::unique_ptr<CompiledGraph> compile(const Graph &g,
                                       const CompileOptions &options,
                                       DiagEngine &diags);

} // namespace kiln
