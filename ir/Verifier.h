//===- Verifier.h - structural and per-op checks ----------------*- C++ -*-===//
#pragma once

#include "ir/Graph.h"

namespace kiln {

/// Checks a graph: operands present and defined before use, symbols declared,
/// each op's own verifier (its infer hook) passes and its result types equal
/// the inferred ones, results defined. Reports the first error per graph.
LogicalResult verify(const Graph &g);
LogicalResult verify(const Module &m);

} // namespace kiln
