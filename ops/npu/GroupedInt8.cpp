//===- GroupedInt8.cpp - shared parts of the grouped int8 MoE ops ---------===//
#include "ops/npu/GroupedInt8.h"

#include "ops/OpUtils.h"

namespace kiln::ops {

LogicalResult verifyGroupedInt8(const Op &op, unsigned x, unsigned w,
                                unsigned groupList, unsigned scale) {
  const TensorType &xt = operandType(op, x);
  const TensorType &wt = operandType(op, w);
  if (failed(expectDType(op, x, {DType::I8})) || failed(expectRank(op, x, 2)) ||
      failed(expectND(op, x)))
    return failure();
  if (wt.dtype != DType::I8)
    return op.emitError() << operandName(op, w)
                          << " must be i8 (A8W8 is the only supported "
                             "quantization), got "
                          << wt.dtype;
  if (wt.rank() != 3)
    return op.emitError() << operandName(op, w) << " must be [e, k, n], got "
                          << wt;
  if (wt.layout != Layout::NZ)
    return op.emitError() << operandName(op, w)
                          << " must be in FRACTAL_NZ layout "
                             "(npu_format_cast(" << operandName(op, w)
                          << ", 29)), got "
                          << wt;
  if (wt.dims[1] != xt.dims[1])
    return op.emitError() << "k differs: " << operandName(op, x) << " has k = "
                          << xt.dims[1] << ", " << operandName(op, w)
                          << " has k = " << wt.dims[1];
  if (failed(expectDType(op, groupList, {DType::I64})) ||
      failed(expectRank(op, groupList, 1)) || failed(expectND(op, groupList)))
    return failure();
  const Dim &e = wt.dims[0];
  if (operandType(op, groupList).dims[0] != e)
    return op.emitError() << operandName(op, groupList) << " has "
                          << operandType(op, groupList).dims[0]
                          << " groups but " << operandName(op, w) << " has "
                          << e << " experts";
  if (!op.operand(scale))
    return op.emitError() << operandName(op, scale)
                          << " is required for int8 " << operandName(op, w)
                          << " (per-channel dequant)";
  const TensorType &st = operandType(op, scale);
  if (failed(expectDType(op, scale, {DType::F32})) ||
      failed(expectND(op, scale)))
    return failure();
  if (st.dims != std::vector<Dim>{e, wt.dims[2]})
    return op.emitError() << operandName(op, scale) << " must be [e, n] = "
                          << toString(std::vector<Dim>{e, wt.dims[2]})
                          << " (per-channel), got " << toString(st.dims);
  return success();
}

GroupedInt8Matmul::GroupedInt8Matmul(const Tensor &x, const Tensor &w)
    : m_(x.dim(0)), k_(x.dim(1)), n_(w.dim(2)) {
  x_.resize(x.numel());
  for (int64_t i = 0; i < x.numel(); ++i)
    x_[i] = static_cast<int8_t>(x.getInt(i));
  w_.resize(w.numel());
  for (int64_t i = 0; i < w.numel(); ++i)
    w_[i] = static_cast<int8_t>(w.getInt(i));
}

void GroupedInt8Matmul::row(int64_t i, int64_t g,
                            std::vector<int32_t> &acc) const {
  std::vector<int64_t> sum(n_, 0);
  const int8_t *xr = x_.data() + i * k_;
  const int8_t *wg = w_.data() + g * k_ * n_;
  for (int64_t kk = 0; kk < k_; ++kk) {
    int64_t a = xr[kk];
    const int8_t *wr = wg + kk * n_;
    for (int64_t j = 0; j < n_; ++j)
      sum[j] += a * wr[j];
  }
  acc.resize(n_);
  for (int64_t j = 0; j < n_; ++j)
    acc[j] = static_cast<int32_t>(static_cast<uint32_t>(sum[j]));
}

std::vector<int64_t> rowGroups(const std::vector<int64_t> &offsets,
                               int64_t rows) {
  std::vector<int64_t> groups(rows, -1);
  for (size_t g = 0; g + 1 < offsets.size(); ++g)
    for (int64_t r = offsets[g]; r < offsets[g + 1]; ++r)
      groups[r] = static_cast<int64_t>(g);
  return groups;
}

} // namespace kiln::ops
