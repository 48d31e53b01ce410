//===- WeightQuantBatchmatmul.cpp - npu.weight_quant_batchmatmul ----------===//
//
// The fp32 operations of ops/npu/WeightQuantBatchmatmul.cpp in the same
// order, fused: the dequantized weight never exists in memory beyond one
// row tile, the accumulators live on the stack and only the result is
// written.
//
//   W[k,j] = float(w) (+ off) (-> T npu) (* scale) (-> T npu | aod)
//   Y      = sum_k float(x[i,k]) * W[k,j]            ascending k, fp32
//   Y      = Y (* f16(scale[j]) npu+i64) (+ bias) (-> bf16 npu+bf16)
//   out    = T(Y), or int8: golden sat(rne(Y * qs + qo)), npu-compat and
//            i64 qs requantS9 (§3.4)
//
// Loop order: tiles of kTileRows x kTileColumns results (split across
// threads); per tile, for each k in ascending order, first the dequantized
// weight row tile wt[jj] = W[k, j0 + jj], then for each row of the tile
// acc[r][jj] += x[i0 + r, k] * wt[jj]. Each weight element is dequantized
// once per row block, each result sums in ascending k, and both innermost
// loops run over unit-stride stack buffers (vectorizable).
//
//===----------------------------------------------------------------------===//
#include "codegen/ops/QuantEpilogue.h"

namespace kiln::codegen {

namespace {

using namespace quant;

using W = ops::WeightQuantBatchmatmul;

struct WqbmmLowering {
  const Op &op;
  const W::Attrs &a;
  DType t;     ///< x's dtype, the npu-compat intermediate type
  bool npu;    ///< npu-compat numerics
  bool packed; ///< i64 antiquant_scale (§1.3)

