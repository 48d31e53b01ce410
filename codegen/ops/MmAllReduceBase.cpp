//===- MmAllReduceBase.cpp - lowering of matmul + all-reduce --------------===//
//
// npu.mm_all_reduce_base with the reduction over ranks overlapped with the
// matmul (x1 flattened to [rows, k]; P [rows, n] of partialType, f32 or the
// 16-bit out dtype in npu-compat, which the runtime places;
// rows grouped in units, MmAllReducePartial.h):
//
//   C = kiln_mm_ar_begin(rows, k, n, out)     // 0: failed, already reported
//   for c in 0..C:                            // units [u0, u1)
//     parallel: P[rows of the units, :] = this rank's partial
//     kiln_mm_ar_chunk(c, r0, r1)             // its reduction starts now
//   s = kiln_mm_ar_finish()                   // 0: `out` written, 2: failed
//   if s == 1: parallel for row: out[row, j] = P[row, j]  // one rounding
//
// The runtime (codegen/MmAllReduceCalls.cpp) picks the transport and the
// chunk count; every element is reduced exactly once, in rank order, so
// the result is bit-identical to ops/npu/MmAllReduceBase.cpp.
//
//===----------------------------------------------------------------------===//
#include "codegen/ops/Collective.h"
#include "codegen/ops/Fused.h"
#include "codegen/ops/MmAllReducePartial.h"

namespace kiln::codegen {

namespace {

using M = ops::MmAllReduceBase;

/// out[row, :] = P[row, :], rounding once to the out dtype (a parallel body).
void storeRow(LoweringContext &inner, const Op &op, const TensorType &outT,
              llvm::Value *row) {
  llvm::IRBuilder<> &ib = inner.b();
  llvm::Value *scratch =
      emitRuntimeCall(inner, "kiln_scratch_get", ib.getPtrTy(), {});
  TensorAccess out = inner.access(op.result());
  std::vector<llvm::Value *> dims = inner.shapes().dims(outT);
  dims.pop_back();
  std::vector<llvm::Value *> lead = delinearize(ib, row, dims);
  llvm::Value *n = out.dim(-1), *rowBase = ib.CreateMul(row, n);
  inner.forRange(ib.getInt64(0), n, [&](llvm::Value *j) {
    std::vector<llvm::Value *> idx = lead;
    idx.push_back(j);
    out.storeFloat(idx,
                   loadPartial(inner, op, scratch, ib.CreateAdd(rowBase, j)));
  });
}

} // namespace

LogicalResult lowerMmAllReduceBase(const Op &op, LoweringContext &ctx) {
  const TensorType &outT = op.result()->type();
  const TensorType &x2T = op.operand(M::x2)->type();
  std::vector<llvm::Value *> leadDims = ctx.shapes().dims(outT);
  llvm::Value *n = leadDims.back();
  leadDims.pop_back();
  llvm::IRBuilder<> &b = ctx.b();
  llvm::Type *i64 = b.getInt64Ty(), *i32 = b.getInt32Ty();
  llvm::Value *rows = b.getInt64(1);
  for (llvm::Value *d : leadDims)
    rows = b.CreateMul(rows, d);
  llvm::Value *k = ctx.access(op.operand(M::x2)).dim(0);
  DType outType = outT.dtype;

  int64_t unitRows = partialUnitRows(op, ctx);
  llvm::Value *units = b.CreateUDiv(
      b.CreateAdd(rows, b.getInt64(unitRows - 1)), b.getInt64(unitRows));
  llvm::Value *opIndex = b.getInt32(ctx.opIndex(op));
  llvm::Value *chunks =
      emitRuntimeCall(ctx, "kiln_mm_ar_begin", i64,
                      {opIndex, rows, k, n, ctx.access(op.result()).base(),
                       b.getInt32(static_cast<int32_t>(outType)),
                       b.getInt32(static_cast<int32_t>(ctx.numerics()))});
  emitReturnIfFailed(ctx,
                     b.CreateZExt(b.CreateICmpEQ(chunks, b.getInt64(0)), i32));
  llvm::Value *one = b.getInt64(1);
  llvm::Value *maxChunks = b.CreateSelect(b.CreateICmpSGT(units, one), units, one);
  chunks =
      b.CreateSelect(b.CreateICmpSGT(chunks, maxChunks), maxChunks, chunks);
  auto rowOf = [&](llvm::Value *u) {
    llvm::Value *r = b.CreateMul(u, b.getInt64(unitRows));
    return b.CreateSelect(b.CreateICmpSLT(r, rows), r, rows);
  };
  llvm::AllocaInst *status = ctx.stackSlot(i32, "mm.status");
  b.CreateStore(b.getInt32(0), status);
  ctx.forRange(b.getInt64(0), chunks, [&](llvm::Value *c) {
    llvm::Value *u0 = b.CreateUDiv(b.CreateMul(units, c), chunks);
    llvm::Value *u1 = b.CreateUDiv(
        b.CreateMul(units, b.CreateAdd(c, one)), chunks);
    emitPartialUnits(ctx, op, u0, u1);
    llvm::Value *failed = emitRuntimeCall(ctx, "kiln_mm_ar_chunk", i32,
                                          {opIndex, c, rowOf(u0), rowOf(u1)});
    b.CreateStore(b.CreateOr(b.CreateLoad(i32, status), failed), status);
  });
  llvm::Value *finish =
      emitRuntimeCall(ctx, "kiln_mm_ar_finish", i32, {opIndex});
  emitReturnIfFailed(
      ctx, b.CreateZExt(b.CreateOr(b.CreateICmpNE(b.CreateLoad(i32, status),
                                                  b.getInt32(0)),
                                   b.CreateICmpEQ(finish, b.getInt32(2))),
                        i32));
  ctx.ifElse(b.CreateICmpEQ(finish, b.getInt32(1)), [&] {
    ctx.parallelFor(rows, x2T.dims[1].isStatic() ? x2T.dims[1].size() : 64,
                    [&](LoweringContext &inner, llvm::Value *row) {
                      storeRow(inner, op, outT, row);
                    });
  });
  return success();
}

} // namespace kiln::codegen
