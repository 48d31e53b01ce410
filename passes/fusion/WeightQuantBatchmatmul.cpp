//===- WeightQuantBatchmatmul.cpp - fuse npu.weight_quant_batchmatmul -----===//
//
// Before (OPS.md §7), x f16 (bias f16) or bf16 (bias f32):
//   %xf = cast(%x) {to = f32} : f32[M,K]
//   %wd = dequant(%w, %s, offset = %o) {group_size = G} : f32[K,N]
//   %y  = matmul(%xf, %wd) : f32[M,N]
//   %bf = cast(%b) {to = f32} : f32[N]                (f16 x; bf16 x: %b f32)
//   %yb = add(%y, %bf) : f32[M,N]
//   %r  = cast(%yb) {to = f16} : f16[M,N]   |  %r = quant(%yb, scale = %qs,
//                                                  offset = %qo) : i8[M,N]
// After:
//   %r = npu.weight_quant_batchmatmul(%x, %w, %s, antiquant_offset = %o,
//            bias = %b [, quant_scale = %qs, quant_offset = %qo])
//            {antiquant_group_size = G} : f16[M,N] | i8[M,N]
//
// Precision (golden mode): the dequant may also produce x's dtype, the
// matmul then running on %x itself. That graph rounds W to f16/bf16 before
// the matmul (> 1 ulp away from an fp32 W), so rather than refusing it the
// fusion records the rounding as {antiquant_out_dtype = f16|bf16} (a kiln
// attribute; unset = fp32 W) and the fused golden kernel rounds W there.
// Y must reach the single final rounding unrounded: with a bias, cast or
// quant after the matmul its result must be f32 (the root is then that
// cast/quant); a matmul producing x's dtype is a root on its own.
// Variants: offset/bias/quant optional; scale/offset as a widening cast of
// x-dtype values; bias on either side of the add; W stored [N,K] and used
// with transpose_rhs (-> transpose_weight; rank-2 scales are transposed
// into the [.., N] frame); per-tensor/channel/group scales.
// Refused: an intermediate with another user; dtypes outside seed 001's
// table (f32 x, f32 bias for f16 x, non-f32 quant scale); groups not along
// K, not a multiple of 32 or >= K; a quant with an NZ weight or a quant
// scale that is not [1]/[N]/[1,N]; an add that is not a [N] bias. A bias
// added after the quant is not absorbed (the matmul + quant fuse alone).
// Test: tests/lit/fusion/weight_quant_batchmatmul.kir
//
//===----------------------------------------------------------------------===//
#include "passes/fusion/Fusions.h"
#include "passes/fusion/QuantMatchUtil.h"
#include "passes/fusion/WeightQuantMatch.h"

namespace kiln {

using namespace fusion;

LogicalResult fuseWeightQuantBatchmatmul(Op &root, Rewriter &rw) {
  auto no = [&](std::string_view why) {
    return rw.notMatched(root, "npu.weight_quant_batchmatmul", why);
  };
  bool isMM = root.isa<ops::MatMul>(), isQuant = root.isa<ops::Quant>();
  if (!isMM && !isQuant && !root.isa<ops::Cast>())
    return failure();
  Value *y = isMM ? root.result() : root.operand(0);
  Op *add = !isMM && y->definedBy<ops::Add>() ? y->definingOp() : nullptr;
  Value *bias = nullptr;
  if (add) {
    unsigned i = isAntiquantMatmul(add->operand(0)->definingOp()) ? 0 : 1;
    y = add->operand(i);
    bias = add->operand(1 - i);
  }
  if (!isAntiquantMatmul(y->definingOp()))
    return failure();
  DType yt = y->type().dtype;
  if (isMM && yt != DType::F16 && yt != DType::BF16)
    return failure(); // the inside of a longer chain; its root reports

  AntiquantMatch am;
  if (failed(matchAntiquant(root, *y->definingOp(), rw, am)))
    return failure();
  DType t = am.x->type().dtype;
  const Dim &n = y->type().dims[1];
  using Dims = std::vector<Dim>;
  if (isMM && yt != t)
    return no("matmul result dtype is not x's dtype");
  if (!isMM && yt != DType::F32)
    return no("the matmul result is rounded before the bias/cast/quant");
  if (!isMM && !y->hasOneUse())
    return no("matmul result has another user");
  if (add && !add->result()->hasOneUse())
    return no("add result has another user");
  if (root.isa<ops::Cast>() && root.attrs<ops::Cast>().to != t)
    return no("result is not cast to x's dtype");
  if (bias) {
    const TensorType &bt = bias->type();
    if ((bt.dims != Dims{n} && bt.dims != Dims{1, n}) ||
        bt.layout != Layout::ND)
      return no("added value is not an [N] or [1,N] bias");
    if (t == DType::F16 && !(bias = valueOrWidened(bias, DType::F16)))
      return no("bias of an f16 x must be f16 (cast to f32 for the add)");
  }
  Value *qs = nullptr, *qo = nullptr;
  if (isQuant) {
    if (root.attrs<ops::Quant>().mode != QuantMode::Static)
      return no("quant is dynamic");
    qs = root.operand(ops::Quant::scale);
    qo = root.operand(ops::Quant::offset);
    if (am.weight->type().layout != Layout::ND)
      return no("quant_scale needs an ND weight");
    if (qs->type().dtype != DType::F32)
      return no("quant scale is not f32");
    const Dims &d = qs->type().dims;
    if (d != Dims{1} && d != Dims{n} && d != Dims{1, n})
      return no("quant scale does not broadcast per-channel ([1], [N], [1,N])");
  }

  Builder b = rw.builderBefore(&root);
  Value *s = logicalScale(b, am.scale, am, root.loc());
  Value *o = am.offset ? logicalScale(b, am.offset, am, root.loc()) : nullptr;
  ops::WeightQuantBatchmatmul::Attrs attrs{.antiquant_group_size = am.groupSize,
                                           .transpose_weight = am.transposed,
                                           .antiquant_out_dtype = am.outDType};
  Value *fused =
      b.create(OpKind::WeightQuantBatchmatmul,
               {am.x, am.weight, s, o, qs, qo, bias}, attrs, root.loc());
  rw.replace(&root, {fused});
  return success();
}

} // namespace kiln
