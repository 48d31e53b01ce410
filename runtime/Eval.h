//===- Eval.h - what a reference kernel sees --------------------*- C++ -*-===//
#pragma once

#include "ir/Op.h"
#include "runtime/Tensor.h"

#include <cassert>
#include <vector>

namespace kiln {

/// Numerics mode (OPS.md §0): golden rounds once at the end; npu-compat
/// reproduces the documented Ascend intermediate roundings.
enum class Numerics { Golden, NpuCompat };

class Communicator; // runtime/Communicator.h

struct EvalOptions {
  Numerics numerics = Numerics::Golden;
  /// The ranks allreduce and npu.mm_all_reduce_base reduce over; null is a
  /// single rank. Not part of what a compiled kernel depends on (the
  /// compile cache ignores it): kernels reach it at run time.
  Communicator *comm = nullptr;
};

/// Inputs and pre-allocated, zero-filled outputs of one op evaluation. The
/// executor sizes outputs from the op's result types with symbols bound.
class EvalContext {
public:
  EvalContext(const Op &op, std::vector<const Tensor *> inputs,
              std::vector<Tensor> &outputs, const EvalOptions &options)
      : op_(op), inputs_(std::move(inputs)), outputs_(outputs),
        options_(options) {
    assert(inputs_.size() == op.numOperands() && "one input per operand");
    assert(outputs_.size() == op.numResults() && "one output per result");
  }

  /// Operand i, or nullptr for an absent optional operand.
  const Tensor *input(unsigned i) const { return inputs_[i]; }
  const Tensor &in(unsigned i) const {
    assert(inputs_[i] && "absent operand");
    return *inputs_[i];
  }
  Tensor &out(unsigned i = 0) { return outputs_[i]; }
  unsigned numOutputs() const { return outputs_.size(); }
  const EvalOptions &options() const { return options_; }
  Numerics numerics() const { return options_.numerics; }
  /// A run-time data error (bad group_list, index out of range) at the op.
  InFlightDiag error() const { return op_.emitError(); }

private:
  const Op &op_;
  std::vector<const Tensor *> inputs_;
  std::vector<Tensor> &outputs_;
  const EvalOptions &options_;
};

} // namespace kiln
