//===- WeightQuantBatchmatmul.cpp - npu.weight_quant_batchmatmul ----------===//
//
// %y = npu.weight_quant_batchmatmul(%x, %w, %s, antiquant_offset = %o,
//          quant_scale = %qs, quant_offset = %qo, bias = %b)
//          {antiquant_group_size = 0, inner_precise = 0,
//           transpose_weight = false, antiquant_out_dtype = none} : T[M,N]
//
// torch_npu.npu_weight_quant_batchmatmul (seed 001, OPS.md §3). x f16/bf16
// [M,K] ND; weight i8 or i4 (torch's int32-packed int4) [K,N], ND or NZ.
// transpose_weight (kiln) is the IR spelling of torch's transposed view
// `w.t()`: the weight is stored [N,K] and used as its transpose. Scales are
// always in the logical [K,N] frame: antiquant_scale (x's dtype) and
// antiquant_offset (same type) per-tensor [1]/[1,1], per-channel [N]/[1,N]
// or per-group [ceil(K/G),N] with G = antiquant_group_size, a multiple of 32
// in [32, K-1]. bias [N]/[1,N]: f16 for f16 x, f32 for bf16 x. quant_scale
// (f32 or i64 packed by npu_trans_quant_param, §1.3) and quant_offset (f32,
// quant_scale's shape, only with an f32 quant_scale) [N]/[1,N]/[1], ND weight
// only: the result is i8. inner_precise (0/1) is a performance hint. An i64
// antiquant_scale (packed, §1.3: f16 x, i8 ND weight given transposed,
// per-channel, i32 offset, no quant_scale) is decoded to its FP19 scale.
//
// Golden: W = (float(w) + off) * scale (fp32, two roundings; rounded to
// antiquant_out_dtype when set (kiln: what a matched decomposition did),
// else kept in fp32); Y = sum_k float(x)*W in ascending k (fp32);
// Y = Y + float(bias); result = T(Y), or with quant_scale
// sat_int8(rne(Y*qs + qo)) in fp32 (§0). npu-compat (§3.3, §3.4): W =
// T(T(w + off) * scale); Y rounded to bf16 for bf16 x; quant with the FP19
// truncated scale and s9(v) = clamp(rne(v), -256, 255):
// clamp(s9(Y*qs) + s9(qo), -128, 127). An i64 quant_scale always takes the
// npu-compat quant path (its scale is FP19 and its offset s9 by construction).
//
//===----------------------------------------------------------------------===//
#include "ops/OpHooks.h"
#include "ops/OpUtils.h"
#include "ops/npu/PackedScale.h"
#include "ops/npu/WeightQuantBatchmatmulVerify.h"

#include <algorithm>

