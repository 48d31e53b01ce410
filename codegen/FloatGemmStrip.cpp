//===- FloatGemmStrip.cpp - the few-rows (GEMV) mode ----------------------===//
//
// M < kSmallM: each work item is one row i and a strip of kStripTiles
// one-row register tiles (kStripTiles x 128 columns). Its k loop runs in
// chunks of kStripChunk (or one scale group):
//
//   for each k chunk (ascending):
//     for each tile of the strip: acc = scratch[tile]
//                                 for kk in chunk: acc += x[i,kk] * W[kk, tile]
//                                 scratch[tile] = acc
//   epilogue from scratch
//
// so the weight is streamed a few dozen rows at a time across the whole
// strip: a handful of pages and prefetch streams live at once instead of
// one new 4 KiB page per k per tile (a TLB miss each on a row-major [K, N]
// weight), while each result still sums in ascending k with fmul + fadd.
//
//===----------------------------------------------------------------------===//
#include "codegen/FloatGemmLoops.h"

namespace kiln::codegen::gemm {

void emitStrip(LoweringContext &ctx, const TileShape &shape, const Source &src,
               const Tile &strip, llvm::Value *k, int64_t kBlock) {
  llvm::IRBuilder<> &b = ctx.b();
  llvm::Type *f32 = b.getFloatTy();
  llvm::FixedVectorType *vt = floatVector(b);
  const unsigned nv = shape.vectors;
  const int64_t width = shape.columns();
  const int64_t chunk = kBlock > 0 ? kBlock : kStripChunk;
  llvm::AllocaInst *scratch = ctx.stackSlot(
      llvm::ArrayType::get(f32, kStripTiles * width), "gemm.strip");
  llvm::Align a4(4);
  auto at = [&](llvm::Value *t, llvm::Value *first) {
    llvm::Value *pos = b.CreateAdd(b.CreateMul(t, b.getInt64(width)), first);
    return b.CreateInBoundsGEP(f32, scratch, pos);
  };
  auto lane0 = [&](unsigned v) { return b.getInt64(int64_t(v) * kLanes); };
  llvm::Value *tiles = ceilDiv(b, strip.cols, width);
  ctx.forRange(b.getInt64(0), tiles, [&](llvm::Value *t) {
    for (unsigned v = 0; v < nv; ++v)
      b.CreateAlignedStore(llvm::ConstantFP::get(vt, 0.0), at(t, lane0(v)), a4);
  });
  // Tile t's columns: [j0 + off, j0 + off + cols).
  auto tileCols = [&](llvm::Value *t, llvm::Value *&off) {
    off = b.CreateMul(t, b.getInt64(width));
    return minI64(b, b.CreateSub(strip.cols, off), b.getInt64(width));
  };
  // A run of `count` vectors from column `first` of tile t: acc from the
  // scratch, the k loop over [lo, hi), back to the scratch.
  auto run = [&](llvm::Value *t, llvm::Value *off, const Values &first,
                 const Values &mask, llvm::Value *lo, llvm::Value *hi,
                 llvm::Value *block) {
    Values acc, rows{strip.i0};
    for (llvm::Value *f : first)
      acc.push_back(b.CreateAlignedLoad(vt, at(t, f), a4));
    acc = carriedLoop(ctx, lo, hi, acc,
                      [&](llvm::Value *kk, const Values &cur) {
      Values w;
      for (size_t v = 0; v < first.size(); ++v) {
        llvm::Value *j = b.CreateAdd(b.CreateAdd(strip.j0, off), first[v]);
        if (src.prefetch)
          src.prefetch(kk, j);
        w.push_back(src.b(kk, block, j, mask[v]));
      }
      return multiplyAdd(b, src, rows, kk, w, cur);
    });
    for (size_t v = 0; v < first.size(); ++v)
      b.CreateAlignedStore(acc[v], at(t, first[v]), a4);
  };
  ctx.forRange(b.getInt64(0), ceilDiv(b, k, chunk), [&](llvm::Value *c) {
    llvm::Value *lo = b.CreateMul(c, b.getInt64(chunk));
    llvm::Value *hi = minI64(b, k, b.CreateAdd(lo, b.getInt64(chunk)));
    llvm::Value *block = kBlock > 0 ? c : b.getInt64(0);
    ctx.forRange(b.getInt64(0), tiles, [&](llvm::Value *t) {
      llvm::Value *off;
      llvm::Value *cols = tileCols(t, off);
      // Full tiles: all vectors at once, unmasked. The last, partial tile:
      // one masked vector at a time (small code for a remainder).
      ifElse(ctx, b.CreateICmpEQ(cols, b.getInt64(width)),
             [&] {
               Values first;
               for (unsigned v = 0; v < nv; ++v)
                 first.push_back(lane0(v));
               run(t, off, first, Values(nv, nullptr), lo, hi, block);
             },
             [&] {
               ctx.forRange(b.getInt64(0), ceilDiv(b, cols, kLanes),
                            [&](llvm::Value *v) {
                 llvm::Value *first = b.CreateMul(v, b.getInt64(kLanes));
                 run(t, off, {first}, {vectorMask(b, cols, first).first}, lo,
                     hi, block);
               });
             });
    });
  });
  ctx.forRange(b.getInt64(0), tiles, [&](llvm::Value *t) {
    llvm::Value *off;
    llvm::Value *cols = tileCols(t, off);
    ctx.forRange(b.getInt64(0), ceilDiv(b, cols, kLanes), [&](llvm::Value *v) {
      llvm::Value *first = b.CreateMul(v, b.getInt64(kLanes));
      auto [mask, lanes] = vectorMask(b, cols, first);
      src.store(strip.i0, b.CreateAdd(b.CreateAdd(strip.j0, off), first),
                b.CreateAlignedLoad(vt, at(t, first), a4), lanes, mask);
    });
  });
}

} // namespace kiln::codegen::gemm
