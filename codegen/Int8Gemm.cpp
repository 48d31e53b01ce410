//===- Int8Gemm.cpp - work tiles and the register-blocked micro-kernel ----===//
//
// See Int8Gemm.h for the blocking. Packing lives in Int8Pack.cpp. The
// accumulators are stack slots of <lanes x i32> that are only loaded and
// stored whole, so SROA turns them into registers (phis) across the k loop.
//
//===----------------------------------------------------------------------===//
#include "codegen/Int8Gemm.h"

#include <llvm/IR/IntrinsicsX86.h>

namespace kiln::codegen::int8gemm {

namespace {
/// Pairs of k per micro-kernel loop iteration (panels pad to 16 pairs).
constexpr int64_t kUnroll = 4;
} // namespace

// kc = 256: a B micro-panel (128 pairs x nr) stays in L1 while every row
// block of the tile runs against it; mc = 264 (44 x 6, 66 x 4) rows share
// one packed B panel. Stack per work tile: A 132 KiB + C 132 KiB (L2) +
// B 64 KiB (measured on Zen 5: kc 256/512 and mc 96/132/264 within 5%,
// except mc 264 saving B re-packing on tall tiles).
Blocking blocking(TargetISA isa) {
  switch (isa) {
  case TargetISA::Avx512Vnni:
  case TargetISA::Avx512:
    // 6 x 4 zmm accumulators + 4 B + 1 broadcast (+1 product): <= 32 zmm.
    return {isa, 16, 6, 4, 256, 264, 128};
  case TargetISA::Avx2:
    // 4 x 2 ymm accumulators + 2 B + broadcast + product: <= 16 ymm.
    return {isa, 8, 4, 2, 256, 264, 128};
  default:
    return {TargetISA::Generic, 8, 4, 2, 256, 264, 128};
  }
}

Engine::Engine(LoweringContext &ctx)
    : ctx_(ctx), bl_(int8gemm::blocking(ctx.isa())) {
  llvm::Type *i32 = ctx.b().getInt32Ty();
  auto slot = [&](int64_t n, const char *name) {
    llvm::AllocaInst *s = ctx.stackSlot(llvm::ArrayType::get(i32, n), name);
    s->setAlignment(llvm::Align(64));
    return s;
  };
  bPanel_ = slot(bl_.kcPairs() * bl_.nc, "i8gemm.b");
  aPanel_ = slot(bl_.kcPairs() * bl_.mc, "i8gemm.a");
  cTile_ = slot(bl_.mc * bl_.nc, "i8gemm.c");
  auto *vec = llvm::FixedVectorType::get(i32, bl_.lanes);
  for (int64_t t = 0; t < bl_.mr * bl_.nv; ++t)
    acc_.push_back(ctx.stackSlot(vec, "i8gemm.acc"));
}

void Engine::ifElse(llvm::Value *cond, const std::function<void()> &then,
                    const std::function<void()> &otherwise) {
  ctx_.ifElse(cond, then, otherwise);
}

llvm::Value *Engine::cAt(llvm::Value *r, llvm::Value *jj) {
  llvm::IRBuilder<> &b = ctx_.b();
  llvm::Value *pos = b.CreateAdd(b.CreateMul(r, b.getInt64(bl_.nc)), jj);
  return b.CreateInBoundsGEP(b.getInt32Ty(), cTile_, pos);
}

void Engine::computeTile(const AMatrix &a, const BMatrix &bm,
                         llvm::Value *k, llvm::Value *i0, llvm::Value *rows,
                         const TileColumns &cols) {
  llvm::IRBuilder<> &b = ctx_.b();
  llvm::Value *zero = b.getInt64(0);
  auto ceilDiv = [&](llvm::Value *x, int64_t c) {
    return b.CreateUDiv(b.CreateAdd(x, b.getInt64(c - 1)), b.getInt64(c));
  };
  llvm::Value *rowBlocks = ceilDiv(rows, bl_.mr);
  // C = 0 on the rows the row blocks cover.
  auto *vec = llvm::FixedVectorType::get(b.getInt32Ty(), bl_.lanes);
  llvm::Value *zeroVec = llvm::Constant::getNullValue(vec);
  llvm::Value *cElems = b.CreateMul(rowBlocks, b.getInt64(bl_.mr * bl_.nc));
  ctx_.forRange(zero, b.CreateUDiv(cElems, b.getInt64(bl_.lanes)),
                [&](llvm::Value *v) {
                  llvm::Value *p = b.CreateInBoundsGEP(
                      b.getInt32Ty(), cTile_,
                      b.CreateMul(v, b.getInt64(bl_.lanes)));
                  b.CreateAlignedStore(zeroVec, p, llvm::Align(64));
                });
  llvm::Value *panels =
      cols.start.size() == 1 ? ceilDiv(cols.width, bl_.nr())
                             : b.getInt64(bl_.nc / bl_.nr());
  ctx_.forRange(zero, ceilDiv(k, bl_.kc), [&](llvm::Value *kb) {
    llvm::Value *pc = b.CreateMul(kb, b.getInt64(bl_.kc));
    llvm::Value *rest = b.CreateSub(k, pc);
    llvm::Value *kLen = b.CreateSelect(
        b.CreateICmpSLT(rest, b.getInt64(bl_.kc)), rest, b.getInt64(bl_.kc));
    // Pairs padded to a multiple of 16 (32 k): whole packing vectors.
    llvm::Value *pairs = b.CreateMul(ceilDiv(kLen, 32), b.getInt64(16));
    packB(bm, pc, k, pairs, cols);
    ctx_.forRange(zero, rowBlocks, [&](llvm::Value *ir) {
      llvm::Value *r0 = b.CreateMul(ir, b.getInt64(bl_.mr));
      packA(a, b.CreateAdd(i0, r0), b.CreateSub(rows, r0), pc, k, pairs, r0);
    });
    // One B micro-panel (kc x nr, L1) against every row block's A (L2).
    ctx_.forRange(zero, panels, [&](llvm::Value *jr) {
      ctx_.forRange(zero, rowBlocks, [&](llvm::Value *ir) {
        microKernel(ir, jr, pairs);
      });
    });
  });
}

llvm::Value *Engine::madd(llvm::Value *acc, llvm::Value *a, llvm::Value *bv) {
  llvm::IRBuilder<> &b = ctx_.b();
  llvm::Type *i16 = b.getInt16Ty();
  auto pairsOf = [&](llvm::Value *v) {
    return b.CreateBitCast(v, llvm::FixedVectorType::get(i16, 2 * bl_.lanes));
  };
  switch (bl_.isa) {
  case TargetISA::Avx512Vnni:
    return b.CreateIntrinsic(llvm::Intrinsic::x86_avx512_vpdpwssd_512, {},
                             {acc, a, bv});
  case TargetISA::Avx512:
    return b.CreateAdd(acc, b.CreateIntrinsic(
                                llvm::Intrinsic::x86_avx512_pmaddw_d_512, {},
                                {pairsOf(a), pairsOf(bv)}));
  case TargetISA::Avx2:
    return b.CreateAdd(acc, b.CreateIntrinsic(llvm::Intrinsic::x86_avx2_pmadd_wd,
                                              {}, {pairsOf(a), pairsOf(bv)}));
  default: {
    // lo * lo + hi * hi of the sign-extended int16 halves: exact in i32
    // for int8 inputs, wrapping like the other sequences.
    auto *vec = llvm::cast<llvm::FixedVectorType>(acc->getType());
    llvm::Value *sixteen = llvm::ConstantInt::get(vec, 16);
    auto lo = [&](llvm::Value *v) {
      return b.CreateAShr(b.CreateShl(v, sixteen), sixteen);
    };
    auto hi = [&](llvm::Value *v) { return b.CreateAShr(v, sixteen); };
    llvm::Value *sum = b.CreateAdd(b.CreateMul(lo(a), lo(bv)),
                                   b.CreateMul(hi(a), hi(bv)));
    return b.CreateAdd(acc, sum);
  }
  }
}

void Engine::microKernel(llvm::Value *ir, llvm::Value *jr, llvm::Value *pairs) {
  llvm::IRBuilder<> &b = ctx_.b();
  llvm::Type *i32 = b.getInt32Ty();
  auto *vec = llvm::FixedVectorType::get(i32, bl_.lanes);
  const int64_t mr = bl_.mr, nv = bl_.nv, lanes = bl_.lanes, nr = bl_.nr();
  const int64_t kcp = bl_.kcPairs();
  llvm::Align vecAlign(lanes * 4);
  llvm::Value *cBase = cAt(b.CreateMul(ir, b.getInt64(mr)),
                           b.CreateMul(jr, b.getInt64(nr)));
  auto cPtr = [&](int64_t r, int64_t v) {
    return b.CreateConstInBoundsGEP1_64(i32, cBase, r * bl_.nc + v * lanes);
  };
  for (int64_t r = 0; r < mr; ++r)
    for (int64_t v = 0; v < nv; ++v)
      b.CreateStore(b.CreateAlignedLoad(vec, cPtr(r, v), vecAlign),
                    acc_[r * nv + v]);
  llvm::Value *bBase = b.CreateInBoundsGEP(
      i32, bPanel_, b.CreateMul(jr, b.getInt64(kcp * nr)));
  llvm::Value *steps = b.CreateUDiv(pairs, b.getInt64(kUnroll));
  ctx_.forRange(b.getInt64(0), steps, [&](llvm::Value *q) {
    llvm::Value *p0 = b.CreateMul(q, b.getInt64(kUnroll));
    llvm::Value *bRow = b.CreateInBoundsGEP(i32, bBase,
                                            b.CreateMul(p0, b.getInt64(nr)));
    llvm::Value *aCol = b.CreateInBoundsGEP(
        i32, aPanel_, b.CreateAdd(b.CreateMul(ir, b.getInt64(mr * kcp)), p0));
    for (int64_t u = 0; u < kUnroll; ++u) {
      std::vector<llvm::Value *> bv(nv);
      for (int64_t v = 0; v < nv; ++v)
        bv[v] = b.CreateAlignedLoad(
            vec, b.CreateConstInBoundsGEP1_64(i32, bRow, u * nr + v * lanes),
            vecAlign);
      for (int64_t r = 0; r < mr; ++r) {
        llvm::Value *pair = b.CreateLoad(
            i32, b.CreateConstInBoundsGEP1_64(i32, aCol, r * kcp + u));
        llvm::Value *a = b.CreateVectorSplat(lanes, pair);
        for (int64_t v = 0; v < nv; ++v) {
          llvm::AllocaInst *slot = acc_[r * nv + v];
          b.CreateStore(madd(b.CreateLoad(vec, slot), a, bv[v]), slot);
        }
      }
    }
  });
  for (int64_t r = 0; r < mr; ++r)
    for (int64_t v = 0; v < nv; ++v)
      b.CreateAlignedStore(b.CreateLoad(vec, acc_[r * nv + v]), cPtr(r, v),
                           vecAlign);
}

} // namespace kiln::codegen::int8gemm
