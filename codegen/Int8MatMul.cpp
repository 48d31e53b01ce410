//===- Int8MatMul.cpp - the i8 x i8 -> i32 matmul primitive on the engine -===//
//
// ops/MatMul.cpp's integer form: out[.., i, j] = int32(sum_k lhs[.., i, k]
// * rhs[.., k, j]) (wrapping), any transpose, rhs ND or NZ, batch dims
// equal or one side rank 2 (broadcast), or grouped by a group_list (rows
// [off[g], off[g+1]) use expert g, rows past the list's end are zero).
//
// Work items are engine work tiles (codegen/Int8Gemm.h): batch x row block
// x column block, or (group row block, column block) when grouped, split
// across the thread pool; each stores its C tile as the i32 result.
//
//===----------------------------------------------------------------------===//
#include "codegen/Int8Gemm.h"
#include "codegen/ops/Fused.h"

namespace kiln::codegen {

namespace {

using MM = ops::MatMul;

llvm::Value *ceilDiv(llvm::IRBuilder<> &b, llvm::Value *x, int64_t c) {
  return b.CreateUDiv(b.CreateAdd(x, b.getInt64(c - 1)), b.getInt64(c));
}

/// One work tile: rows [i0, i0 + rows) x column block `jt` of the output
/// under the given leading indices.
void storeTile(const Op &op, LoweringContext &ctx,
               std::vector<llvm::Value *> lhsLead,
               std::vector<llvm::Value *> rhsLead,
               std::vector<llvm::Value *> outLead, llvm::Value *i0,
               llvm::Value *rows, llvm::Value *jt) {
  const MM::Attrs &a = op.attrs<MM>();
  llvm::IRBuilder<> &b = ctx.b();
  TensorAccess lhs = ctx.access(op.operand(MM::lhs));
  TensorAccess rhs = ctx.access(op.operand(MM::rhs));
  TensorAccess out = ctx.access(op.result());
  int8gemm::Engine gemm(ctx);
  const int64_t nc = gemm.blocking().nc;
  llvm::Value *j0 = b.CreateMul(jt, b.getInt64(nc));
  llvm::Value *rest = b.CreateSub(out.dim(-1), j0);
  llvm::Value *width = b.CreateSelect(b.CreateICmpSLT(rest, b.getInt64(nc)),
                                      rest, b.getInt64(nc));
  llvm::Value *k = a.transpose_lhs ? lhs.dim(-2) : lhs.dim(-1);
  gemm.computeTile({&lhs, lhsLead, a.transpose_lhs},
                   {&rhs, rhsLead, a.transpose_rhs}, k, i0, rows,
                   {{j0}, width});
  llvm::Value *zero = b.getInt64(0);
  ctx.forRange(zero, rows, [&](llvm::Value *r) {
    ctx.forRange(zero, width, [&](llvm::Value *jj) {
      std::vector<llvm::Value *> idx = outLead;
      idx.push_back(b.CreateAdd(i0, r));
      idx.push_back(b.CreateAdd(j0, jj));
      llvm::Value *c = b.CreateLoad(b.getInt32Ty(), gemm.cAt(r, jj));
      out.storeInt(idx, b.CreateSExt(c, b.getInt64Ty()));
    });
  });
}

int64_t tileWork(LoweringContext &ctx, const Op &op) {
  const TensorType &lhs = op.operand(MM::lhs)->type();
  const Dim &k = op.attrs<MM>().transpose_lhs ? lhs.dim(-2) : lhs.dim(-1);
  int8gemm::Blocking bl = int8gemm::blocking(ctx.isa());
  return bl.mc * bl.nc * ctx.shapes().constant(k).value_or(256);
}

void lowerGrouped(const Op &op, LoweringContext &ctx, const Value *groupList) {
  const MM::Attrs &a = op.attrs<MM>();
  llvm::IRBuilder<> &b = ctx.b();
  TensorAccess out = ctx.access(op.result());
  llvm::Value *m = out.dim(0);
  // Validate the whole list before writing any output, as the reference.
  checkGroupList(ctx, op, groupList, a.group_list_type, m);
  llvm::Value *covered = forEachGroup(
      ctx, groupList, a.group_list_type,
      [](llvm::Value *, llvm::Value *, llvm::Value *) {});
  ctx.forRange(covered, m, [&](llvm::Value *i) {
    ctx.forRange(b.getInt64(0), out.dim(1), [&](llvm::Value *j) {
      out.storeInt({i, j}, b.getInt64(0));
    });
  });
  int8gemm::Blocking bl = int8gemm::blocking(ctx.isa());
  llvm::Value *items = b.CreateMul(groupBlockCount(ctx, groupList, m, bl.mc),
                                   ceilDiv(b, out.dim(1), bl.nc));
  ctx.parallelFor(items, tileWork(ctx, op),
                  [&](LoweringContext &inner, llvm::Value *t) {
    llvm::IRBuilder<> &ib = inner.b();
    llvm::Value *colTiles =
        ceilDiv(ib, inner.access(op.result()).dim(1), bl.nc);
    GroupBlock blk = groupBlock(inner, groupList, a.group_list_type,
                                ib.CreateUDiv(t, colTiles), bl.mc);
    llvm::Value *jt = ib.CreateURem(t, colTiles);
    // Past the last block rows == 0: nothing to do (and no expert to read).
    emitIf(
        inner, ib.CreateICmpSGT(blk.rows, ib.getInt64(0)),
        [&] { storeTile(op, inner, {}, {blk.g}, {}, blk.begin, blk.rows, jt); },
        [] {});
  });
}

} // namespace

LogicalResult lowerInt8MatMul(const Op &op, LoweringContext &ctx) {
  if (const Value *groupList = op.operand(MM::group_list)) {
    lowerGrouped(op, ctx, groupList);
    return success();
  }
  llvm::IRBuilder<> &b = ctx.b();
  const TensorType &outT = op.result()->type();
  int64_t batchRank = outT.rank() - 2;
  std::vector<llvm::Value *> outDims = ctx.shapes().dims(outT);
  int8gemm::Blocking bl = int8gemm::blocking(ctx.isa());
  llvm::Value *items = b.CreateMul(ceilDiv(b, outDims[batchRank], bl.mc),
                                   ceilDiv(b, outDims[batchRank + 1], bl.nc));
  for (int64_t d = 0; d < batchRank; ++d)
    items = b.CreateMul(items, outDims[d]);
  ctx.parallelFor(items, tileWork(ctx, op),
                  [&](LoweringContext &inner, llvm::Value *t) {
    llvm::IRBuilder<> &ib = inner.b();
    std::vector<llvm::Value *> dims = inner.shapes().dims(outT);
    llvm::Value *m = dims[batchRank], *n = dims[batchRank + 1];
    llvm::Value *colTiles = ceilDiv(ib, n, bl.nc);
    llvm::Value *perBatch = ib.CreateMul(ceilDiv(ib, m, bl.mc), colTiles);
    llvm::Value *inBatch = ib.CreateURem(t, perBatch);
    std::vector<llvm::Value *> lead = delinearize(
        ib, ib.CreateUDiv(t, perBatch),
        llvm::ArrayRef<llvm::Value *>(dims).take_front(batchRank));
    llvm::Value *i0 = ib.CreateMul(ib.CreateUDiv(inBatch, colTiles),
                                   ib.getInt64(bl.mc));
    llvm::Value *left = ib.CreateSub(m, i0);
    llvm::Value *rows = ib.CreateSelect(
        ib.CreateICmpSLT(left, ib.getInt64(bl.mc)), left, ib.getInt64(bl.mc));
    bool lhsBatched = op.operand(MM::lhs)->type().rank() > 2;
    bool rhsBatched = op.operand(MM::rhs)->type().rank() > 2;
    storeTile(op, inner, lhsBatched ? lead : std::vector<llvm::Value *>(),
              rhsBatched ? lead : std::vector<llvm::Value *>(), lead, i0, rows,
              ib.CreateURem(inBatch, colTiles));
  });
  return success();
}

} // namespace kiln::codegen
