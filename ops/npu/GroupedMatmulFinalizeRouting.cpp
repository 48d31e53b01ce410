//===- GroupedMatmulFinalizeRouting.cpp - fused MoE down projection -------===//
//
// %y = npu.grouped_matmul_finalize_routing(%x, %w, %group_list, scale = %s,
//          pertoken_scale = %p, shared_input = %sh, logit = %l,
//          row_index = %r) {output_bs = B} : f32[B,N]
//
// torch_npu.npu_grouped_matmul_finalize_routing (OPS.md §6), A8W8 rows of
// the seed's dtype table: x i8 [m, k] ND, w i8 [e, k, n] FRACTAL_NZ,
// group_list i64 [e] (count by default, cumsum with group_list_type),
// scale f32 [e, n] (required), pertoken_scale f32 [m] (optional), logit f32
// [m] and shared_input bf16 [bsdp, n] (both or neither), row_index i64/i32
// [m] (required). bias/offset belong to A8W4 (int4 w), which kiln does not
// support. dtype: None or f32; the result is f32 [output_bs or m, n].
// The product limits (k % 16 == 0, n % 32 == 0, n >= 256, output_bs <= m)
// are not enforced (OPS.md §0).
//
//   out = 0;  out[off + j, :] = float(shared_input_weight) * float(sh[j, :])
//   for each x row i below the group_list total, in row order (group g):
//     y = float(acc_i32[i, :]) * scale[g, :]
//     y = y * pertoken_scale[i]     (if given)
//     y = y * logit[i]              (if given)
//     out[row_index[i], :] += y     (fp32)
// Golden order is ((acc * scale) * pertoken) * logit: the OPP golden's
// order and the primitive chain dequant(row_scale = pertoken) -> mul(logit),
// so the fusion is bit-exact. npu-compat uses the kernel's order (§6.2):
// y = (acc * scale) * (pertoken * logit). Rows past the group_list total
// are never read; their row_index values are not used. Every used
// row_index is checked before anything is written, as is
// shared_input_offset + bsdp <= output rows.
//
//===----------------------------------------------------------------------===//
#include "ir/Graph.h"
#include "ops/OpHooks.h"
#include "ops/OpUtils.h"
#include "ops/npu/GroupedInt8.h"
#include "runtime/KernelErrors.h"

