//===- WeightQuantMatch.h - the dequant side of WQBMM -----------*- C++ -*-===//
//
// Shared by passes/fusion/WeightQuantBatchmatmul.cpp: recognises
//   %wd = dequant(%w, %s, offset = %o) {group_size = G, out_dtype = T|f32}
//   %y  = matmul(%x | cast(%x) {to = f32}, %wd) {transpose_rhs = t}
// and the fused op's view of it.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "passes/Rewriter.h"

#include <optional>

namespace kiln::fusion {

/// The weight side of npu.weight_quant_batchmatmul, as matched.
struct AntiquantMatch {
  Value *x = nullptr;      ///< f16/bf16 [M,K]
  Value *weight = nullptr; ///< i8/i4 [K,N], or [N,K] when transposed
  Value *scale = nullptr;  ///< x's dtype, in the dequant's (weight's) frame
  Value *offset = nullptr; ///< like scale, or nullptr
  int64_t groupSize = 0;
  bool transposed = false; ///< matmul transpose_rhs: weight stored [N,K]
  /// x's dtype when the dequant rounded the weight to it, else none (f32).
  std::optional<DType> outDType;
};

/// Whether `mm` is a matmul whose rhs is a dequant (a candidate at all).
bool isAntiquantMatmul(const Op *mm);

/// Checks the candidate `mm` (isAntiquantMatmul) against the fused op's
/// rules; on a refusal reports why at `root` and fails.
LogicalResult matchAntiquant(const Op &root, const Op &mm, Rewriter &rw,
                             AntiquantMatch &out);

/// `s` (scale or offset of `m`) in the fused op's logical [.., N] frame:
/// a rank-2 scale of a transposed weight gets a `transpose {perm = [1, 0]}`
/// inserted by `b`.
Value *logicalScale(Builder &b, Value *s, const AntiquantMatch &m,
                    const Location &loc);

} // namespace kiln::fusion
