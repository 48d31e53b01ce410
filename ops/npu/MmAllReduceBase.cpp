//===- MmAllReduceBase.cpp - npu.mm_all_reduce_base: matmul + all-reduce --===//
//
// %o = npu.mm_all_reduce_base(%x1, %x2, bias = %b, antiquant_scale = %as,
//          antiquant_offset = %ao, x3 = %x3, dequant_scale = %ds,
//          pertoken_scale = %ps) {reduce_op = sum, comm_turn = 0,
//          antiquant_group_size = 0}
//
// torch_npu.npu_mm_all_reduce_base (OPS.md §5). The torch argument `hcom`
// (a communicator group name) is not an IR operand: kiln runs one world
// group per run and the op reduces over it. Each rank computes a local
// partial; bias and x3 are added on every rank BEFORE the reduction (§5.1):
//   non-quant:    P = x1 @ x2 + bias + x3
//   weight-quant: P = x1 @ ((x2 + antiquant_offset) * antiquant_scale)
//                     + bias + x3
//   full-quant:   P = float(x1 @ x2 + bias) * dequant_scale
//                     [* pertoken_scale] + x3
//   out = AllReduce_sum over ranks (P)
// Shapes: x1 [m,k] or [b,s,k] (ND), x2 [k,n] (ND or NZ); out [m,n]
// or [b,s,n]. bias [n]; x3 = out's type. Dtypes (seed 003 tables):
//   non-quant:    x1, x2, bias, x3, out all f16 or all bf16;
//   weight-quant: x1 f16/bf16, x2 i8, antiquant_scale/offset x1's dtype,
//                 [1], [n], [1,n], or [ceil(k/G), n] with G =
//                 antiquant_group_size a multiple of 32 in [32, k-1];
//   full-quant:   x1, x2 i8, bias i32, dequant_scale [1]/[n]/[1,n]:
//                 i64 (packed FP19, decoded per §1.3; the offset bits are
//                 ignored) -> f16 out; bf16 -> bf16 out; with pertoken_scale
//                 f32 [m] ([b*s] for 3-D x1): f32 -> f16, bf16 -> bf16.
// comm_quant_scale_1/2 (§5.3) are not supported yet; comm_turn must be 0;
// reduce_op must be sum.
//
// Golden numerics: the partial is computed in fp32 (float matmul: float
// products accumulated in ascending k, the weight dequantized in fp32 as
// ((w + off) * scale); full-quant: exact int32 accumulator, bias added,
// wrapped to int32, then float(acc) * scale, then * pertoken), then + bias
// / + x3 in fp32, the reduction in fp32 in rank order, ONE rounding to the
// out dtype. Decision: golden does NOT follow an f16 decomposition's
// intermediate roundings; the fusion pass only fuses decompositions that
// compute exactly these fp32 steps (f32 accumulation, one final cast).
// npu-compat (§3.3, §5.1, §5.2): weight dequant rounded to x1's dtype after
// the add and after the multiply; the partial (matmul + bias, or the
// dequantized accumulator) rounded to the out dtype, then + x3 rounded
// again; the reduction in the out dtype, rounding after every addition.
//
//===----------------------------------------------------------------------===//
#include "ops/OpHooks.h"
#include "ops/OpUtils.h"
#include "ops/npu/MmAllReduceBaseInfer.h"
#include "runtime/Communicator.h"
#include "runtime/Float16.h"

#include <bit>

