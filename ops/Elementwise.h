//===- Elementwise.h - shared pieces of the glue ops' kernels ---*- C++ -*-===//
//
// The broadcasting binary ops (add, mul) share one verifier and one kernel,
// parameterised by the arithmetic; the data-movement ops (transpose, reshape,
// slice, format_cast) share an exact element copy.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Op.h"
#include "runtime/Eval.h"
#include "runtime/Tensor.h"

#include <cstdint>
#include <vector>

namespace kiln::ops {

/// The arithmetic of a binary op in its two numeric domains. Floats are
/// computed in fp32 (the result is then rounded to the dtype once); integers
/// in 64-bit two's complement, i.e. modulo 2^64, which the store then wraps
/// to the dtype's width.
struct BinaryFn {
  float (*onFloat)(float, float);
  uint64_t (*onInt)(uint64_t, uint64_t);
};

/// Verifier and shape inference of a broadcasting binary op whose operands
/// are 0 and 1: same dtype (any but i4), NumPy broadcasting, ND result.
LogicalResult inferBroadcastBinary(const Op &op,
                                   std::vector<TensorType> &results);
/// Reference kernel of a broadcasting binary op (see BinaryFn).
LogicalResult evalBroadcastBinary(EvalContext &ctx, BinaryFn fn);

/// Copies logical element `srcIndex` of `src` to `dstIndex` of `dst`. Exact
/// when both have the same dtype (integers go through int64, not double).
void copyElement(const Tensor &src, int64_t srcIndex, Tensor &dst,
                 int64_t dstIndex);

/// Row-major linear index of multi-index `idx` in `shape`.
int64_t ravelIndex(const std::vector<int64_t> &idx, const Shape &shape);

} // namespace kiln::ops
