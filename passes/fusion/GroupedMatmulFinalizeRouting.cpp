//===- GroupedMatmulFinalizeRouting.cpp - fuse the MoE down projection ----===//
//
// Before:
//   %acc = matmul(%x, %w, group_list = %gl) {group_list_type = T} : i32[M,N]
//   %y   = dequant(%acc, %s, row_scale = %pt, group_list = %gl) : f32[M,N]
//   %lg  = reshape(%logit) {shape = [M, 1]} : f32[M,1]
//   %yw  = mul(%y, %lg) : f32[M,N]
//   %i   = cast(%shared: bf16[B,N]) {to = f32} : f32[B,N]
//   %out = scatter_add(%yw, %row_index, init = %i) : f32[B,N]
// After:
//   %out = npu.grouped_matmul_finalize_routing(%x, %wnz, %gl, scale = %s,
//              pertoken_scale = %pt, shared_input = %shared, logit = %logit,
//              row_index = %row_index) {output_bs = B, group_list_type = T}
//
// The fused golden kernel computes ((acc * s) * pt) * logit, this chain's
// fp32 order. Accepted: per-token and logit factors as dequant row_scale or
// as mul by [M,1] row factors (either order), a pre-multiplied pt * logit
// row_scale (it becomes pertoken_scale), no logit, no init (scatter-only;
// with a logit the fused op gets a zero bf16 shared_input so that logit is
// allowed), a shared part scaled by a constant and/or placed at consecutive
// rows (MoeMatch.h), weights as in the swiglu fusion, count or cumsum lists.
// With a shared part but no second factor the last factor becomes logit
// (or a ones logit): y is the same fp32 product. Refused: intermediates
// with other users, dtypes outside the A8W8 table, other init chains.
// Difference: the unfused scatter_add bounds-checks (and adds zeros for)
// the rows past the group_list total too; the fused op never reads them, so
// an out-of-range row_index there is an error only unfused.
// Test: tests/lit/fusion/grouped_matmul_finalize_routing.kir
//
//===----------------------------------------------------------------------===//
#include "passes/fusion/Fusions.h"
#include "passes/fusion/MoeMatch.h"

namespace kiln {

namespace {
constexpr std::string_view kName = "npu.grouped_matmul_finalize_routing";
using FR = ops::GroupedMatmulFinalizeRouting;

/// Matches updates = [mul(chain, logit)] | chain; "" on success.
std::string matchUpdates(Value *u, fusion::GroupedDequant &gd,
                         fusion::RowFactor &logit) {
  if (Op *mul = u->definingOp(); mul && mul->isa<ops::Mul>()) {
    for (unsigned f : {1u, 0u}) {
      Value *inner = mul->operand(1 - f);
      if (inner->type().rank() != 2)
        continue;
      fusion::RowFactor rf =
          fusion::matchRowFactor(mul->operand(f), inner->type().dims[0]);
      bool plainDequant =
          inner->definedBy<ops::Dequant>() &&
          !inner->definingOp()->operand(ops::Dequant::row_scale);
      if (!rf || plainDequant || !(inner->definedBy<ops::Dequant>() ||
                                   inner->definedBy<ops::Mul>()))
        continue; // a plain dequant times one factor: the chain itself
      if (!inner->hasOneUse())
        return "the dequantized matmul has another user";
      logit = rf;
      return fusion::matchGroupedDequant(inner, gd);
    }
  }
  return fusion::matchGroupedDequant(u, gd);
}
} // namespace

LogicalResult fuseGroupedMatmulFinalizeRouting(Op &root, Rewriter &rw) {
  if (!root.isa<ops::ScatterAdd>())
    return failure();
  Value *u = root.operand(ops::ScatterAdd::updates);
  Value *init = root.operand(ops::ScatterAdd::init);
  if (!u->definedBy<ops::Mul>() && !u->definedBy<ops::Dequant>())
    return failure(); // not a candidate
  if (!u->hasOneUse())
    return rw.notMatched(root, kName, "the scatter_add updates have another "
                                      "user");
  fusion::GroupedDequant gd;
  fusion::RowFactor logitRf;
  if (std::string why = matchUpdates(u, gd, logitRf); !why.empty())
    return rw.notMatched(root, kName, why);
  fusion::SharedInit si;
  if (init)
    if (std::string why = fusion::matchSharedInit(init, si); !why.empty())
      return rw.notMatched(root, kName, why);

  const Location &loc = root.loc();
  Builder b = rw.builderBefore(&root);
  std::vector<Value *> factors;
  for (const fusion::RowFactor &f : {gd.rowScale, logitRf})
    if (f)
      factors.push_back(fusion::materialize(f, b, loc));
  const Dim &rows = root.result()->type().dims[0];
  const Dim &n = u->type().dims[1];
  FR::Operands o{.x = gd.x,
                 .w = fusion::nzWeight(gd.w, b, loc),
                 .group_list = gd.groupList,
                 .scale = gd.scale,
                 .shared_input = si.shared,
                 .row_index = root.operand(ops::ScatterAdd::index)};
  if (!init && factors.size() == 2) // a logit needs a shared_input: zeros
    o.shared_input = b.create(OpKind::Constant, {},
                              ops::Constant::Attrs{Elements{{0.0}}}, loc,
                              {TensorType{DType::BF16, {rows, n}}});
  if (o.shared_input && factors.empty())
    factors.push_back(fusion::onesRow(gd.x->type().dims[0], b, loc));
  if (factors.size() == 2 || (!o.shared_input && factors.size() == 1))
    o.pertoken_scale = factors[0];
  if (o.shared_input)
    o.logit = factors.back();
  FR::Attrs a{.shared_input_weight = si.weight,
              .shared_input_offset = si.offset,
              .output_bs = rows,
              .group_list_type = gd.type};
  Results r = b.create(OpKind::GroupedMatmulFinalizeRouting,
                       ops::operandList(o), std::move(a), loc);
  rw.replace(&root, {r});
  return success();
}

} // namespace kiln
