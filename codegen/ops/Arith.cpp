//===- Arith.cpp - lowerings of add, mul, cast and reduce_sum -------------===//
//
// The same arithmetic as the reference kernels (ops/Add.cpp, Cast.cpp,
// ReduceSum.cpp): floats in fp32 rounded once to the dtype, integers in i64
// wrapped to the dtype, casts between integers saturating, reductions in
// ascending order.
//
//===----------------------------------------------------------------------===//
#include "codegen/ops/Common.h"

#include "runtime/Float16.h"

namespace kiln::codegen {

namespace {
using BinaryEmit = llvm::Value *(*)(llvm::IRBuilder<> &, llvm::Value *,
                                    llvm::Value *, bool isFloat);

LogicalResult lowerBroadcastBinary(const Op &op, LoweringContext &ctx,
                                   BinaryEmit emit) {
  TensorAccess lhs = ctx.access(op.operand(0));
  TensorAccess rhs = ctx.access(op.operand(1));
  TensorAccess out = ctx.access(op.result());
  bool isFloatOp = isFloat(out.type().dtype);
  forEachIndex(ctx, op.result(), [&](llvm::ArrayRef<llvm::Value *> idx) {
    std::vector<llvm::Value *> li = broadcastIndex(ctx, lhs, idx);
    std::vector<llvm::Value *> ri = broadcastIndex(ctx, rhs, idx);
    if (isFloatOp)
      out.storeFloat(idx, emit(ctx.b(), lhs.loadFloat(li), rhs.loadFloat(ri), true));
    else
      out.storeInt(idx, emit(ctx.b(), lhs.loadInt(li), rhs.loadInt(ri), false));
  });
  return success();
}
} // namespace

LogicalResult lowerAdd(const Op &op, LoweringContext &ctx) {
  return lowerBroadcastBinary(
      op, ctx, [](llvm::IRBuilder<> &b, llvm::Value *x, llvm::Value *y, bool f) {
        return f ? b.CreateFAdd(x, y) : b.CreateAdd(x, y);
      });
}

LogicalResult lowerMul(const Op &op, LoweringContext &ctx) {
  return lowerBroadcastBinary(
      op, ctx, [](llvm::IRBuilder<> &b, llvm::Value *x, llvm::Value *y, bool f) {
        return f ? b.CreateFMul(x, y) : b.CreateMul(x, y);
      });
}

LogicalResult lowerCast(const Op &op, LoweringContext &ctx) {
  TensorAccess in = ctx.access(op.operand(0));
  TensorAccess out = ctx.access(op.result());
  DType from = in.type().dtype, to = out.type().dtype;
  llvm::IRBuilder<> &b = ctx.b();
  forEachIndex(ctx, op.result(), [&](llvm::ArrayRef<llvm::Value *> idx) {
    if (isFloat(from)) {
      out.storeFloat(idx, in.loadFloat(idx)); // rounds or saturates
      return;
    }
    llvm::Value *v = in.loadInt(idx);
    if (isFloat(to)) {
      out.storeFloat(idx, b.CreateSIToFP(v, b.getFloatTy()));
      return;
    }
    v = b.CreateSelect(b.CreateICmpSLT(v, b.getInt64(minValue(to))),
                       b.getInt64(minValue(to)), v);
    v = b.CreateSelect(b.CreateICmpSGT(v, b.getInt64(maxValue(to))),
                       b.getInt64(maxValue(to)), v);
    out.storeInt(idx, v);
  });
  return success();
}

LogicalResult lowerReduceSum(const Op &op, LoweringContext &ctx) {
  const ops::ReduceSum::Attrs &a = op.attrs<ops::ReduceSum>();
  TensorAccess in = ctx.access(op.operand(0));
  TensorAccess out = ctx.access(op.result());
  int64_t rank = in.type().rank();
  std::vector<bool> reduced(rank, false);
  for (int64_t d : a.dims)
    reduced[d < 0 ? d + rank : d] = true;
  llvm::IRBuilder<> &b = ctx.b();
  bool isF = isFloat(in.type().dtype);
  llvm::Type *accTy = isF ? b.getFloatTy() : b.getInt64Ty();
  llvm::AllocaInst *acc = ctx.stackSlot(accTy, "acc");
  std::vector<llvm::Value *> extents;
  for (int64_t d = 0; d < rank; ++d)
    if (reduced[d])
      extents.push_back(in.dim(d));
  forEachIndex(ctx, op.result(), [&](llvm::ArrayRef<llvm::Value *> outIdx) {
    b.CreateStore(isF ? (llvm::Value *)llvm::ConstantFP::get(accTy, 0.0)
                      : (llvm::Value *)b.getInt64(0),
                  acc);
    ctx.forEach(extents, [&](llvm::ArrayRef<llvm::Value *> red) {
      std::vector<llvm::Value *> idx;
      size_t o = 0, r = 0;
      for (int64_t d = 0; d < rank; ++d) {
        if (reduced[d]) {
          idx.push_back(red[r++]);
          if (a.keep_dims)
            ++o; // the kept size-1 dim
        } else {
          idx.push_back(outIdx[o++]);
        }
      }
      llvm::Value *cur = b.CreateLoad(accTy, acc);
      b.CreateStore(isF ? b.CreateFAdd(cur, in.loadFloat(idx))
                        : b.CreateAdd(cur, in.loadInt(idx)),
                    acc);
    });
    llvm::Value *sum = b.CreateLoad(accTy, acc);
    if (isF)
      out.storeFloat(outIdx, sum);
    else
      out.storeInt(outIdx, sum);
  });
  return success();
}

} // namespace kiln::codegen
