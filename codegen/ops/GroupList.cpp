//===- GroupList.cpp - group_list checks and walks for grouped lowerings --===//
#include "codegen/ops/GroupList.h"

namespace kiln::codegen {

namespace {
/// The end of group g given the previous end and entry v.
llvm::Value *groupEnd(llvm::IRBuilder<> &b, GroupListType type,
                      llvm::Value *prev, llvm::Value *v) {
  return type == GroupListType::Count ? b.CreateAdd(prev, v) : v;
}
} // namespace

void checkGroupList(LoweringContext &ctx, const Op &op, const Value *groupList,
                    GroupListType type, llvm::Value *rows) {
  llvm::IRBuilder<> &b = ctx.b();
  TensorAccess list = ctx.access(groupList);
  llvm::AllocaInst *prev = ctx.stackSlot(b.getInt64Ty(), "group.prev");
  b.CreateStore(b.getInt64(0), prev);
  ctx.forRange(b.getInt64(0), list.dim(0), [&](llvm::Value *g) {
    llvm::Value *v = list.loadInt({g});
    llvm::Value *before = b.CreateLoad(b.getInt64Ty(), prev);
    ctx.failIf(b.CreateICmpSLT(v, b.getInt64(0)), op,
               KernelError::GroupListNegative, g, v);
    if (type == GroupListType::Cumsum)
      ctx.failIf(b.CreateICmpSLT(v, before), op,
                 KernelError::GroupListDecreasing, g, v, before);
    llvm::Value *end = groupEnd(b, type, before, v);
    ctx.failIf(b.CreateICmpSGT(end, rows), op, KernelError::GroupListTooLarge,
               g, v, rows);
    b.CreateStore(end, prev);
  });
}

llvm::Value *forEachGroup(LoweringContext &ctx, const Value *groupList,
                          GroupListType type,
                          const std::function<void(llvm::Value *, llvm::Value *,
                                                   llvm::Value *)> &body) {
  llvm::IRBuilder<> &b = ctx.b();
  TensorAccess list = ctx.access(groupList);
  llvm::AllocaInst *prev = ctx.stackSlot(b.getInt64Ty(), "group.begin");
  b.CreateStore(b.getInt64(0), prev);
  ctx.forRange(b.getInt64(0), list.dim(0), [&](llvm::Value *g) {
    llvm::Value *begin = b.CreateLoad(b.getInt64Ty(), prev);
    llvm::Value *end = groupEnd(b, type, begin, list.loadInt({g}));
    body(g, begin, end);
    b.CreateStore(end, prev);
  });
  return b.CreateLoad(b.getInt64Ty(), prev);
}

} // namespace kiln::codegen
