//===- Slice.cpp - slice: a contiguous range along one axis ---------------===//
//
// %r = slice(%x) {axis = 1, start = 0, size = 64} : T
//
// Takes indices [start, start + size) of dim `axis` (negative counts from the
// end); start >= 0 and size >= 0. If that dim is static the range must fit
// in it (a verifier error otherwise); if it is a symbol the check happens
// when the kernel runs. The result has x's dims with dims[axis] = size, x's
// dtype and ND layout; x must be in ND layout. Values are copied exactly:
// r[..., i, ...] = x[..., start + i, ...].
//
//===----------------------------------------------------------------------===//
#include "ops/Elementwise.h"
#include "ops/OpHooks.h"
#include "ops/OpUtils.h"
#include "runtime/KernelErrors.h"

namespace kiln::ops {

LogicalResult inferSlice(const Op &op, std::vector<TensorType> &results) {
  const TensorType &x = operandType(op, Slice::input);
  if (failed(expectND(op, Slice::input)))
    return failure();
  const Slice::Attrs &a = op.attrs<Slice>();
  std::optional<int64_t> axis = normalizeAxis(a.axis, x.rank());
  if (!axis)
    return op.emitError() << "axis " << a.axis << " is out of range for input "
                          << x;
  if (a.start < 0 || a.size < 0)
    return op.emitError() << "start (" << a.start << ") and size (" << a.size
                          << ") must be >= 0";
  const Dim &d = x.dims[*axis];
  if (d.isStatic() && a.start + a.size > d.size())
    return op.emitError() << "slice [" << a.start << ", " << a.start + a.size
                          << ") exceeds dim " << *axis << " of size "
                          << d.size();
  TensorType r{x.dtype, x.dims, Layout::ND};
  r.dims[*axis] = Dim(a.size);
  results = {std::move(r)};
  return success();
}

LogicalResult evalSlice(const Op &op, EvalContext &ctx) {
  const Tensor &x = ctx.in(Slice::input);
  Tensor &out = ctx.out(0);
  const Slice::Attrs &a = op.attrs<Slice>();
  int64_t axis = *normalizeAxis(a.axis, x.rank());
  if (a.start + a.size > x.dim(axis))
    return ctx.error() << describe(KernelError::SliceOutOfRange, a.start,
                                   a.start + a.size, axis, x.dim(axis));
  std::vector<int64_t> idx(out.rank());
  for (int64_t i = 0, e = out.numel(); i < e; ++i) {
    unravelIndex(i, out.shape(), idx);
    idx[axis] += a.start;
    copyElement(x, ravelIndex(idx, x.shape()), out, i);
  }
  return success();
}

} // namespace kiln::ops
