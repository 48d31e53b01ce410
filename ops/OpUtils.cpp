//===- OpUtils.cpp - shared checks and index math for op files ------------===//
#include "ops/OpUtils.h"

#include "runtime/KernelErrors.h"

#include <sstream>

namespace kiln::ops {

std::string_view operandName(const Op &op, unsigned i) {
  return op.info().operands[i].name;
}

const TensorType &operandType(const Op &op, unsigned i) {
  return op.operand(i)->type();
}

LogicalResult expectDType(const Op &op, unsigned i,
                          std::initializer_list<DType> allowed) {
  DType t = operandType(op, i).dtype;
  for (DType a : allowed)
    if (a == t)
      return success();
  InFlightDiag d = op.emitError();
  d << operandName(op, i) << " must be ";
  size_t n = 0;
  for (DType a : allowed)
    d << (n++ == 0 ? "" : (n == allowed.size() ? " or " : ", ")) << a;
  d << ", got " << t;
  return d;
}

LogicalResult expectRank(const Op &op, unsigned i, int64_t rank) {
  const TensorType &t = operandType(op, i);
  if (t.rank() == rank)
    return success();
  return op.emitError() << operandName(op, i) << " must have rank " << rank
                        << ", got " << t;
}

LogicalResult expectND(const Op &op, unsigned i) {
  const TensorType &t = operandType(op, i);
  if (t.layout == Layout::ND)
    return success();
  return op.emitError() << operandName(op, i) << " must be in ND layout, got "
                        << t;
}

std::optional<int64_t> normalizeAxis(int64_t axis, int64_t rank) {
  if (axis < 0)
    axis += rank;
  if (axis < 0 || axis >= rank)
    return std::nullopt;
  return axis;
}

std::optional<std::vector<Dim>> broadcastDims(const std::vector<Dim> &a,
                                              const std::vector<Dim> &b) {
  size_t rank = std::max(a.size(), b.size());
  std::vector<Dim> out(rank);
  for (size_t i = 0; i < rank; ++i) {
    // Walk from the right.
    const Dim *da = i < a.size() ? &a[a.size() - 1 - i] : nullptr;
    const Dim *db = i < b.size() ? &b[b.size() - 1 - i] : nullptr;
    Dim &o = out[rank - 1 - i];
    if (!da || *da == Dim(1))
      o = db ? *db : Dim(1);
    else if (!db || *db == Dim(1) || *da == *db)
      o = *da;
    else
      return std::nullopt;
  }
  return out;
}

bool broadcastsTo(const std::vector<Dim> &from, const std::vector<Dim> &to) {
  auto b = broadcastDims(from, to);
  return b && *b == to;
}

std::string toString(const std::vector<Dim> &dims) {
  std::ostringstream os;
  os << '[';
  for (size_t i = 0; i < dims.size(); ++i)
    os << (i ? "," : "") << dims[i];
  os << ']';
  return os.str();
}

int64_t broadcastLinearIndex(const Shape &inShape,
                             std::span<const int64_t> outIndex) {
  int64_t linear = 0;
  size_t skip = outIndex.size() - inShape.size();
  for (size_t i = 0; i < inShape.size(); ++i) {
    int64_t idx = inShape[i] == 1 ? 0 : outIndex[skip + i];
    linear = linear * inShape[i] + idx;
  }
  return linear;
}

FailureOr<std::vector<int64_t>> groupOffsets(EvalContext &ctx,
                                             const Tensor &groupList,
                                             GroupListType type, int64_t rows) {
  int64_t e = groupList.numel();
  std::vector<int64_t> offsets(e + 1, 0);
  for (int64_t g = 0; g < e; ++g) {
    int64_t v = groupList.getInt(g);
    if (v < 0)
      return ctx.error() << describe(KernelError::GroupListNegative, g, v);
    if (type == GroupListType::Count) {
      offsets[g + 1] = offsets[g] + v;
    } else {
      if (v < offsets[g])
        return ctx.error() << describe(KernelError::GroupListDecreasing, g, v,
                                       offsets[g]);
      offsets[g + 1] = v;
    }
    if (offsets[g + 1] > rows)
      return ctx.error() << describe(KernelError::GroupListTooLarge, g, v,
                                     rows);
  }
  return offsets;
}

} // namespace kiln::ops
