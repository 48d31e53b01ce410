//===- ReduceF32Sum.h - the hot all-reduce: f32 partials, summed -*- C++ -*-=//
//
// Internal to runtime/comm/Reduce.cpp: a one-pass AVX2 loop for the case
// npu.mm_all_reduce_base runs on every chunk (f32 sources, sum), exactly
// the numerics of reduceInRankOrder (Reduce.h).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/Communicator.h"

#include <optional>
#include <span>

namespace kiln::comm {

/// Whether this CPU runs sumF32Fast (AVX2 and F16C).
bool canSumF32Fast();

/// dst[i] = round_out(srcs[0][i] + srcs[1][i] + ...) in rank order, in
/// groups of 8 from `from`; with `roundEach`, rounded to that dtype after
/// each add. Stops at the first group whose result has a NaN lane, or
/// where fewer than 8 are left, and returns where it stopped.
int64_t sumF32Fast(std::span<const void *const> srcs, void *dst, int64_t from,
                   int64_t count, DType outType,
                   std::optional<DType> roundEach);

} // namespace kiln::comm
