//===- Quantize.cpp - lowerings of dequant and quant ----------------------===//
//
// The fp32 operations of ops/Dequant.cpp and ops/Quant.cpp, one rounding
// each and in the same order:
//
//   dequant:  v = float(x); v = v + offset; v = v * scale; v = v * row_scale
//   static:   t = float(x) * scale; t = t + offset; q = sat_i8(roundeven(t))
//   dynamic:  s = max|x| / 127.0f; inv = 1.0f / s; q = roundeven(x * inv)
//             (npu-compat: x * inv rounded to f16 first)
//
// Float -> i8 rounding and saturation come from TensorAccess::storeFloat.
//
//===----------------------------------------------------------------------===//
#include "codegen/ops/GroupList.h"

#include <llvm/IR/Intrinsics.h>

namespace kiln::codegen {

namespace {

llvm::Value *f32(LoweringContext &ctx, double v) {
  return llvm::ConstantFP::get(ctx.b().getFloatTy(), v);
}

/// The scale (and offset) index of input element `idx`: along group_axis
/// the group idx / group_size; with a group_list, dim 0 is the expert;
/// then right-aligned broadcasting.
std::vector<llvm::Value *> scaleIndex(LoweringContext &ctx,
                                      const TensorAccess &scale,
                                      llvm::ArrayRef<llvm::Value *> idx,
                                      int64_t groupSize, int64_t axis,
                                      llvm::Value *expert) {
  std::vector<llvm::Value *> at = idx.vec();
  if (expert)
    at[0] = expert;
  if (groupSize > 0)
    at[axis] = ctx.b().CreateUDiv(at[axis], ctx.b().getInt64(groupSize));
  return broadcastIndex(ctx, scale, at);
}

} // namespace

LogicalResult lowerDequant(const Op &op, LoweringContext &ctx) {
  const ops::Dequant::Attrs &a = op.attrs<ops::Dequant>();
  llvm::IRBuilder<> &b = ctx.b();
  TensorAccess input = ctx.access(op.operand(ops::Dequant::input));
  TensorAccess scale = ctx.access(op.operand(ops::Dequant::scale));
  TensorAccess out = ctx.access(op.result());
  const Value *offsetV = op.operand(ops::Dequant::offset);
  const Value *rowScaleV = op.operand(ops::Dequant::row_scale);
  int64_t rank = input.type().rank();
  int64_t axis = a.group_axis < 0 ? a.group_axis + rank : a.group_axis;

  // One element: ((float(x) + offset) * scale) * row_scale, each rounded.
  auto element = [&](llvm::ArrayRef<llvm::Value *> idx, llvm::Value *expert) {
    std::vector<llvm::Value *> s =
        scaleIndex(ctx, scale, idx, a.group_size, axis, expert);
    llvm::Value *v = b.CreateSIToFP(input.loadInt(idx), b.getFloatTy());
    if (offsetV)
      v = b.CreateFAdd(v, ctx.access(offsetV).loadFloat(s));
    v = b.CreateFMul(v, scale.loadFloat(s));
    if (rowScaleV)
      v = b.CreateFMul(v, ctx.access(rowScaleV).loadFloat(idx.drop_back()));
    out.storeFloat(idx, v);
  };

  const Value *groupList = op.operand(ops::Dequant::group_list);
  if (!groupList) {
    forEachIndex(ctx, op.result(), [&](llvm::ArrayRef<llvm::Value *> idx) {
      element(idx, nullptr);
    });
    return success();
  }
  // Per-expert scales: input [M, N], rows [begin, end) of group g use
  // scale[g]; validate the whole list first, as the reference does.
  llvm::Value *rows = input.dim(0), *cols = input.dim(1);
  checkGroupList(ctx, op, groupList, a.group_list_type, rows);
  llvm::Value *covered =
      forEachGroup(ctx, groupList, a.group_list_type,
                   [&](llvm::Value *g, llvm::Value *begin, llvm::Value *end) {
                     ctx.forRange(begin, end, [&](llvm::Value *r) {
                       ctx.forRange(b.getInt64(0), cols, [&](llvm::Value *c) {
                         element({r, c}, g);
                       });
                     });
                   });
  // Rows past the last group are zero.
  ctx.forRange(covered, rows, [&](llvm::Value *r) {
    ctx.forRange(b.getInt64(0), cols, [&](llvm::Value *c) {
      out.storeFloat({r, c}, f32(ctx, 0.0));
    });
  });
  return success();
}

namespace {

LogicalResult lowerStaticQuant(const Op &op, LoweringContext &ctx) {
  llvm::IRBuilder<> &b = ctx.b();
  TensorAccess input = ctx.access(op.operand(ops::Quant::input));
  TensorAccess scale = ctx.access(op.operand(ops::Quant::scale));
  TensorAccess out = ctx.access(op.result(0));
  const Value *offsetV = op.operand(ops::Quant::offset);
  forEachIndex(ctx, op.result(0), [&](llvm::ArrayRef<llvm::Value *> idx) {
    std::vector<llvm::Value *> s = broadcastIndex(ctx, scale, idx);
    llvm::Value *t = b.CreateFMul(input.loadFloat(idx), scale.loadFloat(s));
    if (offsetV)
      t = b.CreateFAdd(t, ctx.access(offsetV).loadFloat(s));
    out.storeFloat(idx, t); // round half to even, saturate to [-128, 127]
  });
  return success();
}

LogicalResult lowerDynamicQuant(const Op &op, LoweringContext &ctx) {
  llvm::IRBuilder<> &b = ctx.b();
  TensorAccess input = ctx.access(op.operand(ops::Quant::input));
  TensorAccess out = ctx.access(op.result(0));
  TensorAccess scales = ctx.access(op.result(1));
  bool npuCompat = ctx.numerics() == Numerics::NpuCompat;
  llvm::Type *f32Ty = b.getFloatTy();
  llvm::AllocaInst *amaxSlot = ctx.stackSlot(f32Ty, "quant.amax");
  std::vector<llvm::Value *> rowDims = ctx.shapes().dims(op.result(1)->type());
  llvm::Value *cols = input.dim(-1);
  ctx.forEach(rowDims, [&](llvm::ArrayRef<llvm::Value *> row) {
    auto at = [&](llvm::Value *c) {
      std::vector<llvm::Value *> idx = row.vec();
      idx.push_back(c);
      return idx;
    };
    // max |x| over the row; `v > amax` is false for NaN, so NaNs are skipped.
    b.CreateStore(f32(ctx, 0.0), amaxSlot);
    ctx.forRange(b.getInt64(0), cols, [&](llvm::Value *c) {
      llvm::Value *v =
          b.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, input.loadFloat(at(c)));
      llvm::Value *amax = b.CreateLoad(f32Ty, amaxSlot);
      b.CreateStore(b.CreateSelect(b.CreateFCmpOGT(v, amax), v, amax),
                    amaxSlot);
    });
    llvm::Value *s =
        b.CreateFDiv(b.CreateLoad(f32Ty, amaxSlot), f32(ctx, 127.0));
    scales.storeFloat(row, s);
    llvm::Value *isZero = b.CreateFCmpOEQ(s, f32(ctx, 0.0));
    llvm::Value *inv = b.CreateFDiv(f32(ctx, 1.0), s);
    ctx.forRange(b.getInt64(0), cols, [&](llvm::Value *c) {
      llvm::Value *t = b.CreateFMul(input.loadFloat(at(c)), inv);
      if (npuCompat) // the kernel's fp32 -> fp16 -> int8 cast
        t = b.CreateFPExt(b.CreateFPTrunc(t, b.getHalfTy()), f32Ty);
      // A zero row gives q = 0 (the reference skips it; outputs start zero).
      out.storeFloat(at(c), b.CreateSelect(isZero, f32(ctx, 0.0), t));
    });
  });
  return success();
}

} // namespace

LogicalResult lowerQuant(const Op &op, LoweringContext &ctx) {
  if (op.attrs<ops::Quant>().mode == QuantMode::Dynamic)
    return lowerDynamicQuant(op, ctx);
  return lowerStaticQuant(op, ctx);
}

} // namespace kiln::codegen
