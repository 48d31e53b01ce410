//===- Lowering.cpp - element access, loops and errors for lowerings ------===//
#include "codegen/Lowering.h"

#include <llvm/IR/Intrinsics.h>
#include <llvm/IR/MDBuilder.h>

#include <cmath>

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
// TensorAccess
//===----------------------------------------------------------------------===//

TensorAccess::TensorAccess(LoweringContext &ctx, const Value *v)
    : ctx_(ctx), type_(v->type()), base_(ctx.buffer(v)),
      dims_(ctx.shapes().dims(v->type())) {}

llvm::Value *TensorAccess::dim(int64_t i) const {
  return dims_[i < 0 ? i + type_.rank() : i];
}

llvm::Value *TensorAccess::offset(llvm::ArrayRef<llvm::Value *> idx) const {
  llvm::IRBuilder<> &b = ctx_.b();
  int64_t rank = type_.rank();
  if (rank == 0)
    return b.getInt64(0);
  bool nz = type_.layout == Layout::NZ;
  // Row-major over the leading dims (all but the last, or all but the last
  // two for NZ), then the innermost part.
  int64_t lead = nz ? rank - 2 : rank - 1;
  llvm::Value *outer = b.getInt64(0);
  for (int64_t d = 0; d < lead; ++d)
    outer = b.CreateAdd(b.CreateMul(outer, dims_[d]), idx[d]);
  auto ceilDiv = [&](llvm::Value *x, int64_t c) {
    return b.CreateUDiv(b.CreateAdd(x, b.getInt64(c - 1)), b.getInt64(c));
  };
  llvm::Value *cols = dims_[rank - 1];
  if (!nz) {
    llvm::Value *pitch = cols;
    if (type_.dtype == DType::I4)
      pitch = b.CreateMul(ceilDiv(cols, 8), b.getInt64(8));
    return b.CreateAdd(b.CreateMul(outer, pitch), idx[rank - 1]);
  }
  int64_t n0 = nzColumnsPerFractal(type_.dtype);
  llvm::Value *i = idx[rank - 2], *j = idx[rank - 1];
  llvm::Value *k1 = ceilDiv(dims_[rank - 2], 16);
  llvm::Value *n1 = ceilDiv(cols, n0);
  llvm::Value *block = b.CreateMul(k1, b.getInt64(16 * n0)); // one column band
  llvm::Value *off = b.CreateMul(outer, b.CreateMul(n1, block));
  off = b.CreateAdd(off, b.CreateMul(b.CreateUDiv(j, b.getInt64(n0)), block));
  off = b.CreateAdd(off, b.CreateMul(b.CreateUDiv(i, b.getInt64(16)),
                                     b.getInt64(16 * n0)));
  off = b.CreateAdd(off, b.CreateMul(b.CreateURem(i, b.getInt64(16)),
                                     b.getInt64(n0)));
  return b.CreateAdd(off, b.CreateURem(j, b.getInt64(n0)));
}

llvm::Value *TensorAccess::address(llvm::Value *off, llvm::Type *elem) const {
  return ctx_.b().CreateInBoundsGEP(elem, base_, off);
}

llvm::Value *TensorAccess::loadInt(llvm::ArrayRef<llvm::Value *> idx) const {
  llvm::IRBuilder<> &b = ctx_.b();
  llvm::Value *off = offset(idx);
  llvm::Type *i64 = b.getInt64Ty();
  switch (type_.dtype) {
  case DType::I4: {
    llvm::Value *byte = b.CreateLoad(
        b.getInt8Ty(), address(b.CreateLShr(off, 1), b.getInt8Ty()));
    llvm::Value *odd = b.CreateTrunc(b.CreateAnd(off, 1), b.getInt1Ty());
    llvm::Value *hi = b.CreateAShr(byte, 4);
    llvm::Value *lo = b.CreateAShr(b.CreateShl(byte, 4), 4);
    return b.CreateSExt(b.CreateSelect(odd, hi, lo), i64);
  }
  case DType::I8:
    return b.CreateSExt(b.CreateLoad(b.getInt8Ty(), address(off, b.getInt8Ty())), i64);
  case DType::I32:
    return b.CreateSExt(
        b.CreateLoad(b.getInt32Ty(), address(off, b.getInt32Ty())), i64);
  case DType::I64:
    return b.CreateLoad(i64, address(off, i64));
  default:
    return b.CreateFPToSI(loadFloat(idx), i64);
  }
}

