//===- CompileCache.h - the process-wide kernel cache -----------*- C++ -*-===//
//
// One JIT, one map from compile-cache key to kernel address, and one thread
// pool per thread count, shared by every CompiledGraph of the process:
// kernels outlive the CompiledGraph that made them, so compiling the same
// graph at the same shapes again is a lookup. With a cache directory, a
// kernel missing in memory is looked up on disk (codegen/ObjectCache.h)
// before any IR is generated, and a freshly compiled one is stored there.
//
// KILN_LOG=cache prints one line per lookup to stderr ("kiln: cache:
// memory hit|disk hit|disk miss|disk invalid|compiled ... stored").
//
//===----------------------------------------------------------------------===//
#pragma once

#include "codegen/Codegen.h"
#include "codegen/Jit.h"
#include "runtime/ThreadPool.h"

#include <cstdint>
#include <functional>
#include <string>

namespace kiln {

/// Counters of the process-wide compile cache since the process started.
struct CompileCacheStats {
  uint64_t compiles = 0;     ///< kernels generated, optimised and compiled
  uint64_t memoryHits = 0;   ///< lookups answered in memory
  uint64_t diskHits = 0;     ///< kernels loaded from a cache directory
  uint64_t diskMisses = 0;   ///< no file for the key
  uint64_t diskInvalid = 0;  ///< a file that was corrupt, truncated or stale
  uint64_t diskWrites = 0;   ///< kernels stored to a cache directory
};

CompileCacheStats compileCacheStats();

namespace codegen {

using KernelFn = int32_t (*)(void **buffers, const int64_t *dims, void *rt);

/// The kiln build (a hash of the codegen sources, set by CMake) and the
/// LLVM version: part of every key, so a rebuilt kiln never loads objects
/// of an older one.
std::string compilerVersion();

/// The cache directory to use: `requested`, else $KILN_CACHE_DIR, else
/// empty (no disk cache).
std::string resolveCacheDir(const std::string &requested);

/// Starts the JIT (once) and returns the pool for `threads`; nullptr after
/// an error.
ThreadPool *startRuntime(unsigned threads, DiagEngine &diags);

/// The process's JIT (after startRuntime).
Jit &jit();

/// The kernel for `key`: from memory, from `cacheDir` (if not empty), or
/// compiled from `generate(entry)`, which must build a module whose kernel
/// is named `entry`. Serialised: one compile at a time per process.
FailureOr<KernelFn> kernelFor(
    const std::string &key, const std::string &cacheDir, DiagEngine &diags,
    const std::function<FailureOr<GeneratedModule>(const std::string &entry)>
        &generate);

} // namespace codegen
} // namespace kiln
