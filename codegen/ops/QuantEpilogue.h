//===- QuantEpilogue.h - roundings and packed scales in IR ------*- C++ -*-===//
//
// The scalar pieces the fused quantized matmuls share, emitted as LLVM IR
// with the semantics of their C++ counterparts in runtime/Float16.h and
// ops/npu/PackedScale.h:
//
//   roundToFloat   float(roundToFloatType(v, t))   f32 -> f16/bf16 -> f32
//   decodePacked   decodePackedScale(packed)       §1.3: FP19 scale, s9 offset
//   s9             s9(v)                           clamp(rne(v), -256, 255)
//   requantS9      requantS9(y, scale, offset)     §3.4 npu requant
//
// and the thread split both lowerings use: tiles of the [M, N] result, each
// computed with its accumulators on the stack.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "codegen/ops/Common.h"

namespace kiln::codegen::quant {

/// `v` (f32) rounded to nearest even in the float dtype `t` and widened back
/// to f32; f32 leaves it unchanged. Overflow gives infinity, NaN stays NaN.
llvm::Value *roundToFloat(llvm::IRBuilder<> &b, llvm::Value *v, DType t);

/// A packed int64 scale decoded: its FP19 scale (f32) and its 9-bit signed
/// offset (i64 in [-256, 255]).
struct PackedScaleIR {
  llvm::Value *scale;
  llvm::Value *offset;
};
PackedScaleIR decodePacked(llvm::IRBuilder<> &b, llvm::Value *packed);

/// `v` (f32) truncated to FP19 (sign, 8-bit exponent, 10-bit mantissa).
llvm::Value *fp19(llvm::IRBuilder<> &b, llvm::Value *v);

/// s9 of an f32: round half to even, clamp to [-256, 255], NaN -> 0; i64.
llvm::Value *s9(llvm::IRBuilder<> &b, llvm::Value *v);

/// clamp(s9(y * fp19(scale)) + offset9, -128, 127) as i64, where `offset9`
/// is the offset already through s9 (an i64 in [-256, 255]).
llvm::Value *requantS9(llvm::IRBuilder<> &b, llvm::Value *y,
                       llvm::Value *scale, llvm::Value *offset9);

/// Output tiles of a fused matmul's [M, N] result: kTileRows x kTileColumns,
/// the accumulators of one tile on the stack (32 KiB of f32 at most).
constexpr int64_t kTileRows = 8;
constexpr int64_t kTileColumns = 256;

/// Rows [i0, i0 + rows) x columns [j0, j0 + width) of the result.
struct Tile {
  llvm::Value *i0, *rows, *j0, *width;
};

/// Calls body(inner, tile) for every tile of an [m, n] result, the tiles
/// (row block major) split across the thread pool by ctx.parallelFor, so
/// the body must build everything from `inner`. `workPerElement` is a rough
/// operation count per result element (the K loop), for the split.
void parallelTiles(
    LoweringContext &ctx, const Dim &m, const Dim &n, int64_t workPerElement,
    const std::function<void(LoweringContext &inner, const Tile &)> &body);

/// A static dim's size, else 64 (for the thread split's work estimate).
int64_t sizeHint(LoweringContext &ctx, const Dim &d);

/// The index into a per-channel operand ([N], [1,N], [1] or [1,1]) for
/// output column `j`: dims that are a static 1 read index 0 (a symbol bound
/// to 1 only ever sees j = 0).
std::vector<llvm::Value *> channelIndex(llvm::IRBuilder<> &b,
                                        const TensorAccess &t, llvm::Value *j);

} // namespace kiln::codegen::quant
