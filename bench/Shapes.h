//===- Shapes.h - the fused operators and shapes kiln-bench times -*- C++ -*-=//
//
// Each case is one fused operator at one shape, written as its *primitive*
// decomposition (the positive cases of tests/lit/fusion/*.kir); kiln-bench
// runs fuse-all on a copy to get the fused graph, so the two always
// correspond. Dims stay symbols where the verifier allows (static mode
// specialises them, dynamic mode passes them at run time); the per-group K
// and the SwiGLU N must be static and are written as numbers.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/Executor.h"

#include <string>
#include <vector>

namespace kiln::bench {

struct BenchCase {
  std::string name;    ///< "op/variant/dims", what --filter matches
  std::string kir;     ///< the primitive graph, one function
  SymbolBindings dims; ///< sizes of the graph's symbols
  double macs = 0;     ///< multiply-accumulates the op performs
  bool int8 = false;   ///< int8 x int8 MACs (else f32 FMAs on widened f16)
  bool small = false;  ///< a reduced shape the reference executor can run
};

/// The shapes (issue 4, kiln-bench) and a small variant of each
/// (dims / 8 where the op allows), large first within each operator.
std::vector<BenchCase> benchCases();

} // namespace kiln::bench