namespace kiln::ops {

LogicalResult inferMmAllReduceBase(const Op &op,
                                   std::vector<TensorType> &results) {
  return npu::inferMmAllReduceBaseType(op, results);
}

namespace {

using M = MmAllReduceBase;

/// The fp32 value of a packed int64 scale (OPS.md §1.3): FP19 in bits 0-31.
float decodePackedScale(int64_t packed) {
  return std::bit_cast<float>(static_cast<uint32_t>(packed) & 0xFFFFE000u);
}

/// Value of a scale that broadcasts per-tensor ([1]) or per-channel ([n],
/// [1,n]) along output column j.
float channelValue(const Tensor &s, int64_t j) {
  int64_t i = s.numel() == 1 ? 0 : j;
  return s.dtype() == DType::I64 ? decodePackedScale(s.getInt(i))
                                 : static_cast<float>(s.getDouble(i));
}

/// AllReduce_sum over the run's ranks (EvalOptions::comm) of this rank's
/// partial, in place, in rank order: golden sums in fp32 (the caller rounds
/// once); npu-compat rounds to the out dtype after each addition, as HCCL's
/// fp16/bf16 reduction does (the partials already hold out-dtype values).
/// One rank: the identity.
LogicalResult reduceOverRanks(std::vector<float> &partial, DType outType,
                              EvalContext &ctx) {
  Communicator *comm = ctx.options().comm;
  if (!comm || comm->size() == 1)
    return success();
  ReduceSpec spec{DType::F32, ReduceOp::Sum, ctx.numerics(), outType};
  CommStatus s = comm->allreduce(partial.data(),
                                 static_cast<int64_t>(partial.size()), spec);
  if (!s.ok()) {
    ctx.error() << s.message();
    return failure();
  }
  return success();
}

} // namespace

LogicalResult evalMmAllReduceBase(const Op &op, EvalContext &ctx) {
  const Tensor &x1 = ctx.in(M::x1), &x2 = ctx.in(M::x2);
  const Tensor *bias = ctx.input(M::bias), *x3 = ctx.input(M::x3);
  const Tensor *aScale = ctx.input(M::antiquant_scale);
  const Tensor *aOffset = ctx.input(M::antiquant_offset);
  const Tensor *dScale = ctx.input(M::dequant_scale);
  const Tensor *pScale = ctx.input(M::pertoken_scale);
  Tensor &out = ctx.out();
  int64_t k = x2.dim(0), n = x2.dim(1);
  int64_t rows = n == 0 ? 0 : out.numel() / n;
  int64_t group = op.attrs<M>().antiquant_group_size;
  bool compat = ctx.numerics() == Numerics::NpuCompat;
  bool fullQuant = x1.dtype() == DType::I8;
  DType outType = out.dtype(), inType = x1.dtype();
  auto roundTo = [&](float v, DType t) {
    return compat ? static_cast<float>(roundToFloatType(v, t)) : v;
  };

  // The operands as float, exact for f16/bf16/i8 (x2 dequantized for
  // weight quant).
  std::vector<float> a(rows * k), w(k * n);
  for (int64_t i = 0; i < rows * k; ++i)
    a[i] = static_cast<float>(x1.getDouble(i));
  for (int64_t kk = 0; kk < k; ++kk) {
    for (int64_t j = 0; j < n; ++j) {
      float v = static_cast<float>(x2.getDouble(kk * n + j));
      if (aScale) {
        int64_t s = aScale->numel() == 1 ? 0
                    : group > 0          ? (kk / group) * n + j
                                         : j;
        if (aOffset)
          v = roundTo(v + static_cast<float>(aOffset->getDouble(s)), inType);
        v = roundTo(v * static_cast<float>(aScale->getDouble(s)), inType);
      }
      w[kk * n + j] = v;
    }
  }

  // This rank's partial.
  std::vector<float> partial(rows * n);
  for (int64_t i = 0; i < rows; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      float v = 0.0f;
      if (fullQuant) {
        int64_t acc = 0;
        for (int64_t kk = 0; kk < k; ++kk)
          acc += static_cast<int64_t>(a[i * k + kk]) *
                 static_cast<int64_t>(w[kk * n + j]);
        if (bias)
          acc += bias->getInt(j);
        // The int32 accumulator wraps like the decomposition's i32 values.
        int32_t acc32 = static_cast<int32_t>(static_cast<uint32_t>(acc));
        v = static_cast<float>(static_cast<int64_t>(acc32));
        v = v * channelValue(*dScale, j);
        if (pScale)
          v = v * static_cast<float>(pScale->getDouble(i));
      } else {
        for (int64_t kk = 0; kk < k; ++kk) {
          float prod = a[i * k + kk] * w[kk * n + j];
          v += prod;
        }
        if (bias)
          v = v + static_cast<float>(bias->getDouble(j));
      }
      v = roundTo(v, outType);
      if (x3)
        v = roundTo(v + static_cast<float>(x3->getDouble(i * n + j)), outType);
      partial[i * n + j] = v;
    }
  }

  if (failed(reduceOverRanks(partial, outType, ctx)))
    return failure();
  for (int64_t i = 0; i < rows * n; ++i)
    out.setDouble(i, partial[i]); // golden: the one rounding to the out dtype
  return success();
}

} // namespace kiln::ops
