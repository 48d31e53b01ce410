//===- MmAllReduceBase.cpp - fuse matmul + epilogue + all-reduce ----------===//
//
// Before (non-quant; every step after the matmul in f32, one rounding):
//   %acc = matmul(%x1, %x2) {out_dtype = f32} : f32[M,N]
//   %bf  = cast(%bias) {to = f32} : f32[N]
//   %b   = add(%acc, %bf) : f32[M,N]
//   %x3f = cast(%x3) {to = f32} : f32[M,N]
//   %p   = add(%b, %x3f) : f32[M,N]
//   %h   = cast(%p) {to = f16} : f16[M,N]
//   %o   = allreduce(%h) : f16[M,N]
// After:
//   %o = npu.mm_all_reduce_base(%x1, %x2, bias = %bias, x3 = %x3) : f16[M,N]
//
// Also: allreduce in f32 then the cast (root = the cast; exact for any world
// size); no cast when the matmul / dequant itself rounds and nothing follows
// it; bias / x3 optional and in either operand order; operands widened by
// casts; weight quant = dequant(%w i8, %s, offset = %o) {out_dtype = f32}
// as the matmul's rhs; full quant = dequant(matmul_i8 [+ bias i32], %ds,
// row_scale = %p) or mul(dequant, %p [M,1]) (MmAllReduceMatch.h).
// Refused (with remarks): an add AFTER the all-reduce (bias would be counted
// once per rank), intermediates with other users, non-sum reductions, dtypes
// outside the seed 003 tables, f16/bf16 roundings between the matmul and
// the last step (the golden fused kernel rounds once; see
// ops/npu/MmAllReduceBase.cpp), a weight dequantized to f16/bf16.
// World size note: a cast BEFORE the all-reduce rounds each rank's partial;
// with kiln's single rank that equals the fused golden result exactly; the
// multi-rank work must restrict that form (the cast-after form stays exact).
// Test: tests/lit/fusion/mm_all_reduce_base.kir
//
//===----------------------------------------------------------------------===//
#include "passes/fusion/Fusions.h"
#include "passes/fusion/MmAllReduceMatch.h"

namespace kiln {

namespace {
constexpr std::string_view kName = "npu.mm_all_reduce_base";
} // namespace

LogicalResult fuseMmAllReduceBase(Op &root, Rewriter &rw) {
  if (root.isa<ops::Add>()) {
    for (Value *v : root.operands())
      if (v->definedBy<ops::AllReduce>() ||
          v->definedBy<ops::MmAllReduceBase>())
        return rw.notMatched(root, kName,
                             "the add comes after the all-reduce; as bias "
                             "or x3 every rank would add it (world size "
                             "times)");
    return failure();
  }
  Op *ar = &root;
  DType out = root.result()->type().dtype;
  if (root.isa<ops::Cast>()) {
    Value *in = root.operand(ops::Cast::input);
    if (!in->definedBy<ops::AllReduce>() || in->type().dtype != DType::F32)
      return failure(); // not a candidate
    if (!in->hasOneUse())
      return rw.notMatched(root, kName, "the f32 all-reduce has another user");
    ar = in->definingOp();
  } else if (!root.isa<ops::AllReduce>()) {
    return failure();
  }
  ReduceOp reduce = ar->attrs<ops::AllReduce>().reduce_op;
  if (reduce != ReduceOp::Sum)
    return rw.notMatched(root, kName,
                         "the all-reduce is " + std::string(toString(reduce)) +
                             "; the fused op only sums");
  if (out != DType::F16 && out != DType::BF16)
    return rw.notMatched(root, kName,
                         "the result is " + std::string(toString(out)) +
                             "; the fused op outputs f16 or bf16");
  Value *partial = ar->operand(ops::AllReduce::input);
  if (!partial->hasOneUse())
    return rw.notMatched(root, kName, "the all-reduce input has another user");
  fusion::MmAllReducePartial p;
  if (std::string why = fusion::matchMmAllReducePartial(partial, out, p);
      !why.empty())
    return rw.notMatched(root, kName, why);

  const Location &loc = root.loc();
  Builder b = rw.builderBefore(&root);
  Value *pertoken = p.pertoken;
  if (!p.pertokenReshape.empty())
    pertoken = b.create(OpKind::Reshape, {pertoken},
                        ops::Reshape::Attrs{.shape = p.pertokenReshape}, loc);
  ops::MmAllReduceBase::Operands o{.x1 = p.x1,
                                   .x2 = p.x2,
                                   .bias = p.bias,
                                   .antiquant_scale = p.antiquantScale,
                                   .antiquant_offset = p.antiquantOffset,
                                   .x3 = p.x3,
                                   .dequant_scale = p.dequantScale,
                                   .pertoken_scale = pertoken};
  Value *fused = b.create(
      OpKind::MmAllReduceBase, ops::operandList(o),
      ops::MmAllReduceBase::Attrs{.antiquant_group_size = p.groupSize}, loc);
  rw.replace(&root, {fused});
  if (ar != &root) // the f32 all-reduce is now unused but not pure: erase it
    rw.replace(ar, {fused});
  return success();
}

} // namespace kiln
