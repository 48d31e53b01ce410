//===- Fused.cpp - pieces shared by the fused-op lowerings ----------------===//
#include "codegen/ops/Fused.h"

#include <llvm/IR/Intrinsics.h>

namespace kiln::codegen {

llvm::Value *f32Const(LoweringContext &ctx, double v) {
  return llvm::ConstantFP::get(ctx.b().getFloatTy(), v);
}

llvm::AllocaInst *blockSlot(LoweringContext &ctx, llvm::Type *elem,
                            llvm::StringRef name) {
  return ctx.stackSlot(llvm::ArrayType::get(elem, kFusedColumnBlock), name);
}

llvm::Value *slotAt(LoweringContext &ctx, llvm::AllocaInst *slot,
                    llvm::Value *jj) {
  llvm::Type *elem = slot->getAllocatedType()->getArrayElementType();
  return ctx.b().CreateInBoundsGEP(elem, slot, jj);
}

llvm::Value *loadAt(LoweringContext &ctx, llvm::AllocaInst *slot,
                    llvm::Value *jj) {
  llvm::Type *elem = slot->getAllocatedType()->getArrayElementType();
  return ctx.b().CreateLoad(elem, slotAt(ctx, slot, jj));
}

void forColumnBlocks(
    LoweringContext &ctx, llvm::Value *n,
    const std::function<void(llvm::Value *, llvm::Value *)> &body) {
  llvm::IRBuilder<> &b = ctx.b();
  llvm::Value *block = b.getInt64(kFusedColumnBlock);
  llvm::Value *blocks =
      b.CreateUDiv(b.CreateAdd(n, b.getInt64(kFusedColumnBlock - 1)), block);
  ctx.forRange(b.getInt64(0), blocks, [&](llvm::Value *blk) {
    llvm::Value *j0 = b.CreateMul(blk, block);
    llvm::Value *rest = b.CreateSub(n, j0);
    body(j0, b.CreateSelect(b.CreateICmpSLT(rest, block), rest, block));
  });
}

void accumulateBlock(
    LoweringContext &ctx, llvm::Value *k, llvm::Value *width,
    llvm::ArrayRef<llvm::Value *> cols, llvm::ArrayRef<llvm::AllocaInst *> accs,
    const std::function<llvm::Value *(llvm::Value *)> &lhs,
    const std::function<llvm::Value *(llvm::Value *, llvm::Value *)> &rhs) {
  llvm::IRBuilder<> &b = ctx.b();
  llvm::Value *zero = llvm::Constant::getNullValue(
      accs.front()->getAllocatedType()->getArrayElementType());
  bool isInt = zero->getType()->isIntegerTy();
  ctx.forRange(b.getInt64(0), width, [&](llvm::Value *jj) {
    for (llvm::AllocaInst *acc : accs)
      b.CreateStore(zero, slotAt(ctx, acc, jj));
  });
  ctx.forRange(b.getInt64(0), k, [&](llvm::Value *kk) {
    llvm::Value *a = lhs(kk);
    ctx.forRange(b.getInt64(0), width, [&](llvm::Value *jj) {
      for (size_t t = 0; t < accs.size(); ++t) {
        llvm::Value *w = rhs(kk, b.CreateAdd(cols[t], jj));
        llvm::Value *p = slotAt(ctx, accs[t], jj);
        llvm::Value *cur = b.CreateLoad(zero->getType(), p);
        llvm::Value *sum = isInt ? b.CreateAdd(cur, b.CreateMul(a, w))
                                 : b.CreateFAdd(cur, b.CreateFMul(a, w));
        b.CreateStore(sum, p);
      }
    });
  });
}

llvm::Value *rowGroup(LoweringContext &ctx, const Value *groupList,
                      GroupListType type, llvm::Value *row) {
  llvm::IRBuilder<> &b = ctx.b();
  TensorAccess list = ctx.access(groupList);
  llvm::AllocaInst *end = ctx.stackSlot(b.getInt64Ty(), "group.end");
  llvm::AllocaInst *group = ctx.stackSlot(b.getInt64Ty(), "group.of.row");
  b.CreateStore(b.getInt64(0), end);
  b.CreateStore(b.getInt64(0), group);
  ctx.forRange(b.getInt64(0), list.dim(0), [&](llvm::Value *g) {
    llvm::Value *v = list.loadInt({g});
    llvm::Value *e = type == GroupListType::Count
                         ? b.CreateAdd(b.CreateLoad(b.getInt64Ty(), end), v)
                         : v;
    b.CreateStore(e, end);
    llvm::Value *before = b.CreateZExt(b.CreateICmpSLE(e, row), b.getInt64Ty());
    b.CreateStore(b.CreateAdd(b.CreateLoad(b.getInt64Ty(), group), before),
                  group);
  });
  return b.CreateLoad(b.getInt64Ty(), group);
}

llvm::Value *roundTo(LoweringContext &ctx, llvm::Value *v, DType t) {
  llvm::IRBuilder<> &b = ctx.b();
  llvm::Type *f32 = b.getFloatTy();
  if (t == DType::F16)
    return b.CreateFPExt(b.CreateFPTrunc(v, b.getHalfTy()), f32);
  if (t != DType::BF16)
    return v;
  // Round to nearest even on the bit pattern (overflow goes to infinity);
  // a NaN stays a NaN.
  llvm::Value *bits = b.CreateBitCast(v, b.getInt32Ty());
  llvm::Value *lsb = b.CreateAnd(b.CreateLShr(bits, 16), 1);
  llvm::Value *r =
      b.CreateAnd(b.CreateAdd(bits, b.CreateAdd(lsb, b.getInt32(0x7fff))),
                  b.getInt32(0xffff0000u));
  return b.CreateSelect(b.CreateFCmpUNO(v, v), v, b.CreateBitCast(r, f32));
}

llvm::Value *silu(LoweringContext &ctx, llvm::Value *a) {
  llvm::IRBuilder<> &b = ctx.b();
  llvm::Type *f32 = b.getFloatTy();
  llvm::FunctionCallee expf =
      ctx.runtimeFunction("expf", llvm::FunctionType::get(f32, {f32}, false));
  llvm::Value *one = f32Const(ctx, 1.0);
  llvm::Value *e = b.CreateCall(expf, {b.CreateFNeg(a)});
  return b.CreateFMul(a, b.CreateFDiv(one, b.CreateFAdd(one, e)));
}

int64_t workEstimate(LoweringContext &ctx, std::initializer_list<Dim> dims) {
  int64_t work = 1;
  for (const Dim &d : dims) {
    std::optional<int64_t> c = ctx.shapes().constant(d);
    work *= std::max<int64_t>(c ? *c : 64, 1);
    work = std::min<int64_t>(work, int64_t(1) << 40);
  }
  return work;
}

} // namespace kiln::codegen
