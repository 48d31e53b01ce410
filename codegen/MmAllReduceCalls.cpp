//===- MmAllReduceCalls.cpp - the runtime side of npu.mm_all_reduce_base --===//
//
// The lowering (codegen/ops/MmAllReduceBase.cpp) computes this rank's f32
// partial P [rows, n] chunk by chunk and leaves the reduction to these
// calls:
//   i64 kiln_mm_ar_begin(rt, op, rows, k, n, out, outType, numerics)
//       -> the number of row chunks (0 after reporting a failure); points
//          kiln_scratch_get at where P goes
//   i32 kiln_mm_ar_chunk(rt, op, c, r0, r1) -> 0, or 1 after a failure:
//       chunk c (rows [r0, r1) of P) is complete
//   i32 kiln_mm_ar_finish(rt, op) -> 0 when `out` holds the result, 1 when
//       the kernel must still round P into `out`, 2 after a failure
// Two transports, chosen per run:
//   peer window (every rank on this host, runtime/comm/PeerWindow.h): P is
//     this rank's block of the window (small P: private, copied in when
//     published); chunk c is published, then chunk c-1 reduced from every
//     rank's block straight into `out` while the peers compute (a one-shot
//     all-reduce fused with the final rounding);
//   messages (ranks on several hosts, or forced): P is private scratch and
//     chunk c's all-reduce is started (Communicator::start), to run on the
//     communicator's progress thread while chunk c+1 computes; finish
//     waits for all, and the kernel rounds P into `out`.
// Both reduce every element once, in rank order (runtime/comm/Reduce.h),
// so the result is bit-identical to the reference whatever the chunking.
//
//===----------------------------------------------------------------------===//
#include "codegen/CommCalls.h"
#include "codegen/RuntimeCalls.h"
#include "runtime/comm/PeerWindow.h"
#include "runtime/comm/Reduce.h"

#include <fmt/core.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <set>
#include <tuple>

