//===- QuantEpilogue.cpp - roundings and packed scales in IR --------------===//
#include "codegen/ops/QuantEpilogue.h"

#include <llvm/IR/Intrinsics.h>

namespace kiln::codegen::quant {

llvm::Value *roundToFloat(llvm::IRBuilder<> &b, llvm::Value *v, DType t) {
  llvm::Type *f32 = b.getFloatTy();
  switch (t) {
  case DType::F16: // fptrunc rounds to nearest even, as IEEE does
    return b.CreateFPExt(b.CreateFPTrunc(v, b.getHalfTy()), f32);
  case DType::BF16: {
    // Round to nearest even on the bit pattern (a carry into the exponent
    // overflows to infinity correctly); a NaN stays the NaN it was.
    llvm::Type *i32 = b.getInt32Ty();
    llvm::Value *bits = b.CreateBitCast(v, i32);
    llvm::Value *lsb = b.CreateAnd(b.CreateLShr(bits, 16), 1);
    llvm::Value *sum = b.CreateAdd(bits, b.CreateAdd(lsb, b.getInt32(0x7fff)));
    llvm::Value *rounded =
        b.CreateBitCast(b.CreateAnd(sum, b.getInt32(0xffff0000u)), f32);
    return b.CreateSelect(b.CreateFCmpUNO(v, v), v, rounded);
  }
  default:
    return v;
  }
}

llvm::Value *fp19(llvm::IRBuilder<> &b, llvm::Value *v) {
  llvm::Value *bits = b.CreateBitCast(v, b.getInt32Ty());
  return b.CreateBitCast(b.CreateAnd(bits, b.getInt32(0xffffe000u)),
                         b.getFloatTy());
}

PackedScaleIR decodePacked(llvm::IRBuilder<> &b, llvm::Value *packed) {
  llvm::Value *low = b.CreateTrunc(packed, b.getInt32Ty());
  llvm::Value *scale = b.CreateBitCast(
      b.CreateAnd(low, b.getInt32(0xffffe000u)), b.getFloatTy());
  // Bits [37, 46) sign-extended: shift them to the top, then back down.
  llvm::Value *offset = b.CreateAShr(b.CreateShl(packed, 64 - 46), 64 - 9);
  return {scale, offset};
}

llvm::Value *s9(llvm::IRBuilder<> &b, llvm::Value *v) {
  llvm::Type *f32 = b.getFloatTy();
  llvm::Value *r = b.CreateUnaryIntrinsic(llvm::Intrinsic::roundeven, v);
  llvm::Value *lo = llvm::ConstantFP::get(f32, -256.0);
  llvm::Value *hi = llvm::ConstantFP::get(f32, 255.0);
  r = b.CreateSelect(b.CreateFCmpOLT(r, lo), lo, r);
  r = b.CreateSelect(b.CreateFCmpOGT(r, hi), hi, r);
  r = b.CreateSelect(b.CreateFCmpUNO(r, r), llvm::ConstantFP::get(f32, 0.0), r);
  return b.CreateFPToSI(r, b.getInt64Ty());
}

llvm::Value *requantS9(llvm::IRBuilder<> &b, llvm::Value *y,
                       llvm::Value *scale, llvm::Value *offset9) {
  llvm::Value *q = b.CreateAdd(s9(b, b.CreateFMul(y, fp19(b, scale))), offset9);
  q = b.CreateSelect(b.CreateICmpSLT(q, b.getInt64(-128)), b.getInt64(-128), q);
  return b.CreateSelect(b.CreateICmpSGT(q, b.getInt64(127)), b.getInt64(127),
                        q);
}

void parallelTiles(
    LoweringContext &ctx, const Dim &m, const Dim &n, int64_t workPerElement,
    const std::function<void(LoweringContext &, const Tile &)> &body) {
  auto ceilDiv = [](llvm::IRBuilder<> &b, llvm::Value *x, int64_t c) {
    return b.CreateUDiv(b.CreateAdd(x, b.getInt64(c - 1)), b.getInt64(c));
  };
  llvm::IRBuilder<> &b = ctx.b();
  llvm::Value *tiles =
      b.CreateMul(ceilDiv(b, ctx.shapes().dim(m), kTileRows),
                  ceilDiv(b, ctx.shapes().dim(n), kTileColumns));
  ctx.parallelFor(
      tiles, kTileRows * kTileColumns * workPerElement,
      [&](LoweringContext &inner, llvm::Value *t) {
        llvm::IRBuilder<> &ib = inner.b();
        llvm::Value *rows = inner.shapes().dim(m), *cols = inner.shapes().dim(n);
        llvm::Value *colTiles = ceilDiv(ib, cols, kTileColumns);
        llvm::Value *i0 =
            ib.CreateMul(ib.CreateUDiv(t, colTiles), ib.getInt64(kTileRows));
        llvm::Value *j0 =
            ib.CreateMul(ib.CreateURem(t, colTiles), ib.getInt64(kTileColumns));
        auto min = [&](llvm::Value *p, int64_t q) {
          return ib.CreateSelect(ib.CreateICmpSLT(p, ib.getInt64(q)), p,
                                 ib.getInt64(q));
        };
        body(inner, {i0, min(ib.CreateSub(rows, i0), kTileRows), j0,
                     min(ib.CreateSub(cols, j0), kTileColumns)});
      });
}

int64_t sizeHint(LoweringContext &ctx, const Dim &d) {
  return ctx.shapes().constant(d).value_or(64);
}

std::vector<llvm::Value *> channelIndex(llvm::IRBuilder<> &b,
                                        const TensorAccess &t, llvm::Value *j) {
  std::vector<llvm::Value *> idx;
  int64_t rank = t.type().rank();
  for (int64_t d = 0; d < rank; ++d) {
    bool column = d == rank - 1 && t.type().dims[d] != Dim(1);
    idx.push_back(column ? j : b.getInt64(0));
  }
  return idx;
}

} // namespace kiln::codegen::quant
