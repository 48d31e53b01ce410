//===- OpUtils.h - shared checks and index math for op files ----*- C++ -*-===//
#pragma once

#include "ir/Attributes.h"
#include "ir/Op.h"
#include "runtime/Eval.h"
#include "runtime/Tensor.h"

#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace kiln::ops {

/// The operand's name from the op table ("lhs", "group_list", ...).
std::string_view operandName(const Op &op, unsigned i);
/// Type of operand i (which must be present).
const TensorType &operandType(const Op &op, unsigned i);

/// Fails with "'op' op <operand> must be <list>, got <dtype>" unless operand
/// i has one of `allowed`.
LogicalResult expectDType(const Op &op, unsigned i,
                          std::initializer_list<DType> allowed);
/// Fails unless operand i has rank `rank`.
LogicalResult expectRank(const Op &op, unsigned i, int64_t rank);
/// Fails unless operand i is in ND layout.
LogicalResult expectND(const Op &op, unsigned i);

/// `axis` (negative counts from the end) as 0..rank-1, or nullopt.
std::optional<int64_t> normalizeAxis(int64_t axis, int64_t rank);

/// NumPy broadcasting of two shapes (right-aligned, a dim of 1 stretches).
/// Two different symbols, or a symbol against a size other than 1, do not
/// broadcast: kiln cannot prove them equal.
std::optional<std::vector<Dim>> broadcastDims(const std::vector<Dim> &a,
                                              const std::vector<Dim> &b);
/// Whether `from` broadcasts to exactly `to`.
bool broadcastsTo(const std::vector<Dim> &from, const std::vector<Dim> &to);
std::string toString(const std::vector<Dim> &dims);

/// Row-major linear index into a tensor of shape `inShape` that is
/// broadcast (right-aligned) to an output position `outIndex`.
int64_t broadcastLinearIndex(const Shape &inShape,
                             std::span<const int64_t> outIndex);

/// Validates a group_list tensor (count or cumsum convention, OPS.md §1.4)
/// against `rows` and returns the canonical offsets[E+1] (exclusive prefix
/// sum). Negative counts, decreasing cumsums and totals past `rows` are
/// reported at the op, naming the offending entry.
FailureOr<std::vector<int64_t>> groupOffsets(EvalContext &ctx,
                                             const Tensor &groupList,
                                             GroupListType type, int64_t rows);

} // namespace kiln::ops
