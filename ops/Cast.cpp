//===- Cast.cpp - cast: elementwise dtype conversion ----------------------===//
//
// %r = cast(%x) {to = f16} : f16[...]
//
// Any dtype to any dtype (i4 included both ways); the result keeps x's dims
// and is in ND layout (x may be in any layout). Per element:
//   float -> float: round to nearest, ties to even (exact when widening);
//                   overflow gives +-inf, NaN stays NaN.
//   float -> int:   round half to even, then saturate to the dtype's range;
//                   NaN becomes 0, +-inf saturate (OPS.md §0).
//   int -> float:   the exact integer rounded once to nearest even (also for
//                   i64 beyond 2^53, where a trip through double would round
//                   twice).
//   int -> int:     saturate to the target range (e.g. i32 300 -> i8 127,
//                   i8 -9 -> i4 -8); widening is exact. kiln never wraps in
//                   a cast: wrapping is what add/mul do on overflow.
//
//===----------------------------------------------------------------------===//
#include "ops/OpHooks.h"
#include "ops/OpUtils.h"
#include "runtime/Float16.h"

#include <algorithm>

namespace kiln::ops {

LogicalResult inferCast(const Op &op, std::vector<TensorType> &results) {
  const TensorType &x = operandType(op, Cast::input);
  results = {TensorType{op.attrs<Cast>().to, x.dims, Layout::ND}};
  return success();
}

LogicalResult evalCast(const Op &op, EvalContext &ctx) {
  const Tensor &x = ctx.in(Cast::input);
  Tensor &out = ctx.out(0);
  DType to = out.dtype();
  for (int64_t i = 0, e = x.numel(); i < e; ++i) {
    if (isFloat(x.dtype())) {
      // getDouble widens exactly; setDouble rounds (float) or rounds half to
      // even and saturates (int), both straight from the source value.
      out.setDouble(i, x.getDouble(i));
    } else if (isFloat(to)) {
      // setInt on a float tensor rounds the exact int64 once.
      out.setInt(i, x.getInt(i));
    } else {
      out.setInt(i, std::clamp(x.getInt(i), minValue(to), maxValue(to)));
    }
  }
  return success();
}

} // namespace kiln::ops
