//===- MmAllReduceBaseInfer.cpp - npu.mm_all_reduce_base verifier ---------===//
// The seed 003 dtype tables, checked as a torch_npu user meets them:
// attributes, x1/x2, the mode's scales, bias, x3.
#include "ops/npu/MmAllReduceBaseInfer.h"
#include "ops/OpUtils.h"

namespace kiln::ops::npu {

namespace {

using M = MmAllReduceBase;

/// [1], [n] or [1, n]: a per-tensor or per-channel scale.
bool isChannelShape(const TensorType &t, const Dim &n) {
  return t.dims == std::vector<Dim>{Dim(1)} || t.dims == std::vector<Dim>{n} ||
         t.dims == std::vector<Dim>{Dim(1), n};
}

/// Fails if operand i, which belongs to mode `mode` only, is present.
LogicalResult expectAbsent(const Op &op, unsigned i, std::string_view mode) {
  return op.operand(i)
             ? op.emitError() << operandName(op, i) << " is only for " << mode
             : success();
}

LogicalResult checkAttrs(const Op &op) {
  const M::Attrs &a = op.attrs<M>();
  if (a.reduce_op != ReduceOp::Sum)
    return op.emitError() << "reduce_op only supports 'sum', got '"
                          << toString(a.reduce_op) << "'";
  if (a.comm_turn != 0)
    return op.emitError() << "comm_turn only supports 0, got " << a.comm_turn;
  for (unsigned i : {M::comm_quant_scale_1, M::comm_quant_scale_2})
    if (op.operand(i))
      return op.emitError() << operandName(op, i)
                            << " (communication quantization) is not "
                               "supported yet";
  return success();
}

LogicalResult checkWeightQuant(const Op &op, const TensorType &x1,
                               const TensorType &x2) {
  if (!op.operand(M::antiquant_scale))
    return op.emitError()
           << "weight quantization (i8 x2) requires antiquant_scale";
  const TensorType &s = operandType(op, M::antiquant_scale);
  if (s.dtype != x1.dtype)
    return op.emitError() << "antiquant_scale must have x1's dtype " << x1.dtype
                          << ", got " << s.dtype;
  if (failed(expectND(op, M::antiquant_scale)))
    return failure();
  if (op.operand(M::antiquant_offset) &&
      operandType(op, M::antiquant_offset) != s)
    return op.emitError() << "antiquant_offset must have antiquant_scale's "
                             "type "
                          << s << ", got "
                          << operandType(op, M::antiquant_offset);
  const Dim &k = x2.dims[0], &n = x2.dims[1];
  int64_t g = op.attrs<M>().antiquant_group_size;
  if (g == 0)
    return isChannelShape(s, n)
               ? success()
               : op.emitError() << "antiquant_scale must be [1], [n] or "
                                   "[1, n] with n = "
                                << n
                                << " (per-group needs antiquant_group_size), "
                                   "got "
                                << s;
  if (!k.isStatic())
    return op.emitError() << "antiquant_group_size needs a static k, got k = "
                          << k;
  if (g % 32 != 0 || g < 32 || g > k.size() - 1)
    return op.emitError() << "antiquant_group_size must be a multiple of 32 "
                             "in [32, k-1] with k = "
                          << k << ", got " << g;
  std::vector<Dim> want{Dim((k.size() + g - 1) / g), n};
  if (s.dims != want)
    return op.emitError() << "per-group antiquant_scale must be [ceil(k/G), n]"
                          << " = " << toString(want) << ", got " << s;
  return success();
}

/// pertoken_scale's shape: [m], or [b*s] for a 3-D x1.
FailureOr<Dim> tokenCount(const Op &op, const TensorType &x1) {
  if (x1.rank() == 2)
    return x1.dims[0];
  const Dim &b = x1.dims[0], &s = x1.dims[1];
  if (b.isStatic() && s.isStatic())
    return Dim(b.size() * s.size());
  if (b == Dim(1) || s == Dim(1))
    return b == Dim(1) ? s : b;
  return op.emitError() << "pertoken_scale [b*s] cannot be checked for x1 "
                        << x1 << " with symbolic b and s";
}

/// Full quantization: dequant_scale and pertoken_scale select the out dtype.
FailureOr<DType> checkFullQuant(const Op &op, const TensorType &x1,
                                const TensorType &x2) {
  if (x2.dtype != DType::I8)
    return op.emitError() << "x2 must be i8 when x1 is i8 (full "
                             "quantization), got "
                          << x2.dtype;
  if (!op.operand(M::dequant_scale))
    return op.emitError()
           << "full quantization (i8 x1 and x2) requires dequant_scale";
  if (failed(expectND(op, M::dequant_scale)))
    return failure();
  const TensorType &d = operandType(op, M::dequant_scale);
  bool perToken = op.operand(M::pertoken_scale) != nullptr;
  DType out = DType::F16;
  if (d.dtype == DType::BF16)
    out = DType::BF16;
  else if (d.dtype == DType::F32 && !perToken)
    return op.emitError() << "a float32 dequant_scale needs pertoken_scale; "
                             "without it, pack the scale to int64 with "
                             "npu_trans_quant_param";
  else if (perToken && d.dtype != DType::F32)
    return op.emitError() << "with pertoken_scale, dequant_scale must be f32 "
                             "or bf16, got "
                          << d.dtype;
  else if (!perToken && d.dtype != DType::I64)
    return op.emitError() << "dequant_scale must be i64 (packed) or bf16, or "
                             "f32 with pertoken_scale, got "
                          << d.dtype;
  if (!isChannelShape(d, x2.dims[1]))
    return op.emitError() << "dequant_scale must be [1], [n] or [1, n] with "
                             "n = "
                          << x2.dims[1] << ", got " << d;
  if (!perToken)
    return out;
  if (failed(expectDType(op, M::pertoken_scale, {DType::F32})) ||
      failed(expectND(op, M::pertoken_scale)))
    return failure();
  FailureOr<Dim> tokens = tokenCount(op, x1);
  if (tokens.failed())
    return failure();
  const TensorType &p = operandType(op, M::pertoken_scale);
  if (p.dims != std::vector<Dim>{*tokens})
    return op.emitError() << "pertoken_scale must be ["
                          << (x1.rank() == 2 ? "m" : "b*s") << "] = ["
                          << *tokens << "], got " << p;
  return out;
}

} // namespace

LogicalResult inferMmAllReduceBaseType(const Op &op,
                                       std::vector<TensorType> &results) {
  if (failed(checkAttrs(op)))
    return failure();
  if (failed(expectDType(op, M::x1, {DType::F16, DType::BF16, DType::I8})) ||
      failed(expectND(op, M::x1)))
    return failure();
  const TensorType &x1 = operandType(op, M::x1);
  const TensorType &x2 = operandType(op, M::x2);
  if (x1.rank() != 2 && x1.rank() != 3)
    return op.emitError() << "x1 must be 2-D [m, k] or 3-D [b, s, k], got "
                          << x1;
  if (x2.rank() != 2)
    return op.emitError() << "x2 must be 2-D [k, n], got " << x2;
  if (x2.dims[0] != x1.dim(-1))
    return op.emitError() << "x2's first dim must equal x1's last dim k = "
                          << x1.dim(-1) << ", got " << x2;

  bool fullQuant = x1.dtype == DType::I8;
  bool weightQuant = !fullQuant && x2.dtype == DType::I8;
  if (!fullQuant && !weightQuant && x2.dtype != x1.dtype)
    return op.emitError() << "x2 must have x1's dtype " << x1.dtype
                          << " (non-quantized) or be i8 (weight "
                             "quantization), got "
                          << x2.dtype;
  if (!weightQuant && op.attrs<M>().antiquant_group_size != 0)
    return op.emitError() << "antiquant_group_size is only for weight "
                             "quantization (i8 x2), got "
                          << op.attrs<M>().antiquant_group_size;
  for (unsigned i : {M::antiquant_scale, M::antiquant_offset})
    if (!weightQuant &&
        failed(expectAbsent(op, i, "weight quantization (f16/bf16 x1, i8 x2)")))
      return failure();
  for (unsigned i : {M::dequant_scale, M::pertoken_scale})
    if (!fullQuant &&
        failed(expectAbsent(op, i, "full quantization (i8 x1 and x2)")))
      return failure();
  if (weightQuant && failed(checkWeightQuant(op, x1, x2)))
    return failure();
  FailureOr<DType> out = x1.dtype;
  if (fullQuant && (out = checkFullQuant(op, x1, x2)).failed())
    return failure();

  std::vector<Dim> dims(x1.dims.begin(), x1.dims.end() - 1);
  dims.push_back(x2.dims[1]);
  TensorType result{*out, std::move(dims), Layout::ND};
  if (op.operand(M::bias)) {
    DType want = fullQuant ? DType::I32 : x1.dtype;
    const TensorType &b = operandType(op, M::bias);
    if (b.dtype != want)
      return op.emitError()
             << "bias must be " << want
             << (fullQuant ? " in full quantization" : " like x1") << ", got "
             << b.dtype;
    if (b.dims != std::vector<Dim>{x2.dims[1]} || b.layout != Layout::ND)
      return op.emitError()
             << "bias must be 1-D [n] with n = " << x2.dims[1] << ", got " << b;
  }
  if (op.operand(M::x3) && operandType(op, M::x3) != result)
    return op.emitError() << "x3 must have the output's type " << result
                          << ", got " << operandType(op, M::x3);
  results = {std::move(result)};
  return success();
}

} // namespace kiln::ops::npu
