//===- Common.h - helpers shared by the op lowerings ------------*- C++ -*-===//
#pragma once

#include "codegen/LoweringHooks.h"

namespace kiln::codegen {

/// Calls body(idx) once per logical index of `v`'s type, in row-major order.
void forEachIndex(LoweringContext &ctx, const Value *v,
                  const std::function<void(llvm::ArrayRef<llvm::Value *>)> &body);

/// Copies one element exactly (integers as i64, floats as f32, which holds
/// every f16 and bf16 value).
void copyElement(const TensorAccess &from, llvm::ArrayRef<llvm::Value *> fromIdx,
                 const TensorAccess &to, llvm::ArrayRef<llvm::Value *> toIdx);

/// The index into `in` (right-aligned NumPy broadcasting) for output index
/// `outIdx`: size-1 dims of `in` read index 0.
std::vector<llvm::Value *> broadcastIndex(LoweringContext &ctx,
                                          const TensorAccess &in,
                                          llvm::ArrayRef<llvm::Value *> outIdx);

/// Row-major linear position of `idx` in `dims`, and its inverse.
llvm::Value *linearize(llvm::IRBuilder<> &b, llvm::ArrayRef<llvm::Value *> idx,
                       llvm::ArrayRef<llvm::Value *> dims);
std::vector<llvm::Value *> delinearize(llvm::IRBuilder<> &b, llvm::Value *linear,
                                       llvm::ArrayRef<llvm::Value *> dims);

} // namespace kiln::codegen
