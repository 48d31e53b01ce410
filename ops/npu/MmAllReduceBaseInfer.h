//===- MmAllReduceBaseInfer.h - npu.mm_all_reduce_base verifier -*- C++ -*-===//
#pragma once

#include "ir/Op.h"

#include <vector>

namespace kiln::ops::npu {

/// Verifies npu.mm_all_reduce_base against the seed 003 dtype tables
/// (ops/npu/MmAllReduceBase.cpp documents them) and infers its result type.
LogicalResult inferMmAllReduceBaseType(const Op &op,
                                       std::vector<TensorType> &results);

} // namespace kiln::ops::npu
