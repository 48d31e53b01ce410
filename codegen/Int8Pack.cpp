//===- Int8Pack.cpp - the int16-pair B panel of the int8 GEMM engine ------===//
//
// B panel: for micro-panel J (nr columns), pair p (k = pc + 2p, pc + 2p + 1)
// and column c of the panel, the i32 at J*kcPairs*nr + p*nr + c holds
// (int16(B[k, col]), int16(B[k + 1, col])), low half first: exactly the
// operand layout of vpmaddwd / vpdpwssd. Sixteen columns of two B rows are
// loaded as two <16 x i8> (contiguous in ND, and in NZ inside one 32-column
// fractal), byte-interleaved and sign-extended at once. Ragged edges (k past K, columns
// past the segment width, a 16-column run crossing an NZ fractal) take a
// scalar path that reads through TensorAccess and writes zero padding.
//
//===----------------------------------------------------------------------===//
#include "codegen/Int8Gemm.h"

namespace kiln::codegen::int8gemm {

void Engine::packB(const BMatrix &bm, llvm::Value *pc, llvm::Value *k,
                   llvm::Value *pairs, const TileColumns &cols) {
  llvm::IRBuilder<> &b = ctx_.b();
  const TensorAccess &B = *bm.access;
  llvm::Type *i8 = b.getInt8Ty(), *i16 = b.getInt16Ty(), *i32 = b.getInt32Ty();
  auto *row16 = llvm::FixedVectorType::get(i8, 16);
  auto *wide32 = llvm::FixedVectorType::get(i16, 32);
  const int64_t nr = bl_.nr(), kcp = bl_.kcPairs();
  const int64_t segments = static_cast<int64_t>(cols.start.size());
  const int64_t segW = bl_.nc / segments;
  bool nz = B.type().layout == Layout::NZ;
  // Element (k, col) sits at offset(lead, 0, col) + k * rowStride: N in ND,
  // 32 in NZ (one fractal row of int8; fractals of a column band follow
  // each other along k).
  llvm::Value *rowStride = nz ? b.getInt64(32) : B.dim(-1);
  llvm::SmallVector<int, 32> interleave;
  for (int i = 0; i < 16; ++i) {
    interleave.push_back(i);
    interleave.push_back(16 + i);
  }
  // Full pairs (k + 1 < K) of this block; the rest are edge pairs.
  llvm::Value *fullPairs = b.CreateLShr(b.CreateSub(k, pc), 1);
  fullPairs = b.CreateSelect(b.CreateICmpSLT(fullPairs, pairs), fullPairs,
                             pairs);
  for (int64_t s = 0; s < segments; ++s) {
    llvm::Value *start = cols.start[s];
    ctx_.forRange(b.getInt64(0), b.getInt64(segW / 16), [&](llvm::Value *t) {
      llvm::Value *local = b.CreateMul(t, b.getInt64(16));
      llvm::Value *jj = b.CreateAdd(local, b.getInt64(s * segW));
      llvm::Value *dest = b.CreateInBoundsGEP(
          i32, bPanel_,
          b.CreateAdd(b.CreateMul(b.CreateUDiv(jj, b.getInt64(nr)),
                                  b.getInt64(kcp * nr)),
                      b.CreateURem(jj, b.getInt64(nr))));
      auto destAt = [&](llvm::Value *p) {
        return b.CreateInBoundsGEP(i32, dest, b.CreateMul(p, b.getInt64(nr)));
      };
      llvm::Value *col = b.CreateAdd(start, local);
      llvm::Value *colFast =
          b.CreateICmpSLE(b.CreateAdd(local, b.getInt64(16)), cols.width);
      if (nz) // 16 columns inside one 32-column fractal
        colFast = b.CreateAnd(
            colFast, b.CreateICmpULE(b.CreateURem(col, b.getInt64(32)),
                                     b.getInt64(16)));
      // Scalar pairs [from, to) of this chunk: TensorAccess reads, zero
      // padding past K and past the segment's width.
      auto edge = [&](llvm::Value *from, llvm::Value *to) {
        ctx_.forRange(from, to, [&](llvm::Value *p) {
          llvm::Value *k0 = b.CreateAdd(pc, b.CreateShl(p, 1));
          llvm::Value *destPtr = destAt(p);
          ctx_.forRange(b.getInt64(0), b.getInt64(16), [&](llvm::Value *l) {
            llvm::Value *colValid =
                b.CreateICmpSLT(b.CreateAdd(local, l), cols.width);
            llvm::Value *c = b.CreateSelect(colValid, b.CreateAdd(col, l), start);
            for (int64_t half = 0; half < 2; ++half) {
              llvm::Value *kk = b.CreateAdd(k0, b.getInt64(half));
              llvm::Value *ok = b.CreateAnd(colValid, b.CreateICmpSLT(kk, k));
              std::vector<llvm::Value *> idx = bm.lead;
              llvm::Value *safeK = b.CreateSelect(ok, kk, b.getInt64(0));
              idx.push_back(bm.transposed ? c : safeK);
              idx.push_back(bm.transposed ? safeK : c);
              llvm::Value *x = b.CreateTrunc(B.loadInt(idx), i16);
              b.CreateStore(b.CreateSelect(ok, x, b.getInt16(0)),
                            b.CreateInBoundsGEP(
                                i16, destPtr,
                                b.CreateAdd(b.CreateShl(l, 1), b.getInt64(half))));
            }
          });
        });
      };
      if (bm.transposed) { // pairs are contiguous along k: element path
        edge(b.getInt64(0), pairs);
        return;
      }
      ifElse(
          colFast,
          [&] {
            std::vector<llvm::Value *> idx = bm.lead;
            idx.push_back(b.getInt64(0));
            idx.push_back(col);
            llvm::Value *colBase =
                b.CreateInBoundsGEP(i8, B.base(), B.offset(idx));
            ctx_.forRange(b.getInt64(0), fullPairs, [&](llvm::Value *p) {
              llvm::Value *k0 = b.CreateAdd(pc, b.CreateShl(p, 1));
              llvm::Value *p0 = b.CreateInBoundsGEP(
                  i8, colBase, b.CreateMul(k0, rowStride));
              llvm::Value *p1 = b.CreateInBoundsGEP(i8, p0, rowStride);
              // Interleave the bytes, then one sign extension to pairs.
              auto row = [&](llvm::Value *ptr) {
                return b.CreateAlignedLoad(row16, ptr, llvm::Align(1));
              };
              llvm::Value *bytes =
                  b.CreateShuffleVector(row(p0), row(p1), interleave);
              b.CreateAlignedStore(b.CreateSExt(bytes, wide32), destAt(p),
                                   llvm::Align(64));
            });
            edge(fullPairs, pairs);
          },
          [&] { edge(b.getInt64(0), pairs); });
    });
  }
}

} // namespace kiln::codegen::int8gemm
