//===- CommCalls.cpp - the collective calls JIT-ed kernels make -----------===//
//
// allreduce and npu.mm_all_reduce_base reduce through the run's
// Communicator (RuntimeContext::comm, from EvalOptions::comm):
//   i64 kiln_allreduce_start(rt, data, count, dtype, op, numerics, compat)
//       -> a ticket, or -1 when there is nothing to reduce (one rank)
//   i32 kiln_allreduce_wait(rt, opIndex, ticket) -> 0, or 1 after
//       reporting the communicator's error at the op (once per run)
//   ptr kiln_scratch_get(rt): the buffer kiln_mm_ar_begin placed for the
//       kernel (MmAllReduceCalls.cpp), shared with the parallel bodies it
//       starts
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
  reportCommFailure(ctx, opIndex, s.message());
  return 1;
}

extern "C" void *kiln_scratch_get(void *rt) { return context(rt).scratch; }

extern "C" void kiln_set_range(void *rt, int64_t begin, int64_t end) {
  context(rt).rangeBegin = begin;
  context(rt).rangeEnd = end;
}
extern "C" int64_t kiln_range_begin(void *rt) { return context(rt).rangeBegin; }
extern "C" int64_t kiln_range_end(void *rt) { return context(rt).rangeEnd; }

} // namespace

/// This thread's buffer of at least `bytes`, reused across runs.
void *kiln_thread_scratch(void *, int64_t bytes) {
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

void reportCommFailure(RuntimeContext &ctx, int32_t opIndex,
                       const std::string &message) {
  std::lock_guard<std::mutex> lock(ctx.errors);
  if (ctx.commFailed)
    return;
  ctx.commFailed = true;
  auto it = ctx.graph->ops().begin();
  std::advance(it, opIndex);
  (*it)->emitError() << message;
}

std::vector<RuntimeSymbol> commSymbols() {
  return {{"kiln_allreduce_start", (void *)&kiln_allreduce_start},
          {"kiln_allreduce_wait", (void *)&kiln_allreduce_wait},
          {"kiln_thread_scratch", (void *)&kiln_thread_scratch},
          {"kiln_scratch_get", (void *)&kiln_scratch_get},
          {"kiln_set_range", (void *)&kiln_set_range},
          {"kiln_range_begin", (void *)&kiln_range_begin},
          {"kiln_range_end", (void *)&kiln_range_end}};
}

} // namespace kiln::codegen
