//===- ShapeABI.h - how a Dim becomes an llvm::Value ------------*- C++ -*-===//
//
// The one difference between static and dynamic mode. Static mode
// specialises: every symbol is a compile-time constant from the bindings the
// graph is compiled for. Dynamic mode reads each symbol from the kernel's
// `dims` argument (one i64 per graph symbol, in declaration order), loaded
// once in the entry block. Lowerings never ask which mode they are in.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"
#include "runtime/Executor.h"

#include <llvm/IR/IRBuilder.h>

#include <map>
#include <optional>

namespace kiln::codegen {

enum class ShapeMode { Static, Dynamic };

class ShapeABI {
public:
  /// Emits the dynamic-mode loads at the builder's current position (the
  /// entry block), so they dominate every use.
  ShapeABI(ShapeMode mode, const Graph &g, const SymbolBindings &bindings,
           llvm::IRBuilder<> &b, llvm::Value *dimsArg);

  ShapeMode mode() const { return mode_; }
  /// The dim as an i64.
  llvm::Value *dim(const Dim &d) const;
  std::vector<llvm::Value *> dims(const TensorType &t) const;
  /// The dim's value if it is known while compiling.
  std::optional<int64_t> constant(const Dim &d) const;

private:
  ShapeMode mode_;
  llvm::IRBuilder<> &b_;
  std::map<std::string, int64_t, std::less<>> constants_;
  std::map<std::string, llvm::Value *, std::less<>> loaded_;
};

} // namespace kiln::codegen
