//===- RandomInputs.h - seeded inputs that satisfy a graph ------*- C++ -*-===//
#pragma once

#include "ir/Graph.h"
#include "runtime/Executor.h"
#include "runtime/Tensor.h"

#include <cstdint>

namespace kiln {

/// A seeded random value for parameter `param` of `g`, its symbols resolved
/// through `dims`. Data operands get the dtype's full range (ints, e.g. i8
/// in [-128, 127]) or uniform [-1, 1) (floats). Parameters that feed a
/// structural operand get values the op accepts: a `group_list` operand a
/// random partition of the op's rows in the op's group_list_type, an
/// `index`/`row_index` operand rows in [0, op result rows). The stream
/// depends only on (seed, parameter index), so giving one input from a file
/// leaves the others unchanged.
FailureOr<Tensor> randomInput(const Graph &g, unsigned param,
                              const SymbolBindings &dims, uint64_t seed);

} // namespace kiln
