//===- MatMul.cpp - plain, batched and grouped matrix multiply ------------===//
//
// matmul(lhs, rhs, group_list = %g)
//     {transpose_lhs, transpose_rhs, group_list_type, out_dtype}
//
// Plain: lhs [..., M, K] ([..., K, M] with transpose_lhs), rhs [..., K, N]
// ([..., N, K] with transpose_rhs). The batch dims are equal, or one side is
// rank 2 and is broadcast over the other's batch. Result [batch..., M, N].
//
// Grouped (group_list present): lhs [M, K] (no transpose_lhs), rhs [E, K, N]
// ([E, N, K] with transpose_rhs), group_list i32/i64 [E]. Result [M, N]; rows
// [off[g], off[g+1]) use expert g, with off the exclusive prefix sum of the
// list (count or cumsum, OPS.md §1.4). Rows at or past off[E] are zero.
//
// dtypes: lhs and rhs agree. i8 x i8 -> i32: exact int64 sum, stored into
// i32 modulo 2^32 (what an int32 accumulator gives). f16/bf16/f32 -> out_dtype
// (default: the operand dtype): `float acc += float(a) * float(b)` in
// ascending k, then one rounding to the result dtype. i4 is rejected. rhs may
// be NZ; lhs and the result are ND.
//
//===----------------------------------------------------------------------===//
#include "ops/OpHooks.h"
#include "ops/OpUtils.h"

#include <algorithm>

namespace kiln::ops {

namespace {

/// Checks the grouped form's ranks, transpose flag and group_list.
LogicalResult verifyGrouped(const Op &op, const TensorType &lhs,
                            const TensorType &rhs) {
  if (op.attrs<MatMul>().transpose_lhs)
    return op.emitError() << "transpose_lhs is not supported with group_list";
  if (lhs.rank() != 2)
    return op.emitError() << "grouped lhs must have rank 2, got " << lhs;
  if (rhs.rank() != 3)
    return op.emitError() << "grouped rhs must have rank 3 [E, K, N], got "
                          << rhs;
  if (failed(expectDType(op, MatMul::group_list, {DType::I32, DType::I64})) ||
      failed(expectRank(op, MatMul::group_list, 1)))
    return failure();
  const Dim &groups = operandType(op, MatMul::group_list).dims[0];
  if (groups != rhs.dims[0])
    return op.emitError() << "group_list has " << groups
                          << " groups but rhs has " << rhs.dims[0]
                          << " experts";
  return success();
}

} // namespace

LogicalResult inferMatMul(const Op &op, std::vector<TensorType> &results) {
  const MatMul::Attrs &a = op.attrs<MatMul>();
  const TensorType &lhs = operandType(op, MatMul::lhs);
  const TensorType &rhs = operandType(op, MatMul::rhs);
  if (lhs.dtype == DType::I4 || rhs.dtype == DType::I4)
    return op.emitError() << "i4 operands are not accepted; dequant first";
  if (failed(expectDType(op, MatMul::lhs,
                         {DType::I8, DType::F16, DType::BF16, DType::F32})))
    return failure();
  if (rhs.dtype != lhs.dtype)
    return op.emitError() << "lhs and rhs dtypes differ: " << lhs.dtype
                          << " vs " << rhs.dtype;
  if (failed(expectND(op, MatMul::lhs)))
    return failure();

  bool isInt = lhs.dtype == DType::I8;
  if (isInt && a.out_dtype && *a.out_dtype != DType::I32)
    return op.emitError() << "out_dtype must be i32 for i8 operands, got "
                          << *a.out_dtype;
  if (!isInt && a.out_dtype && !isFloat(*a.out_dtype))
    return op.emitError() << "out_dtype must be a float dtype for " << lhs.dtype
                          << " operands, got " << *a.out_dtype;
  DType outDType = isInt ? DType::I32 : a.out_dtype.value_or(lhs.dtype);

  bool grouped = op.operand(MatMul::group_list) != nullptr;
  if (grouped) {
    if (failed(verifyGrouped(op, lhs, rhs)))
      return failure();
  } else {
    if (a.group_list_type != GroupListType::Cumsum)
      return op.emitError() << "group_list_type is set but there is no "
                               "group_list";
    if (lhs.rank() < 2)
      return op.emitError() << "lhs must have rank >= 2, got " << lhs;
    if (rhs.rank() < 2)
      return op.emitError() << "rhs must have rank >= 2, got " << rhs;
  }

  const Dim &m = a.transpose_lhs ? lhs.dim(-1) : lhs.dim(-2);
  const Dim &lhsK = a.transpose_lhs ? lhs.dim(-2) : lhs.dim(-1);
  const Dim &rhsK = a.transpose_rhs ? rhs.dim(-1) : rhs.dim(-2);
  const Dim &n = a.transpose_rhs ? rhs.dim(-2) : rhs.dim(-1);
  if (lhsK != rhsK)
    return op.emitError() << "contracting dims differ: lhs K=" << lhsK
                          << ", rhs K=" << rhsK;

  std::vector<Dim> dims;
  if (!grouped) {
    std::vector<Dim> lhsBatch(lhs.dims.begin(), lhs.dims.end() - 2);
    std::vector<Dim> rhsBatch(rhs.dims.begin(), rhs.dims.end() - 2);
    if (!lhsBatch.empty() && !rhsBatch.empty() && lhsBatch != rhsBatch)
      return op.emitError() << "batch dims differ: " << toString(lhsBatch)
                            << " vs " << toString(rhsBatch);
    dims = lhsBatch.empty() ? rhsBatch : lhsBatch;
  }
  dims.push_back(m);
  dims.push_back(n);
  results = {TensorType{outDType, std::move(dims), Layout::ND}};
  return success();
}

namespace {

/// Storage-free view of one [M, K] x [K, N] product; the offsets select the
/// batch (or expert) matrix inside each tensor.
struct Product {
  const Tensor &lhs, &rhs;
  bool transLhs, transRhs;
  int64_t m, k, n;

