//===- ReduceSum.cpp - the hot all-reduce: sums in one pass ---------------===//
//
// Every all-reduce that sums (npu.mm_all_reduce_base's partials, the
// allreduce op, the unfused matmul -> allreduce) goes through here: eight
// lanes are loaded from each rank and widened to f32 (f16 by F16C, bf16 by
// a shift: the staged path's exact conversions), summed in rank order
// (rounded to the compat dtype after each add in npu-compat mode) and
// stored once -- no staging buffers. Lanes that end as NaN are left to the
// caller's staged path, whose NaN bits the vector conversions do not
// promise to match.
//
//===----------------------------------------------------------------------===//
#include "runtime/comm/ReduceSum.h"

#include <immintrin.h>

namespace kiln::comm {

namespace {

__attribute__((target("avx2"))) __m256 roundBf16(__m256 v) {
  __m256i u = _mm256_castps_si256(v);
  __m256i odd =
      _mm256_and_si256(_mm256_srli_epi32(u, 16), _mm256_set1_epi32(1));
  u = _mm256_add_epi32(u, _mm256_add_epi32(_mm256_set1_epi32(0x7fff), odd));
  return _mm256_castsi256_ps(
      _mm256_and_si256(u, _mm256_set1_epi32(int(0xffff0000u))));
}

__attribute__((target("avx2,f16c"))) __m256 roundTo(__m256 v, DType t) {
  if (t == DType::F16)
    return _mm256_cvtph_ps(_mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT));
  return roundBf16(v);
}

__attribute__((target("avx2,f16c"))) void store8(__m256 v, DType t, char *dst) {
  if (t == DType::F32)
    return _mm256_storeu_ps(reinterpret_cast<float *>(dst), v);
  __m128i bits;
  if (t == DType::F16) {
    bits = _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT);
  } else { // the high halves of the rounded words, in order
    __m256i u = _mm256_srli_epi32(_mm256_castps_si256(roundBf16(v)), 16);
    bits = _mm_packus_epi32(_mm256_castsi256_si128(u),
                            _mm256_extracti128_si256(u, 1));
  }
  _mm_storeu_si128(reinterpret_cast<__m128i *>(dst), bits);
}

/// Eight elements of `t` from element i of `src`, widened exactly.
__attribute__((target("avx2,f16c"))) __m256 load8(const void *src, DType t,
                                                  int64_t i) {
  if (t == DType::F32)
    return _mm256_loadu_ps(static_cast<const float *>(src) + i);
  __m128i bits = _mm_loadu_si128(reinterpret_cast<const __m128i *>(
      static_cast<const uint16_t *>(src) + i));
  if (t == DType::F16)
    return _mm256_cvtph_ps(bits);
  return _mm256_castsi256_ps(
      _mm256_slli_epi32(_mm256_cvtepu16_epi32(bits), 16));
}

__attribute__((target("avx2,f16c"))) int64_t
sum8s(std::span<const void *const> srcs, DType srcType, char *dst, int64_t from,
      int64_t count, DType outType, std::optional<DType> roundEach) {
  const int64_t outBytes = outType == DType::F32 ? 4 : 2;
  int64_t i = from;
  for (; i + 8 <= count; i += 8) {
    __m256 acc = load8(srcs[0], srcType, i);
    for (size_t r = 1; r < srcs.size(); ++r) {
      acc = _mm256_add_ps(acc, load8(srcs[r], srcType, i));
      if (roundEach)
        acc = roundTo(acc, *roundEach);
    }
    if (_mm256_movemask_ps(_mm256_cmp_ps(acc, acc, _CMP_UNORD_Q)) != 0)
      break;
    store8(acc, outType, dst + i * outBytes);
  }
  return i;
}

} // namespace

bool canSumFast() {
  static const bool has =
      __builtin_cpu_supports("avx2") && __builtin_cpu_supports("f16c");
  return has;
}

int64_t sumFast(std::span<const void *const> srcs, DType srcType, void *dst,
                int64_t from, int64_t count, DType outType,
                std::optional<DType> roundEach) {
  return sum8s(srcs, srcType, static_cast<char *>(dst), from, count, outType,
               roundEach);
}

} // namespace kiln::comm