namespace kiln::ops {

namespace {
using FR = GroupedMatmulFinalizeRouting;

/// Checks the per-row operands pertoken_scale, logit and row_index.
LogicalResult verifyRowOperands(const Op &op, const Dim &m) {
  if (!op.operand(FR::row_index))
    return op.emitError() << "row_index is required: it names the output "
                             "row of each x row";
  if (failed(expectDType(op, FR::row_index, {DType::I64, DType::I32})))
    return failure();
  for (unsigned i : {FR::pertoken_scale, FR::logit, FR::row_index}) {
    if (!op.operand(i))
      continue;
    if (i != FR::row_index && failed(expectDType(op, i, {DType::F32})))
      return failure();
    if (failed(expectND(op, i)))
      return failure();
    if (operandType(op, i).dims != std::vector<Dim>{m})
      return op.emitError() << operandName(op, i) << " must be [m] = [" << m
                            << "], got " << toString(operandType(op, i).dims);
  }
  return success();
}

/// Checks shared_input and its attributes against the output rows.
LogicalResult verifyShared(const Op &op, const Dim &rows, const Dim &n) {
  const FR::Attrs &a = op.attrs<FR>();
  bool shared = op.operand(FR::shared_input), logit = op.operand(FR::logit);
  if (shared != logit)
    return op.emitError() << "shared_input and logit must be given together "
                             "(got "
                          << (shared ? "shared_input" : "logit")
                          << " without the other)";
  if (a.shared_input_offset < 0)
    return op.emitError() << "shared_input_offset must be >= 0, got "
                          << a.shared_input_offset;
  if (!shared) {
    if (a.shared_input_weight != 1.0 || a.shared_input_offset != 0)
      return op.emitError() << "shared_input_weight/shared_input_offset are "
                               "set but there is no shared_input";
    return success();
  }
  const TensorType &sh = operandType(op, FR::shared_input);
  if (failed(expectDType(op, FR::shared_input, {DType::BF16})) ||
      failed(expectRank(op, FR::shared_input, 2)) ||
      failed(expectND(op, FR::shared_input)))
    return failure();
  if (sh.dims[1] != n)
    return op.emitError() << "shared_input must have n = " << n
                          << " columns, got " << sh;
  const Dim &bsdp = sh.dims[0];
  if (bsdp.isStatic() && rows.isStatic() &&
      a.shared_input_offset + bsdp.size() > rows.size())
    return op.emitError() << "shared_input_offset (" << a.shared_input_offset
                          << ") + shared_input rows (" << bsdp
                          << ") exceeds the " << rows << " output rows";
  return success();
}
} // namespace

LogicalResult
inferGroupedMatmulFinalizeRouting(const Op &op,
                                  std::vector<TensorType> &results) {
  const FR::Attrs &a = op.attrs<FR>();
  if (failed(verifyGroupedInt8(op, FR::x, FR::w, FR::group_list, FR::scale)))
    return failure();
  for (unsigned i : {FR::bias, FR::offset})
    if (op.operand(i))
      return op.emitError() << operandName(op, i)
                            << " must be None for int8 w (only the A8W4 "
                               "path takes it)";
  if (a.dtype && *a.dtype != DType::F32)
    return op.emitError() << "dtype must be f32 (the output is always "
                             "float32), got "
                          << *a.dtype;
  const Dim &m = operandType(op, FR::x).dims[0];
  const Dim &n = operandType(op, FR::w).dims[2];
  if (failed(verifyRowOperands(op, m)))
    return failure();
  const Dim &bs = a.output_bs;
  if (bs.isStatic() && bs.size() < 0)
    return op.emitError() << "output_bs must be >= 0, got " << bs;
  if (bs.isSymbol() && op.parent() && !op.parent()->hasSymbol(bs.symbol()))
    return op.emitError() << "output_bs symbol " << bs
                          << " is not declared in the graph";
  Dim rows = bs == Dim(0) ? m : bs;
  if (failed(verifyShared(op, rows, n)))
    return failure();
  results = {TensorType{DType::F32, {rows, n}, Layout::ND}};
  return success();
}

LogicalResult evalGroupedMatmulFinalizeRouting(const Op &op,
                                               EvalContext &ctx) {
  const FR::Attrs &a = op.attrs<FR>();
  const Tensor &scale = ctx.in(FR::scale);
  const Tensor &rowIndex = ctx.in(FR::row_index);
  const Tensor *pertoken = ctx.input(FR::pertoken_scale);
  const Tensor *logit = ctx.input(FR::logit);
  const Tensor *shared = ctx.input(FR::shared_input);
  Tensor &out = ctx.out();
  int64_t m = ctx.in(FR::x).dim(0), rows = out.dim(0), n = out.dim(1);
  FailureOr<std::vector<int64_t>> offsets =
      groupOffsets(ctx, ctx.in(FR::group_list), a.group_list_type, m);
  if (offsets.failed())
    return failure();
  int64_t used = offsets->back();
  for (int64_t i = 0; i < used; ++i) {
    int64_t r = rowIndex.getInt(i);
    if (r < 0 || r >= rows)
      return ctx.error() << describe(KernelError::RowIndexOutOfRange, i, r,
                                     rows);
  }
  if (shared) {
    int64_t bsdp = shared->dim(0), off = a.shared_input_offset;
    if (off + bsdp > rows)
      return ctx.error() << describe(KernelError::SharedInputOutOfRange, off,
                                     bsdp, rows);
    float w = static_cast<float>(a.shared_input_weight);
    for (int64_t p = 0; p < bsdp * n; ++p)
      out.setDouble(off * n + p, static_cast<float>(shared->getDouble(p)) * w);
  }
  std::vector<int64_t> groups = rowGroups(*offsets, m);
  GroupedInt8Matmul mm(ctx.in(FR::x), ctx.in(FR::w));
  bool compat = ctx.numerics() == Numerics::NpuCompat;
  std::vector<int32_t> acc;
  for (int64_t i = 0; i < used; ++i) {
    int64_t g = groups[i];
    mm.row(i, g, acc);
    float pt = pertoken ? static_cast<float>(pertoken->getDouble(i)) : 1.0f;
    float lg = logit ? static_cast<float>(logit->getDouble(i)) : 1.0f;
    int64_t base = rowIndex.getInt(i) * n;
    for (int64_t j = 0; j < n; ++j) {
      float y = static_cast<float>(acc[j]) *
                static_cast<float>(scale.getDouble(g * n + j));
      if (compat && pertoken && logit) {
        y = y * (pt * lg);
      } else {
        if (pertoken)
          y = y * pt;
        if (logit)
          y = y * lg;
      }
      float sum = static_cast<float>(out.getDouble(base + j)) + y;
      out.setDouble(base + j, sum);
    }
  }
  return success();
}

} // namespace kiln::ops
