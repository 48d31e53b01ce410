//===- Glue.cpp - lowerings of the data-movement ops ----------------------===//
//
// transpose, reshape, slice and format_cast are exact element copies under
// an index map; constant stores its literal. (allreduce: ops/AllReduce.cpp.)
//
//===----------------------------------------------------------------------===//
#include "codegen/ops/Common.h"

namespace kiln::codegen {

namespace {
/// out[idx] = in[map(idx)] for every output index.
LogicalResult copyMapped(
    const Op &op, LoweringContext &ctx,
    const std::function<std::vector<llvm::Value *>(
        llvm::ArrayRef<llvm::Value *>, const TensorAccess &)> &map) {
  TensorAccess in = ctx.access(op.operand(0));
  TensorAccess out = ctx.access(op.result());
  forEachIndex(ctx, op.result(), [&](llvm::ArrayRef<llvm::Value *> idx) {
    copyElement(in, map(idx, in), out, idx);
  });
  return success();
}

std::vector<llvm::Value *> same(llvm::ArrayRef<llvm::Value *> idx,
                                const TensorAccess &) {
  return idx.vec();
}
} // namespace

LogicalResult lowerFormatCast(const Op &op, LoweringContext &ctx) {
  return copyMapped(op, ctx, same);
}

LogicalResult lowerTranspose(const Op &op, LoweringContext &ctx) {
  const IntList &perm = op.attrs<ops::Transpose>().perm;
  return copyMapped(op, ctx, [&](llvm::ArrayRef<llvm::Value *> idx,
                                 const TensorAccess &) {
    // out dim d is input dim perm[d].
    std::vector<llvm::Value *> in(idx.size());
    for (size_t d = 0; d < perm.size(); ++d)
      in[perm[d]] = idx[d];
    return in;
  });
}

LogicalResult lowerReshape(const Op &op, LoweringContext &ctx) {
  std::vector<llvm::Value *> outDims = ctx.shapes().dims(op.result()->type());
  return copyMapped(op, ctx, [&](llvm::ArrayRef<llvm::Value *> idx,
                                 const TensorAccess &in) {
    std::vector<llvm::Value *> inDims;
    for (int64_t d = 0; d < in.type().rank(); ++d)
      inDims.push_back(in.dim(d));
    return delinearize(ctx.b(), linearize(ctx.b(), idx, outDims), inDims);
  });
}

LogicalResult lowerSlice(const Op &op, LoweringContext &ctx) {
  const ops::Slice::Attrs &a = op.attrs<ops::Slice>();
  TensorAccess in = ctx.access(op.operand(0));
  int64_t axis = a.axis < 0 ? a.axis + in.type().rank() : a.axis;
  llvm::IRBuilder<> &b = ctx.b();
  // The bound is only unknown when the sliced dim is a dynamic symbol.
  llvm::Value *end = b.getInt64(a.start + a.size);
  ctx.failIf(b.CreateICmpSGT(end, in.dim(axis)), op,
             KernelError::SliceOutOfRange, b.getInt64(a.start), end,
             b.getInt64(axis), in.dim(axis));
  return copyMapped(op, ctx, [&](llvm::ArrayRef<llvm::Value *> idx,
                                 const TensorAccess &) {
    std::vector<llvm::Value *> from = idx.vec();
    from[axis] = b.CreateAdd(from[axis], b.getInt64(a.start));
    return from;
  });
}

LogicalResult lowerConstant(const Op &op, LoweringContext &ctx) {
  const std::vector<double> &values = op.attrs<ops::Constant>().value.values;
  TensorAccess out = ctx.access(op.result());
  llvm::IRBuilder<> &b = ctx.b();
  bool isInt = isInteger(out.type().dtype);
  auto literal = [&](double v) -> llvm::Constant * {
    return isInt ? (llvm::Constant *)b.getInt64(static_cast<int64_t>(v))
                 : llvm::ConstantFP::get(b.getFloatTy(), static_cast<float>(v));
  };
  auto store = [&](llvm::ArrayRef<llvm::Value *> idx, llvm::Value *v) {
    if (isInt)
      out.storeInt(idx, v);
    else
      out.storeFloat(idx, v);
  };
  if (values.size() == 1) {
    forEachIndex(ctx, op.result(), [&](llvm::ArrayRef<llvm::Value *> idx) {
      store(idx, literal(values[0]));
    });
    return success();
  }
  // A private global holding the literal, read by linear position.
  llvm::Type *elem = isInt ? b.getInt64Ty() : b.getFloatTy();
  std::vector<llvm::Constant *> elems;
  for (double v : values)
    elems.push_back(literal(v));
  auto *arrayTy = llvm::ArrayType::get(elem, elems.size());
  auto *global = new llvm::GlobalVariable(
      ctx.module(), arrayTy, /*isConstant=*/true,
      llvm::GlobalValue::PrivateLinkage, llvm::ConstantArray::get(arrayTy, elems));
  std::vector<llvm::Value *> dims = ctx.shapes().dims(op.result()->type());
  forEachIndex(ctx, op.result(), [&](llvm::ArrayRef<llvm::Value *> idx) {
    llvm::Value *p = b.CreateInBoundsGEP(elem, global, linearize(b, idx, dims));
    store(idx, b.CreateLoad(elem, p));
  });
  return success();
}

} // namespace kiln::codegen
