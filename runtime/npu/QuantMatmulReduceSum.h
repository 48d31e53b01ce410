//===- QuantMatmulReduceSum.h - the eager API -------------------*- C++ -*-===//
#pragma once

#include "runtime/SingleOp.h"
#include "runtime/Tensor.h"

#include <source_location>

namespace kiln::npu {

/// The arguments of torch_npu.npu_quant_matmul_reduce_sum after x1 and x2,
/// with torch_npu's names and defaults. x1_scale and x2_scale default to
/// None in the prototype but are required.
struct QuantMatmulReduceSumOptions {
  IntList dims = {0}; ///< only [0] (reduce the batch) is supported
  const Tensor *x1_scale = nullptr;     ///< f32 [batch, m], per token
  const Tensor *x2_scale = nullptr;     ///< bf16 [n], per channel
  Numerics numerics = Numerics::Golden; ///< kiln: golden or npu-compat
};

/// out[m,n] = bf16(sum_b (x1[b] @ x2[b])[m,n] * x2_scale[n] * x1_scale[b,m])
/// for x1 i8 [batch,m,k] ND and x2 i8 [batch,k,n] in FRACTAL_NZ (OPS.md §2).
/// Throws kiln::Error, located at the caller, on bad arguments.
Tensor quant_matmul_reduce_sum(
    const Tensor &x1, const Tensor &x2,
    const QuantMatmulReduceSumOptions &options = {},
    std::source_location loc = std::source_location::current());

} // namespace kiln::npu