  /// One tile of the result.
  void tile(LoweringContext &c, const Tile &tile) const;
};

/// `v` if present, else nothing (an optional operand's access).
std::optional<TensorAccess> maybe(LoweringContext &c, const Value *v) {
  if (!v)
    return std::nullopt;
  return c.access(v);
}

void WqbmmLowering::tile(LoweringContext &c, const Tile &tile) const {
  llvm::IRBuilder<> &b = c.b();
  llvm::Type *f32 = b.getFloatTy();
  TensorAccess x = c.access(op.operand(W::x));
  TensorAccess w = c.access(op.operand(W::weight));
  TensorAccess s = c.access(op.operand(W::antiquant_scale));
  TensorAccess out = c.access(op.result());
  std::optional<TensorAccess> off = maybe(c, op.operand(W::antiquant_offset));
  std::optional<TensorAccess> bias = maybe(c, op.operand(W::bias));
  std::optional<TensorAccess> qs = maybe(c, op.operand(W::quant_scale));
  std::optional<TensorAccess> qo = maybe(c, op.operand(W::quant_offset));
  llvm::Value *k = x.dim(1);
  llvm::AllocaInst *acc = c.stackSlot(
      llvm::ArrayType::get(f32, kTileRows * kTileColumns), "wqbmm.acc");
  llvm::AllocaInst *wt =
      c.stackSlot(llvm::ArrayType::get(f32, kTileColumns), "wqbmm.wt");
  auto accAt = [&](llvm::Value *r, llvm::Value *jj) {
    llvm::Value *pos = b.CreateAdd(b.CreateMul(r, b.getInt64(kTileColumns)), jj);
    return b.CreateInBoundsGEP(f32, acc, pos);
  };
  auto wtAt = [&](llvm::Value *jj) { return b.CreateInBoundsGEP(f32, wt, jj); };
  auto scaleAt = [&](llvm::ArrayRef<llvm::Value *> si) {
    return packed ? decodePacked(b, s.loadInt(si)).scale : s.loadFloat(si);
  };
  llvm::Value *zero = llvm::ConstantFP::get(f32, 0.0);
  llvm::Value *i0 = tile.i0, *rows = tile.rows, *j0 = tile.j0,
              *width = tile.width;

  // W[kk, j]: the scale (and offset) of group kk / G (or row 0), column j.
  auto dequant = [&](llvm::Value *kk, llvm::Value *j) {
    std::vector<llvm::Value *> si = channelIndex(b, s, j);
    if (a.antiquant_group_size > 0)
      si[0] = b.CreateUDiv(kk, b.getInt64(a.antiquant_group_size));
    llvm::Value *v = b.CreateSIToFP(
        w.loadInt(a.transpose_weight ? std::vector{j, kk} : std::vector{kk, j}),
        f32);
    if (off)
      v = b.CreateFAdd(v, off->loadFloat(si));
    if (npu && off)
      v = roundToFloat(b, v, t);
    if (!(npu && packed))
      v = b.CreateFMul(v, scaleAt(si));
    if ((npu && !packed) || a.antiquant_out_dtype)
      v = roundToFloat(b, v, npu ? t : *a.antiquant_out_dtype);
    return v;
  };

  // Y for (i, j) -> the result element.
  auto epilogue = [&](llvm::Value *i, llvm::Value *j, llvm::Value *y) {
    if (npu && packed)
      y = b.CreateFMul(y, roundToFloat(b, scaleAt(channelIndex(b, s, j)),
                                       DType::F16));
    if (bias)
      y = b.CreateFAdd(y, bias->loadFloat(channelIndex(b, *bias, j)));
    if (npu && t == DType::BF16)
      y = roundToFloat(b, y, DType::BF16);
    if (!qs) {
      out.storeFloat({i, j}, y);
      return;
    }
    std::vector<llvm::Value *> qi = channelIndex(b, *qs, j);
    if (qs->type().dtype == DType::I64) {
      PackedScaleIR p = decodePacked(b, qs->loadInt(qi));
      out.storeInt({i, j}, requantS9(b, y, p.scale, p.offset));
    } else if (npu) {
      llvm::Value *qoff = qo ? s9(b, qo->loadFloat(qi)) : b.getInt64(0);
      out.storeInt({i, j}, requantS9(b, y, qs->loadFloat(qi), qoff));
    } else {
      llvm::Value *v = b.CreateFMul(y, qs->loadFloat(qi));
      if (qo)
        v = b.CreateFAdd(v, qo->loadFloat(qi));
      out.storeFloat({i, j}, v); // rne, saturate to [-128, 127]
    }
  };

  auto eachCell = [&](const std::function<void(llvm::Value *, llvm::Value *)>
                          &body) {
    c.forRange(b.getInt64(0), rows, [&](llvm::Value *r) {
      c.forRange(b.getInt64(0), width, [&](llvm::Value *jj) { body(r, jj); });
    });
  };
  eachCell([&](llvm::Value *r, llvm::Value *jj) {
    b.CreateStore(zero, accAt(r, jj));
  });
  c.forRange(b.getInt64(0), k, [&](llvm::Value *kk) {
    c.forRange(b.getInt64(0), width, [&](llvm::Value *jj) {
      b.CreateStore(dequant(kk, b.CreateAdd(j0, jj)), wtAt(jj));
    });
    c.forRange(b.getInt64(0), rows, [&](llvm::Value *r) {
      llvm::Value *xv = x.loadFloat({b.CreateAdd(i0, r), kk});
      c.forRange(b.getInt64(0), width, [&](llvm::Value *jj) {
        llvm::Value *p = accAt(r, jj);
        llvm::Value *prod = b.CreateFMul(xv, b.CreateLoad(f32, wtAt(jj)));
        b.CreateStore(b.CreateFAdd(b.CreateLoad(f32, p), prod), p);
      });
    });
  });
  eachCell([&](llvm::Value *r, llvm::Value *jj) {
    epilogue(b.CreateAdd(i0, r), b.CreateAdd(j0, jj),
             b.CreateLoad(f32, accAt(r, jj)));
  });
}

} // namespace

LogicalResult lowerWeightQuantBatchmatmul(const Op &op, LoweringContext &ctx) {
  const TensorType &x = op.operand(W::x)->type();
  WqbmmLowering l{op, op.attrs<W>(), x.dtype,
                  ctx.numerics() == Numerics::NpuCompat,
                  op.operand(W::antiquant_scale)->type().dtype == DType::I64};
  parallelTiles(ctx, x.dims[0], op.result()->type().dims[1],
                sizeHint(ctx, x.dims[1]),
                [&](LoweringContext &inner, const Tile &t) { l.tile(inner, t); });
  return success();
}

} // namespace kiln::codegen
