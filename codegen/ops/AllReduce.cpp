//===- AllReduce.cpp - lowering of allreduce ------------------------------===//
//
// The output gets an exact copy of the input, then one in-place all-reduce
// of its whole storage (NZ padding included: zeros reduce to zeros) through
// the run's Communicator, as ops/AllReduce.cpp does; with one rank the call
// returns at once and the copy is the result.
//
//===----------------------------------------------------------------------===//
#include "codegen/ops/Collective.h"

namespace kiln::codegen {

namespace {
/// Elements in the storage of `v`'s buffer (ND: the logical count; NZ: the
/// padded fractal blocks, runtime/Tensor.cpp storageShapeFor).
llvm::Value *storageCount(LoweringContext &ctx, const TensorAccess &v) {
  llvm::IRBuilder<> &b = ctx.b();
  int64_t rank = v.type().rank();
  llvm::Value *count = b.getInt64(1);
  bool nz = v.type().layout == Layout::NZ;
  for (int64_t d = 0; d < rank; ++d) {
    llvm::Value *size = v.dim(d);
    int64_t align = !nz || d < rank - 2 ? 1
                    : d == rank - 2     ? 16
                                        : 32 / (v.type().dtype == DType::F32 ? 4 : 2);
    if (align > 1)
      size = b.CreateMul(b.CreateUDiv(b.CreateAdd(size, b.getInt64(align - 1)),
                                      b.getInt64(align)),
                         b.getInt64(align));
    count = b.CreateMul(count, size);
  }
  return count;
}
} // namespace

LogicalResult lowerAllReduce(const Op &op, LoweringContext &ctx) {
  TensorAccess in = ctx.access(op.operand(0));
  TensorAccess out = ctx.access(op.result());
  forEachIndex(ctx, op.result(), [&](llvm::ArrayRef<llvm::Value *> idx) {
    copyElement(in, idx, out, idx);
  });
  llvm::Value *ticket =
      emitAllReduceStart(ctx, out.base(), storageCount(ctx, out),
                         out.type().dtype,
                         op.attrs<ops::AllReduce>().reduce_op, std::nullopt);
  emitReturnIfFailed(ctx, emitAllReduceWait(ctx, op, ticket));
  return success();
}

} // namespace kiln::codegen
