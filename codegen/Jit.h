//===- Jit.h - ORC LLJIT for the host CPU -----------------------*- C++ -*-===//
//
// The only place kiln touches llvm::Error. Modules are optimised with the
// new pass manager at O3 for the host's CPU name and features (AVX2+FMA
// here, AVX-512/VNNI where the host has them) before codegen.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "codegen/ObjectCache.h"
#include "ir/Diagnostics.h"

#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace kiln::codegen {

/// A process-wide symbol the JIT-ed code may call (thread pool, errors).
struct RuntimeSymbol {
  std::string name;
  void *address;
};

class Jit {
public:
  /// Creates a JIT for the host; reports failure to `diags`.
  static std::unique_ptr<Jit> create(DiagEngine &diags,
                                     std::vector<RuntimeSymbol> symbols = {});

  /// The data layout and triple modules must be built for.
  const llvm::DataLayout &dataLayout() const;
  std::string targetTriple() const;
  /// The host CPU name and feature string (for cache keys and logs).
  const std::string &cpuName() const { return cpu_; }
  const std::string &cpuFeatures() const { return features_; }

  /// Optimises (O3) and adds a module; its symbols become callable.
  LogicalResult addModule(std::unique_ptr<llvm::Module> module,
                          std::unique_ptr<llvm::LLVMContext> context,
                          DiagEngine &diags);
  /// Adds a compiled object file (a disk-cache hit): no IR, no O3, no
  /// codegen, only linking at the first lookup.
  LogicalResult addObject(std::unique_ptr<llvm::MemoryBuffer> object,
                          DiagEngine &diags);
  /// Address of a JIT-ed function; nullptr (after an error) if missing.
  void *lookup(const std::string &name, DiagEngine &diags);
  /// The object cache the JIT's compiler reports every object to.
  DiskObjectCache &objectCache() { return *objectCache_; }

  /// Runs the O3 pipeline on `m` (used by addModule, and by --emit=llvm to
  /// show optimised IR).
  void optimize(llvm::Module &m) const;

private:
  Jit() = default;
  /// Declared before jit_: the JIT's compiler points to it.
  std::unique_ptr<DiskObjectCache> objectCache_;
  std::unique_ptr<llvm::orc::LLJIT> jit_;
  std::unique_ptr<llvm::TargetMachine> tm_;
  std::string cpu_, features_;
};

} // namespace kiln::codegen
