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
#include "runtime/ThreadPool.h"

#include <mutex>
#include <vector>

namespace kiln::codegen {

/// What JIT-ed code hands back to the runtime during one run.
struct RuntimeContext {
  const Graph *graph;
  ThreadPool *pool;
  std::mutex errors; ///< parallel chunks may report at once
};

/// Every runtime function JIT-ed code may call, by name.
std::vector<RuntimeSymbol> runtimeSymbols();

} // namespace kiln::codegen
