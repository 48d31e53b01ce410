//===- GroupedMatmulSwigluQuantV2.cpp - lowering of the fused MoE gate/up -===//
//
// The fp32 operations of ops/npu/GroupedMatmulSwigluQuantV2.cpp, in its
// order, on the int8 GEMM engine (codegen/Int8Gemm.h); nothing but q and
// scale is written.
//
//   check group_list (all of it, before any output)
//   rows at or past the list's end: q[i, :] = 0, scale[i] = 0
//   parallel over row blocks (at most mcS = mc rows of one group g):
//     for each block of nc/2 columns j of the first half: one engine tile
//       whose two column segments are gate columns j.. and up columns
//       half + j.. (one B panel, one k loop), then per element
//       C(acc, c) = (float(acc) * weight_scale[g, c]) * x_scale[i]
//         (npu-compat: (float(acc) * x_scale[i]) * weight_scale[g, c])
//       S[r, j] = silu(C(accA, j)) * C(accG, half + j)
//       amax[r] = max(amax[r], |S[r, j]|)            (NaNs skipped)
//     scale[i] = amax / 127.0f
//     q[i, j] = rne_sat(S[j] * (1.0f / scale))       (npu-compat: the
//               product rounded to f16 first); q = 0 when scale == 0
//
// S is an f32 scratch of the row block's SwiGLU output (mcS x N/2, from
// the per-thread kiln_thread_scratch, codegen/CommCalls.cpp): the dynamic quant needs
// a row's amax before any q of it can be written. The int32 accumulators
// only ever exist as one engine C tile.
//
//===----------------------------------------------------------------------===//
#include "codegen/Int8Gemm.h"
#include "codegen/ops/Fused.h"

#include <llvm/IR/Intrinsics.h>

namespace kiln::codegen {

namespace {

using SQ = ops::GroupedMatmulSwigluQuantV2;

struct SwigluBlock {
  LoweringContext &ctx;
  const Op &op;
  int64_t half, mcS;
  TensorAccess x, w, wScale, xScale, q, qScale;

  SwigluBlock(LoweringContext &c, const Op &o, int64_t h, int64_t m)
      : ctx(c), op(o), half(h), mcS(m), x(c.access(o.operand(SQ::x))),
        w(c.access(o.operand(SQ::weight))),
        wScale(c.access(o.operand(SQ::weight_scale))),
        xScale(c.access(o.operand(SQ::x_scale))), q(c.access(o.result(0))),
        qScale(c.access(o.result(1))) {}

