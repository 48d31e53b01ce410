//===- Int8Gemm.h - the int8 x int8 -> int32 GEMM engine --------*- C++ -*-===//
//
// One tiled, register-blocked GEMM shared by every int8 matmul lowering:
//
//   C[r, jj] = sum_k A[i0 + r, k] * B[k, col(jj)]     exact i32, wrapping
//
// for one *work tile* of at most mc rows x nc columns. Integer addition mod
// 2^32 is associative, so k may be summed in any order: the result equals
// the reference's int64 sum truncated to int32 bit for bit.
//
// Blocking (GotoBLAS style, all sizes compile-time constants, stack only):
//   for each k block of kc (runtime count):
//     pack B[k block, tile columns] into int16 pairs (b[k], b[k+1]) per
//       column, in micro-panels of nr columns, the order the micro-kernel
//       reads them (odd K and ragged columns padded with zeros)   64 KiB
//     pack the tile's A rows as int16 pairs, per mr-row block     132 KiB
//     for each nr-column micro-panel (L1), for each mr-row block: the
//       mr x nr i32 accumulators sit in registers across the k block; a
//       (a[k], a[k+1]) pair is broadcast and multiplied into nv vectors of
//       B pairs; the accumulators then go back to the C tile (mc x nc i32,
//       132 KiB, L2; never [M, N])
//
// The multiply-add is the exact sequence of the TargetISA (never
// vpmaddubsw, which saturates): vpdpwssd (VNNI), vpmaddwd + vpaddd (AVX-512
// or AVX2), or portable vector i32 arithmetic. Callers apply their epilogue
// to the C tile of each work tile and choose the thread split.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "codegen/Lowering.h"

namespace kiln::codegen::int8gemm {

/// Register tile and cache blocks of one ISA.
struct Blocking {
  TargetISA isa;
  int64_t lanes; ///< i32 lanes per vector
  int64_t mr;    ///< rows of the register tile
  int64_t nv;    ///< vectors per register-tile row
  int64_t kc;    ///< k per block (a multiple of 32)
  int64_t mc;    ///< rows per work tile (a multiple of mr)
  int64_t nc;    ///< columns per work tile (a multiple of nr and of 32)
  int64_t nr() const { return lanes * nv; }
  int64_t kcPairs() const { return kc / 2; }
};
Blocking blocking(TargetISA isa);

/// A: an int8 ND tensor [.., rows, K] ([.., K, rows] when transposed)
/// under leading indices. Row-major A is packed with vector loads; the
/// transposed form reads element by element.
struct AMatrix {
  const TensorAccess *access;
  std::vector<llvm::Value *> lead;
  bool transposed = false;
};

/// B: an int8 [.., K, N] tensor (ND or FRACTAL_NZ; [.., N, K] when
/// transposed, read element by element) under leading indices.
struct BMatrix {
  const TensorAccess *access;
  std::vector<llvm::Value *> lead;
  bool transposed = false;
};

/// The columns of a work tile: `start.size()` equal segments of nc, segment
/// s holding B columns [start[s], start[s] + width) (width <= nc / segments;
/// the rest of the segment is zero). Two segments put SwiGLU's gate and up
/// columns side by side in one tile.
struct TileColumns {
  std::vector<llvm::Value *> start;
  llvm::Value *width;
};

class Engine {
public:
  /// Allocates the tile's stack buffers in ctx's current function.
  explicit Engine(LoweringContext &ctx);

  const Blocking &blocking() const { return bl_; }
  /// Fills the C tile: rows [0, rows) (rows <= mc) and every column jj < nc
  /// of the segments' layout.
  void computeTile(const AMatrix &a, const BMatrix &b, llvm::Value *k,
                   llvm::Value *i0, llvm::Value *rows, const TileColumns &cols);
  /// &C[r][jj], an i32; row stride nc.
  llvm::Value *cAt(llvm::Value *r, llvm::Value *jj);
  /// Columns per segment of a tile with `segments` segments.
  int64_t segmentWidth(int64_t segments) const { return bl_.nc / segments; }

private:
  void packB(const BMatrix &b, llvm::Value *pc, llvm::Value *k,
             llvm::Value *pairs, const TileColumns &cols);
  /// Packs mr rows from A row `row0` (`rows` of them valid) into the A
  /// panel from panel row `panelRow`.
  void packA(const AMatrix &a, llvm::Value *row0, llvm::Value *rows,
             llvm::Value *pc, llvm::Value *k, llvm::Value *pairs,
             llvm::Value *panelRow);
  void packAElements(const AMatrix &a, llvm::Value *row0, llvm::Value *rows,
                     llvm::Value *pc, llvm::Value *k, llvm::Value *pairs,
                     llvm::Value *panelRow);
  void microKernel(llvm::Value *ir, llvm::Value *jr, llvm::Value *pairs);
  llvm::Value *madd(llvm::Value *acc, llvm::Value *a, llvm::Value *b);
  /// if (cond) then(); else otherwise();
  void ifElse(llvm::Value *cond, const std::function<void()> &then,
              const std::function<void()> &otherwise);

  LoweringContext &ctx_;
  Blocking bl_;
  llvm::AllocaInst *bPanel_, *aPanel_, *cTile_;
  std::vector<llvm::AllocaInst *> acc_; ///< mr * nv register accumulators
};

/// Rows [i0, i0 + rows) x columns [j0, j0 + width) of a result.
struct WorkTile {
  llvm::Value *i0, *rows, *j0, *width;
};

/// Calls body(inner, tile) for the mc x nc work tiles of an [m, n] result
/// (row block major), split across the thread pool: the body must build
/// everything from `inner`. `workPerElement`: rough operations per result
/// element, for the split.
void parallelWorkTiles(
    LoweringContext &ctx, const Dim &m, const Dim &n, int64_t workPerElement,
    const std::function<void(LoweringContext &inner, const WorkTile &)> &body);
/// The same over an [m, n] that extents(ctx) computes, in the caller's
/// context and again in the parallel body's (e.g. read back from the
/// runtime).
using Extents2D =
    std::function<std::pair<llvm::Value *, llvm::Value *>(LoweringContext &)>;
void parallelWorkTiles(
    LoweringContext &ctx, const Extents2D &extents, int64_t workPerElement,
    const std::function<void(LoweringContext &inner, const WorkTile &)> &body);

/// [lo, lo + count) split in blocks of `block`: body(start, size) in order.
void forBlocks(LoweringContext &ctx, llvm::Value *lo, llvm::Value *count,
               int64_t block,
               const std::function<void(llvm::Value *, llvm::Value *)> &body);

} // namespace kiln::codegen::int8gemm

namespace kiln::codegen {
/// The int8 x int8 -> i32 `matmul` primitive (plain, batched, grouped; any
/// transpose; ND or NZ rhs) on the engine. codegen/ops/MatMul.cpp's
/// lowerMatMul dispatches integer operands here.
LogicalResult lowerInt8MatMul(const Op &op, LoweringContext &ctx);
} // namespace kiln::codegen
