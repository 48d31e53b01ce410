//===- Codegen.h - a graph to one LLVM module -------------------*- C++ -*-===//
#pragma once

#include "codegen/ShapeABI.h"
#include "codegen/TargetISA.h"
#include "ir/Graph.h"
#include "runtime/Eval.h"

#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>

#include <memory>
#include <string>

namespace kiln::codegen {

struct GeneratedModule {
  std::unique_ptr<llvm::LLVMContext> context;
  std::unique_ptr<llvm::Module> module;
  std::string entry; ///< name of the kernel function
};

/// Lowers every op of `g` into `i32 @entry(ptr buffers, ptr dims, ptr rt)`.
/// `bindings` must bind every symbol in static mode (it is ignored in
/// dynamic mode). Errors (an op that cannot be lowered) go to g.diags().
/// `isa` picks the int8 GEMM sequence (Auto: the host's best).
FailureOr<GeneratedModule> generate(const Graph &g, ShapeMode mode,
                                    const SymbolBindings &bindings,
                                    const EvalOptions &options,
                                    const std::string &entry,
                                    TargetISA isa = TargetISA::Auto);

} // namespace kiln::codegen
