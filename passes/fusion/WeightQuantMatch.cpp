//===- WeightQuantMatch.cpp - the dequant side of a weight-quant matmul ---===//
#include "passes/fusion/WeightQuantMatch.h"

#include "ops/OpUtils.h"
#include "passes/fusion/QuantMatchUtil.h"

namespace kiln::fusion {

namespace {
constexpr std::string_view kFused = "npu.weight_quant_batchmatmul";
using Dims = std::vector<Dim>;
} // namespace

bool isAntiquantMatmul(const Op *mm) {
  return mm && mm->isa<ops::MatMul>() &&
         mm->operand(ops::MatMul::rhs)->definedBy<ops::Dequant>();
}

LogicalResult matchAntiquant(const Op &root, const Op &mm, Rewriter &rw,
                             AntiquantMatch &m) {
  auto no = [&](std::string_view why) {
    return rw.notMatched(root, kFused, why);
  };
  const auto &ma = mm.attrs<ops::MatMul>();
  Value *wd = mm.operand(ops::MatMul::rhs);
  const Op &dq = *wd->definingOp();
  const auto &da = dq.attrs<ops::Dequant>();
  if (mm.operand(ops::MatMul::group_list) || ma.transpose_lhs)
    return no("matmul is grouped or transposes x");
  if (!wd->hasOneUse())
    return no("dequant result has another user");
  if (dq.operand(ops::Dequant::row_scale) ||
      dq.operand(ops::Dequant::group_list))
    return no("dequant has a row_scale or a group_list");
  Value *w = dq.operand(ops::Dequant::input);
  if (w->type().rank() != 2 ||
      (w->type().dtype != DType::I8 && w->type().dtype != DType::I4))
    return no("weight is not a 2-D i8 or i4 tensor");

  // x: the f16/bf16 lhs (the dequant then rounded W to it), or the source
  // of a widening cast when the matmul runs in f32.
  Value *lhs = mm.operand(ops::MatMul::lhs);
  DType lt = lhs->type().dtype;
  if (lt == DType::F16 || lt == DType::BF16) {
    m.x = lhs;
    m.outDType = lt;
  } else if (!(m.x = valueOrWidened(lhs, DType::F16)) &&
             !(m.x = valueOrWidened(lhs, DType::BF16))) {
    return no("x is not f16/bf16 (or an f16/bf16 value cast to f32)");
  }
  if (m.x->type().rank() != 2)
    return no("x is not 2-D");
  DType t = m.x->type().dtype;

  m.transposed = ma.transpose_rhs;
  const Dim &k = w->type().dims[m.transposed ? 1 : 0];
  const Dim &n = w->type().dims[m.transposed ? 0 : 1];
  int64_t g = m.groupSize = da.group_size;
  if (g != 0) {
    if (ops::normalizeAxis(da.group_axis, 2) != (m.transposed ? 1 : 0))
      return no("dequant groups do not run along K");
    if (g % 32 != 0 || g < 32 || !k.isStatic() || g >= k.size())
      return no("group size is not a multiple of 32 in [32, K-1]");
  }
  m.scale = valueOrWidened(dq.operand(ops::Dequant::scale), t);
  if (!m.scale)
    return no("antiquant scale does not have x's dtype");
  if (Value *o = dq.operand(ops::Dequant::offset))
    if (!(m.offset = valueOrWidened(o, t)))
      return no("antiquant offset does not have x's dtype");

  // Shapes in the logical [K,N] frame: [1], [1,1], [N], [1,N], [K/G,N].
  Dims d = m.scale->type().dims;
  if (m.transposed && d.size() == 1 && d[0] != Dim(1))
    return no("a rank-1 scale of an [N,K] weight scales K, not N");
  if (m.transposed && d.size() == 2)
    d = {d[1], d[0]};
  bool ok = g == 0 ? d == Dims{1} || d == Dims{1, 1} || d == Dims{n} ||
                         d == Dims{1, n}
                   : d == Dims{(k.size() + g - 1) / g, n};
  if (!ok)
    return no("antiquant scale is not per-tensor, per-channel or per-group "
              "over K");
  m.weight = w;
  return success();
}

Value *logicalScale(Builder &b, Value *s, const AntiquantMatch &m,
                    const Location &loc) {
  const Dims &d = s->type().dims;
  if (!m.transposed || d.size() != 2 || d == Dims{1, 1})
    return s;
  return b.create(OpKind::Transpose, {s}, ops::Transpose::Attrs{.perm = {1, 0}},
                  loc);
}

} // namespace kiln::fusion
