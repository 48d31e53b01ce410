//===- WeightQuantBatchmatmulVerify.h - operand checks ----------*- C++ -*-===//
//
// The per-operand checks of npu.weight_quant_batchmatmul's verifier
// (ops/npu/WeightQuantBatchmatmul.cpp), split off to keep that file short.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Op.h"

namespace kiln::ops::wqbmm {

/// antiquant_scale / antiquant_offset: x's dtype, ND, per-tensor [1]/[1,1],
/// per-channel [N]/[1,N] or per-group [ceil(K/G),N]; the group size.
LogicalResult verifyAntiquant(const Op &op, const Dim &k, const Dim &n);
/// bias, quant_scale and quant_offset.
LogicalResult verifyEpilogue(const Op &op, const Dim &n);

} // namespace kiln::ops::wqbmm
