//===- QuantMatmulReduceSum.cpp - kiln::npu::quant_matmul_reduce_sum ------===//
#include "runtime/npu/QuantMatmulReduceSum.h"

namespace kiln::npu {

Tensor quant_matmul_reduce_sum(const Tensor &x1, const Tensor &x2,
                               const QuantMatmulReduceSumOptions &options,
                               std::source_location loc) {
  using Op = ops::QuantMatmulReduceSum;
  return runSingleOp(OpKind::QuantMatmulReduceSum,
                     {&x1, &x2, options.x1_scale, options.x2_scale},
                     Op::Attrs{.dims = options.dims}, loc,
                     {.numerics = options.numerics})
      .front();
}

} // namespace kiln::npu