namespace kiln::ops {

namespace {
using W = WeightQuantBatchmatmul;

/// Index of (group g, column n) in a [1], [1,1], [N], [1,N] or [G',N] scale.
int64_t scaleIndex(const Tensor &s, int64_t g, int64_t n) {
  if (s.numel() == 1)
    return 0;
  if (s.rank() == 1)
    return n;
  return (s.dim(0) == 1 ? 0 : g) * s.dim(1) + n;
}
} // namespace

LogicalResult inferWeightQuantBatchmatmul(const Op &op,
                                          std::vector<TensorType> &results) {
  const W::Attrs &a = op.attrs<W>();
  if (failed(expectDType(op, W::x, {DType::F16, DType::BF16})) ||
      failed(expectRank(op, W::x, 2)) || failed(expectND(op, W::x)) ||
      failed(expectDType(op, W::weight, {DType::I8, DType::I4})) ||
      failed(expectRank(op, W::weight, 2)))
    return failure();
  const TensorType &x = operandType(op, W::x);
  const TensorType &w = operandType(op, W::weight);
  const Dim &k = w.dims[a.transpose_weight ? 1 : 0];
  const Dim &n = w.dims[a.transpose_weight ? 0 : 1];
  if (x.dims[1] != k)
    return op.emitError() << "contracting dims differ: x K=" << x.dims[1]
                          << ", weight K=" << k
                          << (a.transpose_weight ? " (weight is [N,K])" : "");
  if (a.inner_precise != 0 && a.inner_precise != 1)
    return op.emitError() << "inner_precise must be 0 or 1, got "
                          << a.inner_precise;
  if (a.antiquant_out_dtype && *a.antiquant_out_dtype != DType::F32 &&
      *a.antiquant_out_dtype != x.dtype)
    return op.emitError() << "antiquant_out_dtype must be f32 or x's dtype "
                          << x.dtype << ", got " << *a.antiquant_out_dtype;
  if (failed(wqbmm::verifyAntiquant(op, k, n)) ||
      failed(wqbmm::verifyEpilogue(op, n)))
    return failure();
  DType out = op.operand(W::quant_scale) ? DType::I8 : x.dtype;
  results = {TensorType{out, {x.dims[0], n}, Layout::ND}};
  return success();
}

LogicalResult evalWeightQuantBatchmatmul(const Op &op, EvalContext &ctx) {
  const W::Attrs &a = op.attrs<W>();
  const Tensor &x = ctx.in(W::x), &w = ctx.in(W::weight);
  const Tensor &s = ctx.in(W::antiquant_scale);
  const Tensor *off = ctx.input(W::antiquant_offset),
               *bias = ctx.input(W::bias);
  const Tensor *qs = ctx.input(W::quant_scale),
               *qo = ctx.input(W::quant_offset);
  Tensor &out = ctx.out();
  DType t = x.dtype();
  bool npu = ctx.numerics() == Numerics::NpuCompat;
  int64_t m = x.dim(0), k = x.dim(1), n = out.dim(1);
  int64_t g = a.antiquant_group_size;
  auto rt = [](float v, DType d) { return float(roundToFloatType(v, d)); };

  // An i64 scale is packed (§1.3): FP19 in its low 32 bits.
  bool packed = s.dtype() == DType::I64;
  auto scaleAt = [&](int64_t si) {
    return packed ? decodePackedScale(s.getInt(si)).scale
                  : float(s.getDouble(si));
  };
  // The dequantized weight in the logical [K, N] frame. npu-compat with a
  // packed scale: W = f16(w + off), the scale multiplies Y instead (§3.3).
  std::vector<float> wd(k * n);
  for (int64_t kk = 0; kk < k; ++kk) {
    for (int64_t j = 0; j < n; ++j) {
      int64_t si = scaleIndex(s, g ? kk / g : 0, j);
      float v = float(w.getInt(a.transpose_weight ? j * k + kk : kk * n + j));
      if (off)
        v = v + float(off->getDouble(si));
      if (npu && off)
        v = rt(v, t);
      if (!(npu && packed))
        v = v * scaleAt(si);
      if ((npu && !packed) || a.antiquant_out_dtype)
        v = rt(v, npu ? t : *a.antiquant_out_dtype);
      wd[kk * n + j] = v;
    }
  }
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      float acc = 0.0f;
      for (int64_t kk = 0; kk < k; ++kk)
        acc += float(x.getDouble(i * k + kk)) * wd[kk * n + j];
      if (npu && packed)
        acc = acc * rt(scaleAt(scaleIndex(s, 0, j)), DType::F16);
      if (bias)
        acc = acc + float(bias->getDouble(bias->numel() == 1 ? 0 : j));
      if (npu && t == DType::BF16)
        acc = rt(acc, DType::BF16);
      if (!qs) {
        out.setDouble(i * n + j, acc);
        continue;
      }
      int64_t qi = qs->numel() == 1 ? 0 : j;
      if (qs->dtype() == DType::I64) {
        PackedScale p = decodePackedScale(qs->getInt(qi));
        out.setInt(i * n + j, requantS9(acc, p.scale, double(p.offset)));
      } else if (npu) {
        double qoff = qo ? qo->getDouble(qi) : 0.0;
        out.setInt(i * n + j, requantS9(acc, float(qs->getDouble(qi)), qoff));
      } else {
        float v = acc * float(qs->getDouble(qi));
        if (qo)
          v = v + float(qo->getDouble(qi));
        out.setDouble(i * n + j, v); // rne, saturate to [-128, 127]
      }
    }
  }
  return success();
}

} // namespace kiln::ops
