//===- QuantMatmulReduceSum.cpp - npu.quant_matmul_reduce_sum -------------===//
//
// The operations of ops/npu/QuantMatmulReduceSum.cpp in the same order,
// fused: no per-batch matmul result is ever stored.
//
//   acc  = int32(sum_k x1[b,i,k] * x2[b,k,j])      i32, wraps mod 2^32
//   part = (float(acc) * float(x2_scale[j])) * x1_scale[b,i]
//   sum  = ((0 + part_0) + part_1) + ...          golden: fp32, batch order
//   sum  = bf16(sum + bf16(part_b))               npu-compat, batch order
//   y    = bf16(sum)
//
// Work tiles of the int8 GEMM engine (codegen/Int8Gemm.h), split across
// threads. Per tile: the x2_scale columns once as f32, then per batch the
// engine's i32 C tile (L1/L2) folds into the tile's f32 batch sums (same
// size, on the stack) in batch order. Only y is written.
//
//===----------------------------------------------------------------------===//
#include "codegen/Int8Gemm.h"
#include "codegen/ops/QuantEpilogue.h"

namespace kiln::codegen {

namespace {

using namespace quant;
using Q = ops::QuantMatmulReduceSum;

void reduceSumTile(const Op &op, LoweringContext &c,
                   const int8gemm::WorkTile &t) {
  llvm::IRBuilder<> &b = c.b();
  llvm::Type *f32 = b.getFloatTy(), *i32 = b.getInt32Ty();
  TensorAccess x1 = c.access(op.operand(Q::x1));
  TensorAccess x2 = c.access(op.operand(Q::x2));
  TensorAccess s1 = c.access(op.operand(Q::x1_scale));
  TensorAccess s2 = c.access(op.operand(Q::x2_scale));
  TensorAccess out = c.access(op.result());
  bool npu = c.numerics() == Numerics::NpuCompat;
  int8gemm::Engine gemm(c);
  const int64_t mc = gemm.blocking().mc, nc = gemm.blocking().nc;
  llvm::AllocaInst *sum =
      c.stackSlot(llvm::ArrayType::get(f32, mc * nc), "qmrs.sum");
  llvm::AllocaInst *colScale =
      c.stackSlot(llvm::ArrayType::get(f32, nc), "qmrs.colscale");
  llvm::Value *zero = b.getInt64(0);
  auto sumAt = [&](llvm::Value *r, llvm::Value *jj) {
    llvm::Value *pos = b.CreateAdd(b.CreateMul(r, b.getInt64(nc)), jj);
    return b.CreateInBoundsGEP(f32, sum, pos);
  };
  auto eachCell = [&](const std::function<void(llvm::Value *, llvm::Value *)>
                          &body) {
    c.forRange(zero, t.rows, [&](llvm::Value *r) {
      c.forRange(zero, t.width, [&](llvm::Value *jj) { body(r, jj); });
    });
  };
  c.forRange(zero, t.width, [&](llvm::Value *jj) {
    b.CreateStore(s2.loadFloat({b.CreateAdd(t.j0, jj)}),
                  b.CreateInBoundsGEP(f32, colScale, jj));
  });
  eachCell([&](llvm::Value *r, llvm::Value *jj) {
    b.CreateStore(llvm::ConstantFP::get(f32, 0.0), sumAt(r, jj));
  });
  llvm::Value *k = x1.dim(2);
  c.forRange(zero, x1.dim(0), [&](llvm::Value *bi) {
    gemm.computeTile({&x1, {bi}}, {&x2, {bi}}, k, t.i0,
                     t.rows, {{t.j0}, t.width});
    c.forRange(zero, t.rows, [&](llvm::Value *r) {
      llvm::Value *rowScale = s1.loadFloat({bi, b.CreateAdd(t.i0, r)});
      c.forRange(zero, t.width, [&](llvm::Value *jj) {
        llvm::Value *part =
            b.CreateSIToFP(b.CreateLoad(i32, gemm.cAt(r, jj)), f32);
        part = b.CreateFMul(
            part, b.CreateLoad(f32, b.CreateInBoundsGEP(f32, colScale, jj)));
        part = b.CreateFMul(part, rowScale);
        llvm::Value *p = sumAt(r, jj);
        llvm::Value *cur = b.CreateLoad(f32, p);
        llvm::Value *next =
            npu ? roundToFloat(
                      b, b.CreateFAdd(cur, roundToFloat(b, part, DType::BF16)),
                      DType::BF16)
                : b.CreateFAdd(cur, part);
        b.CreateStore(next, p);
      });
    });
  });
  eachCell([&](llvm::Value *r, llvm::Value *jj) {
    out.storeFloat({b.CreateAdd(t.i0, r), b.CreateAdd(t.j0, jj)},
                   b.CreateLoad(f32, sumAt(r, jj)));
  });
}

} // namespace

LogicalResult lowerQuantMatmulReduceSum(const Op &op, LoweringContext &ctx) {
  const TensorType &x1 = op.operand(Q::x1)->type();
  int8gemm::parallelWorkTiles(
      ctx, x1.dims[1], op.result()->type().dims[1],
      sizeHint(ctx, x1.dims[0]) * sizeHint(ctx, x1.dims[2]),
      [&](LoweringContext &inner, const int8gemm::WorkTile &t) {
        reduceSumTile(op, inner, t);
      });
  return success();
}

} // namespace kiln::codegen
