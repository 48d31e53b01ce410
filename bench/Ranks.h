//===- Ranks.h - kiln-bench --ranks: overlapped matmul + all-reduce -*- C++ -*-//
//
// Times npu.mm_all_reduce_base across ranks (OPS.md §5: x1 and x2 split
// along k) on one communicator backend: in-process threads (kiln-bench
// --ranks N) or MPI (kiln-bench under mpirun). For each shape:
//   T_mm    the fused op on one rank alone (no reduction): the matmul
//   T_ar    the all-reduce alone of the [m, n] f32 partials it reduces
//   T_seq   the fused op forced to one chunk: the matmul, then the
//           all-reduce (sequential, same kernel and backend)
//   T_fused the fused op with its planned chunks (reduction of chunk i
//           overlapped with the matmul of chunk i+1)
//   unfused the primitive graph matmul -> allreduce on the JIT
// and prints hidden = (T_seq - T_fused) / min(T_mm, T_ar), the fraction
// of the shorter side the overlap hides. Every time is the slowest rank's,
// between barriers, median of --repeat runs after a warm-up.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/Communicator.h"

#include <string>

namespace kiln::bench {

struct RanksOptions {
  unsigned repeat = 5;
  unsigned threads = 1; ///< compute threads per rank
  std::string filter;   ///< ECMAScript regex over case names
  bool small = false;   ///< small shapes only (CI smoke test)
};

/// Runs the table on `ranks` in-process ranks, or (ranks == 0) on MPI's
/// world; rank 0 prints. Returns the exit status.
int runRanksBench(int ranks, const RanksOptions &opts);

} // namespace kiln::bench
