//===- MmAllReduceScalar.cpp - mm_all_reduce_base partial, row by row ----===//
//
// This rank's partial of one output row of npu.mm_all_reduce_base, with
// the fp32 operations of ops/npu/MmAllReduceBase.cpp in its order, one
// column block at a time (codegen/ops/Fused.h accumulateBlock), stored
// into the f32 scratch P (kiln_scratch_get):
//   full-quant:  acc = int32 sum x1 * x2 (+ bias), wrapped;
//                v = (float(acc) * dequant_scale[j]) [* pertoken[row]]
//   otherwise:   v = fp32 sum x1 * w in ascending k (+ float(bias[j]))
//                with w = x2, or ((x2 + antiquant_offset) *
//                antiquant_scale) for weight quant
//   v = round(v); if x3: v = round(v + x3[row, j])
// round() is the identity in golden numerics; npu-compat rounds to the out
// dtype there, and the weight dequant to x1's dtype after the add and after
// the multiply. The float modes normally take the register-tiled engine
// (MmAllReduceGemm.cpp); this path serves full quant.
//
//===----------------------------------------------------------------------===//
#include "codegen/ops/Collective.h"
#include "codegen/ops/Fused.h"
#include "codegen/ops/MmAllReducePartial.h"

namespace kiln::codegen {

namespace {

using M = ops::MmAllReduceBase;

struct MmAllReduceTile {
  LoweringContext &ctx;
  const Op &op;
  TensorAccess x1, x2, out;
  bool fullQuant, compat;
  DType inType, outType;

  MmAllReduceTile(LoweringContext &c, const Op &o)
      : ctx(c), op(o), x1(c.access(o.operand(M::x1))),
        x2(c.access(o.operand(M::x2))), out(c.access(o.result())),
        fullQuant(x1.type().dtype == DType::I8),
        compat(c.numerics() == Numerics::NpuCompat), inType(x1.type().dtype),
        outType(out.type().dtype) {}

