//===- CommCalls.h - knobs of the collective runtime calls ------*- C++ -*-===//
#pragma once

#include "runtime/Communicator.h"

#include <cstdint>
#include <string>

namespace kiln::codegen {

/// How many row chunks npu.mm_all_reduce_base pipelines, and why.
struct ChunkPlan {
  int64_t chunks;
  std::string why;
};

/// The plan for `rows` x `n` outputs on `comm` (null: one rank) with
/// `threads` compute threads per rank. Overlap only pays when the
/// reductions have cores of their own (they are memory work on the CPU:
/// sharing the compute threads' cores just time-slices them) and each chunk
/// is big enough that its latency stays small: one chunk (sequential) for
/// a single rank, when this machine's ranks times (threads + 1) exceed its
/// cores, or below 8 rows / 256 KiB of f32 partials per chunk; else up to
/// 4 chunks. setMmAllReduceChunks overrides.
ChunkPlan planMmAllReduceChunks(const Communicator *comm, int64_t threads,
                                int64_t rows, int64_t n);

/// Forces the number of row chunks npu.mm_all_reduce_base pipelines on
/// multi-rank runs (1 = sequential: the whole matmul, then one reduction);
/// 0 returns to the plan from the shape. For benchmarks and tests; the
/// environment variable KILN_MM_AR_CHUNKS sets the initial value.
void setMmAllReduceChunks(int64_t chunks);

} // namespace kiln::codegen
