//===- Common.cpp - helpers shared by the op lowerings --------------------===//
#include "codegen/ops/Common.h"

namespace kiln::codegen {

void forEachIndex(LoweringContext &ctx, const Value *v,
                  const std::function<void(llvm::ArrayRef<llvm::Value *>)> &body) {
  ctx.forEach(ctx.shapes().dims(v->type()), body);
}

void copyElement(const TensorAccess &from, llvm::ArrayRef<llvm::Value *> fromIdx,
                 const TensorAccess &to, llvm::ArrayRef<llvm::Value *> toIdx) {
  if (isInteger(from.type().dtype) && isInteger(to.type().dtype))
    to.storeInt(toIdx, from.loadInt(fromIdx));
  else
    to.storeFloat(toIdx, from.loadFloat(fromIdx));
}

std::vector<llvm::Value *> broadcastIndex(LoweringContext &ctx,
                                          const TensorAccess &in,
                                          llvm::ArrayRef<llvm::Value *> outIdx) {
  llvm::IRBuilder<> &b = ctx.b();
  int64_t rank = in.type().rank();
  size_t skip = outIdx.size() - rank;
  std::vector<llvm::Value *> idx;
  for (int64_t d = 0; d < rank; ++d) {
    // A static 1 is known now; a symbol is never broadcast (see OpUtils).
    bool one = in.type().dims[d] == Dim(1);
    idx.push_back(one ? b.getInt64(0) : outIdx[skip + d]);
  }
  return idx;
}

llvm::Value *linearize(llvm::IRBuilder<> &b, llvm::ArrayRef<llvm::Value *> idx,
                       llvm::ArrayRef<llvm::Value *> dims) {
  llvm::Value *linear = b.getInt64(0);
  for (size_t d = 0; d < idx.size(); ++d)
    linear = b.CreateAdd(b.CreateMul(linear, dims[d]), idx[d]);
  return linear;
}

std::vector<llvm::Value *> delinearize(llvm::IRBuilder<> &b, llvm::Value *linear,
                                       llvm::ArrayRef<llvm::Value *> dims) {
  std::vector<llvm::Value *> idx(dims.size());
  for (size_t d = dims.size(); d-- > 0;) {
    idx[d] = b.CreateURem(linear, dims[d]);
    linear = b.CreateUDiv(linear, dims[d]);
  }
  return idx;
}

} // namespace kiln::codegen
