//===- AllReduce.cpp - sum across ranks (single rank for now) -------------===//
//
// allreduce(input) {reduce_op = sum|max|min|prod}
//
// input: f16/bf16/f32 (any shape and layout); the result has input's type.
// Reduces every rank's input elementwise over the run's communicator
// (EvalOptions::comm; runtime/Communicator.h): golden in f32 in rank order
// with one rounding, npu-compat in the dtype rounding after every addition
// (OPS.md §0, §5.2). A single rank (no communicator) copies the input
// exactly: for one rank every reduce_op is the identity. NZ padding is
// reduced along with the values (zeros stay zeros).
//
//===----------------------------------------------------------------------===//
#include "ops/OpHooks.h"
#include "ops/OpUtils.h"
#include "runtime/Communicator.h"

#include <cstring>

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
  std::memcpy(out.data(), input.data(), input.byteSize()); // same type
  Communicator *comm = ctx.options().comm;
  if (!comm || comm->size() == 1)
    return success();
  ReduceSpec spec{out.dtype(), op.attrs<AllReduce>().reduce_op,
                  ctx.numerics(), std::nullopt};
  int64_t count = static_cast<int64_t>(out.byteSize()) /
                  (out.dtype() == DType::F32 ? 4 : 2);
  CommStatus s = comm->allreduce(out.data(), count, spec);
  if (!s.ok()) {
    ctx.error() << s.message();
    return failure();
  }
  return success();
}

} // namespace kiln::ops
