//===- MmAllReduceOperands.cpp - matmul and dequants of the partial -------===//
//
// The bottom of npu.mm_all_reduce_base's partial: the matmul (x1, x2), the
// weight dequant feeding it (weight quant) or the accumulator's dequant
// with its i32 bias add (full quant), checked against the seed 003 tables.
//
//===----------------------------------------------------------------------===//
#include "passes/fusion/MmAllReduceMatch.h"

namespace kiln::fusion {

namespace {

/// Weight quantization: the matmul's rhs = dequant(x2 i8, scale, offset).
std::string matchWeightDequant(Value *w, DType x1Type, MmAllReducePartial &p) {
  Op &dq = *w->definingOp();
  const ops::Dequant::Attrs &a = dq.attrs<ops::Dequant>();
  Value *x2 = dq.operand(ops::Dequant::input);
  if (w->type().dtype != DType::F32)
    return "the dequantized weight is rounded to " + str(w->type().dtype) +
           " before the matmul; the fused kernel keeps it in fp32 (dequant "
           "{out_dtype = f32} with x1 widened to f32 fuses)";
  if (!w->hasOneUse())
    return "the dequantized weight has another user";
  if (x2->type().dtype != DType::I8 || x2->type().rank() != 2)
    return "the weight is " + toString(x2->type()) + ", not i8 [k, n]";
  if (dq.operand(ops::Dequant::row_scale) ||
      dq.operand(ops::Dequant::group_list))
    return "the weight dequant has a row_scale or group_list";
  p.x2 = x2;
  p.antiquantScale = dq.operand(ops::Dequant::scale);
  p.antiquantOffset = dq.operand(ops::Dequant::offset);
  const TensorType &s = p.antiquantScale->type();
  if (s.dtype != x1Type)
    return "the antiquant scale is " + str(s.dtype) +
           "; it must have x1's dtype " + str(x1Type);
  const Dim &k = x2->type().dims[0], &n = x2->type().dims[1];
  p.groupSize = a.group_size;
  if (a.group_size == 0)
    return isChannelShape(s.dims, n) ? ""
                                     : "antiquant scale " + toString(s) +
                                           " is not [1], [n] or [1, n]";
  if (a.group_axis != -2 && a.group_axis != 0)
    return "the weight dequant groups along n; per-group scales group k";
  if (a.group_size % 32 != 0 || a.group_size > k.size() - 1)
    return "group size " + std::to_string(a.group_size) +
           " breaks the spec (a multiple of 32 in [32, k-1], k = " +
           toString(k) + ")";
  return s.dims[1] == n ? ""
                        : "per-group antiquant scale " + toString(s) +
                              " does not have n columns";
}

} // namespace

std::string matchFullQuant(Value *v, DType out, MmAllReducePartial &p) {
  Op &dq = *v->definingOp();
  const std::vector<Dim> &dims = v->type().dims;
  if (dq.attrs<ops::Dequant>().group_size != 0 ||
      dq.operand(ops::Dequant::offset) || dq.operand(ops::Dequant::group_list))
    return "the accumulator's dequant has a group_size, offset or "
           "group_list; dequant_scale is per-tensor or per-channel only";
  if (Value *r = dq.operand(ops::Dequant::row_scale)) {
    if (p.pertoken)
      return "the dequant has a row_scale and a per-token mul follows";
    if (std::string why = takePertoken(r, dims, p); !why.empty())
      return why;
  }
  p.dequantScale = dq.operand(ops::Dequant::scale);
  const TensorType &s = p.dequantScale->type();
  if (!isChannelShape(s.dims, dims.back()))
    return "dequant scale " + toString(s) +
           " is not per-tensor [1] or per-channel [n] / [1, n]";
  if (s.dtype == DType::BF16
          ? out != DType::BF16
          : !(s.dtype == DType::F32 && p.pertoken && out == DType::F16))
    return "a " + str(s.dtype) + " dequant scale " +
           (p.pertoken ? "with" : "without") + " a per-token scale and " +
           str(out) + " output are outside the table (bf16 -> bf16; f32 " +
           "with pertoken -> f16; f32 alone must be packed to i64 first, " +
           "which truncates it)";
  Value *acc = dq.operand(ops::Dequant::input);
  if (acc->definedBy<ops::Add>()) {
    if (!acc->hasOneUse())
      return "the i32 bias add has another user";
    Op &add = *acc->definingOp();
    for (unsigned i = 0; i < 2 && !p.bias; ++i)
      if (add.operand(i)->type().dims == std::vector<Dim>{dims.back()})
        p.bias = add.operand(i), acc = add.operand(1 - i);
    if (!p.bias)
      return "the i32 add before the dequant is not a bias [n]";
  }
  if (acc->type().dtype != DType::I32 || !acc->definedBy<ops::MatMul>())
    return "the dequant does not read an i8 x i8 matmul";
  return matchMatMul(acc, out, p);
}

std::string matchMatMul(Value *acc, DType out, MmAllReducePartial &p) {
  if (!acc->hasOneUse())
    return "the matmul result has another user";
  Op &mm = *acc->definingOp();
  const ops::MatMul::Attrs &a = mm.attrs<ops::MatMul>();
  Value *lhs = mm.operand(ops::MatMul::lhs),
        *rhs = mm.operand(ops::MatMul::rhs);
  if (a.transpose_lhs || a.transpose_rhs || mm.operand(ops::MatMul::group_list))
    return "the matmul is transposed or grouped; the fused op takes x1 "
           "[m, k] or [b, s, k] and x2 [k, n]";
  if (lhs->type().rank() > 3 || rhs->type().rank() != 2)
    return "the matmul is batched; the fused op takes a 2-D or 3-D x1 and "
           "a 2-D x2";
  if (lhs->type().dtype == DType::I8) {
    p.x1 = lhs, p.x2 = rhs;
    return "";
  }
  p.x1 = lhs->type().dtype == out ? lhs : widenedFrom(lhs, out);
  if (!p.x1)
    return "x1 is " + toString(lhs->type()) + ", not " + str(out) + " (or " +
           str(out) + " widened to f32)";
  if (rhs->definedBy<ops::Dequant>())
    return matchWeightDequant(rhs, out, p);
  p.x2 = rhs->type().dtype == out ? rhs : widenedFrom(rhs, out);
  return p.x2 ? "" : "x2 is " + toString(rhs->type()) + ", not " + str(out);
}

} // namespace kiln::fusion
