//===- TensorAccess.cpp - element loads and stores for lowerings ----------===//
#include "codegen/Lowering.h"

#include <llvm/IR/Intrinsics.h>

#include <cmath>

namespace kiln::codegen {

TensorAccess::TensorAccess(LoweringContext &ctx, const Value *v)
    : ctx_(ctx), type_(v->type()), base_(ctx.buffer(v)),
      dims_(ctx.shapes().dims(v->type())) {}

llvm::Value *TensorAccess::dim(int64_t i) const {
  return dims_[i < 0 ? i + type_.rank() : i];
}

llvm::Value *TensorAccess::offset(llvm::ArrayRef<llvm::Value *> idx) const {
  llvm::IRBuilder<> &b = ctx_.b();
  int64_t rank = type_.rank();
  if (rank == 0)
    return b.getInt64(0);
  bool nz = type_.layout == Layout::NZ;
  // Row-major over the leading dims (all but the last, or all but the last
  // two for NZ), then the innermost part.
  int64_t lead = nz ? rank - 2 : rank - 1;
  llvm::Value *outer = b.getInt64(0);
  for (int64_t d = 0; d < lead; ++d)
    outer = b.CreateAdd(b.CreateMul(outer, dims_[d]), idx[d]);
  auto ceilDiv = [&](llvm::Value *x, int64_t c) {
    return b.CreateUDiv(b.CreateAdd(x, b.getInt64(c - 1)), b.getInt64(c));
  };
  llvm::Value *cols = dims_[rank - 1];
  if (!nz) {
    llvm::Value *pitch = cols;
    if (type_.dtype == DType::I4)
      pitch = b.CreateMul(ceilDiv(cols, 8), b.getInt64(8));
    return b.CreateAdd(b.CreateMul(outer, pitch), idx[rank - 1]);
  }
  int64_t n0 = nzColumnsPerFractal(type_.dtype);
  llvm::Value *i = idx[rank - 2], *j = idx[rank - 1];
  llvm::Value *k1 = ceilDiv(dims_[rank - 2], 16);
  llvm::Value *n1 = ceilDiv(cols, n0);
  llvm::Value *block = b.CreateMul(k1, b.getInt64(16 * n0)); // one column band
  llvm::Value *off = b.CreateMul(outer, b.CreateMul(n1, block));
  off = b.CreateAdd(off, b.CreateMul(b.CreateUDiv(j, b.getInt64(n0)), block));
  off = b.CreateAdd(
      off, b.CreateMul(b.CreateUDiv(i, b.getInt64(16)), b.getInt64(16 * n0)));
  off = b.CreateAdd(
      off, b.CreateMul(b.CreateURem(i, b.getInt64(16)), b.getInt64(n0)));
  return b.CreateAdd(off, b.CreateURem(j, b.getInt64(n0)));
}

llvm::Value *TensorAccess::address(llvm::Value *off, llvm::Type *elem) const {
  return ctx_.b().CreateInBoundsGEP(elem, base_, off);
}

llvm::Value *TensorAccess::loadInt(llvm::ArrayRef<llvm::Value *> idx) const {
  llvm::IRBuilder<> &b = ctx_.b();
  llvm::Value *off = offset(idx);
  llvm::Type *i64 = b.getInt64Ty();
  switch (type_.dtype) {
  case DType::I4: {
    llvm::Value *byte = b.CreateLoad(
        b.getInt8Ty(), address(b.CreateLShr(off, 1), b.getInt8Ty()));
    llvm::Value *odd = b.CreateTrunc(b.CreateAnd(off, 1), b.getInt1Ty());
    llvm::Value *hi = b.CreateAShr(byte, 4);
    llvm::Value *lo = b.CreateAShr(b.CreateShl(byte, 4), 4);
    return b.CreateSExt(b.CreateSelect(odd, hi, lo), i64);
  }
  case DType::I8:
    return b.CreateSExt(
        b.CreateLoad(b.getInt8Ty(), address(off, b.getInt8Ty())), i64);
  case DType::I32:
    return b.CreateSExt(
        b.CreateLoad(b.getInt32Ty(), address(off, b.getInt32Ty())), i64);
  case DType::I64:
    return b.CreateLoad(i64, address(off, i64));
  default:
    return b.CreateFPToSI(loadFloat(idx), i64);
  }
}

llvm::Value *TensorAccess::loadFloat(llvm::ArrayRef<llvm::Value *> idx) const {
  llvm::IRBuilder<> &b = ctx_.b();
  llvm::Type *f32 = b.getFloatTy();
  switch (type_.dtype) {
  case DType::F32:
    return b.CreateLoad(f32, address(offset(idx), f32));
  case DType::F16:
    return b.CreateFPExt(
        b.CreateLoad(b.getHalfTy(), address(offset(idx), b.getHalfTy())), f32);
  case DType::BF16: {
    llvm::Value *bits =
        b.CreateLoad(b.getInt16Ty(), address(offset(idx), b.getInt16Ty()));
    return b.CreateBitCast(b.CreateShl(b.CreateZExt(bits, b.getInt32Ty()), 16),
                           f32);
  }
  default:
    return b.CreateSIToFP(loadInt(idx), f32);
  }
}

void TensorAccess::storeInt(llvm::ArrayRef<llvm::Value *> idx,
                            llvm::Value *v) const {
  llvm::IRBuilder<> &b = ctx_.b();
  llvm::Value *off = offset(idx);
  switch (type_.dtype) {
  case DType::I4: {
    llvm::Value *addr = address(b.CreateLShr(off, 1), b.getInt8Ty());
    llvm::Value *byte = b.CreateLoad(b.getInt8Ty(), addr);
    llvm::Value *nib = b.CreateAnd(b.CreateTrunc(v, b.getInt8Ty()), 0xf);
    llvm::Value *odd = b.CreateTrunc(b.CreateAnd(off, 1), b.getInt1Ty());
    llvm::Value *hi = b.CreateOr(b.CreateAnd(byte, 0x0f), b.CreateShl(nib, 4));
    llvm::Value *lo = b.CreateOr(b.CreateAnd(byte, 0xf0), nib);
    b.CreateStore(b.CreateSelect(odd, hi, lo), addr);
    return;
  }
  case DType::I8:
  case DType::I32:
  case DType::I64: {
    llvm::Type *t = b.getIntNTy(bitWidth(type_.dtype));
    b.CreateStore(b.CreateTrunc(v, t), address(off, t));
    return;
  }
  default:
    storeFloat(idx, b.CreateSIToFP(v, b.getFloatTy()));
  }
}

void TensorAccess::storeFloat(llvm::ArrayRef<llvm::Value *> idx,
                              llvm::Value *v) const {
  llvm::IRBuilder<> &b = ctx_.b();
  switch (type_.dtype) {
  case DType::F32:
    b.CreateStore(v, address(offset(idx), b.getFloatTy()));
    return;
  case DType::F16:
    b.CreateStore(b.CreateFPTrunc(v, b.getHalfTy()),
                  address(offset(idx), b.getHalfTy()));
    return;
  case DType::BF16: {
    // Round to nearest even on the bit pattern; NaN becomes a quiet NaN.
    llvm::Value *bits = b.CreateBitCast(v, b.getInt32Ty());
    llvm::Value *lsb = b.CreateAnd(b.CreateLShr(bits, 16), 1);
    llvm::Value *rounded = b.CreateLShr(
        b.CreateAdd(bits, b.CreateAdd(lsb, b.getInt32(0x7fff))), 16);
    llvm::Value *isNan = b.CreateFCmpUNO(v, v);
    rounded = b.CreateSelect(isNan, b.getInt32(0x7fc0), rounded);
    b.CreateStore(b.CreateTrunc(rounded, b.getInt16Ty()),
                  address(offset(idx), b.getInt16Ty()));
    return;
  }
  default:
    break;
  }
  // Float -> integer: round half to even, saturate, NaN -> 0.
  llvm::Type *f32 = b.getFloatTy();
  llvm::Value *r = b.CreateUnaryIntrinsic(llvm::Intrinsic::roundeven, v);
  int bits = type_.dtype == DType::I4 ? 4 : bitWidth(type_.dtype);
  double lo = -std::ldexp(1.0, bits - 1), hi = std::ldexp(1.0, bits - 1);
  llvm::Value *tooLow = b.CreateFCmpOLT(r, llvm::ConstantFP::get(f32, lo));
  llvm::Value *tooHigh = b.CreateFCmpOGE(r, llvm::ConstantFP::get(f32, hi));
  llvm::Value *isNan = b.CreateFCmpUNO(r, r);
  llvm::Value *safe =
      b.CreateSelect(b.CreateOr(b.CreateOr(tooLow, tooHigh), isNan),
                     llvm::ConstantFP::get(f32, 0.0), r);
  llvm::Value *i = b.CreateFPToSI(safe, b.getInt64Ty());
  int64_t minV = -(int64_t(1) << (bits - 1));
  int64_t maxV = bits == 64 ? INT64_MAX : (int64_t(1) << (bits - 1)) - 1;
  i = b.CreateSelect(tooLow, b.getInt64(minV), i);
  i = b.CreateSelect(tooHigh, b.getInt64(maxV), i);
  storeInt(idx, i);
}

} // namespace kiln::codegen
