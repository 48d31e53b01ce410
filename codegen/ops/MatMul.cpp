//===- MatMul.cpp - lowering of plain, batched and grouped matmul ---------===//
//
// The same sums as ops/MatMul.cpp: each output element is
// `float acc = 0; acc += float(a) * float(b)` in ascending k, rounded once to
// the result dtype; i8 x i8 sums wrap to i32 (an i32 accumulator gives the
// reference's int64 sum modulo 2^32, which is what it stores).
//
// Loop order: rows i outer, then blocks of kColumnBlock columns, k, and the
// columns j innermost, accumulating into a stack row block acc[j]:
//
//   for i: for j0 in steps of kColumnBlock:
//     acc[:] = 0
//     for kk: a = lhs[i, kk]; for j: acc[j - j0] += a * rhs[kk, j]
//     out[i, j0:] = acc[:]
//
// Every output element still sums its products in ascending k, so results
// are bit-identical to the reference, while the unit-stride, dependence-free
// innermost loop lets LLVM's loop vectorizer work over j.
//
//===----------------------------------------------------------------------===//
#include "codegen/ops/GroupList.h"

namespace kiln::codegen {

namespace {

/// Columns per row block: a 1 KiB stack accumulator.
constexpr int64_t kColumnBlock = 256;

struct MatMulLowering {
  LoweringContext &ctx;
  TensorAccess lhs, rhs, out;
  bool transLhs, transRhs, isInt;
  llvm::Value *k, *n;
  llvm::Type *accTy;
  llvm::AllocaInst *acc;

