//===- QuantMatchUtil.h - look-throughs shared by quant fusions -*- C++ -*-===//
//
// Helpers for passes/fusion/{QuantMatmulReduceSum,WeightQuantBatchmatmul}:
// the values a frontend wraps in exact conversions (a widening cast to f32,
// a format_cast back to ND) that the fused op takes unwrapped.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Op.h"

namespace kiln::fusion {

/// `v` when it has dtype `t`; the ND `t` value behind `v = cast(%src) {to =
/// f32}` (an exact widening from f16/bf16); nullptr otherwise.
inline Value *valueOrWidened(Value *v, DType t) {
  if (v->type().dtype == t)
    return v;
  if (v->type().dtype == DType::F32 && v->definedBy<ops::Cast>()) {
    Value *src = v->definingOp()->operand(ops::Cast::input);
    if (src->type().dtype == t && t != DType::F32 && isFloat(t) &&
        src->type().layout == Layout::ND)
      return src;
  }
  return nullptr;
}

/// The FRACTAL_NZ value behind `w`: `w` itself, or the NZ source of a
/// `format_cast {layout = ND}` (values are unchanged); nullptr otherwise.
inline Value *nzSource(Value *w) {
  if (w->type().layout == Layout::NZ)
    return w;
  if (w->definedBy<ops::FormatCast>()) {
    Value *src = w->definingOp()->operand(ops::FormatCast::input);
    if (src->type().layout == Layout::NZ)
      return src;
  }
  return nullptr;
}

} // namespace kiln::fusion