llvm::Value *TensorAccess::loadFloat(llvm::ArrayRef<llvm::Value *> idx) const {
  llvm::IRBuilder<> &b = ctx_.b();
  llvm::Type *f32 = b.getFloatTy();
  switch (type_.dtype) {
  case DType::F32:
    return b.CreateLoad(f32, address(offset(idx), f32));
  case DType::F16:
    return b.CreateFPExt(
        b.CreateLoad(b.getHalfTy(), address(offset(idx), b.getHalfTy())), f32);
  case DType::BF16: {
    llvm::Value *bits =
        b.CreateLoad(b.getInt16Ty(), address(offset(idx), b.getInt16Ty()));
    return b.CreateBitCast(b.CreateShl(b.CreateZExt(bits, b.getInt32Ty()), 16),
                           f32);
  }
  default:
    return b.CreateSIToFP(loadInt(idx), f32);
  }
}

void TensorAccess::storeInt(llvm::ArrayRef<llvm::Value *> idx,
                            llvm::Value *v) const {
  llvm::IRBuilder<> &b = ctx_.b();
  llvm::Value *off = offset(idx);
  switch (type_.dtype) {
  case DType::I4: {
    llvm::Value *addr = address(b.CreateLShr(off, 1), b.getInt8Ty());
    llvm::Value *byte = b.CreateLoad(b.getInt8Ty(), addr);
    llvm::Value *nib = b.CreateAnd(b.CreateTrunc(v, b.getInt8Ty()), 0xf);
    llvm::Value *odd = b.CreateTrunc(b.CreateAnd(off, 1), b.getInt1Ty());
    llvm::Value *hi = b.CreateOr(b.CreateAnd(byte, 0x0f), b.CreateShl(nib, 4));
    llvm::Value *lo = b.CreateOr(b.CreateAnd(byte, 0xf0), nib);
    b.CreateStore(b.CreateSelect(odd, hi, lo), addr);
    return;
  }
  case DType::I8:
  case DType::I32:
  case DType::I64: {
    llvm::Type *t = b.getIntNTy(bitWidth(type_.dtype));
    b.CreateStore(b.CreateTrunc(v, t), address(off, t));
    return;
  }
  default:
    storeFloat(idx, b.CreateSIToFP(v, b.getFloatTy()));
  }
}

void TensorAccess::storeFloat(llvm::ArrayRef<llvm::Value *> idx,
                              llvm::Value *v) const {
  llvm::IRBuilder<> &b = ctx_.b();
  switch (type_.dtype) {
  case DType::F32:
    b.CreateStore(v, address(offset(idx), b.getFloatTy()));
    return;
  case DType::F16:
    b.CreateStore(b.CreateFPTrunc(v, b.getHalfTy()),
                  address(offset(idx), b.getHalfTy()));
    return;
  case DType::BF16: {
    // Round to nearest even on the bit pattern; NaN becomes a quiet NaN.
    llvm::Value *bits = b.CreateBitCast(v, b.getInt32Ty());
    llvm::Value *lsb = b.CreateAnd(b.CreateLShr(bits, 16), 1);
    llvm::Value *rounded = b.CreateLShr(
        b.CreateAdd(bits, b.CreateAdd(lsb, b.getInt32(0x7fff))), 16);
    llvm::Value *isNan = b.CreateFCmpUNO(v, v);
    rounded = b.CreateSelect(isNan, b.getInt32(0x7fc0), rounded);
    b.CreateStore(b.CreateTrunc(rounded, b.getInt16Ty()),
                  address(offset(idx), b.getInt16Ty()));
    return;
  }
  default:
    break;
  }
  // Float -> integer: round half to even, saturate, NaN -> 0.
  llvm::Type *f32 = b.getFloatTy();
  llvm::Value *r = b.CreateUnaryIntrinsic(llvm::Intrinsic::roundeven, v);
  int bits = type_.dtype == DType::I4 ? 4 : bitWidth(type_.dtype);
  double lo = -std::ldexp(1.0, bits - 1), hi = std::ldexp(1.0, bits - 1);
  llvm::Value *tooLow = b.CreateFCmpOLT(r, llvm::ConstantFP::get(f32, lo));
  llvm::Value *tooHigh = b.CreateFCmpOGE(r, llvm::ConstantFP::get(f32, hi));
  llvm::Value *isNan = b.CreateFCmpUNO(r, r);
  llvm::Value *safe = b.CreateSelect(b.CreateOr(b.CreateOr(tooLow, tooHigh), isNan),
                                     llvm::ConstantFP::get(f32, 0.0), r);
  llvm::Value *i = b.CreateFPToSI(safe, b.getInt64Ty());
  int64_t minV = -(int64_t(1) << (bits - 1));
  int64_t maxV = bits == 64 ? INT64_MAX : (int64_t(1) << (bits - 1)) - 1;
  i = b.CreateSelect(tooLow, b.getInt64(minV), i);
  i = b.CreateSelect(tooHigh, b.getInt64(maxV), i);
  storeInt(idx, i);
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
