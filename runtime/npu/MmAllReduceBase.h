//===- MmAllReduceBase.h - kiln::npu::mm_all_reduce_base --------*- C++ -*-===//
#pragma once

#include "ir/Attributes.h"
#include "runtime/SingleOp.h"
#include "runtime/Tensor.h"

#include <source_location>
#include <string_view>

namespace kiln::npu {

/// Keyword arguments of torch_npu.npu_mm_all_reduce_base, with its names
/// and defaults. Which scales are allowed depends on the mode (x1/x2
/// dtypes); ops/npu/MmAllReduceBase.cpp has the tables.
struct MmAllReduceBaseOptions {
  ReduceOp reduce_op = ReduceOp::Sum; ///< only sum is supported
  const Tensor *bias = nullptr;
  const Tensor *antiquant_scale = nullptr;
  const Tensor *antiquant_offset = nullptr;
  const Tensor *x3 = nullptr;
  const Tensor *dequant_scale = nullptr;
  const Tensor *pertoken_scale = nullptr;
  const Tensor *comm_quant_scale_1 = nullptr; ///< not supported yet
  const Tensor *comm_quant_scale_2 = nullptr; ///< not supported yet
  int64_t comm_turn = 0;                      ///< only 0
  int64_t antiquant_group_size = 0;
};

/// matmul (non-quant, weight-quant or full-quant) + bias + x3 on this rank,
/// then AllReduce_sum over the group (OPS.md §5). kiln has one world group
/// per run: `hcom` must be non-empty and any name selects it. Returns
/// [m, n] or [b, s, n] in x1's dtype (full-quant: f16 or bf16).
Tensor
mm_all_reduce_base(const Tensor &x1, const Tensor &x2, std::string_view hcom,
                   const MmAllReduceBaseOptions &options = {},
                   std::source_location loc = std::source_location::current());

} // namespace kiln::npu
