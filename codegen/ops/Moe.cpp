//===- Moe.cpp - lowerings of swiglu and scatter_add ----------------------===//
//
// The MoE glue around the grouped matmuls, with the fp32 arithmetic of
// ops/SwiGLU.cpp and ops/ScatterAdd.cpp.
//
//===----------------------------------------------------------------------===//
#include "codegen/ops/Common.h"

namespace kiln::codegen {

LogicalResult lowerSwiGLU(const Op &op, LoweringContext &ctx) {
  llvm::IRBuilder<> &b = ctx.b();
  TensorAccess input = ctx.access(op.operand(ops::SwiGLU::input));
  TensorAccess out = ctx.access(op.result());
  bool second = op.attrs<ops::SwiGLU>().activate == SwigluHalf::Second;
  int64_t half = *ctx.shapes().constant(op.result()->type().dims.back());
  llvm::Type *f32 = b.getFloatTy();
  // The C library's expf, not the llvm.exp intrinsic. The reference calls
  // std::exp(float), i.e. expf from the process's libm, which is not
  // correctly rounded, so only that same function gives the same bits. The
  // intrinsic promises no particular implementation: a backend may expand
  // it inline or map it to a vector math library. A call to `expf` stays a
  // call (the JIT configures no vector library), and the JIT resolves it to
  // the process's libm, the same symbol the reference uses.
  llvm::FunctionCallee expf =
      ctx.runtimeFunction("expf", llvm::FunctionType::get(f32, {f32}, false));
  llvm::Value *one = llvm::ConstantFP::get(f32, 1.0);
  forEachIndex(ctx, op.result(), [&](llvm::ArrayRef<llvm::Value *> idx) {
    std::vector<llvm::Value *> hi = idx.vec();
    hi.back() = b.CreateAdd(hi.back(), b.getInt64(half));
    llvm::Value *first = input.loadFloat(idx);
    llvm::Value *last = input.loadFloat(hi);
    llvm::Value *a = second ? last : first;
    llvm::Value *g = second ? first : last;
    // sig = 1.0f / (1.0f + expf(-a)); out = (a * sig) * g.
    llvm::Value *e = b.CreateCall(expf, {b.CreateFNeg(a)});
    llvm::Value *sig = b.CreateFDiv(one, b.CreateFAdd(one, e));
    out.storeFloat(idx, b.CreateFMul(b.CreateFMul(a, sig), g));
  });
  return success();
}

LogicalResult lowerScatterAdd(const Op &op, LoweringContext &ctx) {
  llvm::IRBuilder<> &b = ctx.b();
  TensorAccess updates = ctx.access(op.operand(ops::ScatterAdd::updates));
  TensorAccess index = ctx.access(op.operand(ops::ScatterAdd::index));
  TensorAccess out = ctx.access(op.result());
  const Value *initV = op.operand(ops::ScatterAdd::init);
  bool isInt = isInteger(out.type().dtype);
  llvm::Value *rows = out.dim(0);
  llvm::Value *count = index.dim(0);
  std::vector<llvm::Value *> rest = ctx.shapes().dims(op.result()->type());
  rest.erase(rest.begin());

  // Every index in [0, rows), checked before anything is written.
  ctx.forRange(b.getInt64(0), count, [&](llvm::Value *i) {
    llvm::Value *r = index.loadInt({i});
    llvm::Value *bad =
        b.CreateOr(b.CreateICmpSLT(r, b.getInt64(0)), b.CreateICmpSGE(r, rows));
    ctx.failIf(bad, op, KernelError::IndexOutOfRange, i, r, rows);
  });

  // out = init, or zeros.
  if (initV) {
    TensorAccess init = ctx.access(initV);
    forEachIndex(ctx, op.result(), [&](llvm::ArrayRef<llvm::Value *> idx) {
      copyElement(init, idx, out, idx);
    });
  } else {
    forEachIndex(ctx, op.result(), [&](llvm::ArrayRef<llvm::Value *> idx) {
      if (isInt)
        out.storeInt(idx, b.getInt64(0));
      else
        out.storeFloat(idx, llvm::ConstantFP::get(b.getFloatTy(), 0.0));
    });
  }

  // out[index[i], ...] += updates[i, ...] in order: fp32 adds rounded to the
  // dtype after each one, i32 adds wrapping.
  ctx.forRange(b.getInt64(0), count, [&](llvm::Value *i) {
    llvm::Value *r = index.loadInt({i});
    ctx.forEach(rest, [&](llvm::ArrayRef<llvm::Value *> tail) {
      std::vector<llvm::Value *> from{i}, to{r};
      from.insert(from.end(), tail.begin(), tail.end());
      to.insert(to.end(), tail.begin(), tail.end());
      if (isInt)
        out.storeInt(to, b.CreateAdd(out.loadInt(to), updates.loadInt(from)));
      else
        out.storeFloat(
            to, b.CreateFAdd(out.loadFloat(to), updates.loadFloat(from)));
    });
  });
  return success();
}

} // namespace kiln::codegen
