//===- QuantMatmulReduceSum.cpp - fuse npu.quant_matmul_reduce_sum --------===//
//
// Before (OPS.md §7):
//   %acc = matmul(%x1, %x2) : i32[B,M,N]     x1 i8 [B,M,K], x2 i8 [B,K,N] NZ
//   %p   = dequant(%acc, %s2, row_scale = %s1) : f32[B,M,N]
//   %r   = reduce_sum(%p) {dims = [0]} : f32[M,N]
//   %y   = cast(%r) {to = bf16} : bf16[M,N]
// After:
//   %y = npu.quant_matmul_reduce_sum(%x1, %x2, x1_scale = %s1,
//                                     x2_scale = %s2) : bf16[M,N]
//
// Variants: the per-token scale as `mul(%p, %t)` (any operand order) of a
// dequant without row_scale, %t f32 [B,M,1] (a reshape of %s1 is looked
// through, other values are reshaped to [B,M]); %s2 = cast(bf16 [N]) {to =
// f32}; x2 = format_cast(%nz) {layout = ND} (%nz is used); dims = [-3].
// Requires: one use of every intermediate; a dequant to f32 without
// offset/groups whose scale is the bf16 [N] x2_scale (so it is applied
// before the per-token scale, the fused kernel's fp32 order); an NZ x2. A
// plain ND x2 is refused, not wrapped in a new format_cast {layout = NZ}:
// torch_npu's op has no ND form, so such a graph is not its decomposition.
// Test: tests/lit/fusion/quant_matmul_reduce_sum.kir
//
//===----------------------------------------------------------------------===//
#include "passes/Match.h"
#include "passes/fusion/Fusions.h"
#include "passes/fusion/QuantMatchUtil.h"

namespace kiln {
LogicalResult fuseQuantMatmulReduceSum(Op &root, Rewriter &rw) {
  auto no = [&](std::string_view why) {
    return rw.notMatched(root, "npu.quant_matmul_reduce_sum", why);
  };
  Value *parts = nullptr;
  Op *red = nullptr;
  if (!match(root, m::op<ops::Cast>(
                       m::op<ops::ReduceSum>(m::any(&parts)).bind(&red))))
    return failure();
  if (root.attrs<ops::Cast>().to != DType::BF16)
    return no("the sum is not cast to bf16");
  if (!red->result()->hasOneUse())
    return no("reduce_sum result has another user");
  const auto &ra = red->attrs<ops::ReduceSum>();
  if (parts->type().rank() != 3 || ra.keep_dims || ra.dims.size() != 1 ||
      (ra.dims[0] != 0 && ra.dims[0] != -3))
    return no("reduce_sum must reduce dim 0 of a rank-3 value only");
  if (parts->type().dtype != DType::F32)
    return no("the per-batch parts are not f32");

  // The per-token scale: dequant's row_scale, or a separate mul.
  Value *rowScale = nullptr, *deq = parts;
  Op *mul = nullptr;
  if (matchValue(parts, m::commutative<ops::Mul>(m::op<ops::Dequant>(m::any()),
                                                 m::any(&rowScale))
                            .bind(&mul))) {
    deq = mul->operand(0) == rowScale ? mul->operand(1) : mul->operand(0);
    if (!parts->hasOneUse())
      return no("mul result has another user");
  }
  Op *dq = deq->definingOp();
  if (!dq || !dq->isa<ops::Dequant>())
    return no("reduce_sum input is not a dequant");
  if (!deq->hasOneUse())
    return no("dequant result has another user");
  const auto &da = dq->attrs<ops::Dequant>();
  if (dq->operand(ops::Dequant::offset) ||
      dq->operand(ops::Dequant::group_list) || da.group_size != 0 ||
      da.out_dtype != DType::F32)
    return no("dequant has an offset, groups or a non-f32 result");
  Value *r = dq->operand(ops::Dequant::row_scale);
  if (!r == !rowScale)
    return no("needs one per-token scale (row_scale or a mul)");
  rowScale = rowScale ? rowScale : r;

  Value *acc = dq->operand(ops::Dequant::input);
  Op *mm = acc->definingOp();
  if (!mm || !mm->isa<ops::MatMul>())
    return no("dequant input is not a matmul");
  if (!acc->hasOneUse())
    return no("matmul result has another user");
  const auto &ma = mm->attrs<ops::MatMul>();
  Value *x1 = mm->operand(ops::MatMul::lhs);
  if (x1->type().dtype != DType::I8 || x1->type().rank() != 3 ||
      mm->operand(ops::MatMul::rhs)->type().rank() != 3 || ma.transpose_lhs ||
      ma.transpose_rhs || mm->operand(ops::MatMul::group_list))
    return no("matmul is not an untransposed batched i8 x i8 one");
  Value *x2 = fusion::nzSource(mm->operand(ops::MatMul::rhs));
  if (!x2)
    return no("x2 must be FRACTAL_NZ");

  const TensorType &acct = acc->type();
  Value *s2 =
      fusion::valueOrWidened(dq->operand(ops::Dequant::scale), DType::BF16);
  if (!s2 || s2->type().dims != std::vector<Dim>{acct.dims[2]})
    return no("dequant scale is not the per-channel bf16 [N] "
              "x2_scale (the per-token scale must come second)");
  std::vector<Dim> bm{acct.dims[0], acct.dims[1]};
  if (rowScale->type().dtype != DType::F32 ||
      rowScale->type().layout != Layout::ND)
    return no("per-token scale is not an f32 ND tensor");
  if (mul) { // [B,M,1] -> [B,M]
    if (rowScale->type().dims != std::vector<Dim>{bm[0], bm[1], Dim(1)})
      return no("mul is not by a [B,M,1] scale");
    Value *src = rowScale->definedBy<ops::Reshape>()
                     ? rowScale->definingOp()->operand(0)
                     : nullptr;
    if (src && src->type().dims == bm) // reshape inputs are ND
      rowScale = src;
  }

  Builder b = rw.builderBefore(&root);
  if (rowScale->type().dims != bm)
    rowScale = b.create(OpKind::Reshape, {rowScale},
                        ops::Reshape::Attrs{.shape = bm}, root.loc());
  Value *fused = b.create(OpKind::QuantMatmulReduceSum, {x1, x2, rowScale, s2},
                          ops::QuantMatmulReduceSum::Attrs{}, root.loc());
  rw.replace(&root, {fused});
  return success();
}
} // namespace kiln
