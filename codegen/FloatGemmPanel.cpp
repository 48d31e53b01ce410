//===- FloatGemmPanel.cpp - B panels reused across row blocks -------------===//
//
// The engine's many-rows mode. A register tile dequantizes (or widens) its
// B row vectors once per k for only `shape.rows` rows; with many rows that
// conversion dominates. Here one work item is a column panel (one tile
// wide) x up to kPanelRows rows, and k runs in chunks of kChunk:
//
//   for each k chunk (ascending):
//     pb[kk][0 .. cols) = source.b(kk, ...)      f32, on the stack (L1/L2)
//     xs[row][kk] = source.a(row, kk)            f32, on the stack
//     for each row block: acc = scratch[rows]; for kk in chunk (ascending):
//                           acc += a * pb[kk]; scratch[rows] = acc
//   epilogue from scratch
//
// Every result still sums its products in ascending k with fmul + fadd; only
// where B's f32 vectors come from changes.
//
//===----------------------------------------------------------------------===//
#include "codegen/FloatGemmLoops.h"

namespace kiln::codegen::gemm {

void emitPanel(LoweringContext &ctx, const TileShape &shape, const Source &src,
               const Tile &panel, llvm::Value *k, int64_t kBlock) {
  llvm::IRBuilder<> &b = ctx.b();
  llvm::Type *f32 = b.getFloatTy();
  llvm::FixedVectorType *vt = floatVector(b);
  const unsigned nv = shape.vectors, rows = shape.rows;
  const int64_t width = shape.columns();
  // Per-group scales change every kBlock k: a chunk is one group.
  const int64_t chunk = kBlock > 0 ? kBlock : kChunk;
  llvm::AllocaInst *pb =
      ctx.stackSlot(llvm::ArrayType::get(f32, chunk * width), "gemm.panel");
  llvm::AllocaInst *xs = // A of the panel's rows for one chunk, as f32
      ctx.stackSlot(llvm::ArrayType::get(f32, kPanelRows * chunk), "gemm.a");
  llvm::AllocaInst *scratch = ctx.stackSlot(
      llvm::ArrayType::get(f32, kPanelRows * width), "gemm.scratch");
  llvm::Align a4(4);
  auto at = [&](llvm::AllocaInst *base, llvm::Value *pos) {
    return b.CreateInBoundsGEP(f32, base, pos);
  };
  // Masks only touch B's conversion and the epilogue (never the k loop), so
  // one masked copy serves full and partial panels.
  {
    Masks m = makeMasks(b, shape, panel.cols);
    std::vector<llvm::Value *> col;
    for (unsigned v = 0; v < nv; ++v)
      col.push_back(b.CreateAdd(panel.j0, b.getInt64(int64_t(v) * kLanes)));
    llvm::Value *blocks = ceilDiv(b, panel.rows, rows);
    auto scratchAt = [&](llvm::Value *rb, unsigned r, unsigned v) {
      llvm::Value *row = b.CreateAdd(b.CreateMul(rb, b.getInt64(rows)),
                                     b.getInt64(r));
      return at(scratch, b.CreateAdd(b.CreateMul(row, b.getInt64(width)),
                                     b.getInt64(int64_t(v) * kLanes)));
    };
    ctx.forRange(b.getInt64(0), blocks, [&](llvm::Value *rb) {
      for (unsigned r = 0; r < rows; ++r)
        for (unsigned v = 0; v < nv; ++v)
          b.CreateAlignedStore(llvm::ConstantFP::get(vt, 0.0),
                               scratchAt(rb, r, v), a4);
    });
    llvm::Value *chunks = ceilDiv(b, k, chunk);
    ctx.forRange(b.getInt64(0), chunks, [&](llvm::Value *c) {
      llvm::Value *lo = b.CreateMul(c, b.getInt64(chunk));
      llvm::Value *hi = minI64(b, k, b.CreateAdd(lo, b.getInt64(chunk)));
      llvm::Value *block = kBlock > 0 ? c : b.getInt64(0);
      auto pbAt = [&](llvm::Value *kk, unsigned v) {
        llvm::Value *row = b.CreateSub(kk, lo);
        return at(pb, b.CreateAdd(b.CreateMul(row, b.getInt64(width)),
                                  b.getInt64(int64_t(v) * kLanes)));
      };
      ctx.forRange(lo, hi, [&](llvm::Value *kk) {
        for (unsigned v = 0; v < nv; ++v)
          b.CreateAlignedStore(src.b(kk, block, col[v], m.mask[v]),
                               pbAt(kk, v), a4);
      });
      // A once per chunk (unit stride in k: the loop vectorizes), so the
      // k loop below only broadcasts f32 from L1.
      auto xsAt = [&](llvm::Value *row, llvm::Value *kk) {
        return at(xs, b.CreateAdd(b.CreateMul(row, b.getInt64(chunk)),
                                  b.CreateSub(kk, lo)));
      };
      ctx.forRange(b.getInt64(0), panel.rows, [&](llvm::Value *row) {
        llvm::Value *i = b.CreateAdd(panel.i0, row);
        ctx.forRange(lo, hi, [&](llvm::Value *kk) {
          b.CreateAlignedStore(src.a(i, kk), xsAt(row, kk), a4);
        });
      });
      Source fromXs = src;
      fromXs.a = [&](llvm::Value *i, llvm::Value *kk) {
        return b.CreateAlignedLoad(f32, xsAt(b.CreateSub(i, panel.i0), kk), a4);
      };
      ctx.forRange(b.getInt64(0), blocks, [&](llvm::Value *rb) {
        llvm::Value *i0 = b.CreateAdd(panel.i0, b.CreateMul(rb, b.getInt64(rows)));
        llvm::Value *left =
            b.CreateSub(panel.rows, b.CreateMul(rb, b.getInt64(rows)));
        Values rowIdx = clampedRows(b, i0, left, rows);
        Values acc;
        for (unsigned r = 0; r < rows; ++r)
          for (unsigned v = 0; v < nv; ++v)
            acc.push_back(b.CreateAlignedLoad(vt, scratchAt(rb, r, v), a4));
        acc = carriedLoop(ctx, lo, hi, acc,
                          [&](llvm::Value *kk, const Values &cur) {
          Values w;
          for (unsigned v = 0; v < nv; ++v)
            w.push_back(b.CreateAlignedLoad(vt, pbAt(kk, v), a4));
          return multiplyAdd(b, fromXs, rowIdx, kk, w, cur);
        });
        for (unsigned r = 0; r < rows; ++r)
          for (unsigned v = 0; v < nv; ++v)
            b.CreateAlignedStore(acc[r * nv + v], scratchAt(rb, r, v), a4);
      });
    });
    // Epilogue: the rows of the panel that exist.
    ctx.forRange(b.getInt64(0), panel.rows, [&](llvm::Value *row) {
      for (unsigned v = 0; v < nv; ++v) {
        llvm::Value *pos = b.CreateAdd(b.CreateMul(row, b.getInt64(width)),
                                       b.getInt64(int64_t(v) * kLanes));
        src.store(b.CreateAdd(panel.i0, row), col[v],
                  b.CreateAlignedLoad(vt, at(scratch, pos), a4), m.lanes[v],
                  m.mask[v]);
      }
    });
  }
}

} // namespace kiln::codegen::gemm
