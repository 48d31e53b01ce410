//===- Collective.h - emitting the communicator calls -----------*- C++ -*-===//
//
// allreduce and npu.mm_all_reduce_base reach the run's Communicator through
// the runtime calls of codegen/CommCalls.cpp; these helpers emit them.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "codegen/ops/Common.h"

#include <optional>

namespace kiln::codegen {

/// kiln_allreduce_start(rt, data, count, ...): an i64 ticket (-1: nothing
/// to wait for, i.e. one rank).
llvm::Value *emitAllReduceStart(LoweringContext &ctx, llvm::Value *data,
                                llvm::Value *count, DType dtype, ReduceOp op,
                                std::optional<DType> compat);
/// kiln_allreduce_wait(rt, opIndex(op), ticket): i32 0, or 1 after the
/// error was reported at `op`.
llvm::Value *emitAllReduceWait(LoweringContext &ctx, const Op &op,
                               llvm::Value *ticket);
/// if (status != 0) return 1 from the current function.
void emitReturnIfFailed(LoweringContext &ctx, llvm::Value *status);
/// A runtime call returning `ret` with (rt, args...).
llvm::Value *emitRuntimeCall(LoweringContext &ctx, llvm::StringRef name,
                             llvm::Type *ret, llvm::ArrayRef<llvm::Value *> args);

} // namespace kiln::codegen
