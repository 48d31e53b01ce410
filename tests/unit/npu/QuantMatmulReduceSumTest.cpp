//===- QuantMatmulReduceSumTest.cpp - npu.quant_matmul_reduce_sum ---------===//
//
// (a) hand-computed golden cases (seed 000's example and a small-integer
// one), (b) seeded random cases against an independent loop implementation
// of OPS.md §2.2 written here, (c) the eager API kiln::npu::
// quant_matmul_reduce_sum with good and bad calls, (d) npu-compat's bf16
// accumulation (§2.3). The op reads no index or group data, so it has no
// run-time data errors.
//
//===----------------------------------------------------------------------===//
#include "../ops/OpTestUtil.h"
#include "runtime/Npu.h"

#include <gtest/gtest.h>

#include <bit>
#include <cstdint>
#include <random>
#include <vector>

namespace kiln {
namespace {

using Options = npu::QuantMatmulReduceSumOptions;



/// float -> bf16 -> float, round to nearest even, written independently of
/// kiln's runtime/Float16.
float bf16Round(float f) {
  uint32_t u = std::bit_cast<uint32_t>(f);
  u += 0x7FFFu + ((u >> 16) & 1u);
  return std::bit_cast<float>(u & 0xFFFF0000u);
}

/// The op's four tensors.
struct Case {
  int64_t b, m, k, n;
  Tensor x1, x2, s1, s2;
  Tensor run(Numerics numerics = Numerics::Golden) const {
    return npu::quant_matmul_reduce_sum(
        x1, x2, {.x1_scale = &s1, .x2_scale = &s2, .numerics = numerics});
  }
};

Case makeCase(int64_t b, int64_t m, int64_t k, int64_t n,
              const std::vector<double> &x1, const std::vector<double> &x2,
              const std::vector<double> &s1, const std::vector<double> &s2) {
  return {b,
          m,
          k,
          n,
          testing::makeTensor(DType::I8, {b, m, k}, x1),
          testing::makeTensor(DType::I8, {b, k, n}, x2, Layout::NZ),
          testing::makeTensor(DType::F32, {b, m}, s1),
          testing::makeTensor(DType::BF16, {n}, s2)};
}

// (a) Seed 000's example: b,m,k,n = 2,3,4,5, everything ones. Each batch
// gives acc = 4, part = 4 * 1 * 1, and the two batches sum to 8.
TEST(QuantMatmulReduceSumTest, SeedExampleOnes) {
  Case c = makeCase(2, 3, 4, 5, std::vector<double>(24, 1),
                    std::vector<double>(40, 1), std::vector<double>(6, 1),
                    std::vector<double>(5, 1));
  Tensor y = c.run();
  EXPECT_EQ(y.dtype(), DType::BF16);
  EXPECT_EQ(y.shape(), (Shape{3, 5}));
  EXPECT_EQ(testing::values(y), std::vector<double>(15, 8.0));
}

// (a) Small integers, b,m,k,n = 2,2,2,2:
//   acc0 = [[1,2],[3,4]] @ I = [[1,2],[3,4]]
//   acc1 = [[-1,0],[2,1]] @ [[1,1],[1,-1]] = [[-1,-1],[3,1]]
//   x2_scale = [0.5, 2], x1_scale = [[1, 2], [3, 0.25]]
//   part0 = [[1*.5*1, 2*2*1], [3*.5*2, 4*2*2]] = [[0.5, 4], [3, 16]]
//   part1 = [[-1*.5*3, -1*2*3], [3*.5*.25, 1*2*.25]] = [[-1.5, -6], [.375, .5]]
//   out   = [[-1, -2], [3.375, 16.5]]
TEST(QuantMatmulReduceSumTest, SmallIntegersByHand) {
  Case c = makeCase(2, 2, 2, 2, {1, 2, 3, 4, -1, 0, 2, 1},
                    {1, 0, 0, 1, 1, 1, 1, -1}, {1, 2, 3, 0.25}, {0.5, 2});
  EXPECT_EQ(testing::values(c.run()), (std::vector<double>{-1, -2, 3.375, 16.5}));
}

/// OPS.md §2.2 with plain loops: exact int32 acc, fp32 parts
/// (acc * x2_scale) * x1_scale summed in batch order, one bf16 rounding.
std::vector<float> reference(const Case &c, const std::vector<int> &x1,
                             const std::vector<int> &x2,
                             const std::vector<float> &s1,
                             const std::vector<float> &s2) {
  std::vector<float> out(c.m * c.n);
  for (int64_t i = 0; i < c.m; ++i)
    for (int64_t j = 0; j < c.n; ++j) {
      float sum = 0.0f;
      for (int64_t b = 0; b < c.b; ++b) {
        int32_t acc = 0;
        for (int64_t kk = 0; kk < c.k; ++kk)
          acc += x1[(b * c.m + i) * c.k + kk] * x2[(b * c.k + kk) * c.n + j];
        float part = static_cast<float>(acc) * s2[j];
        part = part * s1[b * c.m + i];
        sum += part;
      }
      out[i * c.n + j] = bf16Round(sum);
    }
  return out;
}

// (b) Random cases with odd sizes (1, 3, 17), checked bit-exactly.
TEST(QuantMatmulReduceSumTest, RandomAgainstLoops) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> i8(-128, 127);
  std::uniform_real_distribution<float> scale(-2.0f, 2.0f);
  const int64_t shapes[][4] = {{1, 1, 1, 1},
                               {3, 1, 17, 3},
                               {2, 17, 3, 1},
                               {3, 3, 17, 17},
                               {1, 17, 33, 35}};
  for (const auto &s : shapes) {
    int64_t b = s[0], m = s[1], k = s[2], n = s[3];
    std::vector<int> x1(b * m * k), x2(b * k * n);
    std::vector<float> s1(b * m), s2(n);
    for (int &v : x1)
      v = i8(rng);
    for (int &v : x2)
      v = i8(rng);
    for (float &v : s1)
      v = scale(rng);
    for (float &v : s2)
      v = bf16Round(scale(rng));
    Case c = makeCase(b, m, k, n, std::vector<double>(x1.begin(), x1.end()),
                      std::vector<double>(x2.begin(), x2.end()),
                      std::vector<double>(s1.begin(), s1.end()),
                      std::vector<double>(s2.begin(), s2.end()));
    std::vector<float> want = reference(c, x1, x2, s1, s2);
    std::vector<double> got = testing::values(c.run());
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < want.size(); ++i)
      EXPECT_EQ(got[i], want[i]) << "b,m,k,n = " << b << "," << m << "," << k
                                 << "," << n << " element " << i;
  }
}

