//===- Reshape.cpp - reshape: same elements, new shape --------------------===//
//
// %r = reshape(%x) {shape = [M, 2, 4]} : T
//
// `shape` is a dim list; its symbols must be declared in the graph and its
// static dims must be >= 0. The element count must provably match: the
// product of the static dims of x equals that of `shape`, and both hold the
// same multiset of symbols. So [M,8] -> [M,2,4] and [M,N] -> [N,M] are
// fine, [M,8] -> [N,8] and [M,8] -> [8,M,1,2] are not (-1 is not inferred).
// x must be in ND layout; the result has x's dtype, ND layout, and the same
// values in row-major order: r.flat[i] = x.flat[i], copied exactly.
//
//===----------------------------------------------------------------------===//
#include "ir/Graph.h"
#include "ops/Elementwise.h"
#include "ops/OpHooks.h"
#include "ops/OpUtils.h"

#include <algorithm>

namespace kiln::ops {

namespace {
/// The product of the static dims and the sorted symbols of `dims`.
std::pair<int64_t, std::vector<std::string>>
elementCount(const std::vector<Dim> &dims) {
  int64_t product = 1;
  std::vector<std::string> symbols;
  for (const Dim &d : dims) {
    if (d.isSymbol())
      symbols.push_back(d.symbol());
    else
      product *= d.size();
  }
  std::sort(symbols.begin(), symbols.end());
  return {product, std::move(symbols)};
}
} // namespace

LogicalResult inferReshape(const Op &op, std::vector<TensorType> &results) {
  const TensorType &x = operandType(op, Reshape::input);
  if (failed(expectND(op, Reshape::input)))
    return failure();
  const DimList &shape = op.attrs<Reshape>().shape;
  for (const Dim &d : shape) {
    if (d.isSymbol() && !(op.parent() && op.parent()->hasSymbol(d.symbol())))
      return op.emitError() << "shape " << toString(shape)
                            << " uses undeclared symbol " << d.symbol();
    if (d.isStatic() && d.size() < 0)
      return op.emitError() << "shape " << toString(shape)
                            << " has a negative dim " << d.size();
  }
  if (elementCount(x.dims) != elementCount(shape))
    return op.emitError() << "shape " << toString(shape)
                          << " does not have the element count of input "
                          << toString(x.dims);
  results = {TensorType{x.dtype, shape, Layout::ND}};
  return success();
}

LogicalResult evalReshape(const Op &op, EvalContext &ctx) {
  const Tensor &x = ctx.in(Reshape::input);
  Tensor &out = ctx.out(0);
  if (x.numel() != out.numel())
    return ctx.error() << "input " << kiln::toString(x.shape()) << " has "
                       << x.numel() << " elements but the result "
                       << kiln::toString(out.shape()) << " has " << out.numel();
  for (int64_t i = 0, e = out.numel(); i < e; ++i)
    copyElement(x, i, out, i);
  return success();
}

} // namespace kiln::ops
