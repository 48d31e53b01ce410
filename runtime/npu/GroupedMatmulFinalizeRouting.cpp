//===- GroupedMatmulFinalizeRouting.cpp - eager finalize_routing ----------===//
#include "runtime/npu/GroupedMatmulFinalizeRouting.h"

namespace kiln::npu {

Tensor grouped_matmul_finalize_routing(
    const Tensor &x, const Tensor &w, const Tensor &group_list,
    const GroupedMatmulFinalizeRoutingOptions &options,
    std::source_location loc) {
  using Op = ops::GroupedMatmulFinalizeRouting;
  std::vector<Tensor> r = runSingleOp(
      OpKind::GroupedMatmulFinalizeRouting,
      {&x, &w, &group_list, options.scale, options.bias, options.offset,
       options.pertoken_scale, options.shared_input, options.logit,
       options.row_index},
      Op::Attrs{.dtype = options.dtype,
                .shared_input_weight = options.shared_input_weight,
                .shared_input_offset = options.shared_input_offset,
                .output_bs = Dim(options.output_bs),
                .group_list_type = options.group_list_type},
      loc);
  return std::move(r[0]);
}

} // namespace kiln::npu
