//===- GroupedMatmulSwigluQuantV2.h - eager swiglu_quant_v2 -----*- C++ -*-===//
#pragma once

#include "ir/Attributes.h"
#include "runtime/SingleOp.h"
#include "runtime/Tensor.h"

#include <source_location>
#include <utility>

namespace kiln::npu {

/// Keyword arguments of torch_npu.npu_grouped_matmul_swiglu_quant_v2, with
/// its names and defaults. The tensors and modes other than these defaults
/// are rejected, as torch_npu documents.
struct GroupedMatmulSwigluQuantV2Options {
  const Tensor *smooth_scale = nullptr;
  const Tensor *weight_assist_matrix = nullptr;
  const Tensor *bias = nullptr;
  int64_t dequant_mode = 0;
  int64_t dequant_dtype = 0;
  int64_t quant_mode = 0;
  int64_t quant_dtype = 0;
  /// torch_npu accepts only cumsum (0); kiln also accepts count.
  GroupListType group_list_type = GroupListType::Cumsum;
  IntList tuning_config = {}; ///< a hint; ignored
};

/// Grouped int8 matmul + dequant + SwiGLU + per-token int8 quant (OPS.md
/// §4). `weight` is the single tensor torch_npu takes as a one-element list
/// (i8 [E, K, N], NZ). Returns (out i8 [M, N/2], out_scale f32 [M]).
std::pair<Tensor, Tensor> grouped_matmul_swiglu_quant_v2(
    const Tensor &x, const Tensor &weight, const Tensor &weight_scale,
    const Tensor &x_scale, const Tensor &group_list,
    const GroupedMatmulSwigluQuantV2Options &options = {},
    std::source_location loc = std::source_location::current());

} // namespace kiln::npu