  int64_t lhsIndex(int64_t base, int64_t i, int64_t kk) const {
    return base + (transLhs ? kk * m + i : i * k + kk);
  }
  int64_t rhsIndex(int64_t base, int64_t kk, int64_t j) const {
    return base + (transRhs ? j * k + kk : kk * n + j);
  }

  /// Writes out[outBase + i*n + j] for rows i in [rowBegin, rowEnd).
  void run(Tensor &out, int64_t lhsBase, int64_t rhsBase, int64_t outBase,
           int64_t rowBegin, int64_t rowEnd) const {
    bool isInt = isInteger(lhs.dtype());
    for (int64_t i = rowBegin; i < rowEnd; ++i) {
      for (int64_t j = 0; j < n; ++j) {
        int64_t pos = outBase + i * n + j;
        if (isInt) {
          int64_t acc = 0;
          for (int64_t kk = 0; kk < k; ++kk)
            acc += lhs.getInt(lhsIndex(lhsBase, i, kk)) *
                   rhs.getInt(rhsIndex(rhsBase, kk, j));
          out.setInt(pos, acc); // wraps to i32
          continue;
        }
        float acc = 0.0f;
        for (int64_t kk = 0; kk < k; ++kk) {
          float prod =
              static_cast<float>(lhs.getDouble(lhsIndex(lhsBase, i, kk))) *
              static_cast<float>(rhs.getDouble(rhsIndex(rhsBase, kk, j)));
          acc += prod;
        }
        out.setDouble(pos, acc);
      }
    }
  }
};

} // namespace

LogicalResult evalMatMul(const Op &op, EvalContext &ctx) {
  const MatMul::Attrs &a = op.attrs<MatMul>();
  const Tensor &lhs = ctx.in(MatMul::lhs);
  const Tensor &rhs = ctx.in(MatMul::rhs);
  Tensor &out = ctx.out();
  int64_t m = out.dim(-2), n = out.dim(-1);
  int64_t k = a.transpose_lhs ? lhs.dim(-2) : lhs.dim(-1);
  Product p{lhs, rhs, a.transpose_lhs, a.transpose_rhs, m, k, n};

  if (const Tensor *groupList = ctx.input(MatMul::group_list)) {
    FailureOr<std::vector<int64_t>> off =
        groupOffsets(ctx, *groupList, a.group_list_type, m);
    if (off.failed())
      return failure();
    // Rows at or past off[E] keep the zeros the output was allocated with.
    for (int64_t g = 0; g + 1 < static_cast<int64_t>(off->size()); ++g)
      p.run(out, 0, g * k * n, 0, (*off)[g], (*off)[g + 1]);
    return success();
  }

  int64_t batches = out.numel() / std::max<int64_t>(m * n, 1);
  bool lhsBatched = lhs.rank() > 2, rhsBatched = rhs.rank() > 2;
  for (int64_t b = 0; b < batches; ++b)
    p.run(out, lhsBatched ? b * m * k : 0, rhsBatched ? b * k * n : 0,
          b * m * n, 0, m);
  return success();
}

} // namespace kiln::ops