  llvm::Value *round(llvm::Value *v, DType t) {
    return compat ? roundTo(ctx, v, t) : v;
  }
  /// A weight-quant scale or offset at (kk, j): [1], [n], [1, n] or per
  /// group [ceil(k/G), n].
  llvm::Value *antiquant(const Value *v, llvm::Value *kk, llvm::Value *j);
  /// The dequant_scale of column j as f32 (packed i64: FP19 in bits 0-31).
  llvm::Value *dequantScale(llvm::Value *j);
  /// x2[kk, j] as the matmul uses it: i32 for full quant, else f32.
  llvm::Value *weight(llvm::Value *kk, llvm::Value *j);
  void localPartial(llvm::ArrayRef<llvm::Value *> lead, llvm::Value *row,
                    llvm::Value *j0, llvm::Value *width,
                    llvm::AllocaInst *tile);
};

llvm::Value *MmAllReduceTile::antiquant(const Value *v, llvm::Value *kk,
                                        llvm::Value *j) {
  llvm::IRBuilder<> &b = ctx.b();
  TensorAccess s = ctx.access(v);
  const TensorType &t = s.type();
  int64_t group = op.attrs<M>().antiquant_group_size;
  if (t.rank() == 1)
    return s.loadFloat({t.dims[0] == Dim(1) ? b.getInt64(0) : j});
  llvm::Value *r =
      group > 0 ? b.CreateUDiv(kk, b.getInt64(group)) : b.getInt64(0);
  return s.loadFloat({r, j});
}

llvm::Value *MmAllReduceTile::dequantScale(llvm::Value *j) {
  llvm::IRBuilder<> &b = ctx.b();
  TensorAccess s = ctx.access(op.operand(M::dequant_scale));
  const TensorType &t = s.type();
  std::vector<llvm::Value *> idx{t.dims[0] == Dim(1) ? b.getInt64(0) : j};
  if (t.rank() == 2)
    idx = {b.getInt64(0), j};
  if (t.dtype != DType::I64)
    return s.loadFloat(idx);
  llvm::Value *bits = b.CreateAnd(b.CreateTrunc(s.loadInt(idx), b.getInt32Ty()),
                                  b.getInt32(0xFFFFE000u));
  return b.CreateBitCast(bits, b.getFloatTy());
}

llvm::Value *MmAllReduceTile::weight(llvm::Value *kk, llvm::Value *j) {
  llvm::IRBuilder<> &b = ctx.b();
  if (fullQuant)
    return b.CreateTrunc(x2.loadInt({kk, j}), b.getInt32Ty());
  llvm::Value *v = x2.loadFloat({kk, j});
  const Value *scale = op.operand(M::antiquant_scale);
  if (!scale)
    return v;
  if (const Value *offset = op.operand(M::antiquant_offset))
    v = round(b.CreateFAdd(v, antiquant(offset, kk, j)), inType);
  return round(b.CreateFMul(v, antiquant(scale, kk, j)), inType);
}

void MmAllReduceTile::localPartial(llvm::ArrayRef<llvm::Value *> lead,
                                   llvm::Value *row, llvm::Value *j0,
                                   llvm::Value *width, llvm::AllocaInst *tile) {
  llvm::IRBuilder<> &b = ctx.b();
  llvm::Type *i32 = b.getInt32Ty(), *f32 = b.getFloatTy();
  llvm::AllocaInst *acc =
      fullQuant ? blockSlot(ctx, i32, "mm.acc.i32") : tile; // f32 in place
  auto at = [&](llvm::ArrayRef<llvm::Value *> l, llvm::Value *last) {
    std::vector<llvm::Value *> idx = l.vec();
    idx.push_back(last);
    return idx;
  };
  accumulateBlock(
      ctx, x2.dim(0), width, {j0}, {acc},
      [&](llvm::Value *kk) {
        return fullQuant ? b.CreateTrunc(x1.loadInt(at(lead, kk)), i32)
                         : x1.loadFloat(at(lead, kk));
      },
      [&](llvm::Value *kk, llvm::Value *j) { return weight(kk, j); });
  const Value *biasV = op.operand(M::bias), *x3V = op.operand(M::x3);
  const Value *pertokenV = op.operand(M::pertoken_scale);
  llvm::Value *pt =
      pertokenV ? ctx.access(pertokenV).loadFloat({row}) : nullptr;
  ctx.forRange(b.getInt64(0), width, [&](llvm::Value *jj) {
    llvm::Value *j = b.CreateAdd(j0, jj);
    llvm::Value *v = loadAt(ctx, acc, jj);
    if (fullQuant) {
      if (biasV) // the int32 accumulator wraps
        v = b.CreateAdd(v, b.CreateTrunc(ctx.access(biasV).loadInt({j}), i32));
      v = b.CreateFMul(b.CreateSIToFP(v, f32), dequantScale(j));
      if (pt)
        v = b.CreateFMul(v, pt);
    } else if (biasV) {
      v = b.CreateFAdd(v, ctx.access(biasV).loadFloat({j}));
    }
    v = round(v, outType);
    if (x3V)
      v = round(b.CreateFAdd(v, ctx.access(x3V).loadFloat(at(lead, j))),
                outType);
    b.CreateStore(v, slotAt(ctx, tile, jj));
  });
}

} // namespace

void emitScalarPartialRow(LoweringContext &inner, const Op &op,
                          llvm::Value *row) {
  const TensorType &outT = op.result()->type();
  llvm::IRBuilder<> &ib = inner.b();
  llvm::Value *scratch =
      emitRuntimeCall(inner, "kiln_scratch_get", ib.getPtrTy(), {});
  MmAllReduceTile t(inner, op);
  std::vector<llvm::Value *> dims = inner.shapes().dims(outT);
  dims.pop_back();
  std::vector<llvm::Value *> lead = delinearize(ib, row, dims);
  llvm::Value *n = t.out.dim(-1);
  llvm::Value *rowBase = ib.CreateMul(row, n);
  llvm::AllocaInst *tile = blockSlot(inner, ib.getFloatTy(), "mm.partial");
  forColumnBlocks(inner, n, [&](llvm::Value *j0, llvm::Value *width) {
    t.localPartial(lead, row, j0, width, tile);
    inner.forRange(ib.getInt64(0), width, [&](llvm::Value *jj) {
      llvm::Value *at = ib.CreateAdd(rowBase, ib.CreateAdd(j0, jj));
      ib.CreateStore(loadAt(inner, tile, jj),
                     ib.CreateInBoundsGEP(ib.getFloatTy(), scratch, at));
    });
  });
}

} // namespace kiln::codegen
