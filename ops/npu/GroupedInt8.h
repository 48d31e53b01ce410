//===- GroupedInt8.h - shared parts of the grouped int8 MoE ops -*- C++ -*-===//
//
// npu.grouped_matmul_swiglu_quant_v2 and npu.grouped_matmul_finalize_routing
// both start with the same A8W8 grouped matmul: x i8 [M, K] ND, weight i8
// [E, K, N] FRACTAL_NZ, a per-expert per-channel f32 scale [E, N] and an i64
// group_list [E]. This header holds their common verifier checks and the
// int32 accumulation, written to match the `matmul` primitive exactly.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Op.h"
#include "runtime/Tensor.h"

#include <cstdint>
#include <vector>

namespace kiln::ops {

/// Checks x i8 [M, K] ND, w i8 [E, K, N] NZ, group_list i64 [E] and
/// scale f32 [E, N] ND (operand indices of `op`). Names the torch_npu
/// argument in each message.
LogicalResult verifyGroupedInt8(const Op &op, unsigned x, unsigned w,
                                unsigned groupList, unsigned scale);

/// x [M, K] and w [E, K, N] (any layout) copied into plain int8 arrays.
class GroupedInt8Matmul {
public:
  GroupedInt8Matmul(const Tensor &x, const Tensor &w);
  /// acc[j] = sum_k x[i,k] * w[g,k,j], wrapped to int32 as the matmul
  /// primitive stores its i32 result (exact for any realistic K).
  void row(int64_t i, int64_t g, std::vector<int32_t> &acc) const;
  int64_t m() const { return m_; }
  int64_t k() const { return k_; }
  int64_t n() const { return n_; }

private:
  int64_t m_, k_, n_;
  std::vector<int8_t> x_, w_;
};

/// Expert of each of `rows` rows from canonical offsets[E+1]; -1 for rows
/// at or past offsets[E].
std::vector<int64_t> rowGroups(const std::vector<int64_t> &offsets,
                               int64_t rows);

} // namespace kiln::ops
