//===- Mul.cpp - mul: broadcasting elementwise product --------------------===//
//
// %r = mul(%lhs, %rhs) : T
//
// lhs and rhs have the same dtype (any but i4) and any layouts; their shapes
// broadcast NumPy style (ops/OpUtils.h broadcastDims: right-aligned, a 1
// stretches, symbols match only themselves or 1). The result has the
// broadcast shape, the operands' dtype and ND layout.
//   floats:   r = rne_dtype(fp32(float(lhs) * float(rhs))): the product is a
//             float (fp32) operation, its result then rounded to the dtype
//             to nearest even (exact for f32), as a JIT's fpext/op/fptrunc;
//   integers: the exact product, wrapped modulo 2^bits (two's complement).
//
//===----------------------------------------------------------------------===//
#include "ops/Elementwise.h"
#include "ops/OpHooks.h"

namespace kiln::ops {

LogicalResult inferMul(const Op &op, std::vector<TensorType> &results) {
  return inferBroadcastBinary(op, results);
}

LogicalResult evalMul(const Op &op, EvalContext &ctx) {
  return evalBroadcastBinary(ctx,
                             {[](float a, float b) { return a * b; },
                              [](uint64_t a, uint64_t b) { return a * b; }});
}

} // namespace kiln::ops
