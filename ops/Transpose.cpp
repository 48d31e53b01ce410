//===- Transpose.cpp - transpose: permute the dims ------------------------===//
//
// %r = transpose(%x) {perm = [1, 0]} : T
//
// `perm` is a permutation of 0..rank-1 (no negative entries). Result dim i is
// x's dim perm[i]: r[i_0, ..., i_{n-1}] = x[j] with j[perm[k]] = i_k. x must be
// in ND layout; the result has x's dtype, ND layout. Values are copied exactly.
//
//===----------------------------------------------------------------------===//
#include "ops/Elementwise.h"
#include "ops/OpHooks.h"
#include "ops/OpUtils.h"

namespace kiln::ops {

namespace {
std::string toString(const IntList &list) {
  std::string s = "[";
  for (size_t i = 0; i < list.size(); ++i)
    s += (i ? ", " : "") + std::to_string(list[i]);
  return s + "]";
}
} // namespace

LogicalResult inferTranspose(const Op &op, std::vector<TensorType> &results) {
  const TensorType &x = operandType(op, Transpose::input);
  if (failed(expectND(op, Transpose::input)))
    return failure();
  const IntList &perm = op.attrs<Transpose>().perm;
  std::vector<bool> seen(x.rank(), false);
  bool valid = static_cast<int64_t>(perm.size()) == x.rank();
  for (size_t i = 0; valid && i < perm.size(); ++i) {
    valid = perm[i] >= 0 && perm[i] < x.rank() && !seen[perm[i]];
    if (valid)
      seen[perm[i]] = true;
  }
  if (!valid)
    return op.emitError() << "perm " << toString(perm)
                          << " is not a permutation of 0.." << x.rank() - 1
                          << " for input " << x;
  TensorType r{x.dtype, {}, Layout::ND};
  for (int64_t p : perm)
    r.dims.push_back(x.dims[p]);
  results = {std::move(r)};
  return success();
}

LogicalResult evalTranspose(const Op &op, EvalContext &ctx) {
  const Tensor &x = ctx.in(Transpose::input);
  Tensor &out = ctx.out(0);
  const IntList &perm = op.attrs<Transpose>().perm;
  std::vector<int64_t> outIdx(out.rank()), inIdx(x.rank());
  for (int64_t i = 0, e = out.numel(); i < e; ++i) {
    unravelIndex(i, out.shape(), outIdx);
    for (size_t k = 0; k < perm.size(); ++k)
      inIdx[perm[k]] = outIdx[k];
    copyElement(x, ravelIndex(inIdx, x.shape()), out, i);
  }
  return success();
}

} // namespace kiln::ops
