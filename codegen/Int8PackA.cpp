//===- Int8PackA.cpp - the int16-pair A panel of the int8 GEMM engine -----===//
//
// A panel: tile row t (mr-row block t / mr) at t * kcPairs, its pairs in k
// order, i.e. the row's int8 sign-extended to int16: 32 k per vector load
// from row-major A; the k tail (and k past K, zero) element by element.
// Rows past the tile's valid rows are zero. A transposed A ([.., K, rows])
// is read element by element through TensorAccess.
//
//===----------------------------------------------------------------------===//
#include "codegen/Int8Gemm.h"

namespace kiln::codegen::int8gemm {

void Engine::packA(const AMatrix &am, llvm::Value *row0, llvm::Value *rows,
                   llvm::Value *pc, llvm::Value *k, llvm::Value *pairs,
                   llvm::Value *panelRow) {
  if (am.transposed) {
    packAElements(am, row0, rows, pc, k, pairs, panelRow);
    return;
  }
  llvm::IRBuilder<> &b = ctx_.b();
  llvm::Type *i8 = b.getInt8Ty(), *i16 = b.getInt16Ty(), *i32 = b.getInt32Ty();
  auto *row32 = llvm::FixedVectorType::get(i8, 32);
  auto *wide32 = llvm::FixedVectorType::get(i16, 32);
  const int64_t kcp = bl_.kcPairs();
  llvm::Value *chunks = b.CreateUDiv(pairs, b.getInt64(16));
  ctx_.forRange(b.getInt64(0), b.getInt64(bl_.mr), [&](llvm::Value *r) {
    llvm::Value *rowDest = b.CreateInBoundsGEP(
        i32, aPanel_, b.CreateMul(b.CreateAdd(panelRow, r), b.getInt64(kcp)));
    auto chunkDest = [&](llvm::Value *t) {
      return b.CreateInBoundsGEP(i32, rowDest, b.CreateMul(t, b.getInt64(16)));
    };
    ifElse(
        b.CreateICmpSLT(r, rows),
        [&] {
          std::vector<llvm::Value *> idx = am.lead;
          idx.push_back(b.CreateAdd(row0, r));
          idx.push_back(pc);
          llvm::Value *src =
              b.CreateInBoundsGEP(i8, am.access->base(), am.access->offset(idx));
          ctx_.forRange(b.getInt64(0), chunks, [&](llvm::Value *t) {
            llvm::Value *off = b.CreateMul(t, b.getInt64(32));
            llvm::Value *kk = b.CreateAdd(pc, off);
            llvm::Value *chunkSrc = b.CreateInBoundsGEP(i8, src, off);
            llvm::Value *dest = chunkDest(t);
            ifElse(
                b.CreateICmpSLE(b.CreateAdd(kk, b.getInt64(32)), k),
                [&] {
                  llvm::Value *v =
                      b.CreateAlignedLoad(row32, chunkSrc, llvm::Align(1));
                  b.CreateAlignedStore(b.CreateSExt(v, wide32), dest,
                                       llvm::Align(64));
                },
                [&] {
                  ctx_.forRange(
                      b.getInt64(0), b.getInt64(32), [&](llvm::Value *e) {
                        llvm::Value *ok =
                            b.CreateICmpSLT(b.CreateAdd(kk, e), k);
                        // k = pc (< K) stands in for a k past the row.
                        llvm::Value *safe = b.CreateSelect(
                            ok, b.CreateAdd(off, e), b.getInt64(0));
                        llvm::Value *x = b.CreateSExt(
                            b.CreateLoad(i8, b.CreateInBoundsGEP(i8, src, safe)),
                            i16);
                        b.CreateStore(b.CreateSelect(ok, x, b.getInt16(0)),
                                      b.CreateInBoundsGEP(i16, dest, e));
                      });
                });
          });
        },
        [&] {
          ctx_.forRange(b.getInt64(0), chunks, [&](llvm::Value *t) {
            b.CreateAlignedStore(llvm::Constant::getNullValue(wide32),
                                 chunkDest(t), llvm::Align(64));
          });
        });
  });
}

void Engine::packAElements(const AMatrix &am, llvm::Value *row0,
                           llvm::Value *rows, llvm::Value *pc, llvm::Value *k,
                           llvm::Value *pairs, llvm::Value *panelRow) {
  llvm::IRBuilder<> &b = ctx_.b();
  llvm::Type *i16 = b.getInt16Ty();
  const int64_t kcp = bl_.kcPairs();
  ctx_.forRange(b.getInt64(0), b.getInt64(bl_.mr), [&](llvm::Value *r) {
    llvm::Value *dest = b.CreateInBoundsGEP(
        b.getInt32Ty(), aPanel_,
        b.CreateMul(b.CreateAdd(panelRow, r), b.getInt64(kcp)));
    llvm::Value *rowOk = b.CreateICmpSLT(r, rows);
    llvm::Value *row = b.CreateSelect(rowOk, b.CreateAdd(row0, r), row0);
    ctx_.forRange(b.getInt64(0), b.CreateShl(pairs, 1), [&](llvm::Value *e) {
      llvm::Value *kk = b.CreateAdd(pc, e);
      llvm::Value *ok = b.CreateAnd(rowOk, b.CreateICmpSLT(kk, k));
      llvm::Value *safeK = b.CreateSelect(ok, kk, b.getInt64(0));
      std::vector<llvm::Value *> idx = am.lead;
      idx.push_back(am.transposed ? safeK : row);
      idx.push_back(am.transposed ? row : safeK);
      llvm::Value *x = b.CreateTrunc(am.access->loadInt(idx), i16);
      b.CreateStore(b.CreateSelect(ok, x, b.getInt16(0)),
                    b.CreateInBoundsGEP(i16, dest, e));
    });
  });
}

} // namespace kiln::codegen::int8gemm
