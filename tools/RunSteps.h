//===- RunSteps.h - the steps of one kiln-run rank --------------*- C++ -*-===//
//
// Reading a rank's inputs, running the graph (compiled or on the reference
// executor) and checking it against the reference: tools/kiln-run.cpp
// strings them together per rank.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"
#include "runtime/Executor.h"
#include "tools/RunOptions.h"

#include <optional>
#include <span>

namespace kiln::tools {

/// Every parameter's tensor: --input files (`{rank}` replaced by `rank`)
/// first, as they bind symbols the random ones may need, then seeded random
/// tensors if --random-inputs. Nullopt after reporting a problem (as `who`).
std::optional<std::vector<Tensor>>
readInputs(const RunOptions &opts, const Graph &g, const SymbolBindings &preset,
           int rank, const std::string &who, DiagEngine &diags);

/// "@f(%x1: f16[8,64], ...) M=8": what every rank must agree on.
std::string shapeSignature(const Graph &g, std::span<const Tensor> args,
                           const SymbolBindings &preset);

/// Runs `g` `repeat` times in the chosen mode (after --passes when
/// compiling); returns the last results and stores the median wall time.
FailureOr<std::vector<Tensor>> execute(const RunOptions &opts, const Graph &g,
                                       std::span<const Tensor> args,
                                       const EvalOptions &eval,
                                       const SymbolBindings &preset,
                                       DiagEngine &diags, double &medianMs);

/// Prints the difference of each result from the reference executor (when
/// `print`); false when an integer differs or a float is off by more than
/// one ulp.
bool checkAgainstReference(const Graph &g, std::span<const Tensor> args,
                           const EvalOptions &eval,
                           const SymbolBindings &preset,
                           const std::vector<Tensor> &got, bool print);

} // namespace kiln::tools
