//===- ResultText.h - how kiln-run shows a result tensor --------*- C++ -*-===//
#pragma once

#include "runtime/Tensor.h"

#include <cstdint>

namespace kiln::tools {

/// Writes `t` to stdout as nested lists, e.g. [[1, 2], [3, 4]].
void printValues(const Tensor &t);

/// FNV-1a over the logical values, so equal results hash equally whatever
/// their layout.
uint64_t checksum(const Tensor &t);

} // namespace kiln::tools
