//===- MoeMatch.cpp - matching helpers of the MoE fusions -----------------===//
#include "passes/fusion/MoeMatch.h"

#include <optional>
#include <sstream>

namespace kiln::fusion {

RowFactor matchRowFactor(Value *v, const Dim &m) {
  const TensorType &t = v->type();
  if (t.dtype != DType::F32 || t.dims != std::vector<Dim>{m, Dim(1)})
    return {};
  if (Op *r = v->definingOp(); r && r->isa<ops::Reshape>()) {
    Value *src = r->operand(ops::Reshape::input);
    if (src->type().dims == std::vector<Dim>{m})
      return {src, false};
  }
  return {v, true};
}

namespace {

std::string str(const TensorType &t) {
  std::ostringstream os;
  os << t;
  return os.str();
}

/// The matmul half of the chain; `d` is the matched dequant.
std::string matchMatmul(Op &d, GroupedDequant &out) {
  const auto &da = d.attrs<ops::Dequant>();
  Value *acc = d.operand(ops::Dequant::input);
  Op *mm = acc->definingOp();
  if (!mm || !mm->isa<ops::MatMul>())
    return "dequant input is not a matmul";
  if (!acc->hasOneUse())
    return "the matmul result has another user";
  const auto &ma = mm->attrs<ops::MatMul>();
  Value *gl = mm->operand(ops::MatMul::group_list);
  if (!gl)
    return "matmul is not grouped (no group_list)";
  out.x = mm->operand(ops::MatMul::lhs);
  out.w = mm->operand(ops::MatMul::rhs);
  if (out.x->type().dtype != DType::I8 || out.w->type().dtype != DType::I8)
    return "matmul operands are " + std::string(toString(out.w->type().dtype)) +
           ", not int8 (A8W8)";
  if (ma.transpose_rhs)
    return "matmul weight is transposed ([E, N, K])";
  if (d.operand(ops::Dequant::group_list) != gl)
    return "matmul and dequant use different group lists";
  if (da.group_list_type != ma.group_list_type)
    return "matmul and dequant read the group list with different "
           "group_list_type";
  if (gl->type().dtype != DType::I64)
    return "group_list is " + std::string(toString(gl->type().dtype)) +
           "; torch_npu takes int64";
  out.matmul = mm;
  out.groupList = gl;
  out.type = ma.group_list_type;
  return "";
}

} // namespace

std::string matchGroupedDequant(Value *v, GroupedDequant &out) {
  out = {};
  Value *dv = v;
  if (Op *mul = v->definingOp(); mul && mul->isa<ops::Mul>()) {
    // The per-token scale as a separate mul by an [M, 1] row factor.
    for (unsigned f : {1u, 0u}) {
      Value *other = mul->operand(1 - f);
      if (!other->definedBy<ops::Dequant>() || other->type().rank() != 2)
        continue;
      const Dim &m = other->type().dims[0];
      if (RowFactor r = matchRowFactor(mul->operand(f), m)) {
        dv = other;
        out.rowScale = r;
        break;
      }
    }
    if (dv == v)
      return "mul is not a dequantized grouped matmul times a per-row [M, 1] "
             "factor";
  }
  Op *d = dv->definingOp();
  if (!d || !d->isa<ops::Dequant>())
    return "input is not a dequantized grouped int8 matmul";
  if (!dv->hasOneUse())
    return "the dequant result has another user";
  const auto &da = d->attrs<ops::Dequant>();
  if (out.rowScale && d->operand(ops::Dequant::row_scale))
    return "a per-row mul on top of the dequant row_scale: more per-row "
           "factors than the fused op applies";
  if (!out.rowScale)
    out.rowScale = {d->operand(ops::Dequant::row_scale), false};
  if (d->operand(ops::Dequant::offset))
    return "dequant has an offset";
  if (da.out_dtype != DType::F32)
    return "dequant rounds to " + std::string(toString(da.out_dtype)) +
           "; the fused op keeps fp32";
  if (!d->operand(ops::Dequant::group_list))
    return "dequant has no group_list (per-expert scales)";
  out.scale = d->operand(ops::Dequant::scale);
  const TensorType &s = out.scale->type();
  const TensorType &in = dv->type();
  if (s.dtype != DType::F32 || s.dims[1] != in.dims[1])
    return "weight scale must be per-channel f32 [E, N], got " + str(s);
  out.dequant = d;
  return matchMatmul(*d, out);
}

namespace {
/// The shared_input_offset of a placement index constant: its values must
/// be off, off+1, ..., off+bsdp-1.
std::optional<int64_t> placementOffset(Value *idx) {
  Op *c = idx->definingOp();
  const Dim &bsdp = idx->type().dims[0];
  if (!c || !c->isa<ops::Constant>() || !bsdp.isStatic() || bsdp.size() < 1)
    return std::nullopt;
  const std::vector<double> &v = c->attrs<ops::Constant>().value.values;
  if (v.size() != static_cast<size_t>(bsdp.size()) && bsdp.size() != 1)
    return std::nullopt;
  for (size_t i = 0; i < v.size(); ++i)
    if (v[i] != v[0] + static_cast<double>(i))
      return std::nullopt;
  return static_cast<int64_t>(v[0]);
}

/// The value of a one-value f32 constant.
std::optional<double> scalarConstant(Value *v) {
  Op *c = v->definingOp();
  if (!c || !c->isa<ops::Constant>() || v->type().dtype != DType::F32 ||
      c->attrs<ops::Constant>().value.values.size() != 1)
    return std::nullopt;
  return c->attrs<ops::Constant>().value.values[0];
}
} // namespace

std::string matchSharedInit(Value *init, SharedInit &out) {
  out = {};
  Value *v = init;
  if (Op *p = v->definingOp(); p && p->isa<ops::ScatterAdd>()) {
    std::optional<int64_t> off =
        placementOffset(p->operand(ops::ScatterAdd::index));
    if (p->operand(ops::ScatterAdd::init) || !off || *off < 0)
      return "the init's scatter_add is not a placement into zeros at "
             "constant consecutive rows";
    const Dim &rows = init->type().dims[0];
    int64_t bsdp = p->operand(ops::ScatterAdd::index)->type().dims[0].size();
    if (rows.isStatic() && *off + bsdp > rows.size())
      return "the shared rows are placed past the output rows";
    out.offset = *off;
    v = p->operand(ops::ScatterAdd::updates);
  }
  if (Op *mul = v->definingOp(); mul && mul->isa<ops::Mul>()) {
    Value *scaled = nullptr;
    for (unsigned f : {1u, 0u})
      if (std::optional<double> w = scalarConstant(mul->operand(f))) {
        scaled = mul->operand(1 - f);
        out.weight = *w;
        break;
      }
    if (!scaled || scaled->type().dims != v->type().dims)
      return "the shared input is not scaled by a one-value f32 constant";
    v = scaled;
  }
  Op *cast = v->definingOp();
  if (!cast || !cast->isa<ops::Cast>() ||
      cast->attrs<ops::Cast>().to != DType::F32)
    return "scatter_add init is not cast(shared_input) to f32 [* weight]";
  out.shared = cast->operand(ops::Cast::input);
  const TensorType &sh = out.shared->type();
  if (sh.dtype != DType::BF16 || sh.layout != Layout::ND || sh.rank() != 2)
    return "shared_input must be bf16 ND [bsdp, n] (torch_npu's dtype), got " +
           str(sh);
  return "";
}

Value *materialize(const RowFactor &f, Builder &b, const Location &loc) {
  if (!f.needsReshape)
    return f.value;
  DimList shape{f.value->type().dims[0]};
  return b.create(OpKind::Reshape, {f.value}, ops::Reshape::Attrs{shape}, loc);
}

Value *nzWeight(Value *w, Builder &b, const Location &loc) {
  if (w->type().layout == Layout::NZ)
    return w;
  return b.create(OpKind::FormatCast, {w}, ops::FormatCast::Attrs{Layout::NZ},
                  loc);
}

Value *onesRow(const Dim &m, Builder &b, const Location &loc) {
  TensorType t{DType::F32, {m}, Layout::ND};
  return b.create(OpKind::Constant, {}, ops::Constant::Attrs{Elements{{1.0}}},
                  loc, {t});
}

} // namespace kiln::fusion
