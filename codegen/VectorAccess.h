//===- VectorAccess.h - kLanes-wide loads, stores and roundings -*- C++ -*-===//
//
// The vector counterparts of TensorAccess's element access, for the float
// GEMM engine's sources and epilogues: a run of gemm::kLanes elements that
// are contiguous in storage (the last dim of an ND tensor, or a column run
// of an NZ tensor inside one fractal band -- true whenever the first column
// is a multiple of kLanes) loaded as one vector, optionally masked; int4 is
// unpacked in registers. Every conversion is the exact one TensorAccess
// performs per element, so results stay bit-identical.
//
// The rounding helpers accept scalars and vectors alike (the same IR ops as
// quant::roundToFloat / decodePacked, with splatted constants).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "codegen/FloatGemm.h"
#include "codegen/ops/QuantEpilogue.h"

namespace kiln::codegen::vec {

/// t[idx] .. t[idx + kLanes - 1 in the last dim] as <kLanes x i32>: i8 and
/// i4 sign-extended, i32 as is. `mask` (or null) marks the lanes to read.
llvm::Value *loadInts(llvm::IRBuilder<> &b, const TensorAccess &t,
                      llvm::ArrayRef<llvm::Value *> idx, llvm::Value *mask);

/// The same run as <kLanes x i64> of an i64 tensor (packed scales).
llvm::Value *loadI64s(llvm::IRBuilder<> &b, const TensorAccess &t,
                      llvm::ArrayRef<llvm::Value *> idx, llvm::Value *mask);

/// The same run as <kLanes x float>, converted as TensorAccess::loadFloat.
llvm::Value *loadFloats(llvm::IRBuilder<> &b, const TensorAccess &t,
                        llvm::ArrayRef<llvm::Value *> idx, llvm::Value *mask);

/// Any layout, any stride, one element per lane (slow: for transposed
/// weights): lane l reads t[index(l)] (the caller keeps it in bounds).
llvm::Value *gatherInts(
    llvm::IRBuilder<> &b, const TensorAccess &t,
    const std::function<std::vector<llvm::Value *>(unsigned lane)> &index);

/// Stores lanes of the f32 vector `v` into a float tensor (f32/f16/bf16,
/// rounded as TensorAccess::storeFloat) at a contiguous run.
void storeFloats(llvm::IRBuilder<> &b, const TensorAccess &t,
                 llvm::ArrayRef<llvm::Value *> idx, llvm::Value *v,
                 llvm::Value *mask);

/// A scalar or vector f32 as the float dtype `t` stores it (rounded as
/// TensorAccess::storeFloat), with the element type to store.
std::pair<llvm::Value *, llvm::Type *> encodeFloat(llvm::IRBuilder<> &b,
                                                   llvm::Value *v, DType t);
/// A scalar of the element type encodeFloat gives for `t`, back to f32.
llvm::Value *decodeFloat(llvm::IRBuilder<> &b, llvm::Value *bits, DType t);

/// quant::roundToFloat for a scalar or vector f32.
llvm::Value *roundToFloat(llvm::IRBuilder<> &b, llvm::Value *v, DType t);

/// quant::decodePacked's scale for a scalar or vector i64.
llvm::Value *packedScale(llvm::IRBuilder<> &b, llvm::Value *packed);

} // namespace kiln::codegen::vec
