//===- GroupedMatmulFinalizeRouting.cpp - lowering of the MoE down proj ---===//
//
// The fp32 operations of ops/npu/GroupedMatmulFinalizeRouting.cpp, in its
// order; the routed rows never exist as a tensor:
//
//   check group_list, then row_index[i] for every row i below the list's
//   total, then shared_input_offset + bsdp <= rows (all before any write)
//   parallel for each output row r:
//     out[r, :] = shared_input_weight * float(shared[r - off, :]) inside the
//                 shared window [off, off + bsdp), else 0
//   parallel for each block of nc columns [j0, j0 + nc):
//     for each group g, for each block of mc of its rows (an int8 GEMM
//     engine C tile, codegen/Int8Gemm.h), for each row i, in row order:
//       acc = int32 sums of x[i, :] * w[g, :, j]
//       y = float(acc) * scale[g, j]; y = y * pertoken[i]; y = y * logit[i]
//           (npu-compat with both: y = y * (pertoken[i] * logit[i]))
//       out[row_index[i], j] += y
//
// Splitting the scatter by columns keeps every output element's additions
// in x-row order (duplicate row_index values add in the reference's order)
// while blocks run in parallel.
//
//===----------------------------------------------------------------------===//
#include "codegen/Int8Gemm.h"
#include "codegen/ops/Fused.h"

