//===- GroupedMatmulFinalizeRouting.h - eager finalize_routing --*- C++ -*-===//
#pragma once

#include "ir/Attributes.h"
#include "runtime/SingleOp.h"
#include "runtime/Tensor.h"

#include <optional>
#include <source_location>

namespace kiln::npu {

/// Keyword arguments of torch_npu.npu_grouped_matmul_finalize_routing, with
/// its names and defaults (scale and row_index are required for int8 w).
struct GroupedMatmulFinalizeRoutingOptions {
  const Tensor *scale = nullptr;
  const Tensor *bias = nullptr;   ///< A8W4 only: must stay None
  const Tensor *offset = nullptr; ///< A8W4 only: must stay None
  const Tensor *pertoken_scale = nullptr;
  const Tensor *shared_input = nullptr;
  const Tensor *logit = nullptr;
  const Tensor *row_index = nullptr;
  std::optional<DType> dtype = std::nullopt; ///< None or f32
  double shared_input_weight = 1.0;
  int64_t shared_input_offset = 0;
  int64_t output_bs = 0; ///< 0: m output rows
  GroupListType group_list_type = GroupListType::Count;
};

/// Grouped int8 matmul + dequant + logit weighting + scatter-add combine
/// onto the shared expert's output (OPS.md §6). Returns f32
/// [output_bs or m, n].
Tensor grouped_matmul_finalize_routing(
    const Tensor &x, const Tensor &w, const Tensor &group_list,
    const GroupedMatmulFinalizeRoutingOptions &options = {},
    std::source_location loc = std::source_location::current());

} // namespace kiln::npu
