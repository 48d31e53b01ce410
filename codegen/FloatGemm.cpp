//===- FloatGemm.cpp - the register-blocked f32 matmul engine -------------===//
#include "codegen/FloatGemmLoops.h"

namespace kiln::codegen::gemm {

Values carriedLoop(LoweringContext &ctx, llvm::Value *lo, llvm::Value *hi,
                   const Values &init,
                   const std::function<Values(llvm::Value *, const Values &)>
                       &body) {
  llvm::IRBuilder<> &b = ctx.b();
  llvm::LLVMContext &c = b.getContext();
  llvm::Function *fn = ctx.function();
  llvm::BasicBlock *pre = b.GetInsertBlock();
  auto *header = llvm::BasicBlock::Create(c, "gemm.loop", fn);
  auto *bodyBB = llvm::BasicBlock::Create(c, "gemm.body", fn);
  auto *exit = llvm::BasicBlock::Create(c, "gemm.exit", fn);
  b.CreateBr(header);
  b.SetInsertPoint(header);
  llvm::PHINode *iv = b.CreatePHI(b.getInt64Ty(), 2, "k");
  iv->addIncoming(lo, pre);
  Values phis;
  for (llvm::Value *v : init) {
    llvm::PHINode *p = b.CreatePHI(v->getType(), 2, "acc");
    p->addIncoming(v, pre);
    phis.push_back(p);
  }
  b.CreateCondBr(b.CreateICmpSLT(iv, hi), bodyBB, exit);
  b.SetInsertPoint(bodyBB);
  Values next = body(iv, phis);
  llvm::BasicBlock *latch = b.GetInsertBlock();
  iv->addIncoming(b.CreateAdd(iv, b.getInt64(1), "", true, true), latch);
  for (size_t i = 0; i < phis.size(); ++i)
    llvm::cast<llvm::PHINode>(phis[i])->addIncoming(next[i], latch);
  b.CreateBr(header);
  b.SetInsertPoint(exit);
  return phis;
}

llvm::Value *minI64(llvm::IRBuilder<> &b, llvm::Value *x, llvm::Value *y) {
  return b.CreateSelect(b.CreateICmpSLT(x, y), x, y);
}

llvm::Value *ceilDiv(llvm::IRBuilder<> &b, llvm::Value *x, int64_t c) {
  return b.CreateUDiv(b.CreateAdd(x, b.getInt64(c - 1)), b.getInt64(c));
}

std::pair<llvm::Value *, llvm::Value *> vectorMask(llvm::IRBuilder<> &b,
                                                   llvm::Value *cols,
                                                   llvm::Value *first) {
  std::vector<uint64_t> ids(kLanes);
  for (unsigned l = 0; l < kLanes; ++l)
    ids[l] = l;
  llvm::Value *laneIds = llvm::ConstantDataVector::get(b.getContext(), ids);
  llvm::Value *rest = b.CreateSub(cols, first);
  llvm::Value *n =
      b.CreateSelect(b.CreateICmpSLT(rest, b.getInt64(0)), b.getInt64(0),
                     minI64(b, rest, b.getInt64(kLanes)));
  return {b.CreateICmpULT(laneIds, b.CreateVectorSplat(kLanes, n)), n};
}

Masks makeMasks(llvm::IRBuilder<> &b, const TileShape &shape,
                llvm::Value *cols) {
  Masks m;
  for (unsigned v = 0; v < shape.vectors; ++v) {
    auto [mask, n] = vectorMask(b, cols, b.getInt64(int64_t(v) * kLanes));
    m.mask.push_back(mask);
    m.lanes.push_back(n);
  }
  return m;
}

void withMasks(LoweringContext &ctx, const TileShape &shape, llvm::Value *cols,
               const std::function<void(const Masks &)> &body) {
  llvm::IRBuilder<> &b = ctx.b();
  unsigned nv = shape.vectors;
  llvm::Value *full = b.CreateICmpEQ(cols, b.getInt64(shape.columns()));
  ifElse(ctx, full,
         [&] {
           body({Values(nv, nullptr), Values(nv, b.getInt64(kLanes))});
         },
         [&] { body(makeMasks(b, shape, cols)); });
}

Values clampedRows(llvm::IRBuilder<> &b, llvm::Value *i0, llvm::Value *rows,
                   unsigned n) {
  llvm::Value *last = b.CreateAdd(i0, b.CreateSub(rows, b.getInt64(1)));
  Values out;
  for (unsigned r = 0; r < n; ++r)
    out.push_back(minI64(b, b.CreateAdd(i0, b.getInt64(r)), last));
  return out;
}

Values multiplyAdd(llvm::IRBuilder<> &b, const Source &src, const Values &rows,
                   llvm::Value *k, const Values &w, const Values &acc) {
  size_t nv = w.size();
  Values next(acc.size());
  for (size_t r = 0; r < rows.size(); ++r) {
    llvm::Value *a = b.CreateVectorSplat(kLanes, src.a(rows[r], k));
    for (size_t v = 0; v < nv; ++v)
      next[r * nv + v] = b.CreateFAdd(acc[r * nv + v], b.CreateFMul(a, w[v]));
  }
  return next;
}

llvm::FixedVectorType *floatVector(llvm::IRBuilder<> &b) {
  return llvm::FixedVectorType::get(b.getFloatTy(), kLanes);
}

TileShape smallMShape() { return {1, 8}; }
TileShape largeMShape() { return {4, 4}; }

void emitTile(LoweringContext &ctx, const TileShape &shape, const Source &src,
              const Tile &tile, llvm::Value *k, int64_t kBlock) {
  llvm::IRBuilder<> &b = ctx.b();
  unsigned nv = shape.vectors;
  withMasks(ctx, shape, tile.cols, [&](const Masks &m) {
    Values rowIdx = clampedRows(b, tile.i0, tile.rows, shape.rows);
    Values col;
    for (unsigned v = 0; v < nv; ++v)
      col.push_back(b.CreateAdd(tile.j0, b.getInt64(int64_t(v) * kLanes)));
    auto step = [&](llvm::Value *kk, llvm::Value *block, const Values &acc) {
      Values w;
      for (unsigned v = 0; v < nv; ++v)
        w.push_back(src.b(kk, block, col[v], m.mask[v]));
      return multiplyAdd(b, src, rowIdx, kk, w, acc);
    };
    Values acc(size_t(shape.rows) * nv,
               llvm::ConstantFP::get(floatVector(b), 0.0));
    if (kBlock > 0) {
      llvm::Value *g = b.getInt64(kBlock);
      acc = carriedLoop(ctx, b.getInt64(0), ceilDiv(b, k, kBlock), acc,
                        [&](llvm::Value *blk, const Values &outer) {
        llvm::Value *lo = b.CreateMul(blk, g);
        llvm::Value *hi = minI64(b, k, b.CreateAdd(lo, g));
        return carriedLoop(ctx, lo, hi, outer,
                           [&](llvm::Value *kk, const Values &inner) {
                             return step(kk, blk, inner);
                           });
      });
    } else {
      acc = carriedLoop(ctx, b.getInt64(0), k, acc,
                        [&](llvm::Value *kk, const Values &cur) {
                          return step(kk, b.getInt64(0), cur);
                        });
    }
    for (unsigned r = 0; r < shape.rows; ++r) {
      auto storeRow = [&] {
        for (unsigned v = 0; v < nv; ++v)
          src.store(rowIdx[r], col[v], acc[r * nv + v], m.lanes[v], m.mask[v]);
      };
      if (r == 0)
        storeRow();
      else
        ifElse(ctx, b.CreateICmpULT(b.getInt64(r), tile.rows), storeRow);
    }
  });
}

void parallelGemm(LoweringContext &ctx, const Problem &p) {
  // Many rows: panels (B converted once per kPanelRows rows), unless a
  // group is too long for a stack chunk.
  bool panels = p.kBlock <= 2 * kChunk;
  enum class Mode { Strip, Panel, Tile };
  auto run = [&](const TileShape &shape, Mode mode) {
    int64_t rowsPerItem = mode == Mode::Panel ? kPanelRows : shape.rows;
    int64_t colsPerItem =
        shape.columns() * (mode == Mode::Strip ? kStripTiles : 1);
    llvm::IRBuilder<> &b = ctx.b();
    Extents e = p.extents(ctx);
    llvm::Value *items =
        b.CreateMul(b.CreateMul(e.batch, ceilDiv(b, e.m, rowsPerItem)),
                    ceilDiv(b, e.n, colsPerItem));
    ctx.parallelFor(
        items, rowsPerItem * colsPerItem * p.kHint,
        [&](LoweringContext &inner, llvm::Value *t) {
          llvm::IRBuilder<> &ib = inner.b();
          Extents ie = p.extents(inner);
          llvm::Value *rowItems = ceilDiv(ib, ie.m, rowsPerItem);
          llvm::Value *perBatch =
              ib.CreateMul(rowItems, ceilDiv(ib, ie.n, colsPerItem));
          llvm::Value *batch = ib.CreateUDiv(t, perBatch);
          llvm::Value *rest = ib.CreateURem(t, perBatch);
          // Column panel major: the row items of one panel run in a row.
          llvm::Value *i0 = ib.CreateMul(ib.CreateURem(rest, rowItems),
                                         ib.getInt64(rowsPerItem));
          llvm::Value *j0 = ib.CreateMul(ib.CreateUDiv(rest, rowItems),
                                         ib.getInt64(colsPerItem));
          Tile tile{i0,
                    minI64(ib, ib.CreateSub(ie.m, i0), ib.getInt64(rowsPerItem)),
                    j0,
                    minI64(ib, ib.CreateSub(ie.n, j0), ib.getInt64(colsPerItem))};
          Source src = p.source(inner, batch);
          if (mode == Mode::Strip)
            emitStrip(inner, shape, src, tile, ie.k, p.kBlock);
          else if (mode == Mode::Panel)
            emitPanel(inner, shape, src, tile, ie.k, p.kBlock);
          else
            emitTile(inner, shape, src, tile, ie.k, p.kBlock);
        });
  };
  Mode many = panels ? Mode::Panel : Mode::Tile;
  if (p.staticM) {
    bool small = *p.staticM < kSmallM;
    run(small ? smallMShape() : largeMShape(), small ? Mode::Strip : many);
    return;
  }
  llvm::IRBuilder<> &b = ctx.b();
  llvm::Value *small = b.CreateICmpSLT(p.extents(ctx).m, b.getInt64(kSmallM));
  ifElse(ctx, small, [&] { run(smallMShape(), Mode::Strip); },
         [&] { run(largeMShape(), many); });
}

} // namespace kiln::codegen::gemm
