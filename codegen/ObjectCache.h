//===- ObjectCache.h - compiled kernels on disk, across processes -*- C++ -*-=//
//
// The persistent half of the compile cache (CompileOptions::cacheDir or
// $KILN_CACHE_DIR). A kernel's object file is stored under the hash of its
// compile-cache key (graph text, mode, shapes, numerics, CPU name and
// features, kiln build id and LLVM version) as one file:
//
//   "KILNOBJ1" | u64 n, key | u64 n, entry symbol | u64 n, object | u64 hash
//
// where the hash (xxh3) covers everything before it. A file that is short,
// has another key (a hash collision) or a wrong hash is ignored: the kernel
// is recompiled and the file replaced. Writes go to a unique temporary file
// in the same directory, renamed over the final name, so processes sharing
// the directory never see a half-written file.
//
// Lookups happen before any IR is generated (load()), so a disk hit skips
// lowering, O3 and codegen; only linking remains. Stores go through ORC:
// the JIT's IR compiler calls notifyObjectCompiled for each module it
// compiles, and the modules registered with storeWhenCompiled are written.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <llvm/ExecutionEngine/ObjectCache.h>
#include <llvm/Support/MemoryBuffer.h>

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <variant>

namespace kiln::codegen {

/// A stored kernel: its entry symbol and object file.
struct CachedObject {
  std::string entry;
  std::unique_ptr<llvm::MemoryBuffer> object;
};

/// Why load() found nothing usable.
enum class CacheMiss { Absent, Invalid };

class DiskObjectCache : public llvm::ObjectCache {
public:
  /// The file name (without directory) holding `key`.
  static std::string fileName(const std::string &key);
  /// The file's bytes for a kernel (the format above).
  static std::string encode(llvm::StringRef key, llvm::StringRef entry,
                            llvm::StringRef object);
  /// The stored kernel for `key` in `dir`, or why there is none.
  static std::variant<CachedObject, CacheMiss> load(const std::string &dir,
                                                    const std::string &key);
  /// Writes the object of the module named `moduleId` to `dir` under `key`
  /// when ORC compiles it.
  void storeWhenCompiled(const std::string &moduleId, std::string dir,
                         std::string key, std::string entry);
  /// Whether the last store for `moduleId` succeeded (and forgets it).
  bool stored(const std::string &moduleId);

  void notifyObjectCompiled(const llvm::Module *m,
                            llvm::MemoryBufferRef object) override;
  /// Always nullptr: load() already ran before the module was generated.
  std::unique_ptr<llvm::MemoryBuffer> getObject(const llvm::Module *) override {
    return nullptr;
  }

private:
  struct Pending {
    std::string dir, key, entry;
  };
  std::mutex mutex_;
  std::map<std::string, Pending> pending_;
  std::map<std::string, bool> done_;
};

} // namespace kiln::codegen
