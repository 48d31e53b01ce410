//===- FormatCast.cpp - format_cast: change the memory layout -------------===//
//
// %r = format_cast(%x) {layout = NZ} : T NZ
//
// Re-stores x in `layout` (ND, or FRACTAL_NZ per OPS.md §1.1, which needs
// rank >= 2); any dtype, any source layout. Dims, dtype and logical values
// are unchanged (bit-exact, i4 included); only the storage order and the NZ
// zero padding differ.
//
//===----------------------------------------------------------------------===//
#include "ops/Elementwise.h"
#include "ops/OpHooks.h"
#include "ops/OpUtils.h"

namespace kiln::ops {

LogicalResult inferFormatCast(const Op &op, std::vector<TensorType> &results) {
  const TensorType &x = operandType(op, FormatCast::input);
  Layout layout = op.attrs<FormatCast>().layout;
  if (layout == Layout::NZ && x.rank() < 2)
    return op.emitError() << "NZ layout needs rank >= 2, got " << x;
  results = {TensorType{x.dtype, x.dims, layout}};
  return success();
}

LogicalResult evalFormatCast(const Op &op, EvalContext &ctx) {
  const Tensor &x = ctx.in(FormatCast::input);
  Tensor &out = ctx.out(0);
  // Both tensors index by logical row-major position; the layouts are
  // handled by Tensor's storage mapping.
  for (int64_t i = 0, e = x.numel(); i < e; ++i)
    copyElement(x, i, out, i);
  return success();
}

} // namespace kiln::ops
