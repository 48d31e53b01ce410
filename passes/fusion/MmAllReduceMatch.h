//===- MmAllReduceMatch.h - the partial under an all-reduce -----*- C++ -*-===//
//
// Recognises the per-rank partial of npu.mm_all_reduce_base (OPS.md §7):
//   [dequant W] -> matmul -> [add bias] -> [dequant(acc) * pertoken]
//   -> [add x3] -> [cast to the out dtype]
// and accepts it only when its golden evaluation is exactly the fused
// golden kernel's: every step after the matmul's fp32 (or exact int32)
// accumulator stays in f32 and the value is rounded once, by a final cast
// or by the matmul / dequant itself when nothing follows it.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Op.h"

#include <string>
#include <vector>

namespace kiln::fusion {

/// npu.mm_all_reduce_base's operands recovered from a partial.
struct MmAllReducePartial {
  Value *x1 = nullptr, *x2 = nullptr, *bias = nullptr;
  Value *antiquantScale = nullptr, *antiquantOffset = nullptr;
  Value *x3 = nullptr, *dequantScale = nullptr, *pertoken = nullptr;
  /// Non-empty: pertoken must first be reshaped to these dims ([m]/[b*s]).
  std::vector<Dim> pertokenReshape;
  int64_t groupSize = 0;
};

/// Matches `partial` (the all-reduce's input, in `out` = f16/bf16, or in f32
/// when a cast to `out` follows the all-reduce). Returns "" and fills `p`,
/// or the reason the chain cannot become npu.mm_all_reduce_base.
std::string matchMmAllReducePartial(Value *partial, DType out,
                                    MmAllReducePartial &p);

// Pieces of the match shared by MmAllReduceMatch.cpp and
// MmAllReduceOperands.cpp. Each returns "" or the reason for refusing.

/// The dtype's name as a string.
std::string str(DType t);
/// src if v = cast(src) {to = f32} and src has dtype `from`, else nullptr.
Value *widenedFrom(Value *v, DType from);
/// [1], [n] or [1, n]: a per-tensor or per-channel scale.
bool isChannelShape(const std::vector<Dim> &dims, const Dim &n);
/// Records the per-row scale `v` (output dims `out` without the last, or
/// with the last = 1) as pertoken_scale [m] / [b*s], via a reshape if needed.
std::string takePertoken(Value *v, const std::vector<Dim> &out,
                         MmAllReducePartial &p);
/// Full quant: `v` = dequant(matmul_i8 [+ bias i32], scale, row_scale).
std::string matchFullQuant(Value *v, DType out, MmAllReducePartial &p);
/// The matmul `acc`: x1 [m,k] / [b,s,k] (maybe widened), x2 [k,n] (maybe
/// widened, or a weight dequant).
std::string matchMatMul(Value *acc, DType out, MmAllReducePartial &p);

} // namespace kiln::fusion
