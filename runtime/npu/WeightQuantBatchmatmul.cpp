//===- WeightQuantBatchmatmul.cpp - kiln::npu::weight_quant_batchmatmul ---===//
#include "runtime/npu/WeightQuantBatchmatmul.h"

namespace kiln::npu {

Tensor weight_quant_batchmatmul(const Tensor &x, const Tensor &weight,
                                const Tensor &antiquant_scale,
                                const WeightQuantBatchmatmulOptions &options,
                                std::source_location loc) {
  using Op = ops::WeightQuantBatchmatmul;
  Op::Attrs attrs{.antiquant_group_size = options.antiquant_group_size,
                  .inner_precise = options.inner_precise,
                  .transpose_weight = options.transpose_weight,
                  .antiquant_out_dtype = options.antiquant_out_dtype};
  return runSingleOp(OpKind::WeightQuantBatchmatmul,
                     {&x, &weight, &antiquant_scale, options.antiquant_offset,
                      options.quant_scale, options.quant_offset, options.bias},
                     attrs, loc, {.numerics = options.numerics})
      .front();
}

} // namespace kiln::npu
