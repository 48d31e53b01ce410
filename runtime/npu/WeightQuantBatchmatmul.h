//===- WeightQuantBatchmatmul.h - the eager API -----------------*- C++ -*-===//
#pragma once

#include "runtime/SingleOp.h"
#include "runtime/Tensor.h"

#include <optional>
#include <source_location>

namespace kiln::npu {

/// The keyword arguments of torch_npu.npu_weight_quant_batchmatmul, with
/// torch_npu's names and defaults, then kiln's additions.
struct WeightQuantBatchmatmulOptions {
  const Tensor *antiquant_offset = nullptr; ///< antiquant_scale's type
  const Tensor *quant_scale = nullptr;      ///< f32 or packed i64: int8 output
  const Tensor *quant_offset = nullptr;     ///< f32, quant_scale's shape
  const Tensor *bias = nullptr;             ///< [n]: f16 (f16 x) / f32 (bf16 x)
  int64_t antiquant_group_size = 0;         ///< per-group G: 32k in [32, k-1]
  int64_t inner_precise = 0;                ///< 0 or 1, a performance hint
  /// kiln: the weight is stored [n, k] and used transposed (torch's
  /// `weight.t()` view); the scales stay in the logical [k, n] frame.
  bool transpose_weight = false;
  /// kiln: round the dequantized weight to this dtype before the matmul
  /// (unset: keep it in fp32, the golden definition).
  std::optional<DType> antiquant_out_dtype = std::nullopt;
  Numerics numerics = Numerics::Golden; ///< kiln: golden or npu-compat
};

/// y = x @ ((weight + antiquant_offset) * antiquant_scale) + bias, in x's
/// dtype, or int8 when quant_scale is given (OPS.md §3). x f16/bf16 [m, k];
/// weight i8 or i4 [k, n], ND or FRACTAL_NZ. Throws kiln::Error, located at
/// the caller, on bad arguments.
Tensor weight_quant_batchmatmul(
    const Tensor &x, const Tensor &weight, const Tensor &antiquant_scale,
    const WeightQuantBatchmatmulOptions &options = {},
    std::source_location loc = std::source_location::current());

} // namespace kiln::npu
