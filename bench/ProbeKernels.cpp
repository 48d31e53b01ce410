//===- ProbeKernels.cpp - the loops kiln-bench's probes time --------------===//
//
// int8: the register-blocked inner step the GEMM kernels are designed
// around (issue 4): R rows x W columns of int32 accumulators in registers;
// per pair of k, sign-extend B's int8 to int16 (vpmovsxbw), broadcast each
// row's (k, k+1) int16 pair (vpbroadcastd), multiply-add. On AVX2 that is
// vpmaddwd + vpaddd on ymm (4 x 16: 16 ymm registers); with AVX-512 VNNI it
// is vpdpwssd on zmm (6 x 32). Both are exact for full-range int8 (vpmaddubsw
// is not). Operands sit in L1, so the rate is the sequence's, not memory's.
//
//===----------------------------------------------------------------------===//
#include "bench/ProbeKernels.h"

#include <immintrin.h>

namespace kiln::bench::kernels {

// The inner step is inline assembly: GCC 12 wraps intrinsic accumulators
// in register-to-register moves (two per vpdpwssd) and spills, which would
// time its register allocator instead of the sequence. Accumulators are
// "+v" operands, so they stay in registers across iterations.
#define KILN_ROW(MAC, i)                                                       \
  "vpbroadcastd " #i "*4(%[a]), %[t]\n\t" MAC(i##0, 0) MAC(i##1, 1)

#define KILN_MADDWD(acc, b)                                                    \
  "vpmaddwd %[b" #b "], %[t], %[p]\n\t"                                        \
  "vpaddd %[p], %[c" #acc "], %[c" #acc "]\n\t"

#define KILN_DPWSSD(acc, b) "vpdpwssd %[b" #b "], %[t], %[c" #acc "]\n\t"

__attribute__((target("avx2"))) int64_t int8Avx2(const Int8Panel &p,
                                                 int64_t reps) {
  __m256i c00, c01, c10, c11, c20, c21, c30, c31, b0, b1, t, pr;
  c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = _mm256_setzero_si256();
  for (int64_t r = 0; r < reps; ++r)
    for (int q = 0; q < kPairs; ++q) {
      const int8_t *bp = p.b + q * 32;
      const int32_t *ap = p.a + q * kRows;
      asm volatile(
          "vpmovsxbw (%[bp]), %[b0]\n\t"
          "vpmovsxbw 16(%[bp]), %[b1]\n\t" //
          KILN_ROW(KILN_MADDWD, 0) KILN_ROW(KILN_MADDWD, 1)
              KILN_ROW(KILN_MADDWD, 2) KILN_ROW(KILN_MADDWD, 3)
          : [c00] "+x"(c00), [c01] "+x"(c01), [c10] "+x"(c10), [c11] "+x"(c11),
            [c20] "+x"(c20), [c21] "+x"(c21), [c30] "+x"(c30), [c31] "+x"(c31),
            [b0] "=&x"(b0), [b1] "=&x"(b1), [t] "=&x"(t), [p] "=&x"(pr)
          : [bp] "r"(bp), [a] "r"(ap)
          : "memory");
    }
  __m256i s =
      _mm256_add_epi32(_mm256_add_epi32(c00, c01), _mm256_add_epi32(c10, c11));
  s = _mm256_add_epi32(s, _mm256_add_epi32(_mm256_add_epi32(c20, c21),
                                           _mm256_add_epi32(c30, c31)));
  return _mm256_extract_epi32(s, 0) + _mm256_extract_epi32(s, 7);
}

__attribute__((target("avx512f,avx512bw,avx512vnni"))) int64_t
int8Vnni(const Int8Panel &p, int64_t reps) {
  __m512i c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51, b0, b1, t;
  c00 = c01 = c10 = c11 = c20 = c21 = _mm512_setzero_si512();
  c30 = c31 = c40 = c41 = c50 = c51 = _mm512_setzero_si512();
  for (int64_t r = 0; r < reps; ++r)
    for (int q = 0; q < kPairs; ++q) {
      const int8_t *bp = p.b + q * 64;
      const int32_t *ap = p.a + q * kRows;
      asm volatile(
          "vpmovsxbw (%[bp]), %[b0]\n\t"
          "vpmovsxbw 32(%[bp]), %[b1]\n\t" //
          KILN_ROW(KILN_DPWSSD, 0) KILN_ROW(KILN_DPWSSD, 1)
              KILN_ROW(KILN_DPWSSD, 2) KILN_ROW(KILN_DPWSSD, 3)
                  KILN_ROW(KILN_DPWSSD, 4) KILN_ROW(KILN_DPWSSD, 5)
          : [c00] "+v"(c00), [c01] "+v"(c01), [c10] "+v"(c10), [c11] "+v"(c11),
            [c20] "+v"(c20), [c21] "+v"(c21), [c30] "+v"(c30), [c31] "+v"(c31),
            [c40] "+v"(c40), [c41] "+v"(c41), [c50] "+v"(c50), [c51] "+v"(c51),
            [b0] "=&v"(b0), [b1] "=&v"(b1), [t] "=&v"(t)
          : [bp] "r"(bp), [a] "r"(ap)
          : "memory");
    }
  __m512i s =
      _mm512_add_epi32(_mm512_add_epi32(c00, c01), _mm512_add_epi32(c10, c11));
  s = _mm512_add_epi32(s, _mm512_add_epi32(_mm512_add_epi32(c20, c21),
                                           _mm512_add_epi32(c30, c31)));
  s = _mm512_add_epi32(s, _mm512_add_epi32(_mm512_add_epi32(c40, c41),
                                           _mm512_add_epi32(c50, c51)));
  alignas(64) int32_t lanes[16];
  _mm512_store_si512(lanes, s);
  // A checksum that keeps the work alive; wraps like the int32 lanes.
  return int64_t(lanes[0]) + lanes[15];
}
#undef KILN_ROW
#undef KILN_MADDWD
#undef KILN_DPWSSD

/// The fallback: the same tile in scalar code (4 columns).
int64_t int8Scalar(const Int8Panel &p, int64_t reps) {
  uint32_t acc[kRows][4] = {}; // wraps like the int32 vector lanes, no UB
  for (int64_t r = 0; r < reps; ++r)
    for (int q = 0; q < kPairs; ++q)
      for (int i = 0; i < kRows; ++i) {
        int32_t a = p.a[q * kRows + i];
        auto lo = int16_t(a), hi = int16_t(a >> 16);
        for (int j = 0; j < 4; ++j)
          acc[i][j] += uint32_t(lo * p.b[q * 8 + 2 * j] +
                                hi * p.b[q * 8 + 2 * j + 1]);
      }
  return int64_t(int32_t(acc[0][0])) + int32_t(acc[kRows - 1][3]);
}

/// fp32: 12 independent FMA chains in registers (FMA latency x pipes < 12).
#define KILN_FMA_CHAINS(V, FMA, SET1, ADD, LOW)                                \
  V acc[12], vm = SET1(m), vc = SET1(c);                                       \
  for (int i = 0; i < 12; ++i)                                                 \
    acc[i] = SET1(float(i));                                                   \
  for (int64_t r = 0; r < reps; ++r) {                                         \
    _Pragma("GCC unroll 12") for (int i = 0; i < 12; ++i) acc[i] =             \
        FMA(acc[i], vm, vc);                                                   \
  }                                                                            \
  for (int i = 1; i < 12; ++i)                                                 \
    acc[0] = ADD(acc[0], acc[i]);                                              \
  return LOW(acc[0]);

__attribute__((target("avx2,fma"))) float fmaAvx2(int64_t reps, float m,
                                                  float c) {
  KILN_FMA_CHAINS(__m256, _mm256_fmadd_ps, _mm256_set1_ps, _mm256_add_ps,
                  _mm256_cvtss_f32)
}

__attribute__((target("avx512f"))) float fmaAvx512(int64_t reps, float m,
                                                   float c) {
  KILN_FMA_CHAINS(__m512, _mm512_fmadd_ps, _mm512_set1_ps, _mm512_add_ps,
                  _mm512_cvtss_f32)
}
#undef KILN_FMA_CHAINS

/// Sums [p, p + n) as 64-bit lanes (n a multiple of 128).
__attribute__((target("avx2"))) int64_t readAvx2(const std::byte *p, size_t n) {
  __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
  for (size_t i = 0; i < n; i += 128) {
    a0 = _mm256_add_epi64(a0, _mm256_load_si256((const __m256i *)(p + i)));
    a1 = _mm256_add_epi64(a1, _mm256_load_si256((const __m256i *)(p + i + 32)));
    a2 = _mm256_add_epi64(a2, _mm256_load_si256((const __m256i *)(p + i + 64)));
    a3 = _mm256_add_epi64(a3, _mm256_load_si256((const __m256i *)(p + i + 96)));
  }
  __m256i s =
      _mm256_add_epi64(_mm256_add_epi64(a0, a1), _mm256_add_epi64(a2, a3));
  return _mm256_extract_epi64(s, 0) + _mm256_extract_epi64(s, 3);
}

int64_t readScalar(const std::byte *p, size_t n) {
  const auto *q = reinterpret_cast<const uint64_t *>(p);
  uint64_t s0 = 0, s1 = 0;
  for (size_t i = 0; i < n / 8; i += 2) {
    s0 += q[i];
    s1 += q[i + 1];
  }
  return int64_t(s0 + s1);
}

} // namespace kiln::bench::kernels
