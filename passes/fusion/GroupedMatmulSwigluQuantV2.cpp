//===- GroupedMatmulSwigluQuantV2.cpp - fuse the MoE gate/up projection ---===//
//
// Before:
//   %acc = matmul(%x, %w, group_list = %gl) {group_list_type = T} : i32[M,N]
//   %d   = dequant(%acc, %ws, row_scale = %xs, group_list = %gl)
//              {group_list_type = T} : f32[M,N]
//   %a   = swiglu(%d) : f32[M,N/2]
//   %q, %s = quant(%a) {mode = dynamic} : (i8[M,N/2], f32[M])
// After:
//   %q, %s = npu.grouped_matmul_swiglu_quant_v2(%x, %wnz, %ws, %xs, %gl)
//                {group_list_type = T} : (i8[M,N/2], f32[M])
//
// Accepted variants (MoeMatch.h): the per-token scale as
// mul(dequant, reshape(%xs) to [M,1]) in either order (no per-token scale at
// all: a constant ones x_scale, exact); count or cumsum group lists (kiln's
// op accepts both, torch_npu only cumsum); %w an NZ parameter or
// format_cast {layout = NZ} (used as is) or an ND weight, for which a
// format_cast {layout = NZ} is inserted (same values; torch_npu wants NZ).
// Refused: quant static; swiglu {activate = second}; dynamic quant straight
// on the dequantized matmul (per-token max over N, not the N/2 SwiGLU
// output); any intermediate with another user; non-i8 operands, non-i64
// group_list, per-tensor/per-group weight scales, a dequant offset or
// non-f32 dequant. Test: tests/lit/fusion/grouped_matmul_swiglu_quant_v2.kir
//
//===----------------------------------------------------------------------===//
#include "passes/fusion/Fusions.h"
#include "passes/fusion/MoeMatch.h"

namespace kiln {

namespace {
constexpr std::string_view kName = "npu.grouped_matmul_swiglu_quant_v2";
} // namespace

LogicalResult fuseGroupedMatmulSwigluQuantV2(Op &root, Rewriter &rw) {
  if (!root.isa<ops::Quant>())
    return failure();
  bool dynamic = root.attrs<ops::Quant>().mode == QuantMode::Dynamic;
  Value *in = root.operand(ops::Quant::input);
  fusion::GroupedDequant gd;
  if (!in->definedBy<ops::SwiGLU>()) {
    if (dynamic && fusion::matchGroupedDequant(in, gd).empty())
      return rw.notMatched(root, kName,
                           "quant reads the dequantized matmul before "
                           "swiglu: its per-token max would span all N "
                           "columns, not the N/2 SwiGLU output");
    return failure(); // not a candidate
  }
  if (!dynamic)
    return rw.notMatched(root, kName,
                         "quant is static; the fused op quantizes "
                         "dynamically per token");
  Op *swiglu = in->definingOp();
  if (swiglu->attrs<ops::SwiGLU>().activate != SwigluHalf::First)
    return rw.notMatched(root, kName,
                         "swiglu activates the second half; the fused op "
                         "applies SiLU to the first half");
  if (!in->hasOneUse())
    return rw.notMatched(root, kName, "the swiglu result has another user");
  Value *d = swiglu->operand(ops::SwiGLU::input);
  if (!d->hasOneUse())
    return rw.notMatched(root, kName, "the swiglu input has another user");
  if (std::string why = fusion::matchGroupedDequant(d, gd); !why.empty())
    return rw.notMatched(root, kName, why);

  const Location &loc = root.loc();
  Builder b = rw.builderBefore(&root);
  const Dim &m = gd.x->type().dims[0];
  Value *xScale = gd.rowScale ? fusion::materialize(gd.rowScale, b, loc)
                              : fusion::onesRow(m, b, loc);
  ops::GroupedMatmulSwigluQuantV2::Operands o{
      .x = gd.x,
      .weight = fusion::nzWeight(gd.w, b, loc),
      .weight_scale = gd.scale,
      .x_scale = xScale,
      .group_list = gd.groupList};
  Results r = b.create(OpKind::GroupedMatmulSwigluQuantV2, ops::operandList(o),
                       ops::GroupedMatmulSwigluQuantV2::Attrs{
                           .group_list_type = gd.type},
                       loc);
  rw.replace(&root, {r[0], r[1]});
  return success();
}

} // namespace kiln
