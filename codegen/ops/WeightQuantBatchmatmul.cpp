//===- WeightQuantBatchmatmul.cpp - npu.weight_quant_batchmatmul ----------===//
//
// The fp32 operations of ops/npu/WeightQuantBatchmatmul.cpp in the same
// order, fused: the dequantized weight never exists in memory (only in
// registers), the accumulators live in registers and only the result is
// written.
//
//   W[k,j] = float(w) (+ off) (-> T npu) (* scale) (-> T npu | aod)
//   Y      = sum_k float(x[i,k]) * W[k,j]            ascending k, fp32
//   Y      = Y (* f16(scale[j]) npu+i64) (+ bias) (-> bf16 npu+bf16)
//   out    = T(Y), or int8: golden sat(rne(Y * qs + qo)), npu-compat and
//            i64 qs requantS9 (§3.4)
//
// On the float GEMM engine (codegen/FloatGemm.h): per k, the weight row
// vector W[k, j .. j+16) is dequantized in registers from the i8/i4 bytes
// (int4 unpacked in registers) and reused by every row of the register
// tile; M = 1 is a streaming GEMV whose only memory traffic is the weight.
// The epilogue runs on whole vectors; int8 results go lane by lane through
// the scalar requant code. Transposed weights are gathered (slow, correct).
//
//===----------------------------------------------------------------------===//
#include "codegen/VectorAccess.h"

#include <llvm/IR/Intrinsics.h>

namespace kiln::codegen {

namespace {

using namespace quant;

using W = ops::WeightQuantBatchmatmul;

/// Weight rows the GEMV prefetches ahead.
constexpr int64_t kPrefetchRows = 8;

struct WqbmmLowering {
  const Op &op;
  const W::Attrs &a;
  DType t;     ///< x's dtype, the npu-compat intermediate type
  bool npu;    ///< npu-compat numerics
  bool packed; ///< i64 antiquant_scale (§1.3)

