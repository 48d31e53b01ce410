//===- CommCalls.cpp - the collective calls JIT-ed kernels make -----------===//
//
// allreduce and npu.mm_all_reduce_base reduce through the run's
// Communicator (RuntimeContext::comm, from EvalOptions::comm):
//   i64 kiln_allreduce_start(rt, data, count, dtype, op, numerics, compat)
//       -> a ticket, or -1 when there is nothing to reduce (one rank)
//   i32 kiln_allreduce_wait(rt, opIndex, ticket) -> 0, or 1 after
//       reporting the communicator's error at the op (once per run)
//   i64 kiln_mm_allreduce_chunks(rt, opIndex, rows, k, n): how many row
//       chunks mm_all_reduce_base pipelines (KILN_LOG=comm prints it)
//   ptr kiln_scratch(rt, bytes) / kiln_scratch_get(rt): the kernel
//       thread's buffer, reused across runs (fresh pages cost more than the
//       work), shared with the parallel bodies it starts
//   ptr kiln_thread_scratch(rt, bytes): the calling thread's own buffer
//       (for parallel bodies)
//   kiln_set_range(rt, begin, end) / kiln_range_begin / kiln_range_end:
//       bounds an outlined parallel body can read (it sees no outer values)
//
//===----------------------------------------------------------------------===//
#include "codegen/CommCalls.h"
#include "codegen/RuntimeCalls.h"

#include <fmt/core.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <set>
#include <string>
#include <tuple>

