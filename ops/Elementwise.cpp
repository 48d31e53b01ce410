//===- Elementwise.cpp - shared pieces of the glue ops' kernels -----------===//
#include "ops/Elementwise.h"

#include "ops/OpUtils.h"

namespace kiln::ops {

LogicalResult inferBroadcastBinary(const Op &op,
                                   std::vector<TensorType> &results) {
  const TensorType &lhs = operandType(op, 0);
  const TensorType &rhs = operandType(op, 1);
  if (lhs.dtype != rhs.dtype)
    return op.emitError() << "operands must have the same dtype, got "
                          << lhs.dtype << " and " << rhs.dtype;
  if (failed(expectDType(op, 0,
                         {DType::I8, DType::I32, DType::I64, DType::F16,
                          DType::BF16, DType::F32})))
    return failure();
  std::optional<std::vector<Dim>> dims = broadcastDims(lhs.dims, rhs.dims);
  if (!dims)
    return op.emitError() << "operands do not broadcast: " << toString(lhs.dims)
                          << " vs " << toString(rhs.dims);
  results = {TensorType{lhs.dtype, std::move(*dims), Layout::ND}};
  return success();
}

LogicalResult evalBroadcastBinary(EvalContext &ctx, BinaryFn fn) {
  const Tensor &lhs = ctx.in(0);
  const Tensor &rhs = ctx.in(1);
  Tensor &out = ctx.out(0);
  bool isInt = isInteger(out.dtype());
  std::vector<int64_t> idx(out.rank());
  for (int64_t i = 0, e = out.numel(); i < e; ++i) {
    unravelIndex(i, out.shape(), idx);
    int64_t l = broadcastLinearIndex(lhs.shape(), idx);
    int64_t r = broadcastLinearIndex(rhs.shape(), idx);
    if (isInt) {
      uint64_t v = fn.onInt(static_cast<uint64_t>(lhs.getInt(l)),
                            static_cast<uint64_t>(rhs.getInt(r)));
      out.setInt(i, static_cast<int64_t>(v));
    } else {
      float v = fn.onFloat(static_cast<float>(lhs.getDouble(l)),
                           static_cast<float>(rhs.getDouble(r)));
      out.setDouble(i, v);
    }
  }
  return success();
}

void copyElement(const Tensor &src, int64_t srcIndex, Tensor &dst,
                 int64_t dstIndex) {
  if (isInteger(src.dtype()))
    dst.setInt(dstIndex, src.getInt(srcIndex));
  else
    dst.setDouble(dstIndex, src.getDouble(srcIndex));
}

int64_t ravelIndex(const std::vector<int64_t> &idx, const Shape &shape) {
  int64_t linear = 0;
  for (size_t i = 0; i < shape.size(); ++i)
    linear = linear * shape[i] + idx[i];
  return linear;
}

} // namespace kiln::ops