namespace kiln::codegen {

namespace {

RuntimeContext &context(void *rt) { return *static_cast<RuntimeContext *>(rt); }

/// KILN_LOG=comm prints each new decision and its reason.
void logPlan(int32_t opIndex, int64_t rows, int64_t k, int64_t n, int ranks,
             const ChunkPlan &plan) {
  const char *log = std::getenv("KILN_LOG");
  if (!log || !std::strstr(log, "comm"))
    return;
  static std::mutex mutex;
  static std::set<
      std::tuple<int32_t, int64_t, int64_t, int64_t, int, std::string>>
      seen;
  std::lock_guard<std::mutex> lock(mutex);
  if (seen.insert({opIndex, rows, k, n, ranks, plan.why}).second)
    fmt::print(stderr,
               "kiln: npu.mm_all_reduce_base (op {}): m={} k={} n={} over {} "
               "rank(s): {} chunk(s) of ~{} rows ({})\n",
               opIndex, rows, k, n, ranks, plan.chunks,
               (rows + plan.chunks - 1) / plan.chunks, plan.why);
}

/// How the ranks' partials are summed: in their dtype, per the numerics,
/// into the out dtype.
ReduceSpec partialSpec(const RuntimeContext::MmAllReduce &mm) {
  return {mm.partialType, ReduceOp::Sum, mm.numerics, mm.outType};
}

/// Bytes of `elements` elements of P.
int64_t partialBytes(const RuntimeContext::MmAllReduce &mm, int64_t elements) {
  return elements * comm::elementBytes(mm.partialType);
}

/// out[r0:r1, :] = the ranks' P[r0:r1, :] reduced in rank order, across
/// the pool's threads. Waits for every rank's chunk first.
bool reduceChunk(RuntimeContext &ctx, int32_t opIndex, int64_t chunk) {
  RuntimeContext::MmAllReduce &mm = ctx.mm;
  if (CommStatus s = mm.window->await(chunk); !s.ok()) {
    reportCommFailure(ctx, opIndex, s.message());
    return false;
  }
  auto [r0, r1] = mm.chunkRows[chunk];
  int64_t first = r0 * mm.n, count = (r1 - r0) * mm.n;
  ReduceSpec spec = partialSpec(mm);
  int ranks = ctx.comm->size();
  int64_t outBytes = comm::elementBytes(mm.outType);
  int64_t parts = ctx.pool
                      ? std::min<int64_t>(ctx.pool->threads(),
                                          std::max<int64_t>(count / 4096, 1))
                      : 1;
  auto part = [&](int64_t p) {
    int64_t lo = first + count * p / parts,
            hi = first + count * (p + 1) / parts;
    std::vector<const void *> srcs(ranks);
    for (int r = 0; r < ranks; ++r)
      srcs[r] = (mm.copyIn && r == ctx.comm->rank()
                     ? static_cast<const char *>(ctx.scratch)
                     : mm.window->of(r)) +
                partialBytes(mm, lo);
    comm::reduceInRankOrder(srcs, static_cast<char *>(mm.out) + lo * outBytes,
                            hi - lo, spec, mm.outType);
  };
  if (parts == 1)
    part(0);
  else
    ctx.pool->run(parts, part);
  return true;
}

extern "C" int64_t kiln_mm_ar_begin(void *rt, int32_t opIndex, int64_t rows,
                                    int64_t k, int64_t n, void *out,
                                    int32_t outType, int32_t numerics) {
  RuntimeContext &ctx = context(rt);
  RuntimeContext::MmAllReduce &mm = ctx.mm;
  mm = {};
  mm.n = n;
  mm.out = out;
  mm.outType = static_cast<DType>(outType);
  mm.numerics = static_cast<Numerics>(numerics);
  mm.partialType = mmAllReducePartialType(mm.numerics, mm.outType);
  int64_t bytes = std::max<int64_t>(partialBytes(mm, rows * n), 64);
  Communicator *comm = ctx.comm && ctx.comm->size() > 1 ? ctx.comm : nullptr;
  if (comm && mmAllReducePeerWindowAllowed()) {
    mm.window = comm->peerWindow(bytes, [&] {
      return fmt::format("npu.mm_all_reduce_base m={} k={} n={}", rows, k, n);
    });
    if (!mm.window && !comm->failure().empty()) {
      reportCommFailure(ctx, opIndex, comm->failure());
      return 0;
    }
  }
  ChunkPlan plan =
      planMmAllReduceChunks(comm, ctx.pool ? ctx.pool->threads() : 1, rows, k,
                            n, mm.window != nullptr);
  logPlan(opIndex, rows, k, n, comm ? comm->size() : 1, plan);
  mm.copyIn = mm.window && plan.copyIn;
  if (mm.window) {
    // The tag carries the partials' spec: ranks compiled for different
    // numerics would otherwise read each other's partials as another dtype.
    mm.window->begin(
        {comm::WindowTag::MmAllReduce,
         {rows, n, plan.chunks, k, comm::specCode(partialSpec(mm))}});
    ctx.scratch =
        mm.copyIn ? kiln_thread_scratch(rt, bytes) : mm.window->mine();
  } else {
    ctx.scratch = kiln_thread_scratch(rt, bytes);
  }
  return plan.chunks;
}

extern "C" int32_t kiln_mm_ar_chunk(void *rt, int32_t opIndex, int64_t chunk,
                                    int64_t r0, int64_t r1) {
  RuntimeContext &ctx = context(rt);
  RuntimeContext::MmAllReduce &mm = ctx.mm;
  mm.chunkRows.push_back({r0, r1});
  int64_t first = partialBytes(mm, r0 * mm.n);
  if (mm.window) {
    if (mm.copyIn)
      std::memcpy(mm.window->mine() + first,
                  static_cast<char *>(ctx.scratch) + first,
                  partialBytes(mm, (r1 - r0) * mm.n));
    mm.window->publish();
    return chunk > 0 && !reduceChunk(ctx, opIndex, chunk - 1) ? 1 : 0;
  }
  if (ctx.comm && ctx.comm->size() > 1)
    mm.tickets.push_back(
        ctx.comm->start(static_cast<char *>(ctx.scratch) + first,
                        (r1 - r0) * mm.n, partialSpec(mm)));
  return 0;
}

extern "C" int32_t kiln_mm_ar_finish(void *rt, int32_t opIndex) {
  RuntimeContext &ctx = context(rt);
  RuntimeContext::MmAllReduce &mm = ctx.mm;
  if (mm.window) {
    int64_t last = static_cast<int64_t>(mm.chunkRows.size()) - 1;
    bool ok = !ctx.commFailed && (last < 0 || reduceChunk(ctx, opIndex, last));
    return ok ? 0 : 2;
  }
  // Wait for every chunk, even after a failure: the buffers must be quiet
  // before the kernel returns.
  bool ok = true;
  for (int64_t ticket : mm.tickets)
    if (CommStatus s = ctx.comm->wait(ticket); !s.ok()) {
      reportCommFailure(ctx, opIndex, s.message());
      ok = false;
    }
  return ok ? 1 : 2;
}

} // namespace

std::vector<RuntimeSymbol> mmAllReduceSymbols() {
  return {{"kiln_mm_ar_begin", (void *)&kiln_mm_ar_begin},
          {"kiln_mm_ar_chunk", (void *)&kiln_mm_ar_chunk},
          {"kiln_mm_ar_finish", (void *)&kiln_mm_ar_finish}};
}

} // namespace kiln::codegen