  /// Writes rows [begin, end) of out[outLead..., :, :] from
  /// lhs[lhsLead..., :, :] x rhs[rhsLead..., :, :].
  void rows(llvm::ArrayRef<llvm::Value *> lhsLead,
            llvm::ArrayRef<llvm::Value *> rhsLead,
            llvm::ArrayRef<llvm::Value *> outLead, llvm::Value *begin,
            llvm::Value *end);
  /// Zeroes rows [begin, end) of a rank-2 output.
  void zeroRows(llvm::Value *begin, llvm::Value *end);
};

/// `lead` followed by `rest`.
std::vector<llvm::Value *> concat(llvm::ArrayRef<llvm::Value *> lead,
                                  std::initializer_list<llvm::Value *> rest) {
  std::vector<llvm::Value *> idx(lead.begin(), lead.end());
  idx.insert(idx.end(), rest);
  return idx;
}

void MatMulLowering::rows(llvm::ArrayRef<llvm::Value *> lhsLead,
                          llvm::ArrayRef<llvm::Value *> rhsLead,
                          llvm::ArrayRef<llvm::Value *> outLead,
                          llvm::Value *begin, llvm::Value *end) {
  llvm::IRBuilder<> &b = ctx.b();
  llvm::Value *block = b.getInt64(kColumnBlock);
  llvm::Value *blocks =
      b.CreateUDiv(b.CreateAdd(n, b.getInt64(kColumnBlock - 1)), block);
  llvm::Value *zero =
      isInt ? (llvm::Value *)b.getInt32(0) : llvm::ConstantFP::get(accTy, 0.0);
  auto slot = [&](llvm::Value *jj) {
    return b.CreateInBoundsGEP(accTy, acc, jj);
  };
  ctx.forRange(begin, end, [&](llvm::Value *i) {
    ctx.forRange(b.getInt64(0), blocks, [&](llvm::Value *blk) {
      llvm::Value *j0 = b.CreateMul(blk, block);
      llvm::Value *rest = b.CreateSub(n, j0);
      llvm::Value *width =
          b.CreateSelect(b.CreateICmpSLT(rest, block), rest, block);
      ctx.forRange(b.getInt64(0), width,
                   [&](llvm::Value *jj) { b.CreateStore(zero, slot(jj)); });
      ctx.forRange(b.getInt64(0), k, [&](llvm::Value *kk) {
        auto lhsIdx = concat(lhsLead, {transLhs ? kk : i, transLhs ? i : kk});
        // i8 operands as i32 (their product is exact in i32), floats as f32.
        auto load = [&](const TensorAccess &t,
                        llvm::ArrayRef<llvm::Value *> x) {
          return isInt ? b.CreateTrunc(t.loadInt(x), accTy) : t.loadFloat(x);
        };
        llvm::Value *a = load(lhs, lhsIdx);
        ctx.forRange(b.getInt64(0), width, [&](llvm::Value *jj) {
          llvm::Value *j = b.CreateAdd(j0, jj);
          auto rhsIdx = concat(rhsLead, {transRhs ? j : kk, transRhs ? kk : j});
          llvm::Value *p = slot(jj);
          llvm::Value *cur = b.CreateLoad(accTy, p);
          llvm::Value *prod = isInt ? b.CreateMul(a, load(rhs, rhsIdx))
                                    : b.CreateFMul(a, load(rhs, rhsIdx));
          llvm::Value *sum =
              isInt ? b.CreateAdd(cur, prod) : b.CreateFAdd(cur, prod);
          b.CreateStore(sum, p);
        });
      });
      ctx.forRange(b.getInt64(0), width, [&](llvm::Value *jj) {
        auto outIdx = concat(outLead, {i, b.CreateAdd(j0, jj)});
        llvm::Value *v = b.CreateLoad(accTy, slot(jj));
        if (isInt)
          out.storeInt(outIdx, b.CreateSExt(v, b.getInt64Ty()));
        else
          out.storeFloat(outIdx, v);
      });
    });
  });
}

void MatMulLowering::zeroRows(llvm::Value *begin, llvm::Value *end) {
  llvm::IRBuilder<> &b = ctx.b();
  ctx.forRange(begin, end, [&](llvm::Value *i) {
    ctx.forRange(b.getInt64(0), n, [&](llvm::Value *j) {
      if (isInt)
        out.storeInt({i, j}, b.getInt64(0));
      else
        out.storeFloat({i, j}, llvm::ConstantFP::get(b.getFloatTy(), 0.0));
    });
  });
}

/// The lowering state for `op` in `ctx` (a parallel body has its own).
MatMulLowering makeLowering(const Op &op, LoweringContext &ctx) {
  const ops::MatMul::Attrs &a = op.attrs<ops::MatMul>();
  llvm::IRBuilder<> &b = ctx.b();
  TensorAccess lhs = ctx.access(op.operand(ops::MatMul::lhs));
  TensorAccess out = ctx.access(op.result());
  bool isInt = isInteger(lhs.type().dtype);
  llvm::Type *accTy = isInt ? b.getInt32Ty() : b.getFloatTy();
  return MatMulLowering{
      ctx,
      lhs,
      ctx.access(op.operand(ops::MatMul::rhs)),
      out,
      a.transpose_lhs,
      a.transpose_rhs,
      isInt,
      a.transpose_lhs ? lhs.dim(-2) : lhs.dim(-1),
      out.dim(-1),
      accTy,
      ctx.stackSlot(llvm::ArrayType::get(accTy, kColumnBlock), "matmul.acc")};
}

/// Rough multiply-adds per output row, for the runtime's inline-or-split
/// decision (a symbolic dim counts as 256).
int64_t workPerRow(const Op &op, const ShapeABI &shapes) {
  const TensorType &lhs = op.operand(ops::MatMul::lhs)->type();
  const TensorType &out = op.result()->type();
  const Dim &k = op.attrs<ops::MatMul>().transpose_lhs ? lhs.dim(-2) : lhs.dim(-1);
  return shapes.constant(k).value_or(256) *
         shapes.constant(out.dim(-1)).value_or(256);
}

} // namespace

LogicalResult lowerMatMul(const Op &op, LoweringContext &ctx) {
  const ops::MatMul::Attrs &a = op.attrs<ops::MatMul>();
  llvm::IRBuilder<> &b = ctx.b();
  MatMulLowering l = makeLowering(op, ctx);
  llvm::Value *m = l.out.dim(-2);

  if (const Value *groupList = op.operand(ops::MatMul::group_list)) {
    // Validate the whole list before writing any output, as the reference.
    checkGroupList(ctx, op, groupList, a.group_list_type, m);
    llvm::Value *covered =
        forEachGroup(ctx, groupList, a.group_list_type,
                     [&](llvm::Value *g, llvm::Value *begin, llvm::Value *end) {
                       l.rows({}, {g}, {}, begin, end);
                     });
    // Rows in no group are zero (the runtime zero-fills outputs today, but
    // the kernel does not rely on it).
    l.zeroRows(covered, m);
    return success();
  }

  // Plain and batched: every output row (over batch x M) is independent, so
  // rows are split across the thread pool.
  int64_t batchRank = l.out.type().rank() - 2;
  llvm::Value *rows = m;
  for (int64_t d = 0; d < batchRank; ++d)
    rows = b.CreateMul(rows, l.out.dim(d));
  ctx.parallelFor(rows, workPerRow(op, ctx.shapes()),
                  [&](LoweringContext &inner, llvm::Value *row) {
    MatMulLowering li = makeLowering(op, inner);
    llvm::IRBuilder<> &ib = inner.b();
    std::vector<llvm::Value *> dims;
    for (int64_t d = 0; d < batchRank + 1; ++d)
      dims.push_back(li.out.dim(d));
    std::vector<llvm::Value *> idx = delinearize(ib, row, dims);
    llvm::Value *i = idx.back();
    idx.pop_back();
    bool lhsBatched = li.lhs.type().rank() > 2;
    bool rhsBatched = li.rhs.type().rank() > 2;
    li.rows(lhsBatched ? idx : std::vector<llvm::Value *>(),
            rhsBatched ? idx : std::vector<llvm::Value *>(), idx, i,
            ib.CreateAdd(i, ib.getInt64(1)));
  });
  return success();
}

} // namespace kiln::codegen
