//===- CompiledGraph.h - kiln::compile and the compile cache ----*- C++ -*-===//
//
//   auto exe = kiln::compile(graph, {.mode = codegen::ShapeMode::Dynamic});
//   FailureOr<std::vector<Tensor>> out = exe->run(inputs);
//
// Static mode (torch.compile(dynamic=False)) specialises the kernel to the
// input shapes of each call: one compiled artefact per shape signature,
// compiled on first use. Dynamic mode compiles once with symbols as run-time
// arguments and checks every call's shapes against the graph. Artefacts are
// cached process-wide, keyed by graph text, mode, shapes, numerics and CPU.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "codegen/ShapeABI.h"
#include "ir/Graph.h"
#include "runtime/Eval.h"
#include "runtime/Executor.h"
#include "runtime/Tensor.h"
#include "runtime/ThreadPool.h"

#include <memory>
#include <span>
#include <string>

namespace kiln {

struct CompileOptions {
  codegen::ShapeMode mode = codegen::ShapeMode::Static;
  EvalOptions eval;
  /// Threads the kernels split loops across, the caller included; 0 means
  /// every core.
  unsigned threads = 0;
};

class CompiledGraph {
public:
  ~CompiledGraph();
  /// Runs on `inputs` (one per parameter); `preset` binds symbols no input
  /// determines. Shape and data errors are reported to the graph's diags.
  FailureOr<std::vector<Tensor>> run(std::span<const Tensor> inputs,
                                     const SymbolBindings &preset = {});
  /// The (unoptimised, then optimised) LLVM IR for the given bindings.
  FailureOr<std::string> llvmIR(const SymbolBindings &bindings, bool optimized);
  const Graph &graph() const { return *graph_; }

private:
  friend std::unique_ptr<CompiledGraph> compile(const Graph &,
                                                const CompileOptions &,
                                                DiagEngine &);
  using KernelFn = int32_t (*)(void **buffers, const int64_t *dims, void *rt);
  FailureOr<KernelFn> kernelFor(const SymbolBindings &bindings);

  std::unique_ptr<Graph> graph_; ///< a private copy of the graph
  std::string text_;
  CompileOptions options_;
  DiagEngine *diags_;
  ThreadPool *pool_ = nullptr; ///< shared by graphs with the same threads
};

/// Prepares `g` for compiled execution; nullptr (after an error) if the
/// graph does not verify or the JIT cannot start.
std::unique_ptr<CompiledGraph> compile(const Graph &g,
                                       const CompileOptions &options,
                                       DiagEngine &diags);

} // namespace kiln
