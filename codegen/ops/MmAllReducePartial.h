//===- MmAllReducePartial.h - one rank's mm_all_reduce_base partial -*- C++
//-*-//
//
// npu.mm_all_reduce_base's lowering (MmAllReduceBase.cpp) computes this
// rank's partial P [rows, n] (x1 flattened to [rows, k]) into an f32
// scratch (16-bit in npu-compat with a 16-bit out dtype: partialType),
// chunk by chunk. A chunk is a range of *units*, each unitRows()
// consecutive rows, computed in parallel:
//   float modes (non-quant, weight-quant): the float GEMM engine's
//     parallelGemm over the chunk's rows (MmAllReduceGemm.cpp);
//   full quant: the int8 GEMM engine's work tiles over the chunk's rows
//     (MmAllReduceInt8.cpp).
// A unit is one row today (unitRows() = 1), kept as a knob for engines
// that want whole row blocks per chunk.
// Either way every element is the reference's operations in its order
// (exact i32 sums for full quant), so the result is bit-identical.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "codegen/Lowering.h"

namespace kiln::codegen {

/// Rows per unit for `op` (static: chosen while compiling).
int64_t partialUnitRows(const Op &op, LoweringContext &ctx);

/// Emits, at the builder's position, the parallel computation of P's rows
/// [u0 * unitRows, min(u1 * unitRows, rows)) into the scratch.
void emitPartialUnits(LoweringContext &ctx, const Op &op, llvm::Value *u0,
                      llvm::Value *u1);

/// P's rows [kiln_range_begin, kiln_range_end) for full quant, in parallel
/// (MmAllReduceInt8.cpp); `kHint`: rough k, for the thread split.
void emitInt8Partial(LoweringContext &ctx, const Op &op, int64_t kHint);

/// P's element type (mmAllReducePartialType, codegen/CommCalls.h).
DType partialType(const Op &op, LoweringContext &ctx);

/// Stores the f32 `v` (a scalar, or a gemm::kLanes vector with `mask` or
/// null) into P (`scratch`) from element `index` on, as partialType.
void storePartial(LoweringContext &ctx, const Op &op, llvm::Value *scratch,
                  llvm::Value *index, llvm::Value *v,
                  llvm::Value *mask = nullptr);

/// P's element `index` as an f32 scalar.
llvm::Value *loadPartial(LoweringContext &ctx, const Op &op,
                         llvm::Value *scratch, llvm::Value *index);

/// Whether `op` takes the float engine.
bool usesGemm(const Op &op);

} // namespace kiln::codegen
