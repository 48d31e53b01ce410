//===- Constant.cpp - constant: a literal tensor --------------------------===//
//
// %c = constant {value = [v0, v1, ...]} : T
//
// The result type T comes from the text (or Builder::constant), not from
// inference; T must be in ND layout. `value` holds either one number, a splat
// filling every element of T (T may then have symbolic dims), or exactly
// numElements(T) numbers in row-major order (T must then be static).
// For integer dtypes every value must be an integer within the dtype's range
// (no silent rounding or saturation of literals); for float dtypes values are
// rounded to the dtype, nearest even, when the kernel stores them.
//
//===----------------------------------------------------------------------===//
#include "ops/OpHooks.h"
#include "ops/OpUtils.h"
#include "runtime/Float16.h"

#include <fmt/core.h>

#include <cmath>

namespace kiln::ops {

namespace {
/// Whether the literal `v` is exactly representable in integer dtype `t`.
bool fitsIntType(double v, DType t) {
  // maxValue + 1 is a power of two, so the bound is exact even for i64.
  return v >= static_cast<double>(minValue(t)) &&
         v < static_cast<double>(maxValue(t)) + 1.0;
}
} // namespace

LogicalResult inferConstant(const Op &op, std::vector<TensorType> &results) {
  if (results.empty())
    return op.emitError() << "constant needs a declared result type";
  if (results.size() != 1)
    return op.emitError() << "constant has one result, got " << results.size()
                          << " declared";
  const TensorType &type = results[0];
  if (type.layout != Layout::ND)
    return op.emitError() << "result type must be in ND layout, got " << type;

  const std::vector<double> &values = op.attrs<Constant>().value.values;
  size_t count = values.size();
  if (count != 1) {
    if (!type.isStatic())
      return op.emitError()
             << "a non-splat value needs a static type, got " << type;
    if (static_cast<int64_t>(count) != type.numElements())
      return op.emitError()
             << "value has " << count << " elements but " << type << " needs "
             << type.numElements() << " (or 1 for a splat)";
  }
  if (isInteger(type.dtype)) {
    for (size_t i = 0; i < count; ++i) {
      double v = values[i];
      if (!std::isfinite(v) || v != std::nearbyint(v))
        return op.emitError()
               << "value[" << i << "] = " << fmt::format("{}", v)
               << " is not an integer, as " << type.dtype << " requires";
      if (!fitsIntType(v, type.dtype))
        return op.emitError()
               << "value[" << i << "] = " << fmt::format("{}", v)
               << " is out of range for " << type.dtype << " ["
               << minValue(type.dtype) << ", " << maxValue(type.dtype) << "]";
    }
  }
  return success();
}

LogicalResult evalConstant(const Op &op, EvalContext &ctx) {
  const std::vector<double> &values = op.attrs<Constant>().value.values;
  Tensor &out = ctx.out(0);
  bool splat = values.size() == 1;
  // Integer literals were checked integral and in range, so setDouble stores
  // them exactly; float literals get their one rounding here.
  for (int64_t i = 0, e = out.numel(); i < e; ++i)
    out.setDouble(i, splat ? values[0] : values[i]);
  return success();
}

} // namespace kiln::ops
