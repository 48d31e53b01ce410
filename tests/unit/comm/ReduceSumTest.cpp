//===- ReduceSumTest.cpp - the one-pass sum, bit for bit ------------------===//
//
// reduceInRankOrder takes a one-pass AVX2 loop for sums
// (runtime/comm/ReduceSum.cpp); groups whose result is NaN and the tail
// take the staged path. Checked here against a scalar loop written from
// Reduce.h's definition, over odd and round lengths, 1-4 ranks, f32, f16
// and bf16 sources, every out dtype and both numerics, with NaN,
// infinities, overflow and subnormals mixed in.
//
//===----------------------------------------------------------------------===//
#include "runtime/Float16.h"
#include "runtime/comm/Reduce.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>

namespace kiln::comm {
namespace {

/// Rank r's partials: mostly ordinary values, some awkward ones.
std::vector<float> partials(int r, int64_t n, bool awkward) {
  std::mt19937 rng(static_cast<unsigned>(7919 * r + n));
  std::uniform_real_distribution<float> ordinary(-3, 3);
  std::vector<float> v(n);
  const float special[] = {std::numeric_limits<float>::quiet_NaN(),
                           std::numeric_limits<float>::infinity(),
                           -std::numeric_limits<float>::infinity(),
                           70000.0f, // overflows f16
                           3e-8f,    // an f16 subnormal
                           -0.0f};
  for (int64_t i = 0; i < n; ++i)
    v[i] = awkward && rng() % 23 == 0 ? special[rng() % 6] : ordinary(rng);
  return v;
}

/// Element i as Reduce.h defines it, stored as `out`'s bits.
uint32_t expected(const std::vector<std::vector<float>> &p, int64_t i,
                  DType out, std::optional<DType> roundEach) {
  float acc = p[0][i];
  for (size_t r = 1; r < p.size(); ++r) {
    acc = acc + p[r][i];
    if (roundEach == DType::F16) // through the 16-bit value: NaN bits too
      acc = halfToFloat(doubleToHalf(acc));
    else if (roundEach == DType::BF16)
      acc = bf16ToFloat(doubleToBf16(acc));
  }
  if (out == DType::F16)
    return doubleToHalf(acc);
  if (out == DType::BF16)
    return doubleToBf16(acc);
  uint32_t bits;
  std::memcpy(&bits, &acc, 4);
  return bits;
}

uint32_t bitsAt(const std::vector<uint8_t> &dst, int64_t i, DType out) {
  if (out == DType::F32) {
    uint32_t b;
    std::memcpy(&b, &dst[i * 4], 4);
    return b;
  }
  uint16_t b;
  std::memcpy(&b, &dst[i * 2], 2);
  return b;
}

struct Case {
  Numerics numerics;
  std::optional<DType> compat;
  DType out;
};

/// `v` as `t` (f32, f16, bf16) stores it, and widened back: what the sum
/// sees.
std::pair<std::vector<uint8_t>, std::vector<float>>
asType(const std::vector<float> &v, DType t) {
  std::vector<uint8_t> bits(v.size() * elementBytes(t));
  std::vector<float> widened(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    if (t == DType::F32) {
      std::memcpy(&bits[i * 4], &v[i], 4);
      widened[i] = v[i];
      continue;
    }
    uint16_t h = t == DType::F16 ? doubleToHalf(v[i]) : doubleToBf16(v[i]);
    std::memcpy(&bits[i * 2], &h, 2);
    widened[i] = t == DType::F16 ? halfToFloat(h) : bf16ToFloat(h);
  }
  return {bits, widened};
}

TEST(ReduceSumTest, MatchesTheDefinitionBitForBit) {
  const Case cases[] = {{Numerics::Golden, std::nullopt, DType::F32},
                        {Numerics::Golden, DType::F16, DType::F16},
                        {Numerics::Golden, DType::BF16, DType::BF16},
                        {Numerics::NpuCompat, DType::F16, DType::F16},
                        {Numerics::NpuCompat, DType::BF16, DType::BF16},
                        {Numerics::NpuCompat, DType::F32, DType::F32},
                        {Numerics::NpuCompat, DType::F16, DType::F32}};
  for (DType src : {DType::F32, DType::F16, DType::BF16})
    for (int ranks : {1, 2, 3, 4})
      for (int64_t n : {1, 3, 7, 8, 9, 17, 33, 100, 1000, 4099})
        for (bool awkward : {false, true})
          for (const Case &c : cases) {
            std::vector<std::vector<float>> p;
            std::vector<std::vector<uint8_t>> stored;
            std::vector<const void *> srcs;
            for (int r = 0; r < ranks; ++r) {
              auto [bits, widened] = asType(partials(r, n, awkward), src);
              stored.push_back(std::move(bits));
              p.push_back(std::move(widened));
            }
            for (auto &v : stored)
              srcs.push_back(v.data());
            std::vector<uint8_t> dst(n * elementBytes(c.out), 0xab);
            reduceInRankOrder(srcs, dst.data(), n,
                              {src, ReduceOp::Sum, c.numerics, c.compat},
                              c.out);
            bool roundEach = c.numerics == Numerics::NpuCompat && c.compat &&
                             *c.compat != DType::F32;
            for (int64_t i = 0; i < n; ++i)
              ASSERT_EQ(
                  bitsAt(dst, i, c.out),
                  expected(p, i, c.out, roundEach ? c.compat : std::nullopt))
                  << toString(src) << " sources, " << ranks
                  << " rank(s), n=" << n << ", element " << i << ", out "
                  << toString(c.out) << ", "
                  << (c.numerics == Numerics::Golden ? "golden" : "npu-compat");
          }
}

TEST(ReduceSumTest, InPlaceIntoTheFirstSource) {
  for (int64_t n : {5, 64, 1027}) {
    std::vector<float> a = partials(0, n, true), b = partials(1, n, true);
    std::vector<std::vector<float>> p{a, b};
    std::vector<const void *> srcs{a.data(), b.data()};
    reduceInRankOrder(srcs, a.data(), n, {DType::F32, ReduceOp::Sum});
    for (int64_t i = 0; i < n; ++i) {
      uint32_t got;
      std::memcpy(&got, &a[i], 4);
      ASSERT_EQ(got, expected(p, i, DType::F32, std::nullopt)) << i;
    }
  }
}

} // namespace
} // namespace kiln::comm
