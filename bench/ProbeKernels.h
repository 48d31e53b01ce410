//===- ProbeKernels.h - the loops kiln-bench's probes time ------*- C++ -*-===//
//
// Each kernel exists in the widest form this CPU may run; Probes.cpp picks
// one with __builtin_cpu_supports. Calling a form the CPU lacks is illegal.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstddef>
#include <cstdint>

namespace kiln::bench::kernels {

constexpr int kRows = 6;    ///< rows of the zmm register tile (32 registers)
constexpr int kRowsYmm = 4; ///< rows of the ymm tile: 8 accumulators, 2 B
                            ///< vectors, A and a product in 16 registers
constexpr int kPairs = 128; ///< k pairs in the L1 panel

/// The operands of the int8 tile: B as int8 rows of up to 32 columns x 2 k
/// per pair, A as one int32 (= two int16) per row and pair.
struct Int8Panel {
  alignas(64) int8_t b[kPairs * 64];
  alignas(64) int32_t a[kPairs * kRows];
};

/// `reps` passes of the int8 tile over the panel: kPairs * kRowsYmm * 32
/// MACs each (AVX2), kPairs * kRows * 64 (AVX-512 VNNI), kPairs * kRows * 8
/// (scalar). The result only keeps the work alive.
int64_t int8Avx2(const Int8Panel &p, int64_t reps);
int64_t int8Vnni(const Int8Panel &p, int64_t reps);
int64_t int8Scalar(const Int8Panel &p, int64_t reps);

/// `reps` steps of 12 independent FMA chains x = x * m + c: 12 * 8 (AVX2)
/// or 12 * 16 (AVX-512) FMAs each.
float fmaAvx2(int64_t reps, float m, float c);
float fmaAvx512(int64_t reps, float m, float c);

/// Sums [p, p + n) as 64-bit lanes; `p` 32-byte aligned, n % 128 == 0.
int64_t readAvx2(const std::byte *p, size_t n);
int64_t readScalar(const std::byte *p, size_t n);

} // namespace kiln::bench::kernels
