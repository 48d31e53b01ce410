//===- WeightQuantBatchmatmulVerify.cpp - operand checks ------------------===//
#include "ops/npu/WeightQuantBatchmatmulVerify.h"

#include "ops/OpUtils.h"

#include <algorithm>

namespace kiln::ops::wqbmm {

namespace {
using W = WeightQuantBatchmatmul;

bool isOneOf(const std::vector<Dim> &dims,
             std::initializer_list<std::vector<Dim>> shapes) {
  return std::find(shapes.begin(), shapes.end(), dims) != shapes.end();
}

/// An i64 antiquant_scale packed by npu_trans_quant_param (seed 001): f16 x,
/// int8 ND weight given transposed, per-channel, i32 offset, no quant_scale.
LogicalResult verifyPackedAntiquant(const Op &op, const Dim &n) {
  const TensorType &s = operandType(op, W::antiquant_scale);
  const TensorType &w = operandType(op, W::weight);
  if (operandType(op, W::x).dtype != DType::F16)
    return op.emitError() << "an i64 antiquant_scale requires f16 x, got "
                          << operandType(op, W::x).dtype;
  if (w.dtype != DType::I8 || w.layout != Layout::ND ||
      !op.attrs<W>().transpose_weight)
    return op.emitError() << "an i64 antiquant_scale requires an i8 ND weight "
                             "given transposed (transpose_weight = true), got "
                          << w;
  if (op.attrs<W>().antiquant_group_size != 0 || s.layout != Layout::ND ||
      !isOneOf(s.dims, {{n}, {1, n}}))
    return op.emitError() << "an i64 antiquant_scale must be per-channel [" << n
                          << "] or [1," << n << "], got " << s;
  if (Value *o = op.operand(W::antiquant_offset);
      o && (o->type().dtype != DType::I32 || o->type().dims != s.dims ||
            o->type().layout != Layout::ND))
    return op.emitError() << "antiquant_offset must be i32" << toString(s.dims)
                          << " with an i64 antiquant_scale, got " << o->type();
  if (op.operand(W::quant_scale))
    return op.emitError() << "quant_scale must be None with an i64 "
                             "antiquant_scale";
  return success();
}

} // namespace

LogicalResult verifyAntiquant(const Op &op, const Dim &k, const Dim &n) {
  DType xType = operandType(op, W::x).dtype;
  const TensorType &s = operandType(op, W::antiquant_scale);
  int64_t g = op.attrs<W>().antiquant_group_size;
  if (s.dtype == DType::I64)
    return verifyPackedAntiquant(op, n);
  if (s.dtype != xType)
    return op.emitError() << "antiquant_scale must have x's dtype " << xType
                          << ", got " << s.dtype;
  if (failed(expectND(op, W::antiquant_scale)))
    return failure();
  if (g != 0 && (g % 32 != 0 || g < 32 || !k.isStatic() || g >= k.size()))
    return op.emitError() << "antiquant_group_size must be a multiple of 32 "
                             "in [32, K-1] with a static K = "
                          << k << ", got " << g;
  bool ok = g == 0 ? isOneOf(s.dims, {{1}, {1, 1}, {n}, {1, n}})
                   : s.dims == std::vector<Dim>{(k.size() + g - 1) / g, n};
  if (!ok)
    return op.emitError()
           << "antiquant_scale must be per-tensor [1], per-channel [" << n
           << "] or [1," << n << "], or per-group [ceil(K/"
           << "antiquant_group_size)," << n << "], got " << toString(s.dims);
  if (Value *o = op.operand(W::antiquant_offset); o && o->type() != s)
    return op.emitError() << "antiquant_offset must have antiquant_scale's "
                          << "type " << s << ", got " << o->type();
  return success();
}

LogicalResult verifyEpilogue(const Op &op, const Dim &n) {
  DType xType = operandType(op, W::x).dtype;
  if (Value *b = op.operand(W::bias)) {
    DType want = xType == DType::F16 ? DType::F16 : DType::F32;
    if (b->type().dtype != want)
      return op.emitError() << "bias must be " << want << " for " << xType
                            << " x, got " << b->type().dtype;
    if (failed(expectND(op, W::bias)))
      return failure();
    if (!isOneOf(b->type().dims, {{n}, {1, n}}))
      return op.emitError() << "bias must be [" << n << "] or [1," << n
                            << "], got " << toString(b->type().dims);
  }
  Value *qs = op.operand(W::quant_scale), *qo = op.operand(W::quant_offset);
  if (qo && !qs)
    return op.emitError() << "quant_offset requires quant_scale";
  if (!qs)
    return success();
  if (operandType(op, W::weight).layout != Layout::ND)
    return op.emitError() << "quant_scale is only supported with an ND weight";
  if (failed(expectDType(op, W::quant_scale, {DType::F32, DType::I64})) ||
      failed(expectND(op, W::quant_scale)))
    return failure();
  if (!isOneOf(qs->type().dims, {{1}, {n}, {1, n}}))
    return op.emitError() << "quant_scale must be [1], [" << n << "] or [1,"
                          << n << "], got " << toString(qs->type().dims);
  if (qo && qs->type().dtype == DType::I64)
    return op.emitError() << "quant_offset must be None with an i64 "
                             "quant_scale (the offset is packed into it)";
  if (qo && operandType(op, W::quant_offset) != qs->type())
    return op.emitError() << "quant_offset must have quant_scale's type "
                          << qs->type() << ", got " << qo->type();
  return success();
}

} // namespace kiln::ops::wqbmm
