//===- Reduce.h - the numerics every communicator backend shares -*- C++ -*-=//
//
// One place defines what an all-reduce computes (runtime/Communicator.h,
// OPS.md §0/§5.2), so the in-process and MPI backends give bit-identical
// results: element i of the result is
//   golden:     round_dtype(((v0 op v1) op v2) ...)   in f32, rank order
//   npu-compat: round_c(round_c(v0 op v1) op v2) ...  c = spec.compatType
// where vr is rank r's element widened to f32 exactly.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/Communicator.h"

#include <span>
#include <string>

namespace kiln::comm {

/// Bytes per element of a reducible dtype.
int64_t elementBytes(DType t);

/// dst[i] = reduction of srcs[0][i], srcs[1][i], ... in that (rank) order,
/// for i < count. `dst` may be one of the sources (in place). The result
/// is stored as `dstType` (default spec.dtype), rounded once from f32.
void reduceInRankOrder(std::span<const void *const> srcs, void *dst,
                       int64_t count, const ReduceSpec &spec,
                       std::optional<DType> dstType = std::nullopt);

/// A ReduceSpec as one integer and back (a peer window's tag).
int64_t specCode(const ReduceSpec &spec);
ReduceSpec specOfCode(int64_t code);

/// "allreduce #3 (640 x f16, sum, golden)": names a collective in errors.
std::string describe(int64_t seq, int64_t count, const ReduceSpec &spec);

/// Whether two ranks' collectives are the same (count, dtype, op, numerics).
bool sameCollective(int64_t countA, const ReduceSpec &a, int64_t countB,
                    const ReduceSpec &b);

} // namespace kiln::comm