// (c) The eager API reports a bad call at the caller's line.
TEST(QuantMatmulReduceSumTest, ApiErrors) {
  Case c = makeCase(2, 3, 4, 5, std::vector<double>(24, 1),
                    std::vector<double>(40, 1), std::vector<double>(6, 1),
                    std::vector<double>(5, 1));
  Tensor ndWeight = c.x2.toLayout(Layout::ND);
  try {
    npu::quant_matmul_reduce_sum(c.x1, ndWeight,
                                 {.x1_scale = &c.s1, .x2_scale = &c.s2});
    FAIL() << "an ND x2 was accepted";
  } catch (const Error &e) {
    std::string what = e.what();
    EXPECT_NE(what.find("QuantMatmulReduceSumTest.cpp:"), std::string::npos)
        << what;
    EXPECT_NE(what.find("x2 must be FRACTAL_NZ"), std::string::npos) << what;
  }
  EXPECT_THROW(npu::quant_matmul_reduce_sum(c.x1, c.x2, {.x2_scale = &c.s2}),
               Error);
  try {
    npu::quant_matmul_reduce_sum(
        c.x1, c.x2, {.dims = {1}, .x1_scale = &c.s1, .x2_scale = &c.s2});
    FAIL() << "dims = [1] was accepted";
  } catch (const Error &e) {
    EXPECT_NE(std::string(e.what()).find("dims must be [0]"), std::string::npos)
        << e.what();
  }
}

// (d) npu-compat rounds each part to bf16 and accumulates in bf16 in batch
// order. Parts 256, 1, 1: golden sums 258 in fp32 (a bf16 value); compat
// rounds 256 + 1 = 257 to 256 (ties to even, the bf16 step is 2 there), and
// again for the third part.
TEST(QuantMatmulReduceSumTest, NpuCompatAccumulatesInBf16) {
  Case c = makeCase(3, 1, 1, 1, {1, 1, 1}, {1, 1, 1}, {256, 1, 1}, {1});
  EXPECT_EQ(testing::values(c.run()), std::vector<double>{258});
  EXPECT_EQ(testing::values(c.run(Numerics::NpuCompat)), std::vector<double>{256});
  // And each part is rounded first: 257 alone becomes 256.
  Case d = makeCase(1, 1, 1, 1, {1}, {1}, {257}, {1});
  EXPECT_EQ(testing::values(d.run()), std::vector<double>{256});
  EXPECT_EQ(testing::values(d.run(Numerics::NpuCompat)), std::vector<double>{256});
  Case e = makeCase(2, 1, 1, 1, {1, 1}, {1, 1}, {257, 1}, {1});
  EXPECT_EQ(testing::values(e.run()), std::vector<double>{258});
  EXPECT_EQ(testing::values(e.run(Numerics::NpuCompat)), std::vector<double>{256});
}

} // namespace
} // namespace kiln
