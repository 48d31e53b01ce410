//===- ShapeABI.cpp - how a Dim becomes an llvm::Value --------------------===//
#include "codegen/ShapeABI.h"

#include <cassert>

namespace kiln::codegen {

ShapeABI::ShapeABI(ShapeMode mode, const Graph &g,
                   const SymbolBindings &bindings, llvm::IRBuilder<> &b,
                   llvm::Value *dimsArg)
    : mode_(mode), b_(b) {
  const auto &symbols = g.symbols();
  for (size_t i = 0; i < symbols.size(); ++i) {
    if (mode == ShapeMode::Static) {
      auto it = bindings.find(symbols[i]);
      assert(it != bindings.end() && "static mode needs every symbol bound");
      constants_[symbols[i]] = it->second;
      continue;
    }
    llvm::Value *slot = b.CreateConstInBoundsGEP1_64(b.getInt64Ty(), dimsArg, i);
    loaded_[symbols[i]] = b.CreateLoad(b.getInt64Ty(), slot, symbols[i]);
  }
}

std::optional<int64_t> ShapeABI::constant(const Dim &d) const {
  if (d.isStatic())
    return d.size();
  auto it = constants_.find(d.symbol());
  if (it == constants_.end())
    return std::nullopt;
  return it->second;
}

llvm::Value *ShapeABI::dim(const Dim &d) const {
  if (std::optional<int64_t> c = constant(d))
    return b_.getInt64(*c);
  auto it = loaded_.find(d.symbol());
  assert(it != loaded_.end() && "unknown symbol");
  return it->second;
}

std::vector<llvm::Value *> ShapeABI::dims(const TensorType &t) const {
  std::vector<llvm::Value *> out;
  for (const Dim &d : t.dims)
    out.push_back(dim(d));
  return out;
}

} // namespace kiln::codegen