  void emit(llvm::Value *g, llvm::Value *r0, llvm::Value *rows);
};

void SwigluBlock::emit(llvm::Value *g, llvm::Value *r0, llvm::Value *rows) {
  llvm::IRBuilder<> &b = ctx.b();
  llvm::Type *f32 = b.getFloatTy(), *i32 = b.getInt32Ty();
  bool compat = ctx.numerics() == Numerics::NpuCompat;
  int8gemm::Engine gemm(ctx);
  const int64_t segW = gemm.segmentWidth(2);
  // S (mcS x half f32) can be megabytes: per-thread scratch, not stack.
  llvm::Type *ptr = b.getPtrTy(), *i64 = b.getInt64Ty();
  llvm::Value *s = b.CreateCall(
      ctx.runtimeFunction("kiln_thread_scratch",
                          llvm::FunctionType::get(ptr, {ptr, i64}, false)),
      {ctx.function()->getArg(2), b.getInt64(mcS * half * 4)});
  llvm::AllocaInst *amax =
      ctx.stackSlot(llvm::ArrayType::get(f32, mcS), "swiglu.amax");
  llvm::AllocaInst *wsA =
      ctx.stackSlot(llvm::ArrayType::get(f32, segW), "swiglu.ws.act");
  llvm::AllocaInst *wsG =
      ctx.stackSlot(llvm::ArrayType::get(f32, segW), "swiglu.ws.gate");
  llvm::Value *zero = b.getInt64(0), *halfV = b.getInt64(half);
  auto at = [&](llvm::Value *slot, llvm::Value *i) {
    return b.CreateInBoundsGEP(f32, slot, i);
  };
  auto sAt = [&](llvm::Value *r, llvm::Value *j) {
    return at(s, b.CreateAdd(b.CreateMul(r, halfV), j));
  };
  ctx.forRange(zero, rows, [&](llvm::Value *r) {
    b.CreateStore(f32Const(ctx, 0.0), at(amax, r));
  });
  int8gemm::AMatrix lhs{&x, {}};
  int8gemm::forBlocks(ctx, zero, halfV, segW, [&](llvm::Value *j0,
                                                  llvm::Value *width) {
    gemm.computeTile(lhs, {&w, {g}}, x.dim(1), r0, rows,
                     {{j0, b.CreateAdd(j0, halfV)}, width});
    ctx.forRange(zero, width, [&](llvm::Value *jj) {
      llvm::Value *j = b.CreateAdd(j0, jj);
      b.CreateStore(wScale.loadFloat({g, j}), at(wsA, jj));
      b.CreateStore(wScale.loadFloat({g, b.CreateAdd(j, halfV)}), at(wsG, jj));
    });
    ctx.forRange(zero, rows, [&](llvm::Value *r) {
      llvm::Value *xs = xScale.loadFloat({b.CreateAdd(r0, r)});
      auto dequant = [&](llvm::Value *acc, llvm::Value *ws) {
        llvm::Value *v = b.CreateSIToFP(acc, f32);
        return compat ? b.CreateFMul(b.CreateFMul(v, xs), ws)
                      : b.CreateFMul(b.CreateFMul(v, ws), xs);
      };
      ctx.forRange(zero, width, [&](llvm::Value *jj) {
        llvm::Value *act = dequant(b.CreateLoad(i32, gemm.cAt(r, jj)),
                                   b.CreateLoad(f32, at(wsA, jj)));
        llvm::Value *gate = dequant(
            b.CreateLoad(i32, gemm.cAt(r, b.CreateAdd(jj, b.getInt64(segW)))),
            b.CreateLoad(f32, at(wsG, jj)));
        llvm::Value *v = b.CreateFMul(silu(ctx, act), gate);
        b.CreateStore(v, sAt(r, b.CreateAdd(j0, jj)));
        llvm::Value *mag = b.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, v);
        llvm::Value *m = b.CreateLoad(f32, at(amax, r));
        b.CreateStore(b.CreateSelect(b.CreateFCmpOGT(mag, m), mag, m),
                      at(amax, r));
      });
    });
  });
  ctx.forRange(zero, rows, [&](llvm::Value *r) {
    llvm::Value *i = b.CreateAdd(r0, r);
    llvm::Value *scale =
        b.CreateFDiv(b.CreateLoad(f32, at(amax, r)), f32Const(ctx, 127.0));
    qScale.storeFloat({i}, scale);
    llvm::Value *isZero = b.CreateFCmpOEQ(scale, f32Const(ctx, 0.0));
    llvm::Value *inv = b.CreateFDiv(f32Const(ctx, 1.0), scale);
    ctx.forRange(zero, halfV, [&](llvm::Value *j) {
      llvm::Value *t = b.CreateFMul(b.CreateLoad(f32, sAt(r, j)), inv);
      if (compat) // the kernel's fp32 -> fp16 -> int8 cast
        t = roundTo(ctx, t, DType::F16);
      // An all-zero row gives q = 0 (the reference skips it).
      q.storeFloat({i, j}, b.CreateSelect(isZero, f32Const(ctx, 0.0), t));
    });
  });
}

} // namespace

LogicalResult lowerGroupedMatmulSwigluQuantV2(const Op &op,
                                              LoweringContext &ctx) {
  const SQ::Attrs &a = op.attrs<SQ>();
  llvm::IRBuilder<> &b = ctx.b();
  const TensorType &wt = op.operand(SQ::weight)->type();
  const Value *groupList = op.operand(SQ::group_list);
  llvm::Value *m = ctx.access(op.operand(SQ::x)).dim(0);
  // Validate the whole list before writing any output, as the reference.
  checkGroupList(ctx, op, groupList, a.group_list_type, m);
  // The verifier makes n a static even size.
  int64_t half = *ctx.shapes().constant(wt.dims[2]) / 2;
  int64_t mcS = int8gemm::blocking(ctx.isa()).mc;
  // Rows in no group: q = 0, scale = 0.
  llvm::Value *used = forEachGroup(
      ctx, groupList, a.group_list_type,
      [](llvm::Value *, llvm::Value *, llvm::Value *) {});
  TensorAccess q = ctx.access(op.result(0)), qs = ctx.access(op.result(1));
  ctx.forRange(used, m, [&](llvm::Value *i) {
    qs.storeFloat({i}, f32Const(ctx, 0.0));
    ctx.forRange(b.getInt64(0), b.getInt64(half), [&](llvm::Value *j) {
      q.storeInt({i, j}, b.getInt64(0));
    });
  });
  int64_t work = mcS * workEstimate(ctx, {wt.dims[1], wt.dims[2]});
  ctx.parallelFor(
      groupBlockCount(ctx, groupList, m, mcS), work,
      [&](LoweringContext &inner, llvm::Value *t) {
        GroupBlock blk =
            groupBlock(inner, groupList, a.group_list_type, t, mcS);
        llvm::IRBuilder<> &ib = inner.b();
        emitIf(
            inner, ib.CreateICmpSGT(blk.rows, ib.getInt64(0)),
            [&] { SwigluBlock(inner, op, half, mcS).emit(blk.g, blk.begin, blk.rows); },
            [] {});
      });
  return success();
}

} // namespace kiln::codegen
