//===- OpInfo.h - per-op hooks looked up by OpKind --------------*- C++ -*-===//
#pragma once

#include "ir/Diagnostics.h"
#include "ir/OpDefs.h"
#include "ir/Types.h"

#include <span>
#include <string_view>
#include <vector>

namespace kiln {

class Op;
class EvalContext;

struct OperandSpec {
  std::string_view name;
  bool optional;
};

/// Verifies the op's operands and attributes and computes its result types.
/// `results` holds the declared result types on entry (empty when none were
/// declared, as from the Builder); only `constant` reads them.
using InferFn = LogicalResult (*)(const Op &op,
                                  std::vector<TensorType> &results);
/// Reference kernel: plain loops, the oracle for everything else.
using EvalFn = LogicalResult (*)(const Op &op, EvalContext &ctx);

struct OpInfo {
  OpKind kind;
  std::string_view mnemonic;
  unsigned traits;
  std::span<const OperandSpec> operands;
  InferFn infer;
  EvalFn eval;
  OpAttrs (*defaultAttrs)();

  bool hasTrait(OpTrait t) const { return (traits & t) != 0; }
};

const OpInfo &opInfo(OpKind kind);
/// nullptr when no op has this mnemonic.
const OpInfo *lookupOp(std::string_view mnemonic);
std::span<const OpInfo> allOps();

} // namespace kiln
