//===- FloatGemmLoops.h - the float engine's shared pieces ------*- C++ -*-===//
//
// Internal to codegen/FloatGemm*.cpp: loops with SSA-carried accumulators,
// the full/masked column split, and the one multiply-add step both modes
// (register tiles, panels) run per k.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "codegen/FloatGemm.h"

namespace kiln::codegen::gemm {

using Values = std::vector<llvm::Value *>;

/// k per panel chunk (B chunk of kChunk x columns f32 on the stack).
constexpr int64_t kChunk = 256;
/// Rows per panel work item (their accumulators in a stack scratch).
constexpr int64_t kPanelRows = 64;

/// Few-rows mode: one-row tiles per strip, k per strip chunk.
constexpr int64_t kStripTiles = 4;
constexpr int64_t kStripChunk = 64;

/// `for (iv = lo; iv < hi; ++iv) vals = body(iv, vals)` with `vals` carried
/// in SSA registers; returns their final values.
Values carriedLoop(LoweringContext &ctx, llvm::Value *lo, llvm::Value *hi,
                   const Values &init,
                   const std::function<Values(llvm::Value *, const Values &)>
                       &body);

/// then() under `cond`, else otherwise() (if given); joins after.
inline void ifElse(LoweringContext &ctx, llvm::Value *cond,
                   const std::function<void()> &then,
                   const std::function<void()> &otherwise = {}) {
  ctx.ifElse(cond, then, otherwise);
}

llvm::Value *minI64(llvm::IRBuilder<> &b, llvm::Value *x, llvm::Value *y);
llvm::Value *ceilDiv(llvm::IRBuilder<> &b, llvm::Value *x, int64_t c);

/// Per vector of a tile: its lane mask (null when all lanes are valid) and
/// its valid lane count.
struct Masks {
  Values mask, lanes;
};
/// The masks of a tile `cols` wide (always real masks, all-true when full).
Masks makeMasks(llvm::IRBuilder<> &b, const TileShape &shape, llvm::Value *cols);
/// One vector's mask and lane count: lanes = clamp(cols - first, 0, kLanes).
std::pair<llvm::Value *, llvm::Value *> vectorMask(llvm::IRBuilder<> &b,
                                                   llvm::Value *cols,
                                                   llvm::Value *first);
/// Emits body twice: for a full tile (no masks) and, under a branch, for a
/// partial one (`cols` < shape.columns()).
void withMasks(LoweringContext &ctx, const TileShape &shape, llvm::Value *cols,
               const std::function<void(const Masks &)> &body);

/// Row indices i0 + r for r < n, clamped to the tile's last row.
Values clampedRows(llvm::IRBuilder<> &b, llvm::Value *i0, llvm::Value *rows,
                   unsigned n);

/// acc[r][v] + splat(a(row[r], k)) * w[v], fmul then fadd.
Values multiplyAdd(llvm::IRBuilder<> &b, const Source &src, const Values &rows,
                   llvm::Value *k, const Values &w, const Values &acc);

/// Panel mode (FloatGemmPanel.cpp): rows [i0, i0 + rows) with rows <=
/// kPanelRows, one tile of columns.
void emitPanel(LoweringContext &ctx, const TileShape &shape, const Source &src,
               const Tile &panel, llvm::Value *k, int64_t kBlock);

/// Few-rows mode (FloatGemmStrip.cpp): row i0 (rows == 1), columns
/// [j0, j0 + cols) with cols <= kStripTiles * shape.columns().
void emitStrip(LoweringContext &ctx, const TileShape &shape, const Source &src,
               const Tile &strip, llvm::Value *k, int64_t kBlock);

} // namespace kiln::codegen::gemm