namespace kiln::codegen {

namespace {

using FR = ops::GroupedMatmulFinalizeRouting;

/// Checks every data-dependent precondition of the reference, in its order.
void checkData(const Op &op, LoweringContext &ctx) {
  const FR::Attrs &a = op.attrs<FR>();
  llvm::IRBuilder<> &b = ctx.b();
  const Value *groupList = op.operand(FR::group_list);
  llvm::Value *m = ctx.access(op.operand(FR::x)).dim(0);
  llvm::Value *rows = ctx.access(op.result()).dim(0);
  checkGroupList(ctx, op, groupList, a.group_list_type, m);
  llvm::Value *used =
      forEachGroup(ctx, groupList, a.group_list_type,
                   [](llvm::Value *, llvm::Value *, llvm::Value *) {});
  TensorAccess rowIndex = ctx.access(op.operand(FR::row_index));
  ctx.forRange(b.getInt64(0), used, [&](llvm::Value *i) {
    llvm::Value *r = rowIndex.loadInt({i});
    llvm::Value *bad =
        b.CreateOr(b.CreateICmpSLT(r, b.getInt64(0)), b.CreateICmpSGE(r, rows));
    ctx.failIf(bad, op, KernelError::RowIndexOutOfRange, i, r, rows);
  });
  if (const Value *shared = op.operand(FR::shared_input)) {
    llvm::Value *off = b.getInt64(a.shared_input_offset);
    llvm::Value *bsdp = ctx.access(shared).dim(0);
    ctx.failIf(b.CreateICmpSGT(b.CreateAdd(off, bsdp), rows), op,
               KernelError::SharedInputOutOfRange, off, bsdp, rows);
  }
}

/// Output row r before the scatter: the weighted shared row, or zeros.
void initRow(const Op &op, LoweringContext &ctx, llvm::Value *r) {
  const FR::Attrs &a = op.attrs<FR>();
  llvm::IRBuilder<> &b = ctx.b();
  TensorAccess out = ctx.access(op.result());
  llvm::Value *n = out.dim(1);
  auto zeros = [&] {
    ctx.forRange(b.getInt64(0), n, [&](llvm::Value *j) {
      out.storeFloat({r, j}, f32Const(ctx, 0.0));
    });
  };
  const Value *sharedV = op.operand(FR::shared_input);
  if (!sharedV) {
    zeros();
    return;
  }
  TensorAccess shared = ctx.access(sharedV);
  llvm::Value *off = b.getInt64(a.shared_input_offset);
  llvm::Value *p = b.CreateSub(r, off);
  llvm::Value *inWindow = b.CreateAnd(b.CreateICmpSGE(p, b.getInt64(0)),
                                      b.CreateICmpSLT(p, shared.dim(0)));
  llvm::Value *w = f32Const(ctx, static_cast<float>(a.shared_input_weight));
  emitIf(
      ctx, inWindow,
      [&] {
        ctx.forRange(b.getInt64(0), n, [&](llvm::Value *j) {
          out.storeFloat({r, j}, b.CreateFMul(shared.loadFloat({p, j}), w));
        });
      },
      zeros);
}

/// Adds every routed row's columns [j0, j0 + width) into its output row.
void scatterBlock(const Op &op, LoweringContext &ctx, llvm::Value *blk) {
  const FR::Attrs &a = op.attrs<FR>();
  llvm::IRBuilder<> &b = ctx.b();
  llvm::Type *i32 = b.getInt32Ty(), *f32 = b.getFloatTy();
  TensorAccess x = ctx.access(op.operand(FR::x));
  TensorAccess w = ctx.access(op.operand(FR::w));
  TensorAccess scale = ctx.access(op.operand(FR::scale));
  TensorAccess rowIndex = ctx.access(op.operand(FR::row_index));
  TensorAccess out = ctx.access(op.result());
  const Value *pertokenV = op.operand(FR::pertoken_scale);
  const Value *logitV = op.operand(FR::logit);
  bool compat = ctx.numerics() == Numerics::NpuCompat;
  int8gemm::Engine gemm(ctx);
  const int64_t nc = gemm.blocking().nc;
  llvm::Value *j0 = b.CreateMul(blk, b.getInt64(nc));
  llvm::Value *rest = b.CreateSub(out.dim(1), j0);
  llvm::Value *width = b.CreateSelect(b.CreateICmpSLT(rest, b.getInt64(nc)),
                                      rest, b.getInt64(nc));
  llvm::AllocaInst *colScale =
      ctx.stackSlot(llvm::ArrayType::get(f32, nc), "routing.scale");
  auto scaleAt = [&](llvm::Value *jj) {
    return b.CreateInBoundsGEP(f32, colScale, jj);
  };
  llvm::Value *zero = b.getInt64(0);
  int8gemm::AMatrix lhs{&x, {}};
  forEachGroup(
      ctx, op.operand(FR::group_list), a.group_list_type,
      [&](llvm::Value *g, llvm::Value *begin, llvm::Value *end) {
        ctx.forRange(zero, width, [&](llvm::Value *jj) {
          b.CreateStore(scale.loadFloat({g, b.CreateAdd(j0, jj)}), scaleAt(jj));
        });
        int8gemm::forBlocks(
            ctx, begin, b.CreateSub(end, begin), gemm.blocking().mc,
            [&](llvm::Value *r0, llvm::Value *rows) {
              gemm.computeTile(lhs, {&w, {g}}, x.dim(1), r0, rows,
                               {{j0}, width});
              // Rows in x order: duplicate row_index values add in the
              // reference's order.
              ctx.forRange(zero, rows, [&](llvm::Value *rr) {
                llvm::Value *i = b.CreateAdd(r0, rr);
                llvm::Value *pt =
                    pertokenV ? ctx.access(pertokenV).loadFloat({i}) : nullptr;
                llvm::Value *lg =
                    logitV ? ctx.access(logitV).loadFloat({i}) : nullptr;
                llvm::Value *rowFactor =
                    compat && pt && lg ? b.CreateFMul(pt, lg) : nullptr;
                llvm::Value *r = rowIndex.loadInt({i});
                ctx.forRange(zero, width, [&](llvm::Value *jj) {
                  llvm::Value *j = b.CreateAdd(j0, jj);
                  llvm::Value *y = b.CreateFMul(
                      b.CreateSIToFP(b.CreateLoad(i32, gemm.cAt(rr, jj)), f32),
                      b.CreateLoad(f32, scaleAt(jj)));
                  if (rowFactor) {
                    y = b.CreateFMul(y, rowFactor);
                  } else {
                    if (pt)
                      y = b.CreateFMul(y, pt);
                    if (lg)
                      y = b.CreateFMul(y, lg);
                  }
                  out.storeFloat({r, j}, b.CreateFAdd(out.loadFloat({r, j}), y));
                });
              });
            });
      });
}

} // namespace

LogicalResult lowerGroupedMatmulFinalizeRouting(const Op &op,
                                                LoweringContext &ctx) {
  llvm::IRBuilder<> &b = ctx.b();
  checkData(op, ctx);
  const TensorType &xt = op.operand(FR::x)->type();
  const TensorType &outT = op.result()->type();
  TensorAccess out = ctx.access(op.result());
  ctx.parallelFor(
      out.dim(0), workEstimate(ctx, {outT.dims[1]}),
      [&](LoweringContext &inner, llvm::Value *r) { initRow(op, inner, r); });
  const int64_t nc = int8gemm::blocking(ctx.isa()).nc;
  llvm::Value *blocks = b.CreateUDiv(
      b.CreateAdd(out.dim(1), b.getInt64(nc - 1)), b.getInt64(nc));
  int64_t work = workEstimate(ctx, {xt.dims[0], xt.dims[1], Dim(nc)});
  ctx.parallelFor(blocks, work, [&](LoweringContext &inner, llvm::Value *blk) {
    scatterBlock(op, inner, blk);
  });
  return success();
}

} // namespace kiln::codegen
