//===- Quant.cpp - float to int8, static or dynamic per-token -------------===//
//
// quant(input, scale = %s, offset = %o) {mode = static, out_dtype = i8}
//
// input: f16/bf16/f32, ND. out_dtype must be i8 (the only supported output).
//
// static: `scale` required (f16/bf16/f32, broadcasts to input), `offset`
// optional with scale's dtype and shape. One result, i8 with input's dims:
//   float t = float(x) * float(s);  t = t + float(o);  (two fp32 roundings)
//   q = sat_int8(round_half_even(t))                     (NaN -> 0)
//
// dynamic (per token, OPS.md §4.4): no scale/offset operands. Results
// (i8 [input dims], f32 [input dims without the last]). Per row:
//   s = max|x| / 127.0f,  inv = 1.0f / s,  q = round_half_even(x * inv)
// all in fp32; an all-zero row gives s = 0 and q = 0 (no NaN). NaNs are
// skipped by the max. In npu-compat numerics x * inv is first rounded to f16
// (the kernel's fp32 -> fp16 -> int8 cast), so 101.49 becomes 102, not 101.
//
//===----------------------------------------------------------------------===//
#include "ops/OpHooks.h"
#include "ops/OpUtils.h"
#include "runtime/Float16.h"

#include <cmath>

namespace kiln::ops {

LogicalResult inferQuant(const Op &op, std::vector<TensorType> &results) {
  const Quant::Attrs &a = op.attrs<Quant>();
  const TensorType &input = operandType(op, Quant::input);
  if (failed(expectDType(op, Quant::input,
                         {DType::F16, DType::BF16, DType::F32})) ||
      failed(expectND(op, Quant::input)))
    return failure();
  if (a.out_dtype != DType::I8)
    return op.emitError() << "out_dtype must be i8 (the only supported quant "
                             "output), got "
                          << a.out_dtype;

  bool hasScale = op.operand(Quant::scale) != nullptr;
  bool hasOffset = op.operand(Quant::offset) != nullptr;
  if (a.mode == QuantMode::Dynamic) {
    if (hasScale || hasOffset)
      return op.emitError()
             << "dynamic quant takes no " << (hasScale ? "scale" : "offset")
             << " operand; it computes per-row scales";
    if (input.rank() < 1)
      return op.emitError()
             << "dynamic quant needs rank >= 1 input, got " << input;
    std::vector<Dim> rows(input.dims.begin(), input.dims.end() - 1);
    results = {TensorType{DType::I8, input.dims, Layout::ND},
               TensorType{DType::F32, std::move(rows), Layout::ND}};
    return success();
  }

  if (!hasScale)
    return op.emitError() << "static quant requires a scale operand";
  const TensorType &scale = operandType(op, Quant::scale);
  if (failed(expectDType(op, Quant::scale,
                         {DType::F16, DType::BF16, DType::F32})) ||
      failed(expectND(op, Quant::scale)))
    return failure();
  if (!broadcastsTo(scale.dims, input.dims))
    return op.emitError() << "scale " << toString(scale.dims)
                          << " does not broadcast to input "
                          << toString(input.dims);
  if (hasOffset) {
    const TensorType &offset = operandType(op, Quant::offset);
    if (failed(expectND(op, Quant::offset)))
      return failure();
    if (offset.dtype != scale.dtype || offset.dims != scale.dims)
      return op.emitError()
             << "offset must have scale's type " << scale << ", got " << offset;
  }
  results = {TensorType{DType::I8, input.dims, Layout::ND}};
  return success();
}

namespace {

LogicalResult evalStatic(EvalContext &ctx) {
  const Tensor &input = ctx.in(Quant::input);
  const Tensor &scale = ctx.in(Quant::scale);
  const Tensor *offset = ctx.input(Quant::offset);
  Tensor &out = ctx.out(0);
  std::vector<int64_t> idx(input.rank());
  for (int64_t i = 0; i < input.numel(); ++i) {
    unravelIndex(i, input.shape(), idx);
    int64_t s = broadcastLinearIndex(scale.shape(), idx);
    float t = static_cast<float>(input.getDouble(i)) *
              static_cast<float>(scale.getDouble(s));
    if (offset)
      t = t + static_cast<float>(offset->getDouble(s));
    out.setDouble(i, t); // round half to even, saturate to [-128, 127]
  }
  return success();
}

LogicalResult evalDynamic(EvalContext &ctx) {
  const Tensor &input = ctx.in(Quant::input);
  Tensor &out = ctx.out(0);
  Tensor &scales = ctx.out(1);
  bool npuCompat = ctx.numerics() == Numerics::NpuCompat;
  int64_t cols = input.rank() ? input.dim(-1) : 1;
  int64_t rows = cols ? input.numel() / cols : 0;
  for (int64_t r = 0; r < rows; ++r) {
    float amax = 0.0f;
    for (int64_t c = 0; c < cols; ++c) {
      float v = std::fabs(static_cast<float>(input.getDouble(r * cols + c)));
      if (v > amax)
        amax = v;
    }
    float s = amax / 127.0f;
    scales.setDouble(r, s);
    if (s == 0.0f)
      continue; // q stays 0
    float inv = 1.0f / s;
    for (int64_t c = 0; c < cols; ++c) {
      float t = static_cast<float>(input.getDouble(r * cols + c)) * inv;
      double q = npuCompat ? roundToFloatType(t, DType::F16) : t;
      out.setDouble(r * cols + c, q);
    }
  }
  return success();
}

} // namespace

LogicalResult evalQuant(const Op &op, EvalContext &ctx) {
  if (op.attrs<Quant>().mode == QuantMode::Dynamic)
    return evalDynamic(ctx);
  return evalStatic(ctx);
}

} // namespace kiln::ops
