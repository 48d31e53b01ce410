//===- Int8Work.cpp - work tiles of the int8 GEMM engine ------------------===//
#include "codegen/Int8Gemm.h"

namespace kiln::codegen::int8gemm {

namespace {
llvm::Value *ceilDiv(llvm::IRBuilder<> &b, llvm::Value *x, int64_t c) {
  return b.CreateUDiv(b.CreateAdd(x, b.getInt64(c - 1)), b.getInt64(c));
}
llvm::Value *minConst(llvm::IRBuilder<> &b, llvm::Value *x, int64_t c) {
  return b.CreateSelect(b.CreateICmpSLT(x, b.getInt64(c)), x, b.getInt64(c));
}
} // namespace

void parallelWorkTiles(
    LoweringContext &ctx, const Dim &m, const Dim &n, int64_t workPerElement,
    const std::function<void(LoweringContext &, const WorkTile &)> &body) {
  parallelWorkTiles(
      ctx,
      [&](LoweringContext &c) {
        return std::pair(c.shapes().dim(m), c.shapes().dim(n));
      },
      workPerElement, body);
}

void parallelWorkTiles(
    LoweringContext &ctx, const Extents2D &extents, int64_t workPerElement,
    const std::function<void(LoweringContext &, const WorkTile &)> &body) {
  llvm::IRBuilder<> &b = ctx.b();
  Blocking bl = blocking(ctx.isa());
  auto [m, n] = extents(ctx);
  llvm::Value *tiles = b.CreateMul(ceilDiv(b, m, bl.mc), ceilDiv(b, n, bl.nc));
  ctx.parallelFor(
      tiles, bl.mc * bl.nc * workPerElement,
      [&](LoweringContext &inner, llvm::Value *t) {
        llvm::IRBuilder<> &ib = inner.b();
        auto [rows, cols] = extents(inner);
        llvm::Value *colTiles = ceilDiv(ib, cols, bl.nc);
        llvm::Value *i0 =
            ib.CreateMul(ib.CreateUDiv(t, colTiles), ib.getInt64(bl.mc));
        llvm::Value *j0 =
            ib.CreateMul(ib.CreateURem(t, colTiles), ib.getInt64(bl.nc));
        body(inner, {i0, minConst(ib, ib.CreateSub(rows, i0), bl.mc), j0,
                     minConst(ib, ib.CreateSub(cols, j0), bl.nc)});
      });
}

void forBlocks(LoweringContext &ctx, llvm::Value *lo, llvm::Value *count,
               int64_t block,
               const std::function<void(llvm::Value *, llvm::Value *)> &body) {
  llvm::IRBuilder<> &b = ctx.b();
  ctx.forRange(b.getInt64(0), ceilDiv(b, count, block), [&](llvm::Value *i) {
    llvm::Value *off = b.CreateMul(i, b.getInt64(block));
    body(b.CreateAdd(lo, off), minConst(b, b.CreateSub(count, off), block));
  });
}

} // namespace kiln::codegen::int8gemm
