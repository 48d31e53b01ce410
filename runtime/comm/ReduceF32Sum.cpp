//===- ReduceF32Sum.cpp - the hot all-reduce: f32 partials, summed --------===//
//
// npu.mm_all_reduce_base sums every rank's f32 partial into the output
// dtype; its peer-window path runs this between the GEMM's register tiles,
// a few hundred elements at a time, so it must be one pass with no staging
// buffers: eight lanes are loaded from each rank, summed in rank order
// (rounded to the compat dtype after each add in npu-compat mode) and
// stored once. Lanes that end as NaN are left to the caller's scalar path,
// whose NaN bits the vector conversions do not promise to match.
//
//===----------------------------------------------------------------------===//
#include "runtime/comm/ReduceF32Sum.h"

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

__attribute__((target("avx2,f16c"))) int64_t
sum8s(std::span<const void *const> srcs, char *dst, int64_t from, int64_t count,
      DType outType, std::optional<DType> roundEach) {
  const int64_t outBytes = outType == DType::F32 ? 4 : 2;
  int64_t i = from;
  for (; i + 8 <= count; i += 8) {
    __m256 acc = _mm256_loadu_ps(static_cast<const float *>(srcs[0]) + i);
    for (size_t r = 1; r < srcs.size(); ++r) {
      acc = _mm256_add_ps(
          acc, _mm256_loadu_ps(static_cast<const float *>(srcs[r]) + i));
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

bool canSumF32Fast() {
  static const bool has =
      __builtin_cpu_supports("avx2") && __builtin_cpu_supports("f16c");
  return has;
}

int64_t sumF32Fast(std::span<const void *const> srcs, void *dst, int64_t from,
                   int64_t count, DType outType,
                   std::optional<DType> roundEach) {
  return sum8s(srcs, static_cast<char *>(dst), from, count, outType, roundEach);
}

} // namespace kiln::comm
