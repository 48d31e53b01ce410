//===- MmAllReduceGemm.cpp - mm_all_reduce_base partial on the float GEMM -===//
//
// Non-quant and weight-quant partials through codegen/FloatGemm's register
// tiles: the engine sums float(x1[i, kk]) * w[kk, j] in ascending k with a
// separate fmul and fadd, exactly as ops/npu/MmAllReduceBase.cpp does; this
// file supplies
//   b(): w[kk, j..j+15] = x2, or ((x2 + offset) * scale) for weight quant
//        (npu-compat rounds to x1's dtype after the add and the multiply);
//        per-group scales use the engine's k blocks;
//   a(): x1[row, kk] (3-D x1 flattened to rows; the chunk's first row from
//        kiln_range_begin, as the engine's parallel body sees no outer
//        values);
//   store(): v = acc (+ bias); v = round(v); if x3: v = round(v + x3), into
//        the scratch P[row, j] as partialType (round: npu-compat only, to
//        the out dtype; P is then that 16-bit dtype when the out is).
//
//===----------------------------------------------------------------------===//
#include "codegen/FloatGemm.h"
#include "codegen/VectorAccess.h"
#include "codegen/ops/Collective.h"
#include "codegen/ops/MmAllReducePartial.h"

namespace kiln::codegen {

namespace {

using M = ops::MmAllReduceBase;

/// A scale/offset vector at (k block, j): [1] splat, [n] / [1,n] per
/// channel, [G, n] per group.
llvm::Value *channel(llvm::IRBuilder<> &b, const TensorAccess &s,
                     llvm::Value *block, llvm::Value *j, llvm::Value *mask) {
  const TensorType &t = s.type();
  if (t.dims.back() == Dim(1))
    return b.CreateVectorSplat(
        gemm::kLanes, s.loadFloat(std::vector<llvm::Value *>(
                          t.rank(), b.getInt64(0))));
  if (t.rank() == 1)
    return vec::loadFloats(b, s, {j}, mask);
  return vec::loadFloats(b, s, {block ? block : b.getInt64(0), j}, mask);
}

gemm::Source source(LoweringContext &c, const Op &op, llvm::Value *rowBase) {
  llvm::IRBuilder<> &b = c.b();
  TensorAccess x1 = c.access(op.operand(M::x1));
  TensorAccess x2 = c.access(op.operand(M::x2));
  const TensorType &outT = op.result()->type();
  auto maybe = [&](unsigned i) -> std::optional<TensorAccess> {
    if (const Value *v = op.operand(i))
      return c.access(v);
    return std::nullopt;
  };
  std::optional<TensorAccess> scale = maybe(M::antiquant_scale),
                              offset = maybe(M::antiquant_offset),
                              bias = maybe(M::bias), x3 = maybe(M::x3);
  bool compat = c.numerics() == Numerics::NpuCompat;
  DType inType = x1.type().dtype, outType = outT.dtype;
  bool group = op.attrs<M>().antiquant_group_size > 0;
  std::vector<llvm::Value *> leadDims = c.shapes().dims(outT);
  leadDims.pop_back();
  llvm::Value *n = c.shapes().dims(outT).back();
  llvm::Value *scratch = emitRuntimeCall(c, "kiln_scratch_get", b.getPtrTy(), {});
  // Row i of the chunk is row rowBase + i of x1 (flattened), x3 and P.
  auto lead = [=, &b](llvm::Value *i, llvm::Value *last) {
    std::vector<llvm::Value *> idx =
        delinearize(b, b.CreateAdd(rowBase, i), leadDims);
    idx.push_back(last);
    return idx;
  };
  gemm::Source src;
  src.b = [=, &b](llvm::Value *k, llvm::Value *block, llvm::Value *j,
                  llvm::Value *mask) {
    llvm::Value *v = vec::loadFloats(b, x2, {k, j}, mask);
    if (!scale)
      return v;
    llvm::Value *blk = group ? block : nullptr;
    if (offset) {
      v = b.CreateFAdd(v, channel(b, *offset, blk, j, mask));
      if (compat)
        v = vec::roundToFloat(b, v, inType);
    }
    v = b.CreateFMul(v, channel(b, *scale, blk, j, mask));
    return compat ? vec::roundToFloat(b, v, inType) : v;
  };
  src.a = [=](llvm::Value *i, llvm::Value *k) {
    return x1.loadFloat(lead(i, k));
  };
  src.store = [=, &b, &c, &op](llvm::Value *i, llvm::Value *j, llvm::Value *acc,
                               llvm::Value *, llvm::Value *mask) {
    llvm::Value *v = acc;
    if (bias)
      v = b.CreateFAdd(v, vec::loadFloats(b, *bias, {j}, mask));
    if (compat)
      v = vec::roundToFloat(b, v, outType);
    if (x3) {
      v = b.CreateFAdd(v, vec::loadFloats(b, *x3, lead(i, j), mask));
      if (compat)
        v = vec::roundToFloat(b, v, outType);
    }
    storePartial(c, op, scratch,
                 b.CreateAdd(b.CreateMul(b.CreateAdd(rowBase, i), n), j), v,
                 mask);
  };
  return src;
}

} // namespace

bool usesGemm(const Op &op) {
  return op.operand(M::x1)->type().dtype != DType::I8;
}

int64_t partialUnitRows(const Op &op, LoweringContext &ctx) { return 1; }

void emitPartialUnits(LoweringContext &ctx, const Op &op, llvm::Value *u0,
                      llvm::Value *u1) {
  const TensorType &x2T = op.operand(M::x2)->type();
  int64_t k = x2T.dims[0].isStatic() ? x2T.dims[0].size() : 256;
  // The engine's own driver (tile shapes, panels, thread split) over the
  // chunk's rows [u0, u1), which its parallel body reads back from rt.
  llvm::IRBuilder<> &b = ctx.b();
  emitRuntimeCall(ctx, "kiln_set_range", b.getVoidTy(), {u0, u1});
  if (!usesGemm(op))
    return emitInt8Partial(ctx, op, k);
  auto rowBase = [](LoweringContext &c) {
    return emitRuntimeCall(c, "kiln_range_begin", c.b().getInt64Ty(), {});
  };
  gemm::Problem p;
  p.extents = [&](LoweringContext &c) {
    llvm::IRBuilder<> &cb = c.b();
    llvm::Value *m = cb.CreateSub(
        emitRuntimeCall(c, "kiln_range_end", cb.getInt64Ty(), {}), rowBase(c));
    llvm::Value *n = c.shapes().dims(op.result()->type()).back();
    return gemm::Extents{cb.getInt64(1), m, n,
                         c.access(op.operand(M::x2)).dim(0)};
  };
  p.source = [&](LoweringContext &c, llvm::Value *) {
    return source(c, op, rowBase(c));
  };
  p.kBlock = op.attrs<M>().antiquant_group_size;
  p.kHint = k;
  gemm::parallelGemm(ctx, p);
}

} // namespace kiln::codegen
