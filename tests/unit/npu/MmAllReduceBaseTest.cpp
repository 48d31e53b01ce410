//===- MmAllReduceBaseTest.cpp - npu.mm_all_reduce_base kernel and API ----===//
//
// (a) hand-computed golden cases (the seed's examples shrunk to ones and
// small integers), (b) seeded random cases against an independent loop
// implementation of OPS.md §5.1, (c) the eager API kiln::npu::
// mm_all_reduce_base, (d) npu-compat's intermediate roundings (§5.2).
// The op reads no index or group data, so it has no run-time data errors.
//
//===----------------------------------------------------------------------===//
#include "runtime/Npu.h"

#include <gtest/gtest.h>

#include <bit>
#include <cstdint>
#include <random>
#include <vector>

namespace kiln {
namespace {

using Options = npu::MmAllReduceBaseOptions;

Tensor tensor(DType t, Shape shape, const std::vector<double> &v,
              Layout layout = Layout::ND) {
  Tensor out(t, std::move(shape));
  EXPECT_EQ(static_cast<int64_t>(v.size()), out.numel());
  for (size_t i = 0; i < v.size(); ++i)
    out.setDouble(static_cast<int64_t>(i), v[i]);
  return layout == Layout::ND ? out : out.toLayout(layout);
}

std::vector<double> values(const Tensor &t) {
  std::vector<double> out;
  for (int64_t i = 0; i < t.numel(); ++i)
    out.push_back(t.getDouble(i));
  return out;
}

/// torch_npu.npu_trans_quant_param of one fp32 scale (OPS.md §1.3), with a
/// 9-bit offset the f16-output dequant must ignore.
int64_t packScale(float s, int64_t offset = 0) {
  uint64_t bits = (std::bit_cast<uint32_t>(s) & 0xFFFFE000u) | (1ull << 46);
  bits |= (static_cast<uint64_t>(offset) & 0x1FF) << 37;
  return static_cast<int64_t>(bits);
}

Tensor run(const Tensor &x1, const Tensor &x2, const Options &o,
           Numerics numerics = Numerics::Golden) {
  if (numerics == Numerics::Golden)
    return npu::mm_all_reduce_base(x1, x2, "hccl_world", o);
  return runSingleOp(OpKind::MmAllReduceBase,
                     {&x1, &x2, o.bias, o.antiquant_scale, o.antiquant_offset,
                      o.x3, o.dequant_scale, o.pertoken_scale, nullptr,
                      nullptr},
                     ops::MmAllReduceBase::Attrs{.antiquant_group_size =
                                                     o.antiquant_group_size},
                     std::source_location::current(), {numerics})[0];
}

// --- (a) golden cases by hand ------------------------------------------------

TEST(MmAllReduceBaseTest, NonQuantOnesBiasX3) {
  // x1 ones [2,3] @ x2 ones [3,4] = 3 everywhere; + bias[j] + 0.5.
  Tensor x1 = tensor(DType::F16, {2, 3}, std::vector<double>(6, 1));
  Tensor x2 = tensor(DType::F16, {3, 4}, std::vector<double>(12, 1));
  Tensor bias = tensor(DType::F16, {4}, {1, 2, 3, 4});
  Tensor x3 = tensor(DType::F16, {2, 4}, std::vector<double>(8, 0.5));
  Tensor out = run(x1, x2, {.bias = &bias, .x3 = &x3});
  EXPECT_EQ(out.type(), (TensorType{DType::F16, {2, 4}}));
  EXPECT_EQ(values(out),
            (std::vector<double>{4.5, 5.5, 6.5, 7.5, 4.5, 5.5, 6.5, 7.5}));
}

TEST(MmAllReduceBaseTest, ThreeDOnes) {
  // b, s, k, n = 2, 3, 4, 5 with ones (bf16, x2 in NZ): every element is 4.
  Tensor x1 = tensor(DType::BF16, {2, 3, 4}, std::vector<double>(24, 1));
  Tensor x2 =
      tensor(DType::BF16, {4, 5}, std::vector<double>(20, 1), Layout::NZ);
  Tensor out = run(x1, x2, {});
  EXPECT_EQ(out.type(), (TensorType{DType::BF16, {2, 3, 5}}));
  EXPECT_EQ(values(out), std::vector<double>(30, 4));
}

TEST(MmAllReduceBaseTest, WeightQuantPerChannelOffset) {
  // w = (x2 + off) * s: column 0 = (1,3,5)+1 times 0.5 = 1,2,3 -> 6;
  // column 1 = (2,4,6)-1 times 2 = 2,6,10 -> 18.
  Tensor x1 = tensor(DType::F16, {2, 3}, std::vector<double>(6, 1));
  Tensor x2 = tensor(DType::I8, {3, 2}, {1, 2, 3, 4, 5, 6});
  Tensor s = tensor(DType::F16, {1, 2}, {0.5, 2});
  Tensor off = tensor(DType::F16, {1, 2}, {1, -1});
  Tensor out = run(x1, x2, {.antiquant_scale = &s, .antiquant_offset = &off});
  EXPECT_EQ(values(out), (std::vector<double>{6, 18, 6, 18}));
}

TEST(MmAllReduceBaseTest, WeightQuantPerGroupNZ) {
  // k = 40, G = 32: rows 0-31 use scale row 0, rows 32-39 scale row 1.
  // Ones everywhere: column j = 32 * s[0][j] + 8 * s[1][j].
  Tensor x1 = tensor(DType::BF16, {1, 40}, std::vector<double>(40, 1));
  Tensor x2 =
      tensor(DType::I8, {40, 2}, std::vector<double>(80, 1), Layout::NZ);
  Tensor s = tensor(DType::BF16, {2, 2}, {1, 2, 3, 4});
  Tensor out = run(x1, x2, {.antiquant_scale = &s, .antiquant_group_size = 32});
  EXPECT_EQ(values(out), (std::vector<double>{32 + 24, 64 + 32}));
}

TEST(MmAllReduceBaseTest, FullQuantBiasBf16Scale) {
  // acc = [[4, 5], [0, 1]]; + bias [10, -10] = [[14, -5], [10, -9]];
  // * [0.5, 2] = [[7, -10], [5, -18]] in bf16.
  Tensor x1 = tensor(DType::I8, {2, 3}, {1, 2, 3, -1, 0, 1});
  Tensor x2 = tensor(DType::I8, {3, 2}, {1, 0, 0, 1, 1, 1});
  Tensor bias = tensor(DType::I32, {2}, {10, -10});
  Tensor ds = tensor(DType::BF16, {2}, {0.5, 2});
  Tensor out = run(x1, x2, {.bias = &bias, .dequant_scale = &ds});
  EXPECT_EQ(out.type(), (TensorType{DType::BF16, {2, 2}}));
  EXPECT_EQ(values(out), (std::vector<double>{7, -10, 5, -18}));
}

TEST(MmAllReduceBaseTest, FullQuantPertokenX3) {
  // Same accumulator with bias; * f32 [0.5, 2] * pertoken [1, -0.25] + 1.
  Tensor x1 = tensor(DType::I8, {2, 3}, {1, 2, 3, -1, 0, 1});
  Tensor x2 = tensor(DType::I8, {3, 2}, {1, 0, 0, 1, 1, 1});
  Tensor bias = tensor(DType::I32, {2}, {10, -10});
  Tensor ds = tensor(DType::F32, {2}, {0.5, 2});
  Tensor pt = tensor(DType::F32, {2}, {1, -0.25});
  Tensor x3 = tensor(DType::F16, {2, 2}, {1, 1, 1, 1});
  Tensor out = run(
      x1, x2,
      {.bias = &bias, .x3 = &x3, .dequant_scale = &ds, .pertoken_scale = &pt});
  EXPECT_EQ(out.type(), (TensorType{DType::F16, {2, 2}}));
  EXPECT_EQ(values(out), (std::vector<double>{8, -9, -0.25, 5.5}));
}

TEST(MmAllReduceBaseTest, FullQuantPackedScaleIsFP19) {
  // 1 + 2^-11 + 2^-12 truncates to 1.0 (FP19 keeps 10 mantissa bits); the
  // untruncated scale would round to 1 + 2^-10 in f16. The offset bits are
  // ignored for a float output.
  Tensor x1 = tensor(DType::I8, {1, 2}, {3, -2});
  Tensor x2 = tensor(DType::I8, {2, 2}, {1, 1, 1, 2});
  float s = 1.0f + 0x1p-11f + 0x1p-12f;
  Tensor ds(DType::I64, {2});
  ds.setInt(0, packScale(s, 5));
  ds.setInt(1, packScale(0.5f));
  Tensor out = run(x1, x2, {.dequant_scale = &ds});
  EXPECT_EQ(out.type(), (TensorType{DType::F16, {1, 2}}));
  EXPECT_EQ(values(out), (std::vector<double>{1, -0.5}));
}

// --- (b) random cases against an independent implementation -----------------

struct Case {
  int64_t b, m, k, n; // b = 0: 2-D x1
  DType x1, x2, out;
  bool bias, x3, offset, pertoken;
  int64_t group = 0;
  DType scale = DType::F32; // antiquant or dequant scale dtype
};

/// OPS.md §5.1 with fp32 steps in formula order and one reduction over the
/// single rank; returns the fp32 result before the final rounding.
std::vector<float>
reference(const Case &c, const std::vector<float> &x1,
          const std::vector<float> &x2, const std::vector<float> &bias,
          const std::vector<float> &scale, const std::vector<float> &offset,
          const std::vector<float> &pertoken, const std::vector<float> &x3) {
  int64_t rows = (c.b ? c.b : 1) * c.m;
  bool full = c.x1 == DType::I8;
  std::vector<float> out(rows * c.n);
  for (int64_t i = 0; i < rows; ++i) {
    for (int64_t j = 0; j < c.n; ++j) {
      float y = 0;
      if (full) {
        int64_t acc = 0;
        for (int64_t q = 0; q < c.k; ++q)
          acc += int64_t(x1[i * c.k + q]) * int64_t(x2[q * c.n + j]);
        if (c.bias)
          acc += int64_t(bias[j]);
        y = float(int32_t(uint32_t(acc))) * scale[scale.size() == 1 ? 0 : j];
        if (c.pertoken)
          y = y * pertoken[i];
      } else {
        for (int64_t q = 0; q < c.k; ++q) {
          float w = x2[q * c.n + j];
          if (c.x2 == DType::I8) {
            int64_t s = scale.size() == 1 ? 0
                        : c.group         ? (q / c.group) * c.n + j
                                          : j;
            if (c.offset)
              w = w + offset[s];
            w = w * scale[s];
          }
          y += x1[i * c.k + q] * w;
        }
        if (c.bias)
          y = y + bias[j];
      }
      if (c.x3)
        y = y + x3[i * c.n + j];
      out[i * c.n + j] = y;
    }
  }
  return out;
}

/// Values exact in the dtype: small dyadic floats, full-range i8, i32 bias.
std::vector<float> draw(std::mt19937 &rng, DType t, int64_t count) {
  std::vector<float> v(count);
  for (float &x : v) {
    if (t == DType::I8)
      x = float(int(rng() % 256) - 128);
    else if (t == DType::I32)
      x = float(int(rng() % 200001) - 100000);
    else if (t == DType::F32 || t == DType::I64) // I64: packed from f32
      x = float(int(rng() % 2001) - 1000) / 997.0f;
    else
      x = float(int(rng() % 129) - 64) / 32.0f;
  }
  return v;
}

Tensor fromFloats(DType t, Shape shape, const std::vector<float> &v) {
  return tensor(t, std::move(shape), std::vector<double>(v.begin(), v.end()));
}

void checkRandom(const Case &c, unsigned seed) {
  std::mt19937 rng(seed);
  bool full = c.x1 == DType::I8, weight = !full && c.x2 == DType::I8;
  int64_t rows = (c.b ? c.b : 1) * c.m;
  Shape x1Shape = c.b ? Shape{c.b, c.m, c.k} : Shape{c.m, c.k};
  Shape outShape = c.b ? Shape{c.b, c.m, c.n} : Shape{c.m, c.n};
  int64_t groups = c.group ? (c.k + c.group - 1) / c.group : 1;
  Shape scaleShape = weight && c.group ? Shape{groups, c.n} : Shape{c.n};
  std::vector<float> x1 = draw(rng, c.x1, rows * c.k);
  std::vector<float> x2 = draw(rng, c.x2, c.k * c.n);
  std::vector<float> bias = draw(rng, full ? DType::I32 : c.x1, c.n);
  std::vector<float> scale = draw(rng, c.scale, numElements(scaleShape));
  std::vector<float> offset = draw(rng, c.scale, numElements(scaleShape));
  std::vector<float> pertoken = draw(rng, DType::F32, rows);
  std::vector<float> x3 = draw(rng, c.out, rows * c.n);

  Tensor tx1 = fromFloats(c.x1, x1Shape, x1);
  Tensor tx2 = fromFloats(c.x2, {c.k, c.n}, x2)
                   .toLayout(seed % 2 ? Layout::NZ : Layout::ND);
  Tensor tb = fromFloats(full ? DType::I32 : c.x1, {c.n}, bias);
  Tensor ts = c.scale == DType::I64 ? Tensor(DType::I64, scaleShape)
                                    : fromFloats(c.scale, scaleShape, scale);
  for (int64_t i = 0; c.scale == DType::I64 && i < ts.numel(); ++i) {
    ts.setInt(i, packScale(scale[i], int64_t(rng() % 512)));
    // The effective scale keeps the top 19 bits of the fp32 pattern.
    scale[i] =
        std::bit_cast<float>(std::bit_cast<uint32_t>(scale[i]) & 0xFFFFE000u);
  }
  Tensor to = fromFloats(c.scale, scaleShape, offset);
  Tensor tp = fromFloats(DType::F32, {rows}, pertoken);
  Tensor t3 = fromFloats(c.out, outShape, x3);
  Options o{.bias = c.bias ? &tb : nullptr,
            .antiquant_scale = weight ? &ts : nullptr,
            .antiquant_offset = weight && c.offset ? &to : nullptr,
            .x3 = c.x3 ? &t3 : nullptr,
            .dequant_scale = full ? &ts : nullptr,
            .pertoken_scale = c.pertoken ? &tp : nullptr,
            .antiquant_group_size = c.group};
  Tensor got = run(tx1, tx2, o);
  Tensor want = fromFloats(
      c.out, outShape, reference(c, x1, x2, bias, scale, offset, pertoken, x3));
  ASSERT_EQ(got.type(), want.type());
  EXPECT_EQ(values(got), values(want)) << "seed " << seed;
}

TEST(MmAllReduceBaseTest, RandomAgainstReference) {
  using enum DType;
  const Case cases[] = {
      {0, 1, 1, 1, F16, F16, F16, true, true, false, false},
      {0, 3, 17, 3, F16, F16, F16, true, true, false, false},
      {0, 17, 3, 17, BF16, BF16, BF16, false, true, false, false},
      {3, 1, 17, 3, BF16, BF16, BF16, true, false, false, false},
      {0, 3, 17, 17, F16, I8, F16, true, true, true, false, 0, F16},
      {0, 17, 1, 3, BF16, I8, BF16, false, false, false, false, 0, BF16},
      {0, 3, 40, 17, F16, I8, F16, true, false, true, false, 32, F16},
      {3, 1, 96, 3, BF16, I8, BF16, false, true, true, false, 64, BF16},
      {0, 17, 17, 3, I8, I8, BF16, true, true, false, false, 0, BF16},
      {0, 3, 17, 17, I8, I8, BF16, true, false, false, true, 0, BF16},
      {0, 1, 3, 17, I8, I8, F16, true, true, false, true, 0, F32},
      {3, 17, 1, 3, I8, I8, F16, false, true, false, true, 0, F32},
      {0, 17, 17, 17, I8, I8, F16, true, true, false, false, 0, I64},
      {2, 3, 5, 1, I8, I8, F16, false, false, false, false, 0, I64},
  };
  for (const Case &c : cases)
    for (unsigned seed = 1; seed <= 3; ++seed)
      checkRandom(c, seed);
}

// --- (c) the eager API -------------------------------------------------------

TEST(MmAllReduceBaseTest, ApiRejectsBadCallsAtTheCaller) {
  Tensor x1 = tensor(DType::F16, {2, 3}, std::vector<double>(6, 1));
  Tensor x2 = tensor(DType::BF16, {3, 4}, std::vector<double>(12, 1));
  try {
    npu::mm_all_reduce_base(x1, x2, "hccl_world");
    FAIL() << "expected kiln::Error";
  } catch (const Error &e) {
    std::string what = e.what();
    EXPECT_NE(what.find("MmAllReduceBaseTest.cpp:"), std::string::npos) << what;
    EXPECT_NE(what.find("'npu.mm_all_reduce_base' op x2 must have x1's "
                        "dtype f16 (non-quantized) or be i8 (weight "
                        "quantization), got bf16"),
              std::string::npos)
        << what;
  }
  Tensor w = tensor(DType::F16, {3, 4}, std::vector<double>(12, 1));
  EXPECT_THROW(npu::mm_all_reduce_base(x1, w, ""), Error);
  EXPECT_THROW(
      npu::mm_all_reduce_base(x1, w, "g", {.reduce_op = ReduceOp::Max}), Error);
  EXPECT_THROW(npu::mm_all_reduce_base(x1, w, "g", {.comm_turn = 1}), Error);
  Tensor c = tensor(DType::F16, {4}, std::vector<double>(4, 1));
  EXPECT_THROW(npu::mm_all_reduce_base(x1, w, "g", {.comm_quant_scale_1 = &c}),
               Error);
  EXPECT_EQ(values(npu::mm_all_reduce_base(x1, w, "g")),
            std::vector<double>(8, 3));
}

// --- (d) npu-compat
// ------------------------------------------------------------

TEST(MmAllReduceBaseTest, CompatRoundsThePartialBeforeX3) {
  // 2048 + 1 = 2049 is not an f16; golden adds x3 = -2048 in fp32 first
  // (1), npu-compat rounds the partial to 2048 first (0).
  Tensor x1 = tensor(DType::F16, {1, 2}, {2048, 1});
  Tensor x2 = tensor(DType::F16, {2, 1}, {1, 1});
  Tensor x3 = tensor(DType::F16, {1, 1}, {-2048});
  EXPECT_EQ(values(run(x1, x2, {.x3 = &x3})), std::vector<double>{1});
  EXPECT_EQ(values(run(x1, x2, {.x3 = &x3}, Numerics::NpuCompat)),
            std::vector<double>{0});
  // Full quant, bf16: 2049 * 1 rounds to 2048 in bf16 as well.
  Tensor q1 = tensor(DType::I8, {1, 17}, std::vector<double>(17, 127));
  Tensor q2 = tensor(DType::I8, {17, 1}, std::vector<double>(17, 1));
  Tensor bias = tensor(DType::I32, {1}, {2049 - 17 * 127});
  Tensor ds = tensor(DType::BF16, {1}, {1});
  Tensor y3 = tensor(DType::BF16, {1, 1}, {-2048});
  Options o{.bias = &bias, .x3 = &y3, .dequant_scale = &ds};
  EXPECT_EQ(values(run(q1, q2, o)), std::vector<double>{1});
  EXPECT_EQ(values(run(q1, q2, o, Numerics::NpuCompat)),
            std::vector<double>{0});
}

TEST(MmAllReduceBaseTest, CompatRoundsTheDequantizedWeight) {
  // w = (1 + 2^-11) * 1: golden keeps it in fp32, npu-compat rounds it to
  // f16 (1.0, ties to even); x3 = -1 exposes the difference.
  Tensor x1 = tensor(DType::F16, {1, 1}, {1});
  Tensor x2 = tensor(DType::I8, {1, 1}, {1});
  Tensor s = tensor(DType::F16, {1}, {1});
  Tensor off = tensor(DType::F16, {1}, {0x1p-11});
  Tensor x3 = tensor(DType::F16, {1, 1}, {-1});
  Options o{.antiquant_scale = &s, .antiquant_offset = &off, .x3 = &x3};
  EXPECT_EQ(values(run(x1, x2, o)), std::vector<double>{0x1p-11});
  EXPECT_EQ(values(run(x1, x2, o, Numerics::NpuCompat)),
            std::vector<double>{0});
}

} // namespace
} // namespace kiln
