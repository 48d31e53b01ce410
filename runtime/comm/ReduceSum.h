//===- ReduceSum.h - the hot all-reduce: sums in one pass -------*- C++ -*-===//
//
// Internal to runtime/comm/Reduce.cpp: a one-pass AVX2 loop for sums of
// f32, f16 or bf16 sources (npu.mm_all_reduce_base's partials, the
// allreduce op), exactly the numerics of reduceInRankOrder (Reduce.h).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/Communicator.h"

#include <optional>
#include <span>

namespace kiln::comm {

/// Whether this CPU runs sumFast (AVX2 and F16C).
bool canSumFast();

/// dst[i] = round_out(srcs[0][i] + srcs[1][i] + ...) in rank order, the
/// sources `srcType` (f32/f16/bf16) widened to f32, in groups of 8 from
/// `from`; with `roundEach`, rounded to that dtype after each add. Stops at
/// the first group whose result has a NaN lane, or where fewer than 8 are
/// left, and returns where it stopped.
int64_t sumFast(std::span<const void *const> srcs, DType srcType, void *dst,
                int64_t from, int64_t count, DType outType,
                std::optional<DType> roundEach);

} // namespace kiln::comm
