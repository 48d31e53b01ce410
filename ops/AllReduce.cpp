//===- AllReduce.cpp - sum across ranks (single rank for now) -------------===//
//
// allreduce(input) {reduce_op = sum|max|min|prod}
//
// input: f16/bf16/f32 (any shape and layout); the result has input's type.
// Only one rank exists so far, so the sum over ranks is the input itself:
// eval copies every value exactly (for one rank every reduce_op is the
// identity). Multi-rank reduction (fp32 in golden
// numerics, OPS.md §0) comes with the communication runtime.
//
//===----------------------------------------------------------------------===//
#include "ops/OpHooks.h"
#include "ops/OpUtils.h"

namespace kiln::ops {

LogicalResult inferAllReduce(const Op &op, std::vector<TensorType> &results) {
  if (failed(expectDType(op, AllReduce::input,
                         {DType::F16, DType::BF16, DType::F32})))
    return failure();
  results = {operandType(op, AllReduce::input)};
  return success();
}

LogicalResult evalAllReduce(const Op &op, EvalContext &ctx) {
  const Tensor &input = ctx.in(AllReduce::input);
  Tensor &out = ctx.out();
  for (int64_t i = 0; i < input.numel(); ++i)
    out.setDouble(i, input.getDouble(i)); // same dtype: exact
  return success();
}

} // namespace kiln::ops
