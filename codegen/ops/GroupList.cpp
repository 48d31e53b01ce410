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

llvm::Value *groupBlockCount(LoweringContext &ctx, const Value *groupList,
                             llvm::Value *rows, int64_t block) {
  llvm::IRBuilder<> &b = ctx.b();
  llvm::Value *blocks =
      b.CreateUDiv(b.CreateAdd(rows, b.getInt64(block - 1)), b.getInt64(block));
  return b.CreateAdd(blocks, ctx.access(groupList).dim(0));
}

GroupBlock groupBlock(LoweringContext &ctx, const Value *groupList,
                      GroupListType type, llvm::Value *t, int64_t block) {
  llvm::IRBuilder<> &b = ctx.b();
  llvm::Type *i64 = b.getInt64Ty();
  llvm::AllocaInst *seen = ctx.stackSlot(i64, "gblock.seen");
  llvm::AllocaInst *group = ctx.stackSlot(i64, "gblock.g");
  llvm::AllocaInst *begin = ctx.stackSlot(i64, "gblock.begin");
  llvm::AllocaInst *rows = ctx.stackSlot(i64, "gblock.rows");
  for (llvm::AllocaInst *s : {seen, group, begin, rows})
    b.CreateStore(b.getInt64(0), s);
  forEachGroup(ctx, groupList, type,
               [&](llvm::Value *g, llvm::Value *lo, llvm::Value *hi) {
                 llvm::Value *n = b.CreateSub(hi, lo);
                 llvm::Value *nb = b.CreateUDiv(
                     b.CreateAdd(n, b.getInt64(block - 1)), b.getInt64(block));
                 llvm::Value *first = b.CreateLoad(i64, seen);
                 llvm::Value *local = b.CreateSub(t, first);
                 llvm::Value *hit = b.CreateAnd(b.CreateICmpSGE(local, b.getInt64(0)),
                                                b.CreateICmpSLT(local, nb));
                 llvm::Value *r0 =
                     b.CreateAdd(lo, b.CreateMul(local, b.getInt64(block)));
                 llvm::Value *left = b.CreateSub(hi, r0);
                 llvm::Value *cnt = b.CreateSelect(
                     b.CreateICmpSLT(left, b.getInt64(block)), left,
                     b.getInt64(block));
                 auto keep = [&](llvm::AllocaInst *s, llvm::Value *v) {
                   b.CreateStore(b.CreateSelect(hit, v, b.CreateLoad(i64, s)), s);
                 };
                 keep(group, g);
                 keep(begin, r0);
                 keep(rows, cnt);
                 b.CreateStore(b.CreateAdd(first, nb), seen);
               });
  return {b.CreateLoad(i64, group), b.CreateLoad(i64, begin),
          b.CreateLoad(i64, rows)};
}

} // namespace kiln::codegen
