//===- MmAllReduceInt8.cpp - full-quant mm_all_reduce_base partial --------===//
//
// A8W8 partials on the int8 GEMM engine (codegen/Int8Gemm.h): work tiles of
// the chunk's rows x every column, split across the pool. Per tile the
// engine's exact i32 C tile, then the epilogue of ops/npu/MmAllReduceBase.cpp
// in its order, into the scratch P (as partialType):
//   v = float(acc (+ bias, wrapping)) * dequant_scale[j] (* pertoken[row])
//   v = round(v); if x3: v = round(v + x3[row, j])
// round() is the identity in golden numerics and rounds to the out dtype in
// npu-compat. x1's leading dims are flattened into rows (row-major, so row
// r of [B, S, K] is row r of [B*S, K]); the chunk's first row comes from
// kiln_range_begin, as the engine's parallel body sees no outer values.
//
//===----------------------------------------------------------------------===//
#include "codegen/Int8Gemm.h"
#include "codegen/ops/Collective.h"
#include "codegen/ops/Common.h"
#include "codegen/ops/Fused.h"
#include "codegen/ops/MmAllReducePartial.h"
#include "codegen/ops/QuantEpilogue.h"

namespace kiln::codegen {

namespace {

using M = ops::MmAllReduceBase;

/// dequant_scale[j] as f32: [1] or [n] (or [1, n]) f32, or i64 holding an
/// FP19 in its low 32 bits (the mantissa's low 13 bits cleared).
llvm::Value *dequantScale(LoweringContext &c, const Op &op, llvm::Value *j) {
  llvm::IRBuilder<> &b = c.b();
  TensorAccess s = c.access(op.operand(M::dequant_scale));
  const TensorType &t = s.type();
  std::vector<llvm::Value *> idx{t.dims[0] == Dim(1) ? b.getInt64(0) : j};
  if (t.rank() == 2)
    idx = {b.getInt64(0), j};
  if (t.dtype != DType::I64)
    return s.loadFloat(idx);
  return quant::decodePacked(b, s.loadInt(idx)).scale;
}

void partialTile(const Op &op, LoweringContext &c,
                 const int8gemm::WorkTile &t) {
  llvm::IRBuilder<> &b = c.b();
  llvm::Type *f32 = b.getFloatTy(), *i32 = b.getInt32Ty();
  TensorAccess x1 = c.access(op.operand(M::x1));
  TensorAccess x2 = c.access(op.operand(M::x2));
  const TensorType &outT = op.result()->type();
  DType outType = outT.dtype;
  bool compat = c.numerics() == Numerics::NpuCompat;
  auto round = [&](llvm::Value *v) {
    return compat ? roundTo(c, v, outType) : v;
  };
  auto maybe = [&](unsigned i) -> std::optional<TensorAccess> {
    if (const Value *v = op.operand(i))
      return c.access(v);
    return std::nullopt;
  };
  std::optional<TensorAccess> bias = maybe(M::bias), x3 = maybe(M::x3),
                              pertoken = maybe(M::pertoken_scale);
  std::vector<llvm::Value *> leadDims = c.shapes().dims(outT);
  llvm::Value *n = leadDims.back();
  leadDims.pop_back();
  llvm::Value *first =
      emitRuntimeCall(c, "kiln_range_begin", b.getInt64Ty(), {});
  llvm::Value *scratch =
      emitRuntimeCall(c, "kiln_scratch_get", b.getPtrTy(), {});
  llvm::Value *i0 = b.CreateAdd(first, t.i0);

  int8gemm::Engine gemm(c);
  std::vector<llvm::Value *> aLead(x1.type().rank() - 2, b.getInt64(0));
  gemm.computeTile({&x1, aLead}, {&x2, {}}, x2.dim(0), i0, t.rows,
                   {{t.j0}, t.width});
  // The tile's column scales once (they are per column, the rows many).
  llvm::AllocaInst *colScale = c.stackSlot(
      llvm::ArrayType::get(f32, gemm.blocking().nc), "mmar.colscale");
  llvm::Value *zero = b.getInt64(0);
  c.forRange(zero, t.width, [&](llvm::Value *jj) {
    b.CreateStore(dequantScale(c, op, b.CreateAdd(t.j0, jj)),
                  b.CreateInBoundsGEP(f32, colScale, jj));
  });
  c.forRange(zero, t.rows, [&](llvm::Value *r) {
    llvm::Value *row = b.CreateAdd(i0, r);
    llvm::Value *pt = pertoken ? pertoken->loadFloat({row}) : nullptr;
    std::vector<llvm::Value *> lead = delinearize(b, row, leadDims);
    llvm::Value *rowBase = b.CreateMul(row, n);
    c.forRange(zero, t.width, [&](llvm::Value *jj) {
      llvm::Value *j = b.CreateAdd(t.j0, jj);
      llvm::Value *acc = b.CreateLoad(i32, gemm.cAt(r, jj));
      if (bias) // the int32 accumulator wraps
        acc = b.CreateAdd(acc, b.CreateTrunc(bias->loadInt({j}), i32));
      llvm::Value *v = b.CreateFMul(
          b.CreateSIToFP(acc, f32),
          b.CreateLoad(f32, b.CreateInBoundsGEP(f32, colScale, jj)));
      if (pt)
        v = b.CreateFMul(v, pt);
      v = round(v);
      if (x3) {
        std::vector<llvm::Value *> idx = lead;
        idx.push_back(j);
        v = round(b.CreateFAdd(v, x3->loadFloat(idx)));
      }
      storePartial(c, op, scratch, b.CreateAdd(rowBase, j), v);
    });
  });
}

} // namespace

void emitInt8Partial(LoweringContext &ctx, const Op &op, int64_t kHint) {
  auto extents = [&](LoweringContext &c) {
    llvm::IRBuilder<> &cb = c.b();
    llvm::Value *rows = cb.CreateSub(
        emitRuntimeCall(c, "kiln_range_end", cb.getInt64Ty(), {}),
        emitRuntimeCall(c, "kiln_range_begin", cb.getInt64Ty(), {}));
    return std::pair(rows, c.shapes().dims(op.result()->type()).back());
  };
  int8gemm::parallelWorkTiles(
      ctx, extents, kHint,
      [&](LoweringContext &inner, const int8gemm::WorkTile &t) {
        partialTile(op, inner, t);
      });
}

} // namespace kiln::codegen
