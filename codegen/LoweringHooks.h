//===- LoweringHooks.h - one lowering per op in ir/Ops.def ------*- C++ -*-===//
#pragma once

#include "codegen/Lowering.h"

namespace kiln::codegen {

#define OPERANDS(...)
#define ATTRS(...)
#define OP(Class, name, traits, operands, attrs)                               \
  LogicalResult lower##Class(const Op &op, LoweringContext &ctx);
#include "ir/Ops.def"
#undef OPERANDS
#undef ATTRS

using LowerFn = LogicalResult (*)(const Op &, LoweringContext &);
/// The lowering of an op kind.
LowerFn lowering(OpKind kind);

} // namespace kiln::codegen
