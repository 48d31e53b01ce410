//===- Lowering.h - what an op's lowering sees ------------------*- C++ -*-===//
//
// Each op in ir/Ops.def has `LogicalResult lower<Class>(const Op &,
// LoweringContext &)` in codegen/ops/<Class>.cpp, emitting LLVM IR at the
// builder's position into the graph's kernel function:
//
//   i32 @<graph>(ptr %buffers, ptr %dims, ptr %rt)
//
// %buffers holds one pointer per value (parameters, then op results in
// order, see bufferOrder()); %dims one i64 per graph symbol (dynamic mode);
// %rt the runtime context handed back to runtime calls. The function
// returns 0, or 1 after reporting a data error through kiln_report_error.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "codegen/ShapeABI.h"
#include "codegen/TargetISA.h"
#include "ir/Graph.h"
#include "runtime/Eval.h"
#include "runtime/KernelErrors.h"

#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Module.h>

#include <functional>
#include <map>

namespace kiln::codegen {

/// Values in buffer order: parameters, then each op's results.
std::vector<const Value *> bufferOrder(const Graph &g);

class LoweringContext;

/// What every kernel function generated for one graph shares.
struct KernelSetup {
  const Graph &graph;
  ShapeMode mode;
  const SymbolBindings &bindings;
  const EvalOptions &options;
  llvm::Module &module;
  unsigned outlined = 0; ///< parallel loop bodies emitted so far
  /// The int8 multiply-add sequence (resolved: never Auto).
  TargetISA isa = TargetISA::Generic;
};

/// Typed element access to one value's buffer in its storage layout (ND,
/// i4 packed, FRACTAL_NZ). Indices are logical, one i64 per dim.
class TensorAccess {
public:
  TensorAccess(LoweringContext &ctx, const Value *v);

  const TensorType &type() const { return type_; }
  llvm::Value *dim(int64_t i) const;
  /// Storage element offset of a logical index.
  llvm::Value *offset(llvm::ArrayRef<llvm::Value *> idx) const;
  /// Element as f32 (ints converted exactly where f32 can, else RNE).
  llvm::Value *loadFloat(llvm::ArrayRef<llvm::Value *> idx) const;
  /// Element of an integer tensor, sign-extended to i64.
  llvm::Value *loadInt(llvm::ArrayRef<llvm::Value *> idx) const;
  /// Stores an f32: float dtypes round to nearest even; integer dtypes round
  /// half to even and saturate (NaN -> 0), as OPS.md §0 and Tensor do.
  void storeFloat(llvm::ArrayRef<llvm::Value *> idx, llvm::Value *v) const;
  /// Stores an i64 into an integer tensor (two's complement wrap).
  void storeInt(llvm::ArrayRef<llvm::Value *> idx, llvm::Value *v) const;
  llvm::Value *base() const { return base_; }

private:
  llvm::Value *address(llvm::Value *offset, llvm::Type *elem) const;
  LoweringContext &ctx_;
  TensorType type_;
  llvm::Value *base_;
  std::vector<llvm::Value *> dims_;
};

class LoweringContext {
public:
  /// Starts `fn`, whose first three arguments are (buffers, dims, rt): the
  /// builder is placed in its entry block after the dims and the buffer
  /// pointers are loaded.
  LoweringContext(KernelSetup &setup, llvm::Function *fn);

  llvm::IRBuilder<> &b() { return b_; }
  llvm::LLVMContext &llvmContext() { return b_.getContext(); }
  llvm::Module &module() { return setup_.module; }
  llvm::Function *function() { return fn_; }
  const ShapeABI &shapes() const { return *shapes_; }
  Numerics numerics() const { return setup_.options.numerics; }
  /// The int8 GEMM sequence to emit (codegen/TargetISA.h).
  TargetISA isa() const { return setup_.isa; }
  /// The base pointer of a value's buffer.
  llvm::Value *buffer(const Value *v) const { return buffers_.at(v); }
  TensorAccess access(const Value *v) { return TensorAccess(*this, v); }

  /// Emits `for (iv = lo; iv < hi; ++iv) body(iv)` at the current position
  /// and leaves the builder after the loop.
  void forRange(llvm::Value *lo, llvm::Value *hi,
                const std::function<void(llvm::Value *)> &body);
  /// Runs body(inner, iv) for iv in [0, extent) split across the thread
  /// pool. The body is emitted into its own function, so it must use only
  /// `inner` (its builder, accesses and shapes), never values of this
  /// function. `workPerIteration` (rough element-operations) lets the
  /// runtime keep small loops on the calling thread.
  void parallelFor(llvm::Value *extent, int64_t workPerIteration,
                   const std::function<void(LoweringContext &inner,
                                            llvm::Value *iv)> &body);
  /// parallelFor over [first, last): iv is the absolute iteration.
  void parallelRange(llvm::Value *first, llvm::Value *last,
                     int64_t workPerIteration,
                     const std::function<void(LoweringContext &inner,
                                              llvm::Value *iv)> &body);

  /// if (cond) then(); else otherwise() (when given); the builder is left
  /// after the join.
  void ifElse(llvm::Value *cond, const std::function<void()> &then,
              const std::function<void()> &otherwise = {});

  /// Nested loops over [0, extents[i]) for every i, outermost first.
  void forEach(llvm::ArrayRef<llvm::Value *> extents,
               const std::function<void(llvm::ArrayRef<llvm::Value *>)> &body);

  /// If `cond`, reports `error` for `op` with the given values and returns 1
  /// from the kernel; otherwise continues.
  void failIf(llvm::Value *cond, const Op &op, KernelError error,
              llvm::Value *a, llvm::Value *b, llvm::Value *c = nullptr,
              llvm::Value *d = nullptr);
  /// Index of `op` in its graph (for error reports).
  int32_t opIndex(const Op &op) const;

  /// A stack slot in the entry block (promoted to a register at O3).
  llvm::AllocaInst *stackSlot(llvm::Type *type, llvm::StringRef name = "");

  /// Declares (once) an external function by name.
  llvm::FunctionCallee runtimeFunction(llvm::StringRef name,
                                       llvm::FunctionType *type);

private:
  KernelSetup &setup_;
  llvm::Function *fn_;
  llvm::IRBuilder<> b_;
  std::unique_ptr<ShapeABI> shapes_;
  std::map<const Value *, llvm::Value *> buffers_;
};

} // namespace kiln::codegen
