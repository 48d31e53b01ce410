//===- RuntimeCalls.h - the C functions JIT-ed kernels call -----*- C++ -*-===//
//
// A kernel `i32 @entry(ptr buffers, ptr dims, ptr rt)` receives `rt`, a
// RuntimeContext, and hands it back to every runtime call it makes: error
// reports and the thread pool today, collectives as they come. Each call is
// an `extern "C"` function registered with the JIT by name (runtimeSymbols);
// codegen declares it with LoweringContext::runtimeFunction.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "codegen/Jit.h"
#include "ir/Graph.h"
#include "runtime/Communicator.h"
#include "runtime/ThreadPool.h"

#include <mutex>
#include <vector>

namespace kiln::codegen {

/// What JIT-ed code hands back to the runtime during one run.
struct RuntimeContext {
  const Graph *graph;
  ThreadPool *pool;
  std::mutex errors; ///< parallel chunks may report at once
  /// The ranks collectives reduce over (EvalOptions::comm); null: one rank.
  Communicator *comm = nullptr;
  bool commFailed = false; ///< reported once per run; guarded by `errors`
  /// Where this kernel's mm_all_reduce_base partial goes (kiln_mm_ar_begin;
  /// read by kiln_scratch_get).
  void *scratch = nullptr;
  /// The range of the parallel loop running now, for bodies that need its
  /// bounds (kiln_set_range / kiln_range_begin / kiln_range_end).
  int64_t rangeBegin = 0, rangeEnd = 0;
  /// The npu.mm_all_reduce_base running now (codegen/MmAllReduceCalls.cpp).
  struct MmAllReduce {
    comm::PeerWindow *window = nullptr; ///< null: messages (or one rank)
    std::vector<int64_t> tickets;       ///< per chunk, message path
    std::vector<std::pair<int64_t, int64_t>> chunkRows; ///< [r0, r1)
    int64_t n = 0;
    void *out = nullptr;
    DType outType = DType::F32;
    Numerics numerics = Numerics::Golden;
    bool copyIn = false;
    DType partialType = DType::F32; ///< P's (mmAllReducePartialType)
  } mm{};
};

/// Every runtime function JIT-ed code may call, by name.
std::vector<RuntimeSymbol> runtimeSymbols();
/// The collective and scratch calls (codegen/CommCalls.cpp).
std::vector<RuntimeSymbol> commSymbols();
/// npu.mm_all_reduce_base's calls (codegen/MmAllReduceCalls.cpp).
std::vector<RuntimeSymbol> mmAllReduceSymbols();
/// Reports a communicator failure at op `opIndex`, once per run.
void reportCommFailure(RuntimeContext &ctx, int32_t opIndex,
                       const std::string &message);

} // namespace kiln::codegen
