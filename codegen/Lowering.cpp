//===- Lowering.cpp - loops, stack slots and errors for lowerings --------===//
#include "codegen/Lowering.h"

#include <llvm/IR/MDBuilder.h>

namespace kiln::codegen {

std::vector<const Value *> bufferOrder(const Graph &g) {
  std::vector<const Value *> order;
  for (const auto &p : g.params())
    order.push_back(p.get());
  for (const auto &op : g.ops())
    for (const Value *r : op->results())
      order.push_back(r);
  return order;
}

//===----------------------------------------------------------------------===//
// LoweringContext
//===----------------------------------------------------------------------===//

LoweringContext::LoweringContext(KernelSetup &setup, llvm::Function *fn)
    : setup_(setup), fn_(fn), b_(fn->getContext()) {
  llvm::LLVMContext &c = fn->getContext();
  b_.SetInsertPoint(llvm::BasicBlock::Create(c, "entry", fn));
  shapes_ = std::make_unique<ShapeABI>(setup.mode, setup.graph, setup.bindings,
                                       b_, fn->getArg(1));
  std::vector<const Value *> order = bufferOrder(setup.graph);
  llvm::Type *ptr = b_.getPtrTy();
  for (size_t i = 0; i < order.size(); ++i) {
    llvm::Value *slot = b_.CreateConstInBoundsGEP1_64(ptr, fn->getArg(0), i);
    llvm::LoadInst *p = b_.CreateLoad(ptr, slot);
    p->setMetadata(llvm::LLVMContext::MD_nonnull, llvm::MDNode::get(c, {}));
    buffers_[order[i]] = p;
  }
}

void LoweringContext::parallelFor(
    llvm::Value *extent, int64_t workPerIteration,
    const std::function<void(LoweringContext &, llvm::Value *)> &body) {
  parallelRange(b_.getInt64(0), extent, workPerIteration, body);
}

void LoweringContext::parallelRange(
    llvm::Value *first, llvm::Value *last, int64_t workPerIteration,
    const std::function<void(LoweringContext &, llvm::Value *)> &body) {
  llvm::Type *ptr = b_.getPtrTy(), *i64 = b_.getInt64Ty(), *i32 = b_.getInt32Ty();
  auto *bodyType = llvm::FunctionType::get(i32, {ptr, ptr, ptr, i64, i64}, false);
  auto *outlined = llvm::Function::Create(
      bodyType, llvm::Function::InternalLinkage,
      fn_->getName() + ".par" + llvm::Twine(setup_.outlined++), module());
  for (unsigned i = 0; i < 3; ++i)
    outlined->addParamAttr(i, llvm::Attribute::NoAlias);
  {
    LoweringContext inner(setup_, outlined);
    inner.forRange(outlined->getArg(3), outlined->getArg(4),
                   [&](llvm::Value *iv) { body(inner, iv); });
    inner.b().CreateRet(b_.getInt32(0));
  }
  // From 0 (parallelFor): kiln_parallel_for(extent); else kiln_parallel_range.
  llvm::Value *status;
  auto *zero = llvm::dyn_cast<llvm::ConstantInt>(first);
  if (zero && zero->isZero()) {
    auto *runType = llvm::FunctionType::get(i32, {ptr, ptr, ptr, ptr, i64, i64},
                                            false);
    status = b_.CreateCall(runtimeFunction("kiln_parallel_for", runType),
                           {fn_->getArg(2), outlined, fn_->getArg(0),
                            fn_->getArg(1), last,
                            b_.getInt64(workPerIteration)});
  } else {
    auto *runType = llvm::FunctionType::get(
        i32, {ptr, ptr, ptr, ptr, i64, i64, i64}, false);
    status = b_.CreateCall(runtimeFunction("kiln_parallel_range", runType),
                           {fn_->getArg(2), outlined, fn_->getArg(0),
                            fn_->getArg(1), first, last,
                            b_.getInt64(workPerIteration)});
  }
  // A failed chunk has reported its error; stop the kernel.
  llvm::LLVMContext &c = llvmContext();
  llvm::BasicBlock *fail = llvm::BasicBlock::Create(c, "par.fail", fn_);
  llvm::BasicBlock *ok = llvm::BasicBlock::Create(c, "par.ok", fn_);
  b_.CreateCondBr(b_.CreateICmpNE(status, b_.getInt32(0)), fail, ok);
  b_.SetInsertPoint(fail);
  b_.CreateRet(b_.getInt32(1));
  b_.SetInsertPoint(ok);
}

void LoweringContext::ifElse(llvm::Value *cond,
                             const std::function<void()> &then,
                             const std::function<void()> &otherwise) {
  llvm::LLVMContext &c = llvmContext();
  llvm::Function *fn = b_.GetInsertBlock()->getParent();
  auto *thenBB = llvm::BasicBlock::Create(c, "then", fn);
  auto *elseBB = llvm::BasicBlock::Create(c, "else", fn);
  auto *join = llvm::BasicBlock::Create(c, "join", fn);
  b_.CreateCondBr(cond, thenBB, elseBB);
  b_.SetInsertPoint(thenBB);
  then();
  b_.CreateBr(join);
  b_.SetInsertPoint(elseBB);
  if (otherwise)
    otherwise();
  b_.CreateBr(join);
  b_.SetInsertPoint(join);
}

void LoweringContext::forRange(llvm::Value *lo, llvm::Value *hi,
                               const std::function<void(llvm::Value *)> &body) {
  llvm::LLVMContext &c = llvmContext();
  llvm::BasicBlock *pre = b_.GetInsertBlock();
  llvm::BasicBlock *header = llvm::BasicBlock::Create(c, "loop", fn_);
  llvm::BasicBlock *bodyBB = llvm::BasicBlock::Create(c, "body", fn_);
  llvm::BasicBlock *exit = llvm::BasicBlock::Create(c, "exit", fn_);
  b_.CreateBr(header);
  b_.SetInsertPoint(header);
  llvm::PHINode *iv = b_.CreatePHI(b_.getInt64Ty(), 2, "i");
  iv->addIncoming(lo, pre);
  b_.CreateCondBr(b_.CreateICmpSLT(iv, hi), bodyBB, exit);
  b_.SetInsertPoint(bodyBB);
  body(iv);
  llvm::Value *next = b_.CreateAdd(iv, b_.getInt64(1), "", /*NUW=*/true,
                                   /*NSW=*/true);
  iv->addIncoming(next, b_.GetInsertBlock());
  b_.CreateBr(header);
  b_.SetInsertPoint(exit);
}

void LoweringContext::forEach(
    llvm::ArrayRef<llvm::Value *> extents,
    const std::function<void(llvm::ArrayRef<llvm::Value *>)> &body) {
  std::vector<llvm::Value *> ivs;
  std::function<void(size_t)> nest = [&](size_t d) {
    if (d == extents.size()) {
      body(ivs);
      return;
    }
    forRange(b_.getInt64(0), extents[d], [&](llvm::Value *iv) {
      ivs.push_back(iv);
      nest(d + 1);
      ivs.pop_back();
    });
  };
  nest(0);
}

llvm::AllocaInst *LoweringContext::stackSlot(llvm::Type *type,
                                             llvm::StringRef name) {
  llvm::IRBuilder<> entry(&fn_->getEntryBlock(), fn_->getEntryBlock().begin());
  return entry.CreateAlloca(type, nullptr, name);
}

llvm::FunctionCallee LoweringContext::runtimeFunction(llvm::StringRef name,
                                                      llvm::FunctionType *type) {
  return module().getOrInsertFunction(name, type);
}

int32_t LoweringContext::opIndex(const Op &op) const {
  int32_t i = 0;
  for (const auto &o : op.parent()->ops()) {
    if (o.get() == &op)
      return i;
    ++i;
  }
  return -1;
}

void LoweringContext::failIf(llvm::Value *cond, const Op &op, KernelError error,
                             llvm::Value *a, llvm::Value *b, llvm::Value *c,
                             llvm::Value *d) {
  llvm::LLVMContext &ctx = llvmContext();
  llvm::BasicBlock *fail = llvm::BasicBlock::Create(ctx, "fail", fn_);
  llvm::BasicBlock *ok = llvm::BasicBlock::Create(ctx, "ok", fn_);
  b_.CreateCondBr(cond, fail, ok,
                  llvm::MDBuilder(ctx).createBranchWeights(1, 1 << 20));
  b_.SetInsertPoint(fail);
  llvm::Type *i64 = b_.getInt64Ty(), *i32 = b_.getInt32Ty();
  auto *type = llvm::FunctionType::get(
      b_.getVoidTy(), {b_.getPtrTy(), i32, i32, i64, i64, i64, i64}, false);
  b_.CreateCall(runtimeFunction("kiln_report_error", type),
                {fn_->getArg(2), b_.getInt32(opIndex(op)),
                 b_.getInt32(static_cast<int32_t>(error)), a, b,
                 c ? c : b_.getInt64(0), d ? d : b_.getInt64(0)});
  b_.CreateRet(b_.getInt32(1));
  b_.SetInsertPoint(ok);
}

} // namespace kiln::codegen
