//===- QuantMatmulReduceSum.cpp - npu.quant_matmul_reduce_sum -------------===//
//
// %y = npu.quant_matmul_reduce_sum(%x1, %x2, x1_scale = %s1, x2_scale = %s2)
//          {dims = [0]} : bf16[M,N]
//
// torch_npu.npu_quant_matmul_reduce_sum (seed 000, OPS.md §2):
//   x1 i8 [B,M,K] ND, x2 i8 [B,K,N] FRACTAL_NZ only, x1_scale f32 [B,M]
//   (per batch and token), x2_scale bf16 [N] (per channel, shared by the
//   batches); result bf16 [M,N]. x1_scale and x2_scale are keyword arguments
//   that default to None in the prototype but must be given. `dims` must be
//   [0] (the adapter hard-codes the batch reduction, keepDims = false).
//
// Golden (default), the same fp32 operations in the same order as the
// decomposition matmul -> dequant(row_scale) -> reduce_sum -> cast:
//   acc  = int32( sum_k x1[b,m,k] * x2[b,k,n] )          (exact, wraps mod
//   2^32) part = (float(acc) * float(x2_scale[n])) * x1_scale[b,m]       (fp32)
//   sum  = ((0 + part[0]) + part[1]) + ...                 (fp32, batch order)
//   y    = bf16(sum)                                        (one rounding)
// npu-compat (§2.3, the kernel's bf16 atomic adds, done in batch order): each
// part is rounded to bf16 and the running sum is rounded to bf16 after every
// addition.
//
//===----------------------------------------------------------------------===//
#include "ops/OpHooks.h"
#include "ops/OpUtils.h"
#include "runtime/Float16.h"

namespace kiln::ops {

namespace {
using Q = QuantMatmulReduceSum;

/// Fails unless the keyword tensor `i` (None by default) is present.
LogicalResult expectGiven(const Op &op, unsigned i) {
  if (op.operand(i))
    return success();
  return op.emitError() << operandName(op, i)
                        << " is required (torch_npu: it must not be None)";
}
} // namespace

LogicalResult inferQuantMatmulReduceSum(const Op &op,
                                        std::vector<TensorType> &results) {
  if (failed(expectGiven(op, Q::x1_scale)) ||
      failed(expectGiven(op, Q::x2_scale)))
    return failure();
  const IntList &dims = op.attrs<Q>().dims;
  if (dims != IntList{0}) {
    InFlightDiag d = op.emitError();
    d << "dims must be [0] (only the batch dim is reduced), got [";
    for (size_t i = 0; i < dims.size(); ++i)
      d << (i ? ", " : "") << dims[i];
    return d << "]";
  }
  if (failed(expectDType(op, Q::x1, {DType::I8})) ||
      failed(expectDType(op, Q::x2, {DType::I8})) ||
      failed(expectDType(op, Q::x1_scale, {DType::F32})) ||
      failed(expectDType(op, Q::x2_scale, {DType::BF16})) ||
      failed(expectRank(op, Q::x1, 3)) || failed(expectRank(op, Q::x2, 3)) ||
      failed(expectRank(op, Q::x1_scale, 2)) ||
      failed(expectRank(op, Q::x2_scale, 1)) || failed(expectND(op, Q::x1)) ||
      failed(expectND(op, Q::x1_scale)) || failed(expectND(op, Q::x2_scale)))
    return failure();
  const TensorType &x1 = operandType(op, Q::x1);
  const TensorType &x2 = operandType(op, Q::x2);
  if (x2.layout != Layout::NZ)
    return op.emitError() << "x2 must be FRACTAL_NZ (convert it with "
                             "format_cast {layout = NZ}), got "
                          << x2;
  const Dim &b = x1.dims[0], &m = x1.dims[1], &k = x1.dims[2];
  if (x2.dims[0] != b)
    return op.emitError() << "x1 and x2 batch dims differ: " << b << " vs "
                          << x2.dims[0];
  if (x2.dims[1] != k)
    return op.emitError() << "contracting dims differ: x1 K=" << k
                          << ", x2 K=" << x2.dims[1];
  const Dim &n = x2.dims[2];
  const TensorType &s1 = operandType(op, Q::x1_scale);
  if (s1.dims != std::vector<Dim>{b, m})
    return op.emitError() << "x1_scale must be [batch, m] = "
                          << toString(std::vector<Dim>{b, m}) << ", got "
                          << toString(s1.dims);
  const TensorType &s2 = operandType(op, Q::x2_scale);
  if (s2.dims[0] != n)
    return op.emitError() << "x2_scale must be [n] = [" << n << "], got "
                          << toString(s2.dims);
  results = {TensorType{DType::BF16, {m, n}, Layout::ND}};
  return success();
}

LogicalResult evalQuantMatmulReduceSum(const Op &op, EvalContext &ctx) {
  const Tensor &x1 = ctx.in(Q::x1);
  const Tensor &x2 = ctx.in(Q::x2);
  const Tensor &s1 = ctx.in(Q::x1_scale);
  const Tensor &s2 = ctx.in(Q::x2_scale);
  Tensor &out = ctx.out();
  bool npuCompat = ctx.numerics() == Numerics::NpuCompat;
  int64_t batches = x1.dim(0), m = x1.dim(1), k = x1.dim(2), n = x2.dim(2);
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      float sum = 0.0f;
      for (int64_t b = 0; b < batches; ++b) {
        int64_t acc = 0;
        for (int64_t kk = 0; kk < k; ++kk)
          acc +=
              x1.getInt((b * m + i) * k + kk) * x2.getInt((b * k + kk) * n + j);
        float part = static_cast<float>(static_cast<int32_t>(acc));
        part = part * static_cast<float>(s2.getDouble(j));
        part = part * static_cast<float>(s1.getDouble(b * m + i));
        if (!npuCompat) {
          sum = sum + part;
          continue;
        }
        float rounded = static_cast<float>(roundToFloatType(part, DType::BF16));
        sum = static_cast<float>(roundToFloatType(sum + rounded, DType::BF16));
      }
      out.setDouble(i * n + j, sum);
    }
  }
  return success();
}

} // namespace kiln::ops
