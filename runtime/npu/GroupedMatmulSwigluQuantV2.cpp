//===- GroupedMatmulSwigluQuantV2.cpp - eager swiglu_quant_v2 -------------===//
#include "runtime/npu/GroupedMatmulSwigluQuantV2.h"

namespace kiln::npu {

std::pair<Tensor, Tensor> grouped_matmul_swiglu_quant_v2(
    const Tensor &x, const Tensor &weight, const Tensor &weight_scale,
    const Tensor &x_scale, const Tensor &group_list,
    const GroupedMatmulSwigluQuantV2Options &options,
    std::source_location loc) {
  using Op = ops::GroupedMatmulSwigluQuantV2;
  std::vector<Tensor> r = runSingleOp(
      OpKind::GroupedMatmulSwigluQuantV2,
      {&x, &weight, &weight_scale, &x_scale, &group_list, options.smooth_scale,
       options.weight_assist_matrix, options.bias},
      Op::Attrs{.dequant_mode = options.dequant_mode,
                .dequant_dtype = options.dequant_dtype,
                .quant_mode = options.quant_mode,
                .quant_dtype = options.quant_dtype,
                .group_list_type = options.group_list_type,
                .tuning_config = options.tuning_config},
      loc);
  return {std::move(r[0]), std::move(r[1])};
}

} // namespace kiln::npu
