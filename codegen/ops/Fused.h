//===- Fused.h - pieces shared by the fused-op lowerings --------*- C++ -*-===//
//
// npu.grouped_matmul_swiglu_quant_v2, npu.grouped_matmul_finalize_routing
// and npu.mm_all_reduce_base all compute a matmul row block into a stack
// accumulator and apply their epilogue to it directly: no intermediate
// tensor is written. The accumulation is the one of codegen/ops/MatMul.cpp
// (ascending k, the columns j innermost so the loop vectorizes over j):
//
//   acc[:] = 0
//   for kk: a = lhs(kk); for jj: acc[jj] += a * rhs(kk, col0 + jj)
//
// i32 accumulators wrap (the reference's int64 sum modulo 2^32), f32 ones
// round after every product and every sum, as the reference kernels do.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "codegen/ops/GroupList.h"

namespace kiln::codegen {

/// Columns per accumulator block: 1 KiB of i32 or f32 on the stack.
constexpr int64_t kFusedColumnBlock = 256;

llvm::Value *f32Const(LoweringContext &ctx, double v);

/// A row block of kFusedColumnBlock `elem`s in the current function.
llvm::AllocaInst *blockSlot(LoweringContext &ctx, llvm::Type *elem,
                            llvm::StringRef name);
/// &slot[jj] and slot[jj].
llvm::Value *slotAt(LoweringContext &ctx, llvm::AllocaInst *slot,
                    llvm::Value *jj);
llvm::Value *loadAt(LoweringContext &ctx, llvm::AllocaInst *slot,
                    llvm::Value *jj);

/// body(j0, width) for each block [j0, j0 + width) of [0, n), in order.
void forColumnBlocks(
    LoweringContext &ctx, llvm::Value *n,
    const std::function<void(llvm::Value *j0, llvm::Value *width)> &body);

/// accs[t][jj] = sum over kk ascending of lhs(kk) * rhs(kk, cols[t] + jj)
/// for jj < width, in each slot's element type (i32 wrapping, or f32).
/// lhs and rhs return values of that type.
void accumulateBlock(
    LoweringContext &ctx, llvm::Value *k, llvm::Value *width,
    llvm::ArrayRef<llvm::Value *> cols, llvm::ArrayRef<llvm::AllocaInst *> accs,
    const std::function<llvm::Value *(llvm::Value *kk)> &lhs,
    const std::function<llvm::Value *(llvm::Value *kk, llvm::Value *j)> &rhs);

/// if (cond) then(); else otherwise();
inline void emitIf(LoweringContext &ctx, llvm::Value *cond,
                   const std::function<void()> &then,
                   const std::function<void()> &otherwise) {
  ctx.ifElse(cond, then, otherwise);
}

/// The group of `row` under a (checked) group_list: the number of groups
/// that end at or before it, so E for a row past the last group.
llvm::Value *rowGroup(LoweringContext &ctx, const Value *groupList,
                      GroupListType type, llvm::Value *row);

/// `v` rounded to `t` (f16, bf16; f32 is exact) and widened back to f32,
/// as the reference's roundToFloatType does.
llvm::Value *roundTo(LoweringContext &ctx, llvm::Value *v, DType t);

/// a * (1.0f / (1.0f + expf(-a))), with the C library's expf as in
/// codegen/ops/Moe.cpp (only the same function gives the same bits).
llvm::Value *silu(LoweringContext &ctx, llvm::Value *a);

/// A rough operation count for parallelFor: the product of the dims'
/// compile-time sizes, symbols counting as 64.
int64_t workEstimate(LoweringContext &ctx, std::initializer_list<Dim> dims);

} // namespace kiln::codegen
