//===- MmAllReduceMatch.cpp - the partial under an all-reduce -------------===//
//
// The walk from the all-reduce down: [cast] -> [add x3] -> [mul pertoken]
// -> dequant (full quant, MmAllReduceOperands.cpp) or [add bias] -> matmul.
//
//===----------------------------------------------------------------------===//
#include "passes/fusion/MmAllReduceMatch.h"

#include <optional>

namespace kiln::fusion {

namespace {

/// For add(a, b): the source of the operand widened from `t` with `dims`
/// (into `addend`) and the other operand (into `rest`).
bool splitAdd(Value *add, DType t, const std::vector<Dim> &dims, Value *&addend,
              Value *&rest) {
  Op &op = *add->definingOp();
  for (unsigned i = 0; i < 2; ++i) {
    Value *src = widenedFrom(op.operand(i), t);
    if (src && src->type().dims == dims) {
      addend = src;
      rest = op.operand(1 - i);
      return true;
    }
  }
  return false;
}

} // namespace

std::string str(DType t) { return std::string(toString(t)); }

Value *widenedFrom(Value *v, DType from) {
  if (!v->definedBy<ops::Cast>() || v->type().dtype != DType::F32)
    return nullptr;
  Value *src = v->definingOp()->operand(ops::Cast::input);
  return src->type().dtype == from ? src : nullptr;
}

bool isChannelShape(const std::vector<Dim> &d, const Dim &n) {
  return d == std::vector<Dim>{Dim(1)} || d == std::vector<Dim>{n} ||
         d == std::vector<Dim>{Dim(1), n};
}

std::string takePertoken(Value *v, const std::vector<Dim> &out,
                         MmAllReducePartial &p) {
  std::optional<Dim> rows;
  if (out.size() == 2)
    rows = out[0];
  else if (out[0].isStatic() && out[1].isStatic())
    rows = Dim(out[0].size() * out[1].size());
  else if (out[0] == Dim(1) || out[1] == Dim(1))
    rows = out[0] == Dim(1) ? out[1] : out[0];
  if (!rows)
    return "pertoken_scale would be [b*s] with symbolic b and s";
  std::vector<Dim> want{*rows};
  if (v->definedBy<ops::Reshape>() &&
      v->definingOp()->operand(0)->type().dims == want)
    v = v->definingOp()->operand(0);
  p.pertoken = v;
  if (v->type().dims != want)
    p.pertokenReshape = want;
  return "";
}

std::string matchMmAllReducePartial(Value *v, DType out,
                                    MmAllReducePartial &p) {
  std::vector<Dim> dims = v->type().dims;
  bool f32 = v->type().dtype == DType::F32;
  if (!f32 && v->definedBy<ops::Cast>()) { // the one rounding
    v = v->definingOp()->operand(ops::Cast::input);
    if (v->type().dtype != DType::F32)
      return "the partial is cast from " + str(v->type().dtype) +
             ", not from an f32 accumulation";
    f32 = true;
  }
  Value *rest = nullptr;
  if (f32 && v->definedBy<ops::Add>() && splitAdd(v, out, dims, p.x3, rest)) {
    if (!v->hasOneUse())
      return "the x3 add has another user";
    v = rest;
  }
  if (f32 && v->definedBy<ops::Mul>()) {
    if (!v->hasOneUse())
      return "the per-token mul has another user";
    Op &mul = *v->definingOp();
    unsigned d = mul.operand(0)->definedBy<ops::Dequant>() ? 0 : 1;
    std::vector<Dim> rowDims = dims;
    rowDims.back() = Dim(1);
    if (!mul.operand(d)->definedBy<ops::Dequant>() ||
        mul.operand(1 - d)->type().dims != rowDims)
      return "the mul is not dequant(acc) times a per-token scale " +
             toString(TensorType{DType::F32, rowDims});
    if (std::string why = takePertoken(mul.operand(1 - d), dims, p);
        !why.empty())
      return why;
    v = mul.operand(d);
  }
  if (v->definedBy<ops::Dequant>())
    return v->hasOneUse() ? matchFullQuant(v, out, p)
                          : "the dequant result has another user";
  if (f32 && v->definedBy<ops::Add>()) {
    if (!splitAdd(v, out, {dims.back()}, p.bias, rest))
      return "the add is neither bias [n] nor x3 of the output's shape, "
             "widened from " + str(out) + " to f32";
    if (!v->hasOneUse())
      return "the bias add has another user";
    v = rest;
    Value *x3 = nullptr;
    if (v->definedBy<ops::Add>() && splitAdd(v, out, dims, x3, rest))
      return "x3 is added before bias; the fused op adds bias first";
  }
  if (!v->definedBy<ops::MatMul>())
    return !f32 && v->definedBy<ops::Add>()
               ? "the partial is rounded to " + str(out) +
                     " before this "
                     "add; the fused kernel adds bias/x3 in fp32 and rounds "
                     "once (accumulate in f32, cast once)"
               : "no matmul under the bias/x3 adds and dequant";
  return matchMatMul(v, out, p);
}

} // namespace kiln::fusion
