//===- Reduce.cpp - the numerics every communicator backend shares --------===//
#include "runtime/comm/Reduce.h"

#include "runtime/comm/ReduceSum.h"

#include "runtime/Float16.h"

#include <fmt/core.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <immintrin.h>
#include <vector>

namespace kiln::comm {

namespace {

constexpr int64_t kBlock = 1024;

// f16 <-> f32 with the F16C instructions where the CPU has them (exact:
// RNE like doubleToHalf; NaN lanes fall back to the scalar functions so
// their bits match too); bf16 by bit operations, which vectorize.
__attribute__((target("avx,f16c"))) void loadF16C(const uint16_t *in,
                                                   int64_t n, float *out) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(out + i, _mm256_cvtph_ps(_mm_loadu_si128(
                                  reinterpret_cast<const __m128i *>(in + i))));
  for (; i < n; ++i)
    out[i] = halfToFloat(in[i]);
}

__attribute__((target("avx,f16c"))) void storeF16C(const float *in, int64_t n,
                                                    uint16_t *out) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 v = _mm256_loadu_ps(in + i);
    if (_mm256_movemask_ps(_mm256_cmp_ps(v, v, _CMP_UNORD_Q)) != 0)
      for (int l = 0; l < 8; ++l)
        out[i + l] = doubleToHalf(in[i + l]);
    else
      _mm_storeu_si128(reinterpret_cast<__m128i *>(out + i),
                       _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT |
                                              _MM_FROUND_NO_EXC));
  }
  for (; i < n; ++i)
    out[i] = doubleToHalf(in[i]);
}

bool hasF16C() {
  static const bool has = __builtin_cpu_supports("f16c") &&
                          __builtin_cpu_supports("avx");
  return has;
}

void load(const void *src, DType t, int64_t n, float *out) {
  if (t == DType::F32) {
    std::memcpy(out, src, n * sizeof(float));
    return;
  }
  const auto *bits = static_cast<const uint16_t *>(src);
  if (t == DType::F16) {
    if (hasF16C())
      return loadF16C(bits, n, out);
    for (int64_t i = 0; i < n; ++i)
      out[i] = halfToFloat(bits[i]);
    return;
  }
  for (int64_t i = 0; i < n; ++i)
    out[i] = std::bit_cast<float>(static_cast<uint32_t>(bits[i]) << 16);
}

void store(const float *in, DType t, int64_t n, void *dst) {
  if (t == DType::F32) {
    std::memcpy(dst, in, n * sizeof(float));
    return;
  }
  auto *bits = static_cast<uint16_t *>(dst);
  if (t == DType::F16) {
    if (hasF16C())
      return storeF16C(in, n, bits);
    for (int64_t i = 0; i < n; ++i)
      bits[i] = doubleToHalf(in[i]);
    return;
  }
  for (int64_t i = 0; i < n; ++i) { // round to nearest even on the bits
    uint32_t u = std::bit_cast<uint32_t>(in[i]);
    bits[i] = in[i] != in[i]
                  ? doubleToBf16(in[i])
                  : static_cast<uint16_t>((u + 0x7fff + ((u >> 16) & 1)) >> 16);
  }
}

/// a op b; max/min propagate NaN.
inline float apply(ReduceOp op, float a, float b) {
  switch (op) {
  case ReduceOp::Sum:
    return a + b;
  case ReduceOp::Prod:
    return a * b;
  case ReduceOp::Max:
    return std::isnan(a) || std::isnan(b) ? a + b : (a < b ? b : a);
  case ReduceOp::Min:
    return std::isnan(a) || std::isnan(b) ? a + b : (b < a ? b : a);
  }
  return a;
}

void combine(ReduceOp op, float *acc, const float *v, int64_t n) {
  if (op == ReduceOp::Sum) { // the hot case: keep it vectorizable
    for (int64_t i = 0; i < n; ++i)
      acc[i] = acc[i] + v[i];
    return;
  }
  for (int64_t i = 0; i < n; ++i)
    acc[i] = apply(op, acc[i], v[i]);
}

} // namespace

int64_t elementBytes(DType t) { return t == DType::F32 ? 4 : 2; }

namespace {

/// reduceInRankOrder over elements [from, to), staged through f32 blocks.
void reduceStaged(std::span<const void *const> srcs, void *dst, int64_t from,
                  int64_t to, const ReduceSpec &spec, DType outType,
                  bool roundEach, DType compat) {
  int64_t bytes = elementBytes(spec.dtype), outBytes = elementBytes(outType);
  float acc[kBlock], v[kBlock];
  uint16_t rounded[kBlock];
  for (int64_t i0 = from; i0 < to; i0 += kBlock) {
    int64_t n = std::min(kBlock, to - i0);
    auto at = [&](const void *p) {
      return static_cast<const char *>(p) + i0 * bytes;
    };
    load(at(srcs[0]), spec.dtype, n, acc);
    for (size_t r = 1; r < srcs.size(); ++r) {
      load(at(srcs[r]), spec.dtype, n, v);
      combine(spec.op, acc, v, n);
      if (roundEach) { // to the compat dtype and back: exact, vectorized
        store(acc, compat, n, rounded);
        load(rounded, compat, n, acc);
      }
    }
    store(acc, outType, n, static_cast<char *>(dst) + i0 * outBytes);
  }
}

} // namespace

void reduceInRankOrder(std::span<const void *const> srcs, void *dst,
                       int64_t count, const ReduceSpec &spec,
                       std::optional<DType> dstType) {
  DType outType = dstType.value_or(spec.dtype);
  DType compat = spec.compatType.value_or(spec.dtype);
  bool roundEach = spec.numerics == Numerics::NpuCompat && compat != DType::F32;
  if (spec.op != ReduceOp::Sum || !canSumFast())
    return reduceStaged(srcs, dst, 0, count, spec, outType, roundEach, compat);
  // One pass; groups that end as NaN (and the tail) take the staged path.
  for (int64_t i = 0; i < count;) {
    i = sumFast(srcs, spec.dtype, dst, i, count, outType,
                roundEach ? std::optional(compat) : std::nullopt);
    int64_t next = std::min(count, i + 8);
    reduceStaged(srcs, dst, i, next, spec, outType, roundEach, compat);
    i = next;
  }
}

int64_t specCode(const ReduceSpec &s) {
  int64_t compat = s.compatType ? static_cast<int64_t>(*s.compatType) + 1 : 0;
  return static_cast<int64_t>(s.dtype) | static_cast<int64_t>(s.op) << 8 |
         static_cast<int64_t>(s.numerics) << 16 | compat << 24;
}

ReduceSpec specOfCode(int64_t code) {
  ReduceSpec s{static_cast<DType>(code & 0xff),
               static_cast<ReduceOp>(code >> 8 & 0xff),
               static_cast<Numerics>(code >> 16 & 0xff)};
  if (int64_t compat = code >> 24 & 0xff)
    s.compatType = static_cast<DType>(compat - 1);
  return s;
}

std::string describe(int64_t seq, int64_t count, const ReduceSpec &spec) {
  return fmt::format("allreduce #{} ({} x {}, {}, {})", seq, count,
                     toString(spec.dtype), toString(spec.op),
                     spec.numerics == Numerics::Golden ? "golden"
                                                       : "npu-compat");
}

bool sameCollective(int64_t countA, const ReduceSpec &a, int64_t countB,
                    const ReduceSpec &b) {
  return countA == countB && a.dtype == b.dtype && a.op == b.op &&
         a.numerics == b.numerics && a.compatType == b.compatType;
}

} // namespace kiln::comm
