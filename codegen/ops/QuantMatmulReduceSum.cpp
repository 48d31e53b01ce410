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
// Loop order as codegen/ops/WeightQuantBatchmatmul.cpp: tiles of
// kTileRows x kTileColumns results (split across threads), the batch sums
// of the tile in an f32 stack buffer sum[r][jj]. Per batch b and k, the x2
// row tile (NZ) is unpacked once into an i32 stack row, then every row of
// the tile accumulates acc[r][jj] += x1[b, i0 + r, k] * x2t[jj] over
// unit-stride stack buffers (vectorizable); acc then folds into sum, in
// batch order. Only y is written.
//
//===----------------------------------------------------------------------===//
#include "codegen/ops/QuantEpilogue.h"

namespace kiln::codegen {

namespace {

using namespace quant;

using Q = ops::QuantMatmulReduceSum;

/// One tile of the result.
void reduceSumTile(const Op &op, LoweringContext &c, const Tile &t) {
  llvm::IRBuilder<> &b = c.b();
  llvm::Type *f32 = b.getFloatTy(), *i32 = b.getInt32Ty();
  TensorAccess x1 = c.access(op.operand(Q::x1));
  TensorAccess x2 = c.access(op.operand(Q::x2));
  TensorAccess s1 = c.access(op.operand(Q::x1_scale));
  TensorAccess s2 = c.access(op.operand(Q::x2_scale));
  TensorAccess out = c.access(op.result());
  bool npu = c.numerics() == Numerics::NpuCompat;
  llvm::Value *batches = x1.dim(0), *k = x1.dim(2);
  auto buffer = [&](llvm::Type *ty, int64_t size, const char *name) {
    return c.stackSlot(llvm::ArrayType::get(ty, size), name);
  };
  llvm::AllocaInst *acc = buffer(i32, kTileRows * kTileColumns, "qmrs.acc");
  llvm::AllocaInst *sum = buffer(f32, kTileRows * kTileColumns, "qmrs.sum");
  llvm::AllocaInst *x2t = buffer(i32, kTileColumns, "qmrs.x2t");
  llvm::Value *zero = b.getInt64(0);
  auto at = [&](llvm::Type *ty, llvm::AllocaInst *slot, llvm::Value *r,
                llvm::Value *jj) {
    llvm::Value *pos = b.CreateAdd(b.CreateMul(r, b.getInt64(kTileColumns)), jj);
    return b.CreateInBoundsGEP(ty, slot, pos);
  };
  auto eachCell = [&](const std::function<void(llvm::Value *, llvm::Value *)>
                          &body) {
    c.forRange(zero, t.rows, [&](llvm::Value *r) {
      c.forRange(zero, t.width, [&](llvm::Value *jj) { body(r, jj); });
    });
  };

  eachCell([&](llvm::Value *r, llvm::Value *jj) {
    b.CreateStore(llvm::ConstantFP::get(f32, 0.0), at(f32, sum, r, jj));
  });
  c.forRange(zero, batches, [&](llvm::Value *bi) {
    eachCell([&](llvm::Value *r, llvm::Value *jj) {
      b.CreateStore(b.getInt32(0), at(i32, acc, r, jj));
    });
    c.forRange(zero, k, [&](llvm::Value *kk) {
      c.forRange(zero, t.width, [&](llvm::Value *jj) {
        llvm::Value *v = x2.loadInt({bi, kk, b.CreateAdd(t.j0, jj)});
        b.CreateStore(b.CreateTrunc(v, i32), at(i32, x2t, zero, jj));
      });
      // i8 x i8 products are exact in i32; the i32 sum wraps like the
      // reference's int64 sum truncated to int32.
      c.forRange(zero, t.rows, [&](llvm::Value *r) {
        llvm::Value *lhs =
            b.CreateTrunc(x1.loadInt({bi, b.CreateAdd(t.i0, r), kk}), i32);
        c.forRange(zero, t.width, [&](llvm::Value *jj) {
          llvm::Value *p = at(i32, acc, r, jj);
          llvm::Value *rhs = b.CreateLoad(i32, at(i32, x2t, zero, jj));
          b.CreateStore(
              b.CreateAdd(b.CreateLoad(i32, p), b.CreateMul(lhs, rhs)), p);
        });
      });
    });
    c.forRange(zero, t.rows, [&](llvm::Value *r) {
      llvm::Value *rowScale = s1.loadFloat({bi, b.CreateAdd(t.i0, r)});
      c.forRange(zero, t.width, [&](llvm::Value *jj) {
        llvm::Value *part =
            b.CreateSIToFP(b.CreateLoad(i32, at(i32, acc, r, jj)), f32);
        part = b.CreateFMul(part, s2.loadFloat({b.CreateAdd(t.j0, jj)}));
        part = b.CreateFMul(part, rowScale);
        llvm::Value *p = at(f32, sum, r, jj);
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
                   b.CreateLoad(f32, at(f32, sum, r, jj)));
  });
}

} // namespace

LogicalResult lowerQuantMatmulReduceSum(const Op &op, LoweringContext &ctx) {
  const TensorType &x1 = op.operand(Q::x1)->type();
  parallelTiles(ctx, x1.dims[1], op.result()->type().dims[1],
                sizeHint(ctx, x1.dims[0]) * sizeHint(ctx, x1.dims[2]),
                [&](LoweringContext &inner, const Tile &t) {
                  reduceSumTile(op, inner, t);
                });
  return success();
}

} // namespace kiln::codegen
