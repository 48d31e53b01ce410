//===- GroupedMatmulSwigluQuantV2.cpp - lowering of the fused MoE gate/up -===//
//
// The fp32 operations of ops/npu/GroupedMatmulSwigluQuantV2.cpp, in its
// order, fused per row: nothing but q and scale is written.
//
//   check group_list (all of it, before any output)
//   parallel for each row i (group g, found by scanning group_list):
//     g past the last group: q[i, :] = 0, scale[i] = 0
//     else, for each block of columns j of the first half:
//       accA, accG = int32 sums of x[i, :] * w[g, :, j], w[g, :, half + j]
//       C(acc, c) = (float(acc) * weight_scale[g, c]) * x_scale[i]
//         (npu-compat: (float(acc) * x_scale[i]) * weight_scale[g, c])
//       S[j] = silu(C(accA, j)) * C(accG, half + j)   -> stack row S[half]
//       amax = max(amax, |S[j]|)                       (NaNs skipped)
//     scale[i] = amax / 127.0f
//     q[i, j] = rne_sat(S[j] * (1.0f / scale))        (npu-compat: the
//               product rounded to f16 first); q = 0 when scale == 0
//
// The gate and up halves of a column block share one k loop, so each x
// element is loaded once per block. S is the only row buffer: the quant
// needs the row's amax before any q can be written.
//
//===----------------------------------------------------------------------===//
#include "codegen/ops/Fused.h"

#include <llvm/IR/Intrinsics.h>

namespace kiln::codegen {

namespace {

using SQ = ops::GroupedMatmulSwigluQuantV2;

struct SwigluQuantRow {
  LoweringContext &ctx;
  const Op &op;
  int64_t half;
  TensorAccess x, w, wScale, xScale, q, qScale;

  SwigluQuantRow(LoweringContext &c, const Op &o, int64_t h)
      : ctx(c), op(o), half(h), x(c.access(o.operand(SQ::x))),
        w(c.access(o.operand(SQ::weight))),
        wScale(c.access(o.operand(SQ::weight_scale))),
        xScale(c.access(o.operand(SQ::x_scale))), q(c.access(o.result(0))),
        qScale(c.access(o.result(1))) {}

  void emit(llvm::Value *i);
  void zero(llvm::Value *i);
  void compute(llvm::Value *i, llvm::Value *g);
};

void SwigluQuantRow::emit(llvm::Value *i) {
  const Value *groupList = op.operand(SQ::group_list);
  GroupListType type = op.attrs<SQ>().group_list_type;
  llvm::Value *g = rowGroup(ctx, groupList, type, i);
  llvm::Value *none = ctx.b().CreateICmpEQ(g, w.dim(0));
  emitIf(
      ctx, none, [&] { zero(i); }, [&] { compute(i, g); });
}

void SwigluQuantRow::zero(llvm::Value *i) {
  llvm::IRBuilder<> &b = ctx.b();
  qScale.storeFloat({i}, f32Const(ctx, 0.0));
  ctx.forRange(b.getInt64(0), b.getInt64(half), [&](llvm::Value *j) {
    q.storeInt({i, j}, b.getInt64(0));
  });
}

void SwigluQuantRow::compute(llvm::Value *i, llvm::Value *g) {
  llvm::IRBuilder<> &b = ctx.b();
  llvm::Type *f32 = b.getFloatTy(), *i32 = b.getInt32Ty();
  bool compat = ctx.numerics() == Numerics::NpuCompat;
  llvm::AllocaInst *s =
      ctx.stackSlot(llvm::ArrayType::get(f32, half), "swiglu.row");
  llvm::AllocaInst *accA = blockSlot(ctx, i32, "swiglu.acc.act");
  llvm::AllocaInst *accG = blockSlot(ctx, i32, "swiglu.acc.gate");
  llvm::AllocaInst *amaxSlot = ctx.stackSlot(f32, "swiglu.amax");
  b.CreateStore(f32Const(ctx, 0.0), amaxSlot);
  llvm::Value *xs = xScale.loadFloat({i});
  llvm::Value *halfV = b.getInt64(half);
  // C = dequantized accumulator of column c.
  auto dequant = [&](llvm::Value *acc, llvm::Value *c) {
    llvm::Value *v = b.CreateSIToFP(acc, f32);
    llvm::Value *ws = wScale.loadFloat({g, c});
    return compat ? b.CreateFMul(b.CreateFMul(v, xs), ws)
                  : b.CreateFMul(b.CreateFMul(v, ws), xs);
  };
  forColumnBlocks(ctx, halfV, [&](llvm::Value *j0, llvm::Value *width) {
    accumulateBlock(
        ctx, x.dim(1), width, {j0, b.CreateAdd(j0, halfV)}, {accA, accG},
        [&](llvm::Value *kk) {
          return b.CreateTrunc(x.loadInt({i, kk}), i32);
        },
        [&](llvm::Value *kk, llvm::Value *j) {
          return b.CreateTrunc(w.loadInt({g, kk, j}), i32);
        });
    ctx.forRange(b.getInt64(0), width, [&](llvm::Value *jj) {
      llvm::Value *j = b.CreateAdd(j0, jj);
      llvm::Value *act = dequant(loadAt(ctx, accA, jj), j);
      llvm::Value *gate = dequant(loadAt(ctx, accG, jj), b.CreateAdd(j, halfV));
      llvm::Value *v = b.CreateFMul(silu(ctx, act), gate);
      b.CreateStore(v, b.CreateInBoundsGEP(f32, s, j));
      llvm::Value *mag = b.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, v);
      llvm::Value *amax = b.CreateLoad(f32, amaxSlot);
      b.CreateStore(b.CreateSelect(b.CreateFCmpOGT(mag, amax), mag, amax),
                    amaxSlot);
    });
  });
  llvm::Value *scale =
      b.CreateFDiv(b.CreateLoad(f32, amaxSlot), f32Const(ctx, 127.0));
  qScale.storeFloat({i}, scale);
  llvm::Value *isZero = b.CreateFCmpOEQ(scale, f32Const(ctx, 0.0));
  llvm::Value *inv = b.CreateFDiv(f32Const(ctx, 1.0), scale);
  ctx.forRange(b.getInt64(0), halfV, [&](llvm::Value *j) {
    llvm::Value *v = b.CreateLoad(f32, b.CreateInBoundsGEP(f32, s, j));
    llvm::Value *t = b.CreateFMul(v, inv);
    if (compat) // the kernel's fp32 -> fp16 -> int8 cast
      t = roundTo(ctx, t, DType::F16);
    // An all-zero row gives q = 0 (the reference skips it).
    q.storeFloat({i, j}, b.CreateSelect(isZero, f32Const(ctx, 0.0), t));
  });
}

} // namespace

LogicalResult lowerGroupedMatmulSwigluQuantV2(const Op &op,
                                              LoweringContext &ctx) {
  const SQ::Attrs &a = op.attrs<SQ>();
  const TensorType &wt = op.operand(SQ::weight)->type();
  llvm::Value *m = ctx.access(op.operand(SQ::x)).dim(0);
  // Validate the whole list before writing any output, as the reference.
  checkGroupList(ctx, op, op.operand(SQ::group_list), a.group_list_type, m);
  // The verifier makes n a static even size.
  int64_t half = *ctx.shapes().constant(wt.dims[2]) / 2;
  int64_t work = workEstimate(ctx, {wt.dims[1], wt.dims[2]});
  ctx.parallelFor(m, work, [&](LoweringContext &inner, llvm::Value *i) {
    SwigluQuantRow(inner, op, half).emit(i);
  });
  return success();
}

} // namespace kiln::codegen
