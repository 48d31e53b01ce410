//===- FloatGemm.h - the register-blocked f32 matmul engine -----*- C++ -*-===//
//
// One micro-kernel design for every float matmul (the float `matmul`
// primitive, npu.weight_quant_batchmatmul, and whoever else sums
// float(a[i,k]) * B[k,j] in f32). Exactness rules: each result sums its
// products in ASCENDING k with a separate fmul and fadd, so the engine
// vectorizes over columns j and blocks rows i, never k:
//
//   acc[r][v] : <kLanes x float>, r < rows, v < vectors, in registers
//   for k ascending:
//     w[v] = source.b(k, j0 + v*kLanes)    -- once per k, reused by all rows
//     for r: a = splat(source.a(i0 + r, k));
//            for v: acc[r][v] = acc[r][v] + a * w[v]
//   source.store(i0 + r, j0 + v*kLanes, acc[r][v], lanes)
//
// The source supplies B as f32 row vectors (a dequantized int8/int4 weight,
// an f16 matrix, ...), A as f32 scalars and the epilogue; the engine owns the
// loops, the accumulators (SSA values carried through the k loop), column
// and row remainders (masked lanes; rows past the tile re-read the last row
// and are not stored) and the thread split. With kBlock > 0 the k loop is
// split into blocks of kBlock (per-group scales) and b() is told the block.
//
// Three loop nests over the same multiply-add step (parallelGemm picks):
//   tile   (emitTile)            one register tile over all of k
//   strip  (FloatGemmStrip.cpp)  M < kSmallM: a GEMV; one row x 4 one-row
//          tiles, k in chunks of 64 across the strip (few pages live)
//   panel  (FloatGemmPanel.cpp)  many rows: 64 rows x one tile; per k chunk
//          B (and A) converted once to f32 on the stack (~300 KiB at most)
//          and reused by every row block
//
//===----------------------------------------------------------------------===//
#pragma once

#include "codegen/Lowering.h"

#include <optional>

namespace kiln::codegen::gemm {

/// f32 lanes per vector: <16 x float> is one zmm on AVX-512 and legalises to
/// two ymm on AVX2.
constexpr unsigned kLanes = 16;

/// <kLanes x float>.
llvm::FixedVectorType *floatVector(llvm::IRBuilder<> &b);

/// Register tile: rows x (vectors * kLanes) results.
struct TileShape {
  unsigned rows, vectors;
  int64_t columns() const { return int64_t(vectors) * kLanes; }
};

/// Where the operands come from, built by the caller in the context the
/// tile runs in.
struct Source {
  /// B[k, j .. j+kLanes) as <kLanes x float>; `block` is k / kBlock (0
  /// without blocks); `mask` (<kLanes x i1>) marks the valid lanes, or is
  /// null when all are valid. Masked-off lanes may hold anything.
  std::function<llvm::Value *(llvm::Value *k, llvm::Value *block,
                              llvm::Value *j, llvm::Value *mask)>
      b;
  /// A[i, k] as an f32 scalar.
  std::function<llvm::Value *(llvm::Value *i, llvm::Value *k)> a;
  /// Writes results (i, j + l) for l < lanes (an i64 in [0, kLanes]) from
  /// the f32 vector `acc`; `mask` as in b().
  std::function<void(llvm::Value *i, llvm::Value *j, llvm::Value *acc,
                     llvm::Value *lanes, llvm::Value *mask)>
      store;
  /// Optional: a software prefetch of the B data that b(k, ., j, .) will
  /// read for a k some rows ahead (the GEMV strips stream B from memory).
  std::function<void(llvm::Value *k, llvm::Value *j)> prefetch;
};

/// A tile of the result: rows [i0, i0 + rows) x columns [j0, j0 + cols),
/// rows <= shape.rows, cols <= shape.columns(), both >= 1.
struct Tile {
  llvm::Value *i0, *rows, *j0, *cols;
};

/// Emits one tile at the builder's position: the sums over k in [0, k).
void emitTile(LoweringContext &ctx, const TileShape &shape, const Source &src,
              const Tile &tile, llvm::Value *k, int64_t kBlock = 0);

/// The extents of one problem as seen from a context (the outlined parallel
/// body rebuilds them from its own shapes).
struct Extents {
  llvm::Value *batch, *m, *n, *k;
};

/// A whole [batch x M x N] result, split into tiles across the thread pool.
/// Tiles run column panel by column panel (the B panel stays in cache while
/// the row blocks pass over it). `extents(inner)` and `source(inner, batch)`
/// are called inside the parallel body. M below the small-M limit uses
/// strips (a streaming GEMV), else panels (tiles when a scale group is
/// longer than 512); in dynamic mode both are emitted and chosen at run
/// time.
struct Problem {
  std::function<Extents(LoweringContext &)> extents;
  std::function<Source(LoweringContext &, llvm::Value *batch)> source;
  int64_t kBlock = 0;
  std::optional<int64_t> staticM; ///< M when known while compiling
  int64_t kHint = 256;            ///< rough K, for the thread split
};
void parallelGemm(LoweringContext &ctx, const Problem &p);

/// The tile shapes parallelGemm uses: for M < kSmallM, and otherwise.
constexpr int64_t kSmallM = 4;
TileShape smallMShape();
TileShape largeMShape();

} // namespace kiln::codegen::gemm
