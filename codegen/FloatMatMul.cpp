//===- FloatMatMul.cpp - f16/bf16/f32 matmul on the float GEMM engine -----===//
//
// The float `matmul` (plain, batched with broadcasting, grouped): the sums of
// ops/MatMul.cpp, `float acc += float(a) * float(b)` in ascending k, rounded
// once to the result dtype, computed by codegen/FloatGemm's register tiles.
// B row vectors are one load (plus widening) when the rhs run is contiguous
// (ND [K,N]; NZ when a fractal holds a multiple of 16 columns), else they
// are gathered lane by lane (transpose_rhs, NZ f32: correct, slower).
//
//===----------------------------------------------------------------------===//
#include "codegen/FloatMatMul.h"

#include "codegen/VectorAccess.h"
#include "codegen/ops/GroupList.h"

namespace kiln::codegen {

namespace {

using M = ops::MatMul;

/// `lead` followed by `rest`.
std::vector<llvm::Value *> concat(llvm::ArrayRef<llvm::Value *> lead,
                                  std::initializer_list<llvm::Value *> rest) {
  std::vector<llvm::Value *> idx(lead.begin(), lead.end());
  idx.insert(idx.end(), rest);
  return idx;
}

/// The operands of one [M,K] x [K,N] product inside the (batched) tensors:
/// `lhsLead`, `rhsLead`, `outLead` select the batch or expert matrix.
gemm::Source productSource(LoweringContext &c, const Op &op,
                           std::vector<llvm::Value *> lhsLead,
                           std::vector<llvm::Value *> rhsLead,
                           std::vector<llvm::Value *> outLead) {
  const M::Attrs &a = op.attrs<M>();
  llvm::IRBuilder<> &b = c.b();
  TensorAccess lhs = c.access(op.operand(M::lhs));
  TensorAccess rhs = c.access(op.operand(M::rhs));
  TensorAccess out = c.access(op.result());
  const TensorType &rt = rhs.type();
  bool contiguous =
      !a.transpose_rhs &&
      (rt.layout != Layout::NZ ||
       nzColumnsPerFractal(rt.dtype) % int64_t(gemm::kLanes) == 0);
  llvm::Value *lastJ = b.CreateSub(out.dim(-1), b.getInt64(1));
  bool transLhs = a.transpose_lhs, transRhs = a.transpose_rhs;
  gemm::Source src;
  src.b = [=, &b](llvm::Value *k, llvm::Value *, llvm::Value *j,
                  llvm::Value *mask) -> llvm::Value * {
    if (contiguous)
      return vec::loadFloats(b, rhs, concat(rhsLead, {k, j}), mask);
    llvm::Value *v = llvm::PoisonValue::get(gemm::floatVector(b));
    for (unsigned l = 0; l < gemm::kLanes; ++l) {
      llvm::Value *jl = b.CreateAdd(j, b.getInt64(l));
      jl = b.CreateSelect(b.CreateICmpSLT(jl, lastJ), jl, lastJ);
      auto idx = concat(rhsLead, {transRhs ? jl : k, transRhs ? k : jl});
      v = b.CreateInsertElement(v, rhs.loadFloat(idx), uint64_t(l));
    }
    return v;
  };
  src.a = [=](llvm::Value *i, llvm::Value *k) {
    return lhs.loadFloat(concat(lhsLead, {transLhs ? k : i, transLhs ? i : k}));
  };
  src.store = [=, &b](llvm::Value *i, llvm::Value *j, llvm::Value *acc,
                      llvm::Value *, llvm::Value *mask) {
    vec::storeFloats(b, out, concat(outLead, {i, j}), acc, mask);
  };
  return src;
}

llvm::Value *ceilDiv(llvm::IRBuilder<> &b, llvm::Value *x, int64_t c) {
  return b.CreateUDiv(b.CreateAdd(x, b.getInt64(c - 1)), b.getInt64(c));
}

/// Grouped: row blocks of each group (never straddling two) x column tiles,
/// across the pool; rows in no group are zero.
void grouped(const Op &op, LoweringContext &ctx) {
  const M::Attrs &a = op.attrs<M>();
  const Value *gl = op.operand(M::group_list);
  const Value *result = op.result();
  gemm::TileShape shape = gemm::largeMShape();
  llvm::IRBuilder<> &b = ctx.b();
  TensorAccess out = ctx.access(result);
  llvm::Value *m = out.dim(0);
  checkGroupList(ctx, op, gl, a.group_list_type, m);
  auto extent = [&](LoweringContext &c, llvm::Value *&colTiles) {
    TensorAccess o = c.access(result);
    colTiles = ceilDiv(c.b(), o.dim(1), shape.columns());
    return c.b().CreateMul(groupBlockCount(c, gl, o.dim(0), shape.rows),
                           colTiles);
  };
  llvm::Value *colTiles;
  llvm::Value *tiles = extent(ctx, colTiles);
  ctx.parallelFor(tiles, shape.rows * shape.columns() * 256,
                  [&](LoweringContext &in, llvm::Value *t) {
    llvm::IRBuilder<> &ib = in.b();
    llvm::Value *cols;
    extent(in, cols);
    GroupBlock blk = groupBlock(in, gl, a.group_list_type,
                                ib.CreateUDiv(t, cols), shape.rows);
    llvm::Value *j0 =
        ib.CreateMul(ib.CreateURem(t, cols), ib.getInt64(shape.columns()));
    TensorAccess o = in.access(result);
    llvm::Value *n = o.dim(1);
    llvm::Value *restCols = ib.CreateSub(n, j0);
    llvm::Value *w = ib.getInt64(shape.columns());
    gemm::Tile tile{blk.begin, blk.rows, j0,
                    ib.CreateSelect(ib.CreateICmpSLT(restCols, w), restCols, w)};
    in.forRange(ib.getInt64(0),
                ib.CreateSelect(ib.CreateICmpSGT(blk.rows, ib.getInt64(0)),
                                ib.getInt64(1), ib.getInt64(0)),
                [&](llvm::Value *) {
      llvm::Value *k = in.access(op.operand(M::lhs)).dim(1);
      gemm::emitTile(in, shape, productSource(in, op, {}, {blk.g}, {}), tile, k);
    });
  });
  llvm::Value *covered =
      forEachGroup(ctx, gl, a.group_list_type,
                   [](llvm::Value *, llvm::Value *, llvm::Value *) {});
  ctx.forRange(covered, m, [&](llvm::Value *i) {
    ctx.forRange(b.getInt64(0), out.dim(1), [&](llvm::Value *j) {
      out.storeFloat({i, j}, llvm::ConstantFP::get(b.getFloatTy(), 0.0));
    });
  });
}

} // namespace

void lowerFloatMatMul(const Op &op, LoweringContext &ctx) {
  if (op.operand(M::group_list)) {
    grouped(op, ctx);
    return;
  }
  const M::Attrs &a = op.attrs<M>();
  const TensorType &outT = op.result()->type();
  const TensorType &lhsT = op.operand(M::lhs)->type();
  int64_t batchRank = outT.rank() - 2;
  bool lhsBatched = lhsT.rank() > 2;
  bool rhsBatched = op.operand(M::rhs)->type().rank() > 2;
  gemm::Problem p;
  p.extents = [&](LoweringContext &c) {
    TensorAccess out = c.access(op.result());
    TensorAccess lhs = c.access(op.operand(M::lhs));
    llvm::Value *batch = c.b().getInt64(1);
    for (int64_t d = 0; d < batchRank; ++d)
      batch = c.b().CreateMul(batch, out.dim(d));
    return gemm::Extents{batch, out.dim(-2), out.dim(-1),
                         a.transpose_lhs ? lhs.dim(-2) : lhs.dim(-1)};
  };
  p.source = [&](LoweringContext &c, llvm::Value *batch) {
    TensorAccess out = c.access(op.result());
    std::vector<llvm::Value *> dims;
    for (int64_t d = 0; d < batchRank; ++d)
      dims.push_back(out.dim(d));
    std::vector<llvm::Value *> idx = delinearize(c.b(), batch, dims);
    return productSource(c, op, lhsBatched ? idx : std::vector<llvm::Value *>(),
                         rhsBatched ? idx : std::vector<llvm::Value *>(), idx);
  };
  p.staticM = ctx.shapes().constant(outT.dim(-2));
  p.kHint = ctx.shapes()
                .constant(a.transpose_lhs ? lhsT.dim(-2) : lhsT.dim(-1))
                .value_or(256);
  gemm::parallelGemm(ctx, p);
}

} // namespace kiln::codegen
