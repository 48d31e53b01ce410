//===- CommCalls.h - knobs of the collective runtime calls ------*- C++ -*-===//
#pragma once

#include "runtime/Communicator.h"

#include <cstdint>
#include <string>

namespace kiln::codegen {

/// How many row chunks npu.mm_all_reduce_base pipelines, and why.
/// The dtype of npu.mm_all_reduce_base's partials P: the out dtype in
/// npu-compat when that is f16/bf16 (every partial is rounded to it before
/// the reduction, so 16 bits hold it exactly and the ranks exchange half
/// the bytes), else f32. The lowering and the runtime both follow it.
inline DType mmAllReducePartialType(Numerics numerics, DType out) {
  bool narrow = out == DType::F16 || out == DType::BF16;
  return numerics == Numerics::NpuCompat && narrow ? out : DType::F32;
}

struct ChunkPlan {
  int64_t chunks;
  std::string why;
  /// Window only: compute the partials in private memory and copy them in
  /// when published (small partials, see planMmAllReduceChunks).
  bool copyIn = false;
};

/// The plan for `rows` x `n` outputs of a k-deep partial on `comm` (null:
/// one rank) with `threads` compute threads per rank, through the peer
/// window (`window`: every rank on this host) or messages. Through the
/// window, each chunk is reduced by the pass that rounds it into the output
/// anyway: ~384 KiB of f32 partials and at least max(64, 4k) rows each (a
/// chunk repacks the k x n weight), up to 16; one chunk of at most 256 KiB
/// is computed in private memory and copied in (ChunkPlan::copyIn). Through
/// messages, overlap only pays when the reductions have cores of their own
/// (they are memory work on the communicator's progress thread: sharing
/// the compute threads' cores just time-slices them) and each chunk is big
/// enough that its latency stays small: one chunk (sequential) when this
/// machine's ranks times (threads + 1) exceed its cores, or below 8 rows /
/// 256 KiB per chunk; else up to 4. setMmAllReduceChunks overrides.
ChunkPlan planMmAllReduceChunks(const Communicator *comm, int64_t threads,
                                int64_t rows, int64_t k, int64_t n,
                                bool window);

/// Forces the number of row chunks npu.mm_all_reduce_base pipelines on
/// multi-rank runs (1 = sequential: the whole matmul, then one reduction);
/// 0 returns to the plan from the shape. For benchmarks and tests; the
/// environment variable KILN_MM_AR_CHUNKS sets the initial value.
void setMmAllReduceChunks(int64_t chunks);

/// Whether npu.mm_all_reduce_base may reduce through the peer window when
/// every rank shares this host (default); false forces messages. For
/// benchmarks and tests; KILN_MM_AR_WINDOW=0 sets the initial value.
void setMmAllReducePeerWindow(bool allowed);
/// Whether mm_all_reduce_base may use the peer window (the knob above).
bool mmAllReducePeerWindowAllowed();

/// The calling thread's scratch of at least `bytes`, reused across runs.
extern "C" void *kiln_thread_scratch(void *rt, int64_t bytes);

} // namespace kiln::codegen
