//===- MoeMatch.h - matching helpers of the MoE fusions ---------*- C++ -*-===//
//
// Both MoE fusions (GroupedMatmulSwigluQuantV2, GroupedMatmulFinalizeRouting)
// start from the same chain, matched here:
//
//   %acc = matmul(%x, %w, group_list = %gl) {group_list_type = T} : i32[M,N]
//   %d   = dequant(%acc, %s, row_scale = %r, group_list = %gl)
//              {group_list_type = T} : f32[M,N]
// or the per-token scale as a separate mul (either operand order):
//   %d   = dequant(%acc, %s, group_list = %gl) {group_list_type = T} : f32[M,N]
//   %rs  = reshape(%r) {shape = [M, 1]} : f32[M,1]   (or any f32[M,1] value)
//   %y   = mul(%d, %rs) : f32[M,N]
//
// Both compute ((float(acc) * s[g][n]) * r[m]) in fp32, the fused kernels'
// order. Requires: x, w i8, w not transposed, s f32 [E, N] (per-channel),
// dequant without offset and with out_dtype f32, the same i64 group_list
// value and group_list_type on matmul and dequant, one use of every
// intermediate. %r may be absent.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Builder.h"

#include <string>

namespace kiln::fusion {

/// A per-row factor: an f32 [M] value, or an f32 [M, 1] one that has to be
/// reshaped to [M] for the fused op.
struct RowFactor {
  Value *value = nullptr;
  bool needsReshape = false;
  explicit operator bool() const { return value != nullptr; }
};

/// `v` as a per-row factor of an [M, N] product: reshape(%r: f32[M]) to
/// [M, 1], or any f32 [M, 1] value. Empty if it is neither.
RowFactor matchRowFactor(Value *v, const Dim &m);

/// The matched chain.
struct GroupedDequant {
  Op *matmul = nullptr;
  Op *dequant = nullptr;
  Value *x = nullptr, *w = nullptr, *scale = nullptr, *groupList = nullptr;
  GroupListType type = GroupListType::Cumsum;
  RowFactor rowScale; ///< per-token scale (dequant row_scale or a mul)
};

/// Matches `v` against the chain above. Returns "" on success, otherwise
/// why it does not match (for Rewriter::notMatched).
std::string matchGroupedDequant(Value *v, GroupedDequant &out);

/// The shared expert's part of a finalize_routing output, the scatter_add
/// init:
///   %c = cast(%shared: bf16[BSDP,N]) {to = f32}
///   %i = mul(%c, %wt)            (optional; %wt an f32 one-value constant)
///   %o = scatter_add(%i, %idx) {num_rows = B}   (optional placement; %idx a
///        constant [off, off+1, ..., off+BSDP-1]: zeros elsewhere)
/// kiln has no pad/concat/slice-update primitive, so the placement at
/// shared_input_offset is written as that scatter_add into zeros.
struct SharedInit {
  Value *shared = nullptr; ///< bf16 [bsdp, n]
  double weight = 1.0;     ///< shared_input_weight
  int64_t offset = 0;      ///< shared_input_offset
};
/// Matches `init` against the chain above; "" on success, else why not.
std::string matchSharedInit(Value *init, SharedInit &out);

/// The [M] value of a row factor, inserting a reshape when needed.
Value *materialize(const RowFactor &f, Builder &b, const Location &loc);
/// w in NZ layout: as matched when it already is (an NZ parameter or a
/// format_cast {layout = NZ}), otherwise through a new format_cast.
Value *nzWeight(Value *w, Builder &b, const Location &loc);
/// An f32 [M] constant of ones (a neutral per-row factor).
Value *onesRow(const Dim &m, Builder &b, const Location &loc);

} // namespace kiln::fusion
