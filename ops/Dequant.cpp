//===- Dequant.cpp - integer to float with scale, offset and row scale ----===//
//
// dequant(input, scale, offset = %o, row_scale = %r)
//     {group_size = 0, group_axis = -2, out_dtype = f32}
//
//   y = ((float(x) + offset) * scale) * row_scale
//
// computed in fp32 with each operation rounded to float in that order (the
// offset term only when `offset` is present, the row_scale factor only when
// `row_scale` is present), then rounded once to out_dtype (a float dtype).
//
// input: i4, i8 or i32, rank >= 1, ND or NZ. scale: f16/bf16/f32 ND; offset
// has scale's dtype and shape. row_scale: f32 with input's dims minus the
// last one; row r (all of input's dims but the last) is multiplied by
// row_scale[r].
//
// group_size = 0: scale broadcasts to input (per-tensor [] or [1],
// per-channel [N] / [1,N], per-row [M,1], ...). group_size G > 0: with
// a = group_axis (normalized), scale has input's rank, scale dim a is
// ceil(input dim a / G) (both static) and element k along a uses scale index
// k / G; the other dims broadcast. group_axis must be left at its default
// when group_size is 0. Result: input's dims, out_dtype, ND.
//
// group_list (the per-expert scales after a grouped matmul): input [M, N],
// scale and offset [E, N] or [E, 1], group_list i32/i64 [E] in the
// group_list_type convention (OPS.md §1.4); row m of group g uses scale[g].
// Rows past the last group are zero, as the grouped matmul leaves them.
//
//===----------------------------------------------------------------------===//
#include "ops/OpHooks.h"
#include "ops/OpUtils.h"

