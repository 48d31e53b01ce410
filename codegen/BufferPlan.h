//===- BufferPlan.h - where each value of a compiled run lives --*- C++ -*-===//
//
// A compiled kernel receives one pointer per value (bufferOrder: parameters,
// then op results). The plan decides, once per graph and shape binding,
// where each pointer points:
//
//   - parameters: the caller's input tensors. Kernels never write them.
//   - graph results: a fresh Tensor per call (it is handed to the caller),
//     zero-initialised as every Tensor is.
//   - every other op result (an intermediate): a 64-byte aligned range of
//     one arena, reused across calls.
//
// Lifetimes are intervals over the op order: a value lives from the op
// that defines it to its last reader (a value nobody reads lives for its
// own op). Two intermediates share bytes only when their intervals are
// disjoint. An op's operands are still live at the op that reads them, so
// a result never aliases its own operands: no lowering has to be in-place
// safe. Placement is first fit over the offsets live at the defining op.
//
// Zeroing rule. Before, every value was a freshly zeroed Tensor; now an
// intermediate holds whatever the arena held. An audit of codegen/ops/*.cpp
// and the GEMM engines (codegen/Int8MatMul.cpp, FloatMatMul.cpp; Nov 2026)
// found every lowering writing every logical element of its results:
// scatter_add copies `init` or stores zeros first, grouped matmul (every
// engine) and dequant zero the rows past the last group, swiglu_quant_v2
// zeroes the rows of no group, finalize_routing initialises each row before
// the scatter, mm_all_reduce_base reduces in its own scratch and then
// writes every output element, and no lowering reads its result before
// writing it. So the only bytes zeroed per run are:
//   - the whole buffer of an op listed in kZeroedResultOps (BufferPlan.cpp;
//     empty today): a lowering that does rely on a zeroed result must be
//     listed there;
//   - intermediates whose storage has padding (FRACTAL_NZ blocks, i4 rows
//     padded to eight elements): Tensor promises zero padding and kernels
//     reading a blocked layout a whole block at a time may rely on it.
// A new arena is filled with 0xff bytes (NaN floats, -1 integers), not
// zeros, so a lowering that starts relying on a zeroed result fails the
// differential tests instead of passing by luck.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"
#include "runtime/Executor.h"
#include "runtime/Tensor.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace kiln::codegen {

struct BufferSlot {
  enum class Kind : uint8_t { Input, Result, Arena };
  Kind kind = Kind::Arena;
  /// Input: the parameter index; Result: the index into
  /// BufferPlan::fresh.
  uint32_t index = 0;
  size_t offset = 0; ///< Arena: byte offset, a multiple of 64
  size_t bytes = 0;  ///< storage bytes of the value
  bool zero = false; ///< Arena: zero these bytes before each run
};

/// A graph result's Tensor, allocated per call.
struct FreshTensor {
  DType dtype;
  Shape shape;
  Layout layout;
};

struct BufferPlan {
  std::vector<BufferSlot> slots;   ///< one per value, in bufferOrder
  std::vector<FreshTensor> fresh;  ///< the tensors results are written to
  std::vector<uint32_t> results;   ///< per graph result: its slot
  size_t arenaBytes = 0;           ///< the arena's peak size
  size_t intermediateBytes = 0;    ///< sum of the intermediates' sizes
  std::vector<uint32_t> zeroed;    ///< arena slots to zero per run
};

/// Plans the buffers of `g` at `bindings` (which must bind every symbol of
/// a non-parameter value; an unbound one is reported to g.diags()).
FailureOr<BufferPlan> planBuffers(const Graph &g,
                                  const SymbolBindings &bindings);

/// One arena and the buffer-pointer table that points into it; the input
/// and result entries are filled per call.
struct Arena {
  explicit Arena(const BufferPlan &plan);
  ~Arena();
  Arena(const Arena &) = delete;
  Arena &operator=(const Arena &) = delete;
  std::byte *memory = nullptr;
  std::vector<void *> buffers;
};

} // namespace kiln::codegen