  /// The engine's operands and epilogue, built in `c`.
  gemm::Source source(LoweringContext &c) const;
};

/// `v` if present, else nothing (an optional operand's access).
std::optional<TensorAccess> maybe(LoweringContext &c, const Value *v) {
  if (!v)
    return std::nullopt;
  return c.access(v);
}

/// A per-channel (or per-group, row `row`) operand for columns j .. j+15 as
/// an f32 vector; a last dim of static size 1 is broadcast.
llvm::Value *channelVector(llvm::IRBuilder<> &b, const TensorAccess &s,
                           llvm::Value *row, llvm::Value *j, llvm::Value *mask,
                           bool packedScale) {
  std::vector<llvm::Value *> si = channelIndex(b, s, j);
  if (row)
    si[0] = row;
  if (s.type().dims.back() == Dim(1)) {
    llvm::Value *v = packedScale ? decodePacked(b, s.loadInt(si)).scale
                                 : s.loadFloat(si);
    return b.CreateVectorSplat(gemm::kLanes, v);
  }
  return packedScale ? vec::packedScale(b, vec::loadI64s(b, s, si, mask))
                     : vec::loadFloats(b, s, si, mask);
}

gemm::Source WqbmmLowering::source(LoweringContext &c) const {
  llvm::IRBuilder<> &b = c.b();
  TensorAccess x = c.access(op.operand(W::x));
  TensorAccess w = c.access(op.operand(W::weight));
  TensorAccess s = c.access(op.operand(W::antiquant_scale));
  TensorAccess out = c.access(op.result());
  std::optional<TensorAccess> off = maybe(c, op.operand(W::antiquant_offset));
  std::optional<TensorAccess> bias = maybe(c, op.operand(W::bias));
  std::optional<TensorAccess> qs = maybe(c, op.operand(W::quant_scale));
  std::optional<TensorAccess> qo = maybe(c, op.operand(W::quant_offset));
  llvm::Value *n = out.dim(1);
  bool grouped = a.antiquant_group_size > 0;
  llvm::AllocaInst *lanesBuf = c.stackSlot(
      llvm::ArrayType::get(b.getFloatTy(), gemm::kLanes), "wqbmm.y");
  gemm::Source src;

  // W[k, j .. j+15]: the weight's integers, then the reference's steps.
  src.b = [=, this, &b](llvm::Value *k, llvm::Value *block, llvm::Value *j,
                  llvm::Value *mask) {
    llvm::Value *ints;
    if (!a.transpose_weight) {
      ints = vec::loadInts(b, w, {k, j}, mask);
    } else {
      llvm::Value *lastJ = b.CreateSub(n, b.getInt64(1));
      ints = vec::gatherInts(b, w, [&](unsigned l) {
        llvm::Value *jl = b.CreateAdd(j, b.getInt64(l));
        jl = b.CreateSelect(b.CreateICmpSLT(jl, lastJ), jl, lastJ);
        return std::vector<llvm::Value *>{jl, k};
      });
    }
    llvm::Value *row = grouped ? block : nullptr;
    llvm::Value *v = b.CreateSIToFP(ints, gemm::floatVector(b));
    if (off)
      v = b.CreateFAdd(v, channelVector(b, *off, row, j, mask, false));
    if (npu && off)
      v = vec::roundToFloat(b, v, t);
    if (!(npu && packed))
      v = b.CreateFMul(v, channelVector(b, s, row, j, mask, packed));
    if ((npu && !packed) || a.antiquant_out_dtype)
      v = vec::roundToFloat(b, v, npu ? t : *a.antiquant_out_dtype);
    return v;
  };
  src.a = [=](llvm::Value *i, llvm::Value *k) { return x.loadFloat({i, k}); };
  // The weight row kPrefetchRows ahead (clamped to the last row): the GEMV
  // streams it from memory, one new page per row of a row-major weight.
  if (!a.transpose_weight)
    src.prefetch = [=, &b](llvm::Value *k, llvm::Value *j) {
      llvm::Value *last = b.CreateSub(x.dim(1), b.getInt64(1));
      llvm::Value *ahead = b.CreateAdd(k, b.getInt64(kPrefetchRows));
      ahead = b.CreateSelect(b.CreateICmpSLT(ahead, last), ahead, last);
      llvm::Value *off = w.offset({ahead, j});
      if (w.type().dtype == DType::I4)
        off = b.CreateLShr(off, 1);
      llvm::Value *p = b.CreateInBoundsGEP(b.getInt8Ty(), w.base(), off);
      b.CreateIntrinsic(llvm::Intrinsic::prefetch, {p->getType()},
                        {p, b.getInt32(0), b.getInt32(3), b.getInt32(1)});
    };

  // Y for (i, j) -> the result element, lane by lane (int8 results).
  auto requant = [=, this, &b](llvm::Value *i, llvm::Value *j, llvm::Value *y) {
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
  src.store = [=, this, &b, &c](llvm::Value *i, llvm::Value *j, llvm::Value *y,
                          llvm::Value *lanes, llvm::Value *mask) {
    if (npu && packed)
      y = b.CreateFMul(y, vec::roundToFloat(
                              b, channelVector(b, s, nullptr, j, mask, true),
                              DType::F16));
    if (bias)
      y = b.CreateFAdd(y, channelVector(b, *bias, nullptr, j, mask, false));
    if (npu && t == DType::BF16)
      y = vec::roundToFloat(b, y, DType::BF16);
    if (!qs) {
      vec::storeFloats(b, out, {i, j}, y, mask);
      return;
    }
    b.CreateAlignedStore(y, lanesBuf, llvm::Align(4));
    c.forRange(b.getInt64(0), lanes, [&](llvm::Value *l) {
      llvm::Value *yl = b.CreateLoad(
          b.getFloatTy(), b.CreateInBoundsGEP(b.getFloatTy(), lanesBuf, l));
      requant(i, b.CreateAdd(j, l), yl);
    });
  };
  return src;
}

} // namespace

LogicalResult lowerWeightQuantBatchmatmul(const Op &op, LoweringContext &ctx) {
  const TensorType &x = op.operand(W::x)->type();
  const TensorType &out = op.result()->type();
  const W::Attrs &attrs = op.attrs<W>();
  WqbmmLowering l{op, attrs, x.dtype, ctx.numerics() == Numerics::NpuCompat,
                  op.operand(W::antiquant_scale)->type().dtype == DType::I64};
  gemm::Problem p;
  p.extents = [&](LoweringContext &c) {
    llvm::IRBuilder<> &b = c.b();
    return gemm::Extents{b.getInt64(1), c.shapes().dim(x.dims[0]),
                         c.shapes().dim(out.dims[1]),
                         c.shapes().dim(x.dims[1])};
  };
  p.source = [&](LoweringContext &c, llvm::Value *) { return l.source(c); };
  p.kBlock = attrs.antiquant_group_size;
  p.staticM = ctx.shapes().constant(x.dims[0]);
  p.kHint = sizeHint(ctx, x.dims[1]);
  gemm::parallelGemm(ctx, p);
  return success();
}

} // namespace kiln::codegen
