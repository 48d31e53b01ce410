//===- MmAllReducePartial.cpp - P's element type, loads and stores --------===//
#include "codegen/ops/MmAllReducePartial.h"

#include "codegen/CommCalls.h"
#include "codegen/VectorAccess.h"

namespace kiln::codegen {

DType partialType(const Op &op, LoweringContext &ctx) {
  return mmAllReducePartialType(ctx.numerics(), op.result()->type().dtype);
}

void storePartial(LoweringContext &ctx, const Op &op, llvm::Value *scratch,
                  llvm::Value *index, llvm::Value *v, llvm::Value *mask) {
  llvm::IRBuilder<> &b = ctx.b();
  auto [bits, elem] = vec::encodeFloat(b, v, partialType(op, ctx));
  llvm::Value *at = b.CreateInBoundsGEP(elem, scratch, index);
  llvm::Align align(elem->getScalarSizeInBits() / 8);
  if (mask)
    b.CreateMaskedStore(bits, at, align, mask);
  else
    b.CreateAlignedStore(bits, at, align);
}

llvm::Value *loadPartial(LoweringContext &ctx, const Op &op,
                         llvm::Value *scratch, llvm::Value *index) {
  llvm::IRBuilder<> &b = ctx.b();
  DType t = partialType(op, ctx);
  llvm::Type *elem = t == DType::F32   ? b.getFloatTy()
                     : t == DType::F16 ? b.getHalfTy()
                                       : b.getInt16Ty();
  return vec::decodeFloat(
      b, b.CreateLoad(elem, b.CreateInBoundsGEP(elem, scratch, index)), t);
}

} // namespace kiln::codegen
