//===- OpHooks.h - the hooks every op in ir/Ops.def defines -----*- C++ -*-===//
#pragma once

#include "ir/Op.h"
#include "runtime/Eval.h"

#include <vector>

namespace kiln::ops {

#define OPERANDS(...)
#define ATTRS(...)
#define OP(Class, name, traits, operands, attrs)                               \
  LogicalResult infer##Class(const Op &op, std::vector<TensorType> &results);  \
  LogicalResult eval##Class(const Op &op, EvalContext &ctx);
#include "ir/Ops.def"
#undef OPERANDS
#undef ATTRS

} // namespace kiln::ops
