//===- MmAllReducePlan.cpp - chunk plans of npu.mm_all_reduce_base --------===//
//
// How many row chunks npu.mm_all_reduce_base computes, and through which
// transport (codegen/CommCalls.h), with the knobs that override the plan
// for tests and benchmarks (KILN_MM_AR_CHUNKS, KILN_MM_AR_WINDOW).
//
//===----------------------------------------------------------------------===//
#include "codegen/CommCalls.h"

#include "runtime/ThreadPool.h"

#include <fmt/core.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <string>

namespace kiln::codegen {

namespace {

std::atomic<int64_t> &chunkOverride() {
  static std::atomic<int64_t> chunks{[] {
    const char *env = std::getenv("KILN_MM_AR_CHUNKS");
    return env ? std::max<int64_t>(std::atoll(env), 0) : 0;
  }()};
  return chunks;
}

std::atomic<bool> &windowAllowed() {
  static std::atomic<bool> allowed{[] {
    const char *env = std::getenv("KILN_MM_AR_WINDOW");
    return !(env && std::string(env) == "0");
  }()};
  return allowed;
}

} // namespace

ChunkPlan planMmAllReduceChunks(const Communicator *comm, int64_t threads,
                                int64_t rows, int64_t k, int64_t n,
                                bool window) {
  int ranks = comm ? comm->size() : 1;
  int local = comm ? comm->localSize() : 1;
  int64_t cores = ThreadPool::hardwareThreads();
  int64_t maxChunks = std::clamp<int64_t>(rows, 1, 64);
  if (ranks == 1)
    return {1, "one rank, nothing to reduce"};
  if (int64_t forced = chunkOverride().load())
    return {std::clamp<int64_t>(forced, 1, maxChunks),
            window ? "forced, peer window" : "forced, messages"};
  if (window) {
    // The reduction is the pass that rounds P into `out` anyway, so the
    // chunks' own cost is the GEMM's: each chunk packs the weight again
    // (k x n), which only stays small next to at least max(64, 4k) rows of
    // partials. Within that, keep each chunk's partials L2-sized (~384 KiB)
    // for the reduction that follows it. At the seed's k = 2560 this is
    // one chunk; measured: 8 chunks there cost 10% more.
    int64_t chunks = std::clamp<int64_t>(
        std::min<int64_t>(rows * n * 4 / (384 << 10),
                          rows / std::max<int64_t>(64, 4 * k)),
        1, 16);
    // Small partials: the GEMM's scattered stores into the shared lines
    // (which the peers read last time) each wait on a coherence miss; a
    // private buffer and one streaming copy cost less. Measured at
    // m,k,n = 160,320,80: 3% faster than writing into the window.
    if (chunks == 1 && rows * n * 4 <= (256 << 10))
      return {1,
              "peer window, one chunk: small, so computed privately and "
              "copied in",
              true};
    return {chunks, "peer window: each chunk reduced from every rank's "
                    "partials while the next computes"};
  }
  if (cores < local * (threads + 1))
    return {1, fmt::format("messages, sequential: no spare core for the "
                           "reductions, {} local rank(s) x {} thread(s) on "
                           "{} cores",
                           local, threads, cores)};
  int64_t chunks = std::clamp<int64_t>(
      std::min<int64_t>({4, rows * n * 4 / (256 << 10), rows / 8}), 1, 64);
  return {chunks, chunks == 1 ? "messages, sequential: too small to split"
                              : "messages, reductions overlapped"};
}

void setMmAllReduceChunks(int64_t chunks) {
  chunkOverride().store(std::max<int64_t>(chunks, 0));
}

void setMmAllReducePeerWindow(bool allowed) { windowAllowed().store(allowed); }

bool mmAllReducePeerWindowAllowed() { return windowAllowed().load(); }

} // namespace kiln::codegen
