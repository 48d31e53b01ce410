//===- SingleOp.h - run one op eagerly, torch_npu single-op style -*- C++ -*-=//
#pragma once

#include "ir/OpDefs.h"
#include "runtime/Eval.h"
#include "runtime/Tensor.h"

#include <source_location>
#include <stdexcept>
#include <vector>

namespace kiln {

/// Thrown by the eager single-op API (kiln::npu::*) on bad arguments, like
/// torch's RuntimeError; what() is the located diagnostic.
class Error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// Builds a one-op graph of `kind` whose parameters have the types of
/// `inputs` (nullptr for an absent optional operand), verifies it and runs
/// it on the reference executor. Errors are reported at `loc` (the user's
/// call) and thrown as kiln::Error.
std::vector<Tensor> runSingleOp(OpKind kind,
                                const std::vector<const Tensor *> &inputs,
                                OpAttrs attrs, std::source_location loc,
                                const EvalOptions &options = {});

} // namespace kiln