namespace kiln::codegen {

namespace {

RuntimeContext &context(void *rt) { return *static_cast<RuntimeContext *>(rt); }

std::atomic<int64_t> &chunkOverride() {
  static std::atomic<int64_t> chunks{[] {
    const char *env = std::getenv("KILN_MM_AR_CHUNKS");
    return env ? std::max<int64_t>(std::atoll(env), 0) : 0;
  }()};
  return chunks;
}

extern "C" int64_t kiln_allreduce_start(void *rt, void *data, int64_t count,
                                        int32_t dtype, int32_t op,
                                        int32_t numerics, int32_t compat) {
  Communicator *comm = context(rt).comm;
  if (!comm || comm->size() == 1)
    return -1;
  ReduceSpec spec{static_cast<DType>(dtype), static_cast<ReduceOp>(op),
                  static_cast<Numerics>(numerics), std::nullopt};
  if (compat >= 0)
    spec.compatType = static_cast<DType>(compat);
  return comm->start(data, count, spec);
}

extern "C" int32_t kiln_allreduce_wait(void *rt, int32_t opIndex,
                                       int64_t ticket) {
  if (ticket < 0)
    return 0;
  RuntimeContext &ctx = context(rt);
  CommStatus s = ctx.comm->wait(ticket);
  if (s.ok())
    return 0;
  std::lock_guard<std::mutex> lock(ctx.errors);
  if (!ctx.commFailed) {
    ctx.commFailed = true;
    auto it = ctx.graph->ops().begin();
    std::advance(it, opIndex);
    (*it)->emitError() << s.message();
  }
  return 1;
}

/// kiln_mm_allreduce_chunks(rt, opIndex, rows, k, n): planMmAllReduceChunks
/// for this run; KILN_LOG=comm prints each new decision and its reason.
extern "C" int64_t kiln_mm_allreduce_chunks(void *rt, int32_t opIndex,
                                            int64_t rows, int64_t k,
                                            int64_t n) {
  RuntimeContext &ctx = context(rt);
  int ranks = ctx.comm ? ctx.comm->size() : 1;
  ChunkPlan plan =
      planMmAllReduceChunks(ctx.comm, ctx.pool ? ctx.pool->threads() : 1,
                            rows, n);
  int64_t chunks = plan.chunks;
  const std::string &why = plan.why;
  const char *log = std::getenv("KILN_LOG");
  if (log && std::strstr(log, "comm")) {
    static std::mutex mutex;
    static std::set<std::tuple<int32_t, int64_t, int64_t, int64_t, int,
                               std::string>>
        seen;
    std::lock_guard<std::mutex> lock(mutex);
    if (seen.insert({opIndex, rows, k, n, ranks, why}).second)
      fmt::print(stderr,
                 "kiln: npu.mm_all_reduce_base (op {}): m={} k={} n={} over "
                 "{} rank(s): {} chunk(s) of ~{} rows ({})\n",
                 opIndex, rows, k, n, ranks, chunks,
                 (rows + chunks - 1) / chunks, why);
  }
  return chunks;
}

/// This thread's buffer of at least `bytes`, reused across runs.
extern "C" void *kiln_thread_scratch(void *, int64_t bytes) {
  struct Arena {
    void *data = nullptr;
    int64_t size = 0;
    ~Arena() { std::free(data); }
  };
  thread_local Arena arena;
  if (bytes > arena.size) {
    std::free(arena.data);
    arena.size = (bytes + 63) / 64 * 64;
    arena.data = std::aligned_alloc(64, arena.size);
  }
  return arena.data;
}

/// The calling thread's scratch, published in the context for the parallel
/// bodies it starts next (kiln_scratch_get). Only a kernel's own thread may
/// call it: pool workers use kiln_thread_scratch, which writes no shared
/// state.
extern "C" void *kiln_scratch(void *rt, int64_t bytes) {
  return context(rt).scratch = kiln_thread_scratch(rt, bytes);
}

extern "C" void *kiln_scratch_get(void *rt) { return context(rt).scratch; }

extern "C" void kiln_set_range(void *rt, int64_t begin, int64_t end) {
  context(rt).rangeBegin = begin;
  context(rt).rangeEnd = end;
}
extern "C" int64_t kiln_range_begin(void *rt) { return context(rt).rangeBegin; }
extern "C" int64_t kiln_range_end(void *rt) { return context(rt).rangeEnd; }

} // namespace

ChunkPlan planMmAllReduceChunks(const Communicator *comm, int64_t threads,
                                int64_t rows, int64_t n) {
  int ranks = comm ? comm->size() : 1;
  int local = comm ? comm->localSize() : 1;
  int64_t cores = ThreadPool::hardwareThreads();
  if (ranks == 1)
    return {1, "one rank, nothing to reduce"};
  if (int64_t forced = chunkOverride().load())
    return {std::clamp<int64_t>(forced, 1, std::clamp<int64_t>(rows, 1, 64)),
            "forced"};
  if (cores < local * (threads + 1))
    return {1, fmt::format("sequential: no spare core for the reductions, {} "
                           "local rank(s) x {} thread(s) on {} cores",
                           local, threads, cores)};
  int64_t chunks = std::clamp<int64_t>(
      std::min<int64_t>({4, rows * n * 4 / (256 << 10), rows / 8}), 1, 64);
  return {chunks, chunks == 1 ? "sequential: too small to split"
                              : "reductions overlapped"};
}

void setMmAllReduceChunks(int64_t chunks) {
  chunkOverride().store(std::max<int64_t>(chunks, 0));
}

std::vector<RuntimeSymbol> commSymbols() {
  return {{"kiln_allreduce_start", (void *)&kiln_allreduce_start},
          {"kiln_allreduce_wait", (void *)&kiln_allreduce_wait},
          {"kiln_mm_allreduce_chunks", (void *)&kiln_mm_allreduce_chunks},
          {"kiln_scratch", (void *)&kiln_scratch},
          {"kiln_thread_scratch", (void *)&kiln_thread_scratch},
          {"kiln_scratch_get", (void *)&kiln_scratch_get},
          {"kiln_set_range", (void *)&kiln_set_range},
          {"kiln_range_begin", (void *)&kiln_range_begin},
          {"kiln_range_end", (void *)&kiln_range_end}};
}

} // namespace kiln::codegen
