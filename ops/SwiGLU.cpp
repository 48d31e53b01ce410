//===- SwiGLU.cpp - SiLU of one half of the last dim times the other ------===//
//
// swiglu(input) {activate = first}
//
// input: f16/bf16/f32 ND [..., N] with N a static even size > 0. Result
// [..., N/2] with input's dtype. For each row, a = the first half and g =
// the second half of the last dim (swapped when activate = second; OPS.md
// §4.3 settles on the first half), computed in fp32:
//   float sig = 1.0f / (1.0f + std::exp(-a));  out = (a * sig) * g;
// then rounded once to the result dtype. std::exp is the float overload.
//
//===----------------------------------------------------------------------===//
#include "ops/OpHooks.h"
#include "ops/OpUtils.h"

#include <cmath>

namespace kiln::ops {

LogicalResult inferSwiGLU(const Op &op, std::vector<TensorType> &results) {
  const TensorType &input = operandType(op, SwiGLU::input);
  if (failed(expectDType(op, SwiGLU::input,
                         {DType::F16, DType::BF16, DType::F32})) ||
      failed(expectND(op, SwiGLU::input)))
    return failure();
  if (input.rank() < 1)
    return op.emitError() << "input must have rank >= 1, got " << input;
  const Dim &n = input.dim(-1);
  if (!n.isStatic() || n.size() <= 0 || n.size() % 2 != 0)
    return op.emitError() << "last dim must be a static even size, got " << n;
  std::vector<Dim> dims = input.dims;
  dims.back() = Dim(n.size() / 2);
  results = {TensorType{input.dtype, std::move(dims), Layout::ND}};
  return success();
}

LogicalResult evalSwiGLU(const Op &op, EvalContext &ctx) {
  const Tensor &input = ctx.in(SwiGLU::input);
  Tensor &out = ctx.out();
  bool second = op.attrs<SwiGLU>().activate == SwigluHalf::Second;
  int64_t half = input.dim(-1) / 2;
  int64_t rows = out.numel() / half;
  for (int64_t r = 0; r < rows; ++r) {
    int64_t base = r * 2 * half;
    for (int64_t j = 0; j < half; ++j) {
      float first = static_cast<float>(input.getDouble(base + j));
      float last = static_cast<float>(input.getDouble(base + half + j));
      float a = second ? last : first;
      float g = second ? first : last;
      float sig = 1.0f / (1.0f + std::exp(-a));
      float silu = a * sig;
      out.setDouble(r * half + j, silu * g);
    }
  }
  return success();
}

} // namespace kiln::ops
