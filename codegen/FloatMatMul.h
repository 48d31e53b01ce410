//===- FloatMatMul.h - f16/bf16/f32 matmul on the float engine --*- C++ -*-===//
//
// The float forms of the `matmul` op (plain, batched, grouped) lowered onto
// codegen/FloatGemm.h; codegen/ops/MatMul.cpp dispatches here.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "codegen/Lowering.h"

namespace kiln::codegen {

/// Lowers a matmul whose operands are f16, bf16 or f32.
void lowerFloatMatMul(const Op &op, LoweringContext &ctx);

} // namespace kiln::codegen
