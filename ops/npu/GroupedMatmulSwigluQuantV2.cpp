//===- GroupedMatmulSwigluQuantV2.cpp - fused MoE gate/up projection ------===//
//
// %q, %s = npu.grouped_matmul_swiglu_quant_v2(%x, %weight, %weight_scale,
//              %x_scale, %group_list) : (i8[M,N/2], f32[M])
//
// torch_npu.npu_grouped_matmul_swiglu_quant_v2 (OPS.md §4), A8W8 path:
// x i8 [M, K] ND, weight i8 [E, K, N] FRACTAL_NZ (torch passes a one-element
// list; kiln takes the tensor), weight_scale f32 [E, N], x_scale f32 [M],
// group_list i64 [E]. smooth_scale, weight_assist_matrix and bias must be
// None and the mode attributes 0, as torch_npu documents. group_list_type:
// torch_npu accepts only 0 (cumsum); kiln also accepts count (1), which the
// fusion pass needs for count-style MoE graphs, and prints it.
// tuning_config is a performance hint and is ignored.
//
// For each row m of group g (rows at or past the group_list end give q = 0,
// scale = 0), in fp32 and in this order (the primitive chain
// matmul -> dequant(row_scale) -> swiglu -> quant{dynamic}):
//   C[n]  = (float(acc_i32[n]) * weight_scale[g][n]) * x_scale[m]
//   S[j]  = (a * (1.0f / (1.0f + expf(-a)))) * C[N/2 + j],  a = C[j]
//   s     = max_j |S[j]| / 127.0f;  q[j] = rne(S[j] * (1.0f / s))
// (all-zero row: s = 0, q = 0). npu-compat follows the kernel (§4.4):
// C = (float(acc) * x_scale[m]) * weight_scale[g][n], and S * inv is rounded
// to f16 before the int8 rounding (fp32 -> fp16 -> int8).
//
//===----------------------------------------------------------------------===//
#include "ops/OpHooks.h"
#include "ops/OpUtils.h"
#include "ops/npu/GroupedInt8.h"
#include "runtime/Float16.h"

#include <cmath>

namespace kiln::ops {

namespace {
using SQ = GroupedMatmulSwigluQuantV2;

/// The integer mode arguments torch_npu only accepts at 0.
LogicalResult verifyModes(const Op &op) {
  const SQ::Attrs &a = op.attrs<SQ>();
  if (a.dequant_mode != 0)
    return op.emitError() << "dequant_mode must be 0 (per-channel) for int8 "
                             "weight; 1 (per-group) needs int32 weight, got "
                          << a.dequant_mode;
  std::pair<const char *, int64_t> modes[] = {
      {"dequant_dtype", a.dequant_dtype},
      {"quant_mode", a.quant_mode},
      {"quant_dtype", a.quant_dtype}};
  for (auto [name, value] : modes)
    if (value != 0)
      return op.emitError() << name
                            << " currently only supports the default value "
                               "0, got "
                            << value;
  return success();
}
} // namespace

LogicalResult inferGroupedMatmulSwigluQuantV2(
    const Op &op, std::vector<TensorType> &results) {
  if (failed(verifyGroupedInt8(op, SQ::x, SQ::weight, SQ::group_list,
                               SQ::weight_scale)))
    return failure();
  for (unsigned i : {SQ::smooth_scale, SQ::weight_assist_matrix, SQ::bias})
    if (op.operand(i))
      return op.emitError() << operandName(op, i)
                            << " currently only supports the default value "
                               "None";
  if (failed(verifyModes(op)))
    return failure();
  // group_list_type is not checked: torch_npu accepts only cumsum, kiln
  // accepts count too (MoE graphs carry counts) and prints it.
  const Dim &m = operandType(op, SQ::x).dims[0];
  const TensorType &xScale = operandType(op, SQ::x_scale);
  if (failed(expectDType(op, SQ::x_scale, {DType::F32})) ||
      failed(expectND(op, SQ::x_scale)))
    return failure();
  if (xScale.dims != std::vector<Dim>{m})
    return op.emitError() << "x_scale must be [m] = [" << m
                          << "] (per-token), got " << toString(xScale.dims);
  const Dim &n = operandType(op, SQ::weight).dims[2];
  if (!n.isStatic() || n.size() <= 0 || n.size() % 2 != 0)
    return op.emitError() << "n (weight's last dim) must be a static even "
                             "size for SwiGLU, got "
                          << n;
  results = {TensorType{DType::I8, {m, Dim(n.size() / 2)}, Layout::ND},
             TensorType{DType::F32, {m}, Layout::ND}};
  return success();
}

LogicalResult evalGroupedMatmulSwigluQuantV2(const Op &op, EvalContext &ctx) {
  const Tensor &wScale = ctx.in(SQ::weight_scale);
  const Tensor &xScale = ctx.in(SQ::x_scale);
  Tensor &out = ctx.out(0);
  Tensor &outScale = ctx.out(1);
  bool compat = ctx.numerics() == Numerics::NpuCompat;
  int64_t m = ctx.in(SQ::x).dim(0);
  FailureOr<std::vector<int64_t>> offsets =
      groupOffsets(ctx, ctx.in(SQ::group_list),
                   op.attrs<SQ>().group_list_type, m);
  if (offsets.failed())
    return failure();
  std::vector<int64_t> groups = rowGroups(*offsets, m);
  GroupedInt8Matmul mm(ctx.in(SQ::x), ctx.in(SQ::weight));
  int64_t n = mm.n(), half = n / 2;
  std::vector<int32_t> acc;
  std::vector<float> c(n), s(half);
  for (int64_t i = 0; i < m; ++i) {
    int64_t g = groups[i];
    if (g < 0)
      continue; // past the group_list end: q and scale stay 0
    mm.row(i, g, acc);
    float xs = static_cast<float>(xScale.getDouble(i));
    for (int64_t j = 0; j < n; ++j) {
      float ws = static_cast<float>(wScale.getDouble(g * n + j));
      float v = static_cast<float>(acc[j]);
      c[j] = compat ? (v * xs) * ws : (v * ws) * xs;
    }
    float amax = 0.0f;
    for (int64_t j = 0; j < half; ++j) {
      float a = c[j];
      float sig = 1.0f / (1.0f + std::exp(-a));
      float silu = a * sig;
      s[j] = silu * c[half + j];
      float mag = std::fabs(s[j]);
      if (mag > amax) // NaNs are skipped, as in quant {mode = dynamic}
        amax = mag;
    }
    float scale = amax / 127.0f;
    outScale.setDouble(i, scale);
    if (scale == 0.0f)
      continue; // all-zero row: q = 0
    float inv = 1.0f / scale;
    for (int64_t j = 0; j < half; ++j) {
      float t = s[j] * inv;
      out.setDouble(i * half + j,
                    compat ? roundToFloatType(t, DType::F16) : t);
    }
  }
  return success();
}

} // namespace kiln::ops
