//===- VectorAccess.cpp - kLanes-wide loads, stores and roundings ---------===//
#include "codegen/VectorAccess.h"

#include <tuple>

namespace kiln::codegen::vec {

using gemm::kLanes;

namespace {

llvm::FixedVectorType *vecOf(llvm::Type *elem, unsigned n = kLanes) {
  return llvm::FixedVectorType::get(elem, n);
}

/// `like` with its element type replaced by `elem` (scalar or vector).
llvm::Type *shaped(llvm::Type *like, llvm::Type *elem) {
  if (auto *v = llvm::dyn_cast<llvm::VectorType>(like))
    return llvm::VectorType::get(elem, v->getElementCount());
  return elem;
}

/// A (masked) load of `n` elements of `elem` at element offset `off`.
llvm::Value *loadRun(llvm::IRBuilder<> &b, const TensorAccess &t,
                     llvm::Value *off, llvm::Type *elem, llvm::Value *mask,
                     unsigned n = kLanes) {
  llvm::Type *vt = vecOf(elem, n);
  llvm::Value *ptr = b.CreateInBoundsGEP(elem, t.base(), off);
  llvm::Align align(elem->getScalarSizeInBits() / 8);
  if (!mask)
    return b.CreateAlignedLoad(vt, ptr, align);
  return b.CreateMaskedLoad(vt, ptr, align, mask,
                            llvm::Constant::getNullValue(vt));
}

/// Lanes 0, 2, 4, ... of a <kLanes x i1> mask: the bytes holding them.
llvm::Value *evenLanes(llvm::IRBuilder<> &b, llvm::Value *mask) {
  if (!mask)
    return nullptr;
  std::vector<int> even;
  for (unsigned l = 0; l < kLanes; l += 2)
    even.push_back(int(l));
  return b.CreateShuffleVector(mask, even);
}

} // namespace

llvm::Value *loadInts(llvm::IRBuilder<> &b, const TensorAccess &t,
                      llvm::ArrayRef<llvm::Value *> idx, llvm::Value *mask) {
  llvm::Type *i8 = b.getInt8Ty(), *i32 = b.getInt32Ty();
  llvm::Value *off = t.offset(idx);
  switch (t.type().dtype) {
  case DType::I4: {
    // Nibble offsets of a run starting at an even column are even: byte
    // off/2 holds lanes 0 (low nibble) and 1 (high nibble), and so on.
    llvm::Value *bytes =
        loadRun(b, t, b.CreateLShr(off, 1), i8, evenLanes(b, mask), kLanes / 2);
    // Byte l/2 into the top byte of dword l (one byte permute), then the
    // nibble to the top of the dword (even lanes: shift left 4) and an
    // arithmetic shift right by 28 sign-extends it.
    // The other bytes never reach the result: they may be anything.
    std::vector<int> spread(4 * kLanes, llvm::PoisonMaskElem);
    for (unsigned l = 0; l < kLanes; ++l)
      spread[4 * l + 3] = int(l / 2);
    llvm::Value *wide =
        b.CreateBitCast(b.CreateShuffleVector(bytes, spread), vecOf(i32));
    std::vector<uint32_t> shifts(kLanes);
    for (unsigned l = 0; l < kLanes; ++l)
      shifts[l] = l % 2 ? 0 : 4;
    llvm::Value *up = b.CreateShl(
        wide, llvm::ConstantDataVector::get(b.getContext(), shifts));
    return b.CreateAShr(up, 28);
  }
  case DType::I8:
    return b.CreateSExt(loadRun(b, t, off, i8, mask), vecOf(i32));
  case DType::I32:
    return loadRun(b, t, off, i32, mask);
  default:
    return b.CreateTrunc(loadI64s(b, t, idx, mask), vecOf(i32));
  }
}

llvm::Value *loadI64s(llvm::IRBuilder<> &b, const TensorAccess &t,
                      llvm::ArrayRef<llvm::Value *> idx, llvm::Value *mask) {
  return loadRun(b, t, t.offset(idx), b.getInt64Ty(), mask);
}

llvm::Value *loadFloats(llvm::IRBuilder<> &b, const TensorAccess &t,
                        llvm::ArrayRef<llvm::Value *> idx, llvm::Value *mask) {
  llvm::Type *f32 = b.getFloatTy();
  switch (t.type().dtype) {
  case DType::F32:
    return loadRun(b, t, t.offset(idx), f32, mask);
  case DType::F16:
    return b.CreateFPExt(loadRun(b, t, t.offset(idx), b.getHalfTy(), mask),
                         vecOf(f32));
  case DType::BF16: {
    llvm::Value *bits = loadRun(b, t, t.offset(idx), b.getInt16Ty(), mask);
    return b.CreateBitCast(
        b.CreateShl(b.CreateZExt(bits, vecOf(b.getInt32Ty())), 16),
        vecOf(f32));
  }
  default:
    return b.CreateSIToFP(loadInts(b, t, idx, mask), vecOf(f32));
  }
}

llvm::Value *gatherInts(
    llvm::IRBuilder<> &b, const TensorAccess &t,
    const std::function<std::vector<llvm::Value *>(unsigned)> &index) {
  llvm::Value *v = llvm::PoisonValue::get(vecOf(b.getInt32Ty()));
  for (unsigned l = 0; l < kLanes; ++l)
    v = b.CreateInsertElement(
        v, b.CreateTrunc(t.loadInt(index(l)), b.getInt32Ty()), uint64_t(l));
  return v;
}

std::pair<llvm::Value *, llvm::Type *> encodeFloat(llvm::IRBuilder<> &b,
                                                   llvm::Value *v, DType t) {
  auto *vt = llvm::dyn_cast<llvm::FixedVectorType>(v->getType());
  auto like = [&](llvm::Type *elem) -> llvm::Type * {
    return vt ? vecOf(elem, vt->getNumElements()) : elem;
  };
  switch (t) {
  case DType::F32:
    return {v, b.getFloatTy()};
  case DType::F16:
    return {b.CreateFPTrunc(v, like(b.getHalfTy())), b.getHalfTy()};
  case DType::BF16: {
    // As TensorAccess::storeFloat: RNE on the bits, NaN -> 0x7fc0.
    llvm::Type *i32v = like(b.getInt32Ty());
    llvm::Value *bits = b.CreateBitCast(v, i32v);
    llvm::Value *lsb = b.CreateAnd(b.CreateLShr(bits, 16), 1);
    llvm::Value *rounded = b.CreateLShr(
        b.CreateAdd(bits, b.CreateAdd(lsb, llvm::ConstantInt::get(i32v, 0x7fff))),
        16);
    rounded = b.CreateSelect(b.CreateFCmpUNO(v, v),
                             llvm::ConstantInt::get(i32v, 0x7fc0), rounded);
    return {b.CreateTrunc(rounded, like(b.getInt16Ty())), b.getInt16Ty()};
  }
  default:
    assert(false && "encodeFloat: float dtypes only");
    return {v, b.getFloatTy()};
  }
}

llvm::Value *decodeFloat(llvm::IRBuilder<> &b, llvm::Value *bits, DType t) {
  if (t == DType::F16)
    return b.CreateFPExt(bits, b.getFloatTy());
  if (t == DType::BF16)
    return b.CreateBitCast(b.CreateShl(b.CreateZExt(bits, b.getInt32Ty()), 16),
                           b.getFloatTy());
  return bits;
}

void storeFloats(llvm::IRBuilder<> &b, const TensorAccess &t,
                 llvm::ArrayRef<llvm::Value *> idx, llvm::Value *v,
                 llvm::Value *mask) {
  llvm::Type *elem = nullptr;
  std::tie(v, elem) = encodeFloat(b, v, t.type().dtype);
  llvm::Value *ptr = b.CreateInBoundsGEP(elem, t.base(), t.offset(idx));
  llvm::Align align(elem->getScalarSizeInBits() / 8);
  if (mask)
    b.CreateMaskedStore(v, ptr, align, mask);
  else
    b.CreateAlignedStore(v, ptr, align);
}

llvm::Value *roundToFloat(llvm::IRBuilder<> &b, llvm::Value *v, DType t) {
  llvm::Type *ty = v->getType();
  switch (t) {
  case DType::F16:
    return b.CreateFPExt(b.CreateFPTrunc(v, shaped(ty, b.getHalfTy())), ty);
  case DType::BF16: {
    llvm::Type *it = shaped(ty, b.getInt32Ty());
    llvm::Value *bits = b.CreateBitCast(v, it);
    llvm::Value *lsb = b.CreateAnd(b.CreateLShr(bits, 16), 1);
    llvm::Value *sum =
        b.CreateAdd(bits, b.CreateAdd(lsb, llvm::ConstantInt::get(it, 0x7fff)));
    llvm::Value *rounded = b.CreateBitCast(
        b.CreateAnd(sum, llvm::ConstantInt::get(it, 0xffff0000u)), ty);
    return b.CreateSelect(b.CreateFCmpUNO(v, v), v, rounded);
  }
  default:
    return v;
  }
}

llvm::Value *packedScale(llvm::IRBuilder<> &b, llvm::Value *packed) {
  llvm::Type *it = shaped(packed->getType(), b.getInt32Ty());
  llvm::Value *low = b.CreateTrunc(packed, it);
  return b.CreateBitCast(
      b.CreateAnd(low, llvm::ConstantInt::get(it, 0xffffe000u)),
      shaped(packed->getType(), b.getFloatTy()));
}

} // namespace kiln::codegen::vec
