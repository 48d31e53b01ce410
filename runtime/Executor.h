//===- Executor.h - the reference interpreter -------------------*- C++ -*-===//
//
// Runs a verified graph op by op on the reference kernels in ops/. Slow and
// exact: the oracle every compiled path is compared against.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"
#include "runtime/Eval.h"
#include "runtime/Tensor.h"

#include <map>
#include <span>
#include <string>
#include <vector>

namespace kiln {

/// Concrete sizes of a graph's symbols.
using SymbolBindings = std::map<std::string, int64_t, std::less<>>;

/// Binds symbols from the input shapes (and `preset`, e.g. --dim), and
/// checks each input's dtype, layout, rank and static dims against its
/// parameter. Errors name the parameter and the conflicting dims. A null
/// input is skipped (its symbols stay unbound unless bound elsewhere).
FailureOr<SymbolBindings> bindSymbols(const Graph &g,
                                      std::span<const Tensor *const> inputs,
                                      const SymbolBindings &preset = {});
/// The same for a full set of inputs.
FailureOr<SymbolBindings> bindSymbols(const Graph &g,
                                      std::span<const Tensor> inputs,
                                      const SymbolBindings &preset = {});

/// `t`'s dims with symbols replaced by their bindings; nullopt (after an
/// error at `loc`) if a symbol is unbound.
FailureOr<Shape> resolveShape(const TensorType &t, const SymbolBindings &b,
                              DiagEngine &diags, const Location &loc);

/// Runs `g` on `inputs` (one per parameter, in order).
FailureOr<std::vector<Tensor>> runReference(const Graph &g,
                                            std::span<const Tensor> inputs,
                                            const EvalOptions &options = {},
                                            const SymbolBindings &preset = {});

} // namespace kiln