namespace kiln::ops {

namespace {

/// Checks scale's shape against input for the grouped form.
LogicalResult verifyGroupedScale(const Op &op, const TensorType &input,
                                 const TensorType &scale) {
  const Dequant::Attrs &a = op.attrs<Dequant>();
  std::optional<int64_t> axis = normalizeAxis(a.group_axis, input.rank());
  if (!axis)
    return op.emitError() << "group_axis " << a.group_axis
                          << " is out of range for rank " << input.rank()
                          << " input";
  if (scale.rank() != input.rank())
    return op.emitError() << "per-group scale must have input's rank "
                          << input.rank() << ", got " << scale;
  const Dim &len = input.dims[*axis];
  const Dim &groups = scale.dims[*axis];
  if (!len.isStatic())
    return op.emitError() << "input dim " << *axis
                          << " must be static for per-group dequant, got "
                          << len;
  int64_t want = (len.size() + a.group_size - 1) / a.group_size;
  if (groups != Dim(want))
    return op.emitError() << "scale dim " << *axis << " must be ceil("
                          << len.size() << "/" << a.group_size << ") = " << want
                          << " groups, got " << groups;
  std::vector<Dim> others = scale.dims;
  others[*axis] = len;
  if (!broadcastsTo(others, input.dims))
    return op.emitError() << "scale " << toString(scale.dims)
                          << " does not broadcast to input "
                          << toString(input.dims) << " outside group_axis "
                          << *axis;
  return success();
}

/// Checks the per-expert form: input [M, N], scale [E, N|1], group_list [E].
LogicalResult verifyExpertScale(const Op &op, const TensorType &input,
                                const TensorType &scale) {
  const TensorType &groups = operandType(op, Dequant::group_list);
  if (failed(expectDType(op, Dequant::group_list, {DType::I32, DType::I64})) ||
      failed(expectRank(op, Dequant::group_list, 1)))
    return failure();
  if (op.attrs<Dequant>().group_size != 0)
    return op.emitError() << "group_size and group_list cannot be combined";
  if (input.rank() != 2)
    return op.emitError() << "input must be [M, N] with a group_list, got "
                          << input;
  if (scale.rank() != 2 || scale.dims[0] != groups.dims[0] ||
      !(scale.dims[1] == input.dims[1] || scale.dims[1] == Dim(1)))
    return op.emitError() << "scale must be [E, N] or [E, 1] with E = "
                          << groups.dims[0] << " groups and N = "
                          << input.dims[1] << ", got " << scale;
  return success();
}

} // namespace

LogicalResult inferDequant(const Op &op, std::vector<TensorType> &results) {
  const Dequant::Attrs &a = op.attrs<Dequant>();
  const TensorType &input = operandType(op, Dequant::input);
  const TensorType &scale = operandType(op, Dequant::scale);
  if (failed(expectDType(op, Dequant::input,
                         {DType::I4, DType::I8, DType::I32})) ||
      failed(expectDType(op, Dequant::scale,
                         {DType::F16, DType::BF16, DType::F32})) ||
      failed(expectND(op, Dequant::scale)))
    return failure();
  if (input.rank() < 1)
    return op.emitError() << "input must have rank >= 1, got " << input;
  if (!isFloat(a.out_dtype))
    return op.emitError() << "out_dtype must be a float dtype, got "
                          << a.out_dtype;

  if (op.operand(Dequant::offset)) {
    const TensorType &offset = operandType(op, Dequant::offset);
    if (failed(expectND(op, Dequant::offset)))
      return failure();
    if (offset.dtype != scale.dtype || offset.dims != scale.dims)
      return op.emitError()
             << "offset must have scale's type " << scale << ", got " << offset;
  }
  if (op.operand(Dequant::row_scale)) {
    const TensorType &rowScale = operandType(op, Dequant::row_scale);
    std::vector<Dim> rows(input.dims.begin(), input.dims.end() - 1);
    if (failed(expectDType(op, Dequant::row_scale, {DType::F32})) ||
        failed(expectND(op, Dequant::row_scale)))
      return failure();
    if (rowScale.dims != rows)
      return op.emitError()
             << "row_scale must have input's dims without the "
                "last one, "
             << toString(rows) << ", got " << toString(rowScale.dims);
  }

  if (a.group_size < 0)
    return op.emitError() << "group_size must be >= 0, got " << a.group_size;
  if (op.operand(Dequant::group_list)) {
    if (failed(verifyExpertScale(op, input, scale)))
      return failure();
  } else if (a.group_list_type != Dequant::Attrs{}.group_list_type) {
    return op.emitError() << "group_list_type is set but there is no group_list";
  } else if (a.group_size == 0) {
    if (a.group_axis != Dequant::Attrs{}.group_axis)
      return op.emitError() << "group_axis is set but group_size is 0";
    if (!broadcastsTo(scale.dims, input.dims))
      return op.emitError()
             << "scale " << toString(scale.dims)
             << " does not broadcast to input " << toString(input.dims);
  } else if (failed(verifyGroupedScale(op, input, scale))) {
    return failure();
  }

  results = {TensorType{a.out_dtype, input.dims, Layout::ND}};
  return success();
}

LogicalResult evalDequant(const Op &op, EvalContext &ctx) {
  const Dequant::Attrs &a = op.attrs<Dequant>();
  const Tensor &input = ctx.in(Dequant::input);
  const Tensor &scale = ctx.in(Dequant::scale);
  const Tensor *offset = ctx.input(Dequant::offset);
  const Tensor *rowScale = ctx.input(Dequant::row_scale);
  Tensor &out = ctx.out();

  int64_t axis =
      a.group_size > 0 ? *normalizeAxis(a.group_axis, input.rank()) : 0;
  int64_t cols = input.dim(-1);
  // Per-expert scales: the group of each row, -1 past the last group.
  std::vector<int64_t> rowGroup;
  if (const Tensor *groups = ctx.input(Dequant::group_list)) {
    FailureOr<std::vector<int64_t>> offsets =
        groupOffsets(ctx, *groups, a.group_list_type, input.dim(0));
    if (offsets.failed())
      return failure();
    rowGroup.assign(input.dim(0), -1);
    for (size_t g = 0; g + 1 < offsets->size(); ++g)
      for (int64_t r = (*offsets)[g]; r < (*offsets)[g + 1]; ++r)
        rowGroup[r] = static_cast<int64_t>(g);
  }
  std::vector<int64_t> idx(input.rank());
  for (int64_t i = 0; i < input.numel(); ++i) {
    unravelIndex(i, input.shape(), idx);
    if (!rowGroup.empty()) {
      if (rowGroup[idx[0]] < 0) {
        out.setDouble(i, 0.0);
        continue;
      }
      idx[0] = rowGroup[idx[0]];
    }
    if (a.group_size > 0)
      idx[axis] /= a.group_size;
    int64_t s = broadcastLinearIndex(scale.shape(), idx);
    float v = static_cast<float>(input.getInt(i));
    if (offset)
      v = v + static_cast<float>(offset->getDouble(s));
    v = v * static_cast<float>(scale.getDouble(s));
    if (rowScale)
      v = v * static_cast<float>(rowScale->getDouble(i / cols));
    out.setDouble(i, v);
  }
  return success();
}

} // namespace kiln::ops
