//===- WeightQuantBatchmatmulTest.cpp - npu.weight_quant_batchmatmul ------===//
//
// (a) hand-computed golden cases (seed 001's examples with K = 320, N = 256
// and M shrunk to 2, ones and small integers), (b) seeded random cases
// against an independent loop implementation of OPS.md §3.2 written here,
// (c) the eager API kiln::npu::weight_quant_batchmatmul with good and bad
// calls, (d) npu-compat's intermediate roundings (§3.3, §3.4). The op reads
// no index or group data, so it has no run-time data errors.
//
//===----------------------------------------------------------------------===//
#include "../ops/OpTestUtil.h"
#include "runtime/Npu.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <optional>
#include <random>
#include <vector>

namespace kiln {
namespace {

using Options = npu::WeightQuantBatchmatmulOptions;

Tensor filled(DType t, Shape shape, double v, Layout layout = Layout::ND) {
  return testing::makeTensor(t, shape, std::vector<double>(numElements(shape), v), layout);
}

/// Rounds to f16 / bf16 (nearest even), independently of runtime/Float16.
float roundTo(float f, DType t) {
  if (t == DType::F16)
    return static_cast<float>(static_cast<_Float16>(f));
  if (t == DType::F32)
    return f;
  uint32_t u = std::bit_cast<uint32_t>(f);
  u += 0x7FFFu + ((u >> 16) & 1u);
  return std::bit_cast<float>(u & 0xFFFF0000u);
}

// (a) Seed 001, first example (x [M,320] f16, weight [320,256] int8 ND,
// antiquant scale/offset [1,256], quant_scale -> int8), with ones:
// W = (1 + 1) * 1 = 2, Y = 320 * 2 = 640. An f32 quant_scale 0.1 gives
// 640 * 0.1f = 64 (fp32), + quant_offset 1 = 65. The seed packs the scale
// with npu_trans_quant_param: FP19(0.1) = 0.0999755859375, Y * it = 63.98
// -> 64, plus the packed 9-bit offset 3 = 67.
TEST(WeightQuantBatchmatmulTest, SeedPerChannelQuant) {
  Tensor x = filled(DType::F16, {2, 320}, 1);
  Tensor w = filled(DType::I8, {320, 256}, 1);
  Tensor s = filled(DType::F16, {1, 256}, 1);
  Tensor o = filled(DType::F16, {1, 256}, 1);
  Tensor y = npu::weight_quant_batchmatmul(x, w, s, {.antiquant_offset = &o});
  EXPECT_EQ(y.dtype(), DType::F16);
  EXPECT_EQ(testing::values(y), std::vector<double>(512, 640));

  Tensor qs = filled(DType::F32, {1, 256}, 0.1f);
  Tensor qo = filled(DType::F32, {1, 256}, 1);
  Tensor q = npu::weight_quant_batchmatmul(
      x, w, s,
      {.antiquant_offset = &o, .quant_scale = &qs, .quant_offset = &qo});
  EXPECT_EQ(q.dtype(), DType::I8);
  EXPECT_EQ(testing::values(q), std::vector<double>(512, 65));

  uint64_t packed = (std::bit_cast<uint32_t>(0.1f) & 0xFFFFE000u) |
                    (uint64_t(1) << 46) | (uint64_t(3) << 37);
  Tensor qp(DType::I64, {1, 256});
  for (int64_t i = 0; i < 256; ++i)
    qp.setInt(i, static_cast<int64_t>(packed));
  Tensor q2 = npu::weight_quant_batchmatmul(
      x, w, s, {.antiquant_offset = &o, .quant_scale = &qp});
  EXPECT_EQ(testing::values(q2), std::vector<double>(512, 67));
}

// (a) Seed 001, third example: the weight is a transposed view of a
// [256,320] tensor (transpose_weight), scale/offset [1,256]. With
// weight = 2, offset = -1, scale = 0.5: W = (2 - 1) * 0.5, Y = 320 * 0.5.
TEST(WeightQuantBatchmatmulTest, SeedTransposedWeight) {
  Tensor x = filled(DType::F16, {2, 320}, 1);
  Tensor w = filled(DType::I8, {256, 320}, 2);
  Tensor s = filled(DType::F16, {1, 256}, 0.5);
  Tensor o = filled(DType::F16, {1, 256}, -1);
  Tensor y = npu::weight_quant_batchmatmul(
      x, w, s, {.antiquant_offset = &o, .transpose_weight = true});
  EXPECT_EQ(y.shape(), (Shape{2, 256}));
  EXPECT_EQ(testing::values(y), std::vector<double>(512, 160));
}

// (a) Per-group (G = 64 over K = 320: 5 groups) with an int4 NZ weight of
// ones, group g scaled by g + 1, and bias[n] = n:
// Y[m,n] = 64 * (1 + 2 + 3 + 4 + 5) + n = 960 + n (exact in f16).
TEST(WeightQuantBatchmatmulTest, PerGroupInt4Bias) {
  Tensor x = filled(DType::F16, {2, 320}, 1);
  Tensor w = filled(DType::I4, {320, 256}, 1, Layout::NZ);
  std::vector<double> sv, bv, want;
  for (int g = 0; g < 5; ++g)
    for (int n = 0; n < 256; ++n)
      sv.push_back(g + 1);
  for (int n = 0; n < 256; ++n)
    bv.push_back(n);
  for (int m = 0; m < 2; ++m)
    for (int n = 0; n < 256; ++n)
      want.push_back(960 + n);
  Tensor s = testing::makeTensor(DType::F16, {5, 256}, sv);
  Tensor b = testing::makeTensor(DType::F16, {256}, bv);
  Tensor y = npu::weight_quant_batchmatmul(
      x, w, s, {.bias = &b, .antiquant_group_size = 64});
  EXPECT_EQ(testing::values(y), want);
}

/// npu_trans_quant_param(scale) without an offset (OPS.md §1.3).
int64_t packScale(float scale) {
  return static_cast<int64_t>((std::bit_cast<uint32_t>(scale) & 0xFFFFE000u) |
                              (uint64_t(1) << 46));
}

// (a) Seed 001, second example: f16 x, a transposed int8 weight [256,320],
// an i64 antiquant_scale packed by npu_trans_quant_param and an i32 offset.
// weight = 2, offset = -1, scale 0.5 (exact in FP19): Y = 320 * 0.5 = 160.
// With scale 0.1 the FP19 value 0.0999755859375 is used: K = 3 gives
// Y = 0.2999267578125 -> f16 0.2998046875 (a plain 0.1 would give 0.30005).
TEST(WeightQuantBatchmatmulTest, SeedPackedAntiquantScale) {
  Tensor x = filled(DType::F16, {2, 320}, 1);
  Tensor w = filled(DType::I8, {256, 320}, 2);
  Tensor s = filled(DType::I64, {1, 256}, 0);
  for (int64_t i = 0; i < 256; ++i)
    s.setInt(i, packScale(0.5f));
  Tensor o = filled(DType::I32, {1, 256}, -1);
  Options opt{.antiquant_offset = &o, .transpose_weight = true};
  EXPECT_EQ(testing::values(npu::weight_quant_batchmatmul(x, w, s, opt)),
            std::vector<double>(512, 160));
  opt.numerics = Numerics::NpuCompat; // f16(w + off), Y * f16(scale)
  EXPECT_EQ(testing::values(npu::weight_quant_batchmatmul(x, w, s, opt)),
            std::vector<double>(512, 160));

  Tensor x3 = filled(DType::F16, {1, 3}, 1);
  Tensor w3 = filled(DType::I8, {1, 3}, 1);
  Tensor s3(DType::I64, {1});
  s3.setInt(0, packScale(0.1f));
  EXPECT_EQ(testing::values(npu::weight_quant_batchmatmul(x3, w3, s3,
                                                   {.transpose_weight = true})),
            std::vector<double>{0.2998046875});
}

/// One random configuration.
struct Config {
  int64_t m, k, n, g;
  DType xt, wt;
  bool transpose, nz, offset, bias, quant;
  enum { PerTensor, PerChannel, PerChannel1N, PerGroup } mode;
  std::optional<DType> wround = std::nullopt;
};

/// OPS.md §3.2 with plain loops over the logical [K,N] weight.
std::vector<float> reference(const Config &c, const std::vector<float> &x,
                             const std::vector<int> &w, int64_t rows,
                             int64_t cols, const std::vector<float> &s,
                             const std::vector<float> &o,
                             const std::vector<float> &b,
                             const std::vector<float> &qs,
                             const std::vector<float> &qo) {
  std::vector<float> wd(c.k * c.n);
  for (int64_t k = 0; k < c.k; ++k)
    for (int64_t n = 0; n < c.n; ++n) {
      int64_t g = c.g ? k / c.g : 0;
      int64_t si = (rows == 1 ? 0 : g) * cols + (cols == 1 ? 0 : n);
      float v = static_cast<float>(w[k * c.n + n]);
      if (c.offset)
        v = v + o[si];
      v = v * s[si];
      wd[k * c.n + n] = c.wround ? roundTo(v, *c.wround) : v;
    }
  std::vector<float> out(c.m * c.n);
  for (int64_t i = 0; i < c.m; ++i)
    for (int64_t j = 0; j < c.n; ++j) {
      float y = 0.0f;
      for (int64_t k = 0; k < c.k; ++k)
        y += x[i * c.k + k] * wd[k * c.n + j];
      if (c.bias)
        y = y + b[j];
      if (!c.quant) {
        out[i * c.n + j] = roundTo(y, c.xt);
        continue;
      }
      float t = y * qs[j];
      t = t + qo[j];
      out[i * c.n + j] = std::clamp(std::nearbyint(t), -128.0f, 127.0f);
    }
  return out;
}

// (b) Random configurations over the quantisation modes, dtypes, layouts
// and optional operands, odd sizes; compared bit-exactly.
TEST(WeightQuantBatchmatmulTest, RandomAgainstLoops) {
  using enum DType;
  const Config configs[] = {
      {1, 1, 1, 0, F16, I8, false, false, true, true, false, Config::PerTensor},
      {3, 17, 3, 0, BF16, I8, false, false, true, true, true,
       Config::PerChannel},
      {17, 3, 17, 0, F16, I4, true, false, false, false, false,
       Config::PerChannel1N},
      {17, 96, 17, 32, BF16, I8, false, false, true, true, true,
       Config::PerGroup},
      {3, 100, 17, 64, F16, I4, true, true, true, false, false,
       Config::PerGroup},
      {17, 33, 1, 0, BF16, I8, true, false, false, true, true,
       Config::PerChannel},
      {3, 64, 17, 0, F16, I8, false, true, true, true, false,
       Config::PerChannel1N, F16},
      {1, 17, 35, 0, BF16, I4, false, true, false, false, false,
       Config::PerTensor, BF16},
  };
  std::mt19937 rng(11);
  auto uniform = [&](float lo, float hi) {
    return std::uniform_real_distribution<float>(lo, hi)(rng);
  };
  for (const Config &c : configs) {
    int lim = c.wt == DType::I4 ? 8 : 128;
    std::uniform_int_distribution<int> wdist(-lim, lim - 1);
    std::vector<float> x(c.m * c.k), s, o, b(c.n), qs(c.n), qo(c.n);
    std::vector<int> w(c.k * c.n);
    for (float &v : x)
      v = roundTo(uniform(-1, 1), c.xt);
    for (int &v : w)
      v = wdist(rng);
    int64_t rows = c.mode == Config::PerGroup ? (c.k + c.g - 1) / c.g : 1;
    int64_t cols = c.mode == Config::PerTensor ? 1 : c.n;
    Shape sshape = c.mode == Config::PerTensor    ? Shape{1}
                   : c.mode == Config::PerChannel ? Shape{c.n}
                                                  : Shape{rows, cols};
    for (int64_t i = 0; i < rows * cols; ++i) {
      s.push_back(roundTo(uniform(-0.1f, 0.1f), c.xt));
      o.push_back(roundTo(uniform(-4, 4), c.xt));
    }
    DType bt = c.xt == DType::F16 ? DType::F16 : DType::F32;
    for (int64_t j = 0; j < c.n; ++j) {
      b[j] = roundTo(uniform(-1, 1), bt);
      qs[j] = uniform(0.001f, 0.1f);
      qo[j] = uniform(-5, 5);
    }
    std::vector<double> wStored(c.k * c.n);
    for (int64_t k = 0; k < c.k; ++k)
      for (int64_t n = 0; n < c.n; ++n)
        wStored[c.transpose ? n * c.k + k : k * c.n + n] = w[k * c.n + n];
    auto d = [](const std::vector<float> &v) {
      return std::vector<double>(v.begin(), v.end());
    };
    Tensor tx = testing::makeTensor(c.xt, {c.m, c.k}, d(x));
    Tensor tw = testing::makeTensor(c.wt, c.transpose ? Shape{c.n, c.k} : Shape{c.k, c.n},
                      wStored, c.nz ? Layout::NZ : Layout::ND);
    Tensor ts = testing::makeTensor(c.xt, sshape, d(s)), to = testing::makeTensor(c.xt, sshape, d(o));
    Tensor tb = testing::makeTensor(bt, {c.n}, d(b));
    Tensor tqs = testing::makeTensor(DType::F32, {1, c.n}, d(qs));
    Tensor tqo = testing::makeTensor(DType::F32, {1, c.n}, d(qo));
    Options opt{.antiquant_offset = c.offset ? &to : nullptr,
                .quant_scale = c.quant ? &tqs : nullptr,
                .quant_offset = c.quant ? &tqo : nullptr,
                .bias = c.bias ? &tb : nullptr,
                .antiquant_group_size = c.g,
                .transpose_weight = c.transpose,
                .antiquant_out_dtype = c.wround};
    std::vector<double> got =
        testing::values(npu::weight_quant_batchmatmul(tx, tw, ts, opt));
    std::vector<float> want = reference(c, x, w, rows, cols, s, o, b, qs, qo);
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < want.size(); ++i)
      EXPECT_EQ(got[i], want[i]) << "m,k,n,g = " << c.m << "," << c.k << ","
                                 << c.n << "," << c.g << " element " << i;
  }
}

// (c) Bad calls throw kiln::Error located at the caller's line.
TEST(WeightQuantBatchmatmulTest, ApiErrors) {
  Tensor x = filled(DType::BF16, {2, 96}, 1);
  Tensor w = filled(DType::I8, {96, 8}, 1);
  Tensor sf16 = filled(DType::F16, {8}, 1);
  try {
    npu::weight_quant_batchmatmul(x, w, sf16);
    FAIL() << "an f16 scale with bf16 x was accepted";
  } catch (const Error &e) {
    std::string what = e.what();
    EXPECT_NE(what.find("WeightQuantBatchmatmulTest.cpp:"), std::string::npos)
        << what;
    EXPECT_NE(what.find("antiquant_scale must have x's dtype bf16, got f16"),
              std::string::npos)
        << what;
  }
  Tensor s = filled(DType::BF16, {2, 8}, 1);
  try {
    npu::weight_quant_batchmatmul(x, w, s, {.antiquant_group_size = 48});
    FAIL() << "group size 48 was accepted";
  } catch (const Error &e) {
    EXPECT_NE(std::string(e.what()).find("multiple of 32 in [32, K-1]"),
              std::string::npos)
        << e.what();
  }
  Tensor packed = filled(DType::I64, {8}, 1);
  EXPECT_THROW(npu::weight_quant_batchmatmul(x, w, packed), Error);
  Tensor b16 = filled(DType::BF16, {8}, 1);
  EXPECT_THROW(npu::weight_quant_batchmatmul(x, w, filled(DType::BF16, {8}, 1),
                                             {.bias = &b16}),
               Error);
}

// (d) npu-compat rounds W to x's dtype: T(w * scale). With x = [1, -1],
// w = [101, 100], scale = f16(0.3) = 0.300048828125, golden keeps W in fp32
// and the difference is 0.300048828125 exactly; compat rounds W to
// 30.3125 and 30.0 (f16 step 1/64), giving 0.3125. Golden with
// antiquant_out_dtype = f16 rounds W the same way.
TEST(WeightQuantBatchmatmulTest, NpuCompatRoundsTheWeight) {
  Tensor x = testing::makeTensor(DType::F16, {1, 2}, {1, -1});
  Tensor w = testing::makeTensor(DType::I8, {2, 1}, {101, 100});
  Tensor s = testing::makeTensor(DType::F16, {1}, {0.3});
  EXPECT_EQ(testing::values(npu::weight_quant_batchmatmul(x, w, s)),
            std::vector<double>{0.300048828125});
  EXPECT_EQ(testing::values(npu::weight_quant_batchmatmul(
                x, w, s, {.numerics = Numerics::NpuCompat})),
            std::vector<double>{0.3125});
  EXPECT_EQ(testing::values(npu::weight_quant_batchmatmul(
                x, w, s, {.antiquant_out_dtype = DType::F16})),
            std::vector<double>{0.3125});
}

// (d) npu-compat's quant: the FP19-truncated scale and the s9 clip (§3.4).
TEST(WeightQuantBatchmatmulTest, NpuCompatQuant) {
  Tensor x = testing::makeTensor(DType::F16, {1, 1}, {1});
  Tensor w = testing::makeTensor(DType::I8, {1, 1}, {1});
  // Y = 100.5; quant_scale 1 + 2^-12: golden 100.5245 -> 101; FP19 drops
  // the 2^-12, so compat rounds 100.5 -> 100 (ties to even).
  Tensor s = testing::makeTensor(DType::F16, {1}, {100.5});
  Tensor qs = testing::makeTensor(DType::F32, {1}, {1.0 + std::ldexp(1.0, -12)});
  Options o{.quant_scale = &qs};
  EXPECT_EQ(testing::values(npu::weight_quant_batchmatmul(x, w, s, o)),
            std::vector<double>{101});
  o.numerics = Numerics::NpuCompat;
  EXPECT_EQ(testing::values(npu::weight_quant_batchmatmul(x, w, s, o)),
            std::vector<double>{100});
  // s9: Y = 300, quant_scale 1, quant_offset -200: golden 100; compat
  // clips 300 to 255 first: 55.
  Tensor s3 = testing::makeTensor(DType::F16, {1}, {300});
  Tensor one = testing::makeTensor(DType::F32, {1}, {1});
  Tensor off = testing::makeTensor(DType::F32, {1}, {-200});
  Options q{.quant_scale = &one, .quant_offset = &off};
  EXPECT_EQ(testing::values(npu::weight_quant_batchmatmul(x, w, s3, q)),
            std::vector<double>{100});
  q.numerics = Numerics::NpuCompat;
  EXPECT_EQ(testing::values(npu::weight_quant_batchmatmul(x, w, s3, q)),
            std::vector<double>{55});
}

} // namespace
} // namespace kiln
