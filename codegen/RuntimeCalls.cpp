//===- RuntimeCalls.cpp - the C functions JIT-ed kernels call -------------===//
#include "codegen/RuntimeCalls.h"

#include "runtime/KernelErrors.h"

#include <atomic>
#include <iterator>

namespace kiln::codegen {

namespace {

extern "C" void kiln_report_error(void *rt, int32_t opIndex, int32_t code,
                                  int64_t a, int64_t b, int64_t c, int64_t d) {
  auto *ctx = static_cast<RuntimeContext *>(rt);
  std::lock_guard<std::mutex> lock(ctx->errors);
  auto it = ctx->graph->ops().begin();
  std::advance(it, opIndex);
  std::string what = describe(static_cast<KernelError>(code), a, b, c, d);
  (*it)->emitError() << what;
  if (ctx->comm) // the other ranks must not wait for this one
    ctx->comm->abort(std::string((*it)->mnemonic()) + ": " + what);
}

using LoopBody = int32_t (*)(void **buffers, const int64_t *dims, void *rt,
                             int64_t begin, int64_t end);

/// Splits [0, extent) across the pool. Loops with little work stay on the
/// calling thread: waking a worker can cost a scheduler tick.
/// The iterations [first, last) split across the pool, as kiln_parallel_for.
extern "C" int32_t kiln_parallel_range(void *rt, LoopBody body, void **buffers,
                                       const int64_t *dims, int64_t first,
                                       int64_t last, int64_t workPerIteration) {
  auto *ctx = static_cast<RuntimeContext *>(rt);
  constexpr int64_t kMinParallelWork = 1 << 16;
  int64_t extent = last - first;
  int64_t threads = ctx->pool ? ctx->pool->threads() : 1;
  if (threads == 1 || extent < 2 || extent * workPerIteration < kMinParallelWork)
    return body(buffers, dims, rt, first, last);
  int64_t chunks = std::min<int64_t>(extent, threads * 4);
  std::atomic<int32_t> status{0};
  ctx->pool->run(chunks, [&](int64_t c) {
    int64_t begin = extent * c / chunks, end = extent * (c + 1) / chunks;
    if (body(buffers, dims, rt, first + begin, first + end) != 0)
      status = 1;
  });
  return status;
}

extern "C" int32_t kiln_parallel_for(void *rt, LoopBody body, void **buffers,
                                     const int64_t *dims, int64_t extent,
                                     int64_t workPerIteration) {
  return kiln_parallel_range(rt, body, buffers, dims, 0, extent,
                             workPerIteration);
}

} // namespace

std::vector<RuntimeSymbol> runtimeSymbols() {
  std::vector<RuntimeSymbol> symbols{
      {"kiln_report_error", (void *)&kiln_report_error},
      {"kiln_parallel_for", (void *)&kiln_parallel_for},
      {"kiln_parallel_range", (void *)&kiln_parallel_range}};
  for (auto *group : {&commSymbols, &mmAllReduceSymbols})
    for (const RuntimeSymbol &s : (*group)())
      symbols.push_back(s);
  return symbols;
}

} // namespace kiln::codegen
