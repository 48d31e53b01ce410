//===- MatMul.cpp - lowering of plain, batched and grouped matmul ---------===//
//
// The sums of ops/MatMul.cpp on the two GEMM engines: f16/bf16/f32 operands
// on the float engine (codegen/FloatMatMul.cpp over codegen/FloatGemm.h:
// float(a) * float(b) summed in ascending k with fmul + fadd, rounded once
// to the result dtype), i8 x i8 -> i32 on the int8 engine
// (codegen/Int8MatMul.cpp over codegen/Int8Gemm.h: exact, wrapping to i32).
//
//===----------------------------------------------------------------------===//
#include "codegen/FloatMatMul.h"
#include "codegen/Int8Gemm.h"

namespace kiln::codegen {

LogicalResult lowerMatMul(const Op &op, LoweringContext &ctx) {
  if (isFloat(op.operand(ops::MatMul::lhs)->type().dtype)) {
    lowerFloatMatMul(op, ctx);
    return success();
  }
  return lowerInt8MatMul(op, ctx);
}

} // namespace kiln::codegen
