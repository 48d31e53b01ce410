//===- ReduceSum.cpp - reduce_sum: sum over a set of dims -----------------===//
//
// %r = reduce_sum(%x) {dims = [0, -1], keep_dims = false} : T
//
// `dims` is non-empty, each entry in [-rank, rank) (negative counts from the
// end), no dim named twice (also not as d and d - rank). The reduced dims are
// dropped from the result, or kept as size 1 with keep_dims (reducing every
// dim without keep_dims gives a rank-0 result). Any input layout; ND result.
//   floats (f16, bf16, f32): each output element accumulates its inputs in
//     fp32, `acc = float(acc + float(x))`, in ascending row-major order of
//     the reduced coordinates, starting from +0.0; the sum is rounded to the
//     input dtype once at the end (nearest even).
//   integers: the exact sum, computed in int64 and wrapped modulo 2^bits of
//     the result dtype. The result dtype is the input's, except that i8 sums
//     into i32 (an i8 sum overflows after two elements). i4 is rejected:
//     dequantize or cast it first.
//
//===----------------------------------------------------------------------===//
#include "ops/OpHooks.h"
#include "ops/OpUtils.h"

namespace kiln::ops {

namespace {
/// For each input dim, whether it is reduced; nullopt after reporting an
/// invalid `dims`.
std::optional<std::vector<bool>> reducedMask(const Op &op, int64_t rank) {
  const IntList &dims = op.attrs<ReduceSum>().dims;
  if (dims.empty()) {
    op.emitError() << "dims must not be empty";
    return std::nullopt;
  }
  std::vector<bool> mask(rank, false);
  for (size_t i = 0; i < dims.size(); ++i) {
    std::optional<int64_t> d = normalizeAxis(dims[i], rank);
    if (!d) {
      op.emitError() << "dims[" << i << "] = " << dims[i]
                     << " is out of range for rank " << rank;
      return std::nullopt;
    }
    if (mask[*d]) {
      op.emitError() << "dims[" << i << "] = " << dims[i] << " reduces dim "
                     << *d << " twice";
      return std::nullopt;
    }
    mask[*d] = true;
  }
  return mask;
}
} // namespace

LogicalResult inferReduceSum(const Op &op, std::vector<TensorType> &results) {
  const TensorType &x = operandType(op, ReduceSum::input);
  if (failed(expectDType(op, ReduceSum::input,
                         {DType::I8, DType::I32, DType::I64, DType::F16,
                          DType::BF16, DType::F32})))
    return failure();
  std::optional<std::vector<bool>> mask = reducedMask(op, x.rank());
  if (!mask)
    return failure();
  TensorType r{x.dtype == DType::I8 ? DType::I32 : x.dtype, {}, Layout::ND};
  for (int64_t d = 0; d < x.rank(); ++d) {
    if (!(*mask)[d])
      r.dims.push_back(x.dims[d]);
    else if (op.attrs<ReduceSum>().keep_dims)
      r.dims.push_back(Dim(1));
  }
  results = {std::move(r)};
  return success();
}

LogicalResult evalReduceSum(const Op &op, EvalContext &ctx) {
  const Tensor &x = ctx.in(ReduceSum::input);
  Tensor &out = ctx.out(0);
  std::vector<bool> mask(x.rank(), false);
  for (int64_t d : op.attrs<ReduceSum>().dims)
    mask[*normalizeAxis(d, x.rank())] = true;

  // Walking x in row-major order visits, for every output element, its
  // inputs in ascending row-major order of the reduced coordinates.
  bool isInt = isInteger(x.dtype());
  std::vector<float> facc(isInt ? 0 : out.numel(), 0.0f);
  std::vector<uint64_t> iacc(isInt ? out.numel() : 0, 0);
  std::vector<int64_t> idx(x.rank());
  for (int64_t i = 0, e = x.numel(); i < e; ++i) {
    unravelIndex(i, x.shape(), idx);
    int64_t o = 0;
    for (int64_t d = 0; d < x.rank(); ++d)
      if (!mask[d])
        o = o * x.dim(d) + idx[d];
    if (isInt)
      iacc[o] += static_cast<uint64_t>(x.getInt(i)); // wraps mod 2^64
    else
      facc[o] += static_cast<float>(x.getDouble(i));
  }
  for (int64_t o = 0, e = out.numel(); o < e; ++o) {
    if (isInt)
      out.setInt(o, static_cast<int64_t>(iacc[o]));
    else
      out.setDouble(o, facc[o]);
  }
  return success();
}

} // namespace kiln::ops
