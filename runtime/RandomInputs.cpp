//===- RandomInputs.cpp - seeded inputs that satisfy a graph --------------===//
#include "runtime/RandomInputs.h"

#include <algorithm>
#include <random>

namespace kiln {

namespace {

/// The op's group_list_type attribute, found by name in its attribute
/// struct (every grouped op in the table spells it the same way).
GroupListType groupListType(const Op &op) {
  GroupListType type = GroupListType::Count;
  std::visit(
      [&](const auto &a) {
        if constexpr (!std::is_same_v<std::decay_t<decltype(a)>,
                                      std::monostate>)
          ops::visitAttrs(a, [&](std::string_view name, const auto &value,
                                 const auto &) {
            if constexpr (std::is_same_v<std::decay_t<decltype(value)>,
                                         GroupListType>)
              if (name == "group_list_type")
                type = value;
          });
      },
      op.attrVariant());
  return type;
}

/// Dim 0 of `v` with symbols resolved; nullopt if unresolvable.
FailureOr<int64_t> rowsOf(const Value *v, const SymbolBindings &dims,
                          const Graph &g, const Location &loc) {
  if (!v || v->type().rank() == 0)
    return emitError(g.diags(), loc) << "cannot tell how many rows to draw";
  FailureOr<Shape> s = resolveShape(v->type(), dims, g.diags(), loc);
  if (s.failed())
    return failure();
  return (*s)[0];
}

void fillGroupList(Tensor &t, int64_t rows, GroupListType type,
                   std::mt19937_64 &rng) {
  int64_t e = t.numel();
  std::uniform_int_distribution<int64_t> cut(0, rows);
  std::vector<int64_t> ends(e);
  for (int64_t &x : ends)
    x = cut(rng);
  std::sort(ends.begin(), ends.end());
  if (e)
    ends.back() = rows; // cover every row
  for (int64_t g = 0; g < e; ++g)
    t.setInt(g, type == GroupListType::Cumsum ? ends[g]
                                              : ends[g] - (g ? ends[g - 1] : 0));
}

void fillData(Tensor &t, std::mt19937_64 &rng) {
  int64_t n = t.numel();
  if (isFloat(t.dtype())) {
    std::uniform_real_distribution<double> u(-1.0, 1.0);
    for (int64_t i = 0; i < n; ++i)
      t.setDouble(i, u(rng));
    return;
  }
  int64_t lo = -128, hi = 127;
  if (t.dtype() == DType::I4)
    lo = -8, hi = 7;
  else if (t.dtype() != DType::I8)
    lo = -1000, hi = 1000;
  std::uniform_int_distribution<int64_t> u(lo, hi);
  for (int64_t i = 0; i < n; ++i)
    t.setInt(i, u(rng));
}

} // namespace

FailureOr<Tensor> randomInput(const Graph &g, unsigned param,
                              const SymbolBindings &dims, uint64_t seed) {
  const Value *p = g.param(param);
  FailureOr<Shape> shape = resolveShape(p->type(), dims, g.diags(), g.loc());
  if (shape.failed())
    return failure();
  Tensor t(p->type().dtype, *shape, p->type().layout);
  std::mt19937_64 rng(seed * 0x9E3779B97F4A7C15ull + param);
  for (const Use &use : p->uses()) {
    if (!use.user)
      continue;
    const Op &op = *use.user;
    std::string_view role = op.info().operands[use.index].name;
    if (role == "group_list") {
      FailureOr<int64_t> rows = rowsOf(op.operand(0), dims, g, op.loc());
      if (rows.failed())
        return failure();
      fillGroupList(t, *rows, groupListType(op), rng);
      return t;
    }
    if (role == "index" || role == "row_index") {
      FailureOr<int64_t> rows = rowsOf(op.result(0), dims, g, op.loc());
      if (rows.failed())
        return failure();
      std::uniform_int_distribution<int64_t> u(0, std::max<int64_t>(*rows - 1, 0));
      for (int64_t i = 0; i < t.numel(); ++i)
        t.setInt(i, u(rng));
      return t;
    }
  }
  fillData(t, rng);
  return t;
}

} // namespace kiln
