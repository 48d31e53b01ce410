//===- Collective.cpp - emitting the communicator calls -------------------===//
#include "codegen/ops/Collective.h"

namespace kiln::codegen {

llvm::Value *emitRuntimeCall(LoweringContext &ctx, llvm::StringRef name,
                             llvm::Type *ret,
                             llvm::ArrayRef<llvm::Value *> args) {
  std::vector<llvm::Value *> all{ctx.function()->getArg(2)}; // rt
  all.insert(all.end(), args.begin(), args.end());
  std::vector<llvm::Type *> types;
  for (llvm::Value *v : all)
    types.push_back(v->getType());
  auto *type = llvm::FunctionType::get(ret, types, false);
  return ctx.b().CreateCall(ctx.runtimeFunction(name, type), all);
}

llvm::Value *emitAllReduceStart(LoweringContext &ctx, llvm::Value *data,
                                llvm::Value *count, DType dtype, ReduceOp op,
                                std::optional<DType> compat) {
  llvm::IRBuilder<> &b = ctx.b();
  return emitRuntimeCall(
      ctx, "kiln_allreduce_start", b.getInt64Ty(),
      {data, count, b.getInt32(static_cast<int32_t>(dtype)),
       b.getInt32(static_cast<int32_t>(op)),
       b.getInt32(static_cast<int32_t>(ctx.numerics())),
       b.getInt32(compat ? static_cast<int32_t>(*compat) : -1)});
}

llvm::Value *emitAllReduceWait(LoweringContext &ctx, const Op &op,
                               llvm::Value *ticket) {
  llvm::IRBuilder<> &b = ctx.b();
  return emitRuntimeCall(ctx, "kiln_allreduce_wait", b.getInt32Ty(),
                         {b.getInt32(ctx.opIndex(op)), ticket});
}

void emitReturnIfFailed(LoweringContext &ctx, llvm::Value *status) {
  llvm::IRBuilder<> &b = ctx.b();
  llvm::LLVMContext &c = ctx.llvmContext();
  llvm::BasicBlock *fail = llvm::BasicBlock::Create(c, "comm.fail",
                                                    ctx.function());
  llvm::BasicBlock *ok = llvm::BasicBlock::Create(c, "comm.ok", ctx.function());
  b.CreateCondBr(b.CreateICmpNE(status, b.getInt32(0)), fail, ok);
  b.SetInsertPoint(fail);
  b.CreateRet(b.getInt32(1));
  b.SetInsertPoint(ok);
}

} // namespace kiln::codegen
