//===- ScatterAdd.cpp - add rows of updates into indexed output rows ------===//
//
// scatter_add(updates, index, init = %i) {num_rows = 0}
//
// updates [R, rest...] (f16/bf16/f32 or i32), index i32/i64 [R], init
// (optional) [rows, rest...] with updates' dtype. The result has init's type
// when init is given (num_rows then 0 or init's dim 0), else
// [num_rows, rest...] with updates' dtype (num_rows a positive size or a
// symbol declared in the graph). All operands are ND.
//
//   out = init (or zeros)
//   every index[i] must lie in [0, rows), checked before anything is added
//   for i in 0..R-1, in order:  out[index[i], :] += updates[i, :]
//
// Floats add in fp32 and round to the dtype after every add (read out as
// float, add, store rounded), so duplicate indices accumulate in index
// order. i32 adds wrap modulo 2^32.
//
//===----------------------------------------------------------------------===//
#include "ops/OpHooks.h"
#include "ops/OpUtils.h"
#include "runtime/KernelErrors.h"

#include "ir/Graph.h"

#include <algorithm>

namespace kiln::ops {

LogicalResult inferScatterAdd(const Op &op, std::vector<TensorType> &results) {
  const Dim &numRows = op.attrs<ScatterAdd>().num_rows;
  const TensorType &updates = operandType(op, ScatterAdd::updates);
  const TensorType &index = operandType(op, ScatterAdd::index);
  if (failed(expectDType(op, ScatterAdd::updates,
                         {DType::F16, DType::BF16, DType::F32, DType::I32})) ||
      failed(expectND(op, ScatterAdd::updates)) ||
      failed(expectDType(op, ScatterAdd::index, {DType::I32, DType::I64})) ||
      failed(expectRank(op, ScatterAdd::index, 1)))
    return failure();
  if (updates.rank() < 1)
    return op.emitError() << "updates must have rank >= 1, got " << updates;
  if (index.dims[0] != updates.dims[0])
    return op.emitError() << "index has " << index.dims[0]
                          << " entries but updates has " << updates.dims[0]
                          << " rows";
  std::vector<Dim> rest(updates.dims.begin() + 1, updates.dims.end());

  if (op.operand(ScatterAdd::init)) {
    const TensorType &init = operandType(op, ScatterAdd::init);
    if (failed(expectND(op, ScatterAdd::init)))
      return failure();
    if (init.dtype != updates.dtype)
      return op.emitError() << "init dtype " << init.dtype
                            << " differs from updates dtype " << updates.dtype;
    if (init.rank() != updates.rank() ||
        !std::equal(rest.begin(), rest.end(), init.dims.begin() + 1))
      return op.emitError()
             << "init " << toString(init.dims)
             << " must be [rows] + updates' trailing dims " << toString(rest);
    if (numRows != Dim(0) && numRows != init.dims[0])
      return op.emitError()
             << "num_rows = " << numRows << " differs from init's "
             << init.dims[0] << " rows";
    results = {init};
    return success();
  }

  if (numRows == Dim(0))
    return op.emitError() << "num_rows must be set when there is no init";
  if (numRows.isStatic() && numRows.size() < 0)
    return op.emitError() << "num_rows must be positive, got " << numRows;
  if (numRows.isSymbol() && op.parent() &&
      !op.parent()->hasSymbol(numRows.symbol()))
    return op.emitError() << "num_rows symbol " << numRows
                          << " is not declared in the graph";
  std::vector<Dim> dims{numRows};
  dims.insert(dims.end(), rest.begin(), rest.end());
  results = {TensorType{updates.dtype, std::move(dims), Layout::ND}};
  return success();
}

LogicalResult evalScatterAdd(const Op &op, EvalContext &ctx) {
  const Tensor &updates = ctx.in(ScatterAdd::updates);
  const Tensor &index = ctx.in(ScatterAdd::index);
  const Tensor *init = ctx.input(ScatterAdd::init);
  Tensor &out = ctx.out();
  bool isInt = isInteger(out.dtype());
  int64_t rows = out.dim(0);
  int64_t width = rows ? out.numel() / rows : 0;

  for (int64_t i = 0; i < index.numel(); ++i) {
    int64_t r = index.getInt(i);
    if (r < 0 || r >= rows)
      return ctx.error() << describe(KernelError::IndexOutOfRange, i, r, rows);
  }
  if (init) {
    for (int64_t p = 0; p < out.numel(); ++p) {
      if (isInt)
        out.setInt(p, init->getInt(p));
      else
        out.setDouble(p, init->getDouble(p));
    }
  }
  for (int64_t i = 0; i < index.numel(); ++i) {
    int64_t base = index.getInt(i) * width;
    for (int64_t c = 0; c < width; ++c) {
      int64_t p = base + c;
      if (isInt) {
        out.setInt(p, out.getInt(p) + updates.getInt(i * width + c));
        continue;
      }
      float sum = static_cast<float>(out.getDouble(p)) +
                  static_cast<float>(updates.getDouble(i * width + c));
      out.setDouble(p, sum);
    }
  }
  return success();
}

} // namespace kiln::ops
