//===- MmAllReduceBase.cpp - lowering of matmul + all-reduce --------------===//
//
// npu.mm_all_reduce_base with the reduction over ranks overlapped with the
// matmul (x1 flattened to [rows, k]; P an f32 scratch [rows, n] reused
// across runs; rows grouped in units, MmAllReducePartial.h):
//
//   C = kiln_mm_allreduce_chunks(rows, k, n)   // 1 = sequential (one rank,
//                                              // or too small to pay)
//   for c in 0..C:                             // units [u0, u1)
//     parallel: P[rows of the units, :] = this rank's partial
//     ticket[c] = start all-reduce of those rows of P  // runs while chunk
//                                                      // c+1 computes
//   wait every ticket (an error: return 1 once all are done)
//   parallel for row: out[row, j] = P[row, j]   // golden: the one rounding
//
// The reduction (runtime/comm/Reduce.h) sums in rank order in f32 (golden)
// or rounding to the out dtype after every addition (npu-compat), so the
// result is bit-identical to ops/npu/MmAllReduceBase.cpp whatever the
// chunking: every element is reduced exactly once, the same way.
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
    llvm::Value *p = ib.CreateInBoundsGEP(ib.getFloatTy(), scratch,
                                          ib.CreateAdd(rowBase, j));
    std::vector<llvm::Value *> idx = lead;
    idx.push_back(j);
    out.storeFloat(idx, ib.CreateLoad(ib.getFloatTy(), p));
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
  llvm::Value *chunks = emitRuntimeCall(ctx, "kiln_mm_allreduce_chunks", i64,
                                        {b.getInt32(ctx.opIndex(op)), rows, k, n});
  llvm::Value *one = b.getInt64(1);
  llvm::Value *maxChunks = b.CreateSelect(b.CreateICmpSGT(units, one), units, one);
  chunks = b.CreateSelect(b.CreateICmpSGT(chunks, maxChunks), maxChunks, chunks);
  llvm::Value *scratch = emitRuntimeCall(
      ctx, "kiln_scratch", b.getPtrTy(),
      {b.CreateMul(b.CreateMul(rows, n), b.getInt64(4))});
  // At most 64 chunks (kiln_mm_allreduce_chunks clamps).
  llvm::AllocaInst *tickets =
      ctx.stackSlot(llvm::ArrayType::get(i64, 64), "mm.tickets");
  auto ticketAt = [&](llvm::Value *c) {
    return b.CreateInBoundsGEP(i64, tickets, {c});
  };
  auto rowOf = [&](llvm::Value *u) {
    llvm::Value *r = b.CreateMul(u, b.getInt64(unitRows));
    return b.CreateSelect(b.CreateICmpSLT(r, rows), r, rows);
  };
  ctx.forRange(b.getInt64(0), chunks, [&](llvm::Value *c) {
    llvm::Value *u0 = b.CreateUDiv(b.CreateMul(units, c), chunks);
    llvm::Value *u1 = b.CreateUDiv(
        b.CreateMul(units, b.CreateAdd(c, one)), chunks);
    emitPartialUnits(ctx, op, u0, u1);
    llvm::Value *r0 = rowOf(u0), *r1 = rowOf(u1);
    llvm::Value *first = b.CreateInBoundsGEP(b.getFloatTy(), scratch,
                                             b.CreateMul(r0, n));
    llvm::Value *count = b.CreateMul(b.CreateSub(r1, r0), n);
    b.CreateStore(emitAllReduceStart(ctx, first, count, DType::F32,
                                     ReduceOp::Sum, outType),
                  ticketAt(c));
  });
  // Wait for every chunk, even after a failure: the buffers must be quiet
  // before the kernel returns.
  llvm::AllocaInst *status = ctx.stackSlot(i32, "mm.status");
  b.CreateStore(b.getInt32(0), status);
  ctx.forRange(b.getInt64(0), chunks, [&](llvm::Value *c) {
    llvm::Value *ticket = b.CreateLoad(i64, ticketAt(c));
    b.CreateStore(b.CreateOr(b.CreateLoad(i32, status),
                             emitAllReduceWait(ctx, op, ticket)),
                  status);
  });
  emitReturnIfFailed(ctx, b.CreateLoad(i32, status));
  ctx.parallelFor(rows, x2T.dims[1].isStatic() ? x2T.dims[1].size() : 64,
                  [&](LoweringContext &inner, llvm::Value *row) {
                    storeRow(inner, op, outT, row);
                  });
  return success();
}

} // namespace kiln::codegen
