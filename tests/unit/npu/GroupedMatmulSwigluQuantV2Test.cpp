//===- GroupedMatmulSwigluQuantV2Test.cpp - swiglu_quant_v2 tests ---------===//
//
// Golden cases worked by hand, random cases against a plain-loop reference
// of OPS.md §4 written here, the eager API, npu-compat and data errors.
//
//===----------------------------------------------------------------------===//
#include "runtime/Npu.h"
#include "tests/unit/npu/MoeTestUtil.h"

#include <cmath>

namespace kiln {
namespace {

using namespace testing::moe;
using npu::GroupedMatmulSwigluQuantV2Options;

/// The op's inputs; weight is stored NZ as torch_npu requires.
struct Inputs {
  Tensor x, weight, weightScale, xScale, groupList;
  Inputs(int64_t m, int64_t k, int64_t n, int64_t e,
         const std::vector<double> &xv, const std::vector<double> &wv,
         const std::vector<double> &ws, const std::vector<double> &xs,
         const std::vector<double> &gl)
      : x(tensor(DType::I8, {m, k}, xv)),
        weight(tensor(DType::I8, {e, k, n}, wv, Layout::NZ)),
        weightScale(tensor(DType::F32, {e, n}, ws)),
        xScale(tensor(DType::F32, {m}, xs)),
        groupList(tensor(DType::I64, {e}, gl)) {}

  std::pair<Tensor, Tensor>
  run(GroupListType type = GroupListType::Cumsum) const {
    GroupedMatmulSwigluQuantV2Options o;
    o.group_list_type = type;
    return npu::grouped_matmul_swiglu_quant_v2(x, weight, weightScale, xScale,
                                               groupList, o);
  }
  /// Through the reference executor with explicit numerics.
  std::vector<Tensor>
  runWith(Numerics numerics, GroupListType type = GroupListType::Cumsum) const {
    return runSingleOp(OpKind::GroupedMatmulSwigluQuantV2,
                       {&x, &weight, &weightScale, &xScale, &groupList, nullptr,
                        nullptr, nullptr},
                       ops::GroupedMatmulSwigluQuantV2::Attrs{
                           .group_list_type = type},
                       std::source_location::current(), {numerics});
  }
};

// (a) The seed's example (E = 2, groupList = [128, 128] cumsum over M = 512:
// expert 0 takes the first 128 rows, expert 1 none, the rest are past the
// end) reduced to M = 8, K = 4, N = 4 and groupList = [2, 2].
// x row 0 = ones, row 1 = -ones; expert 0's weight = ones, so acc = +-4;
// weight_scale[0] = [1, 0.5, 1, 2], x_scale = 1:
//   row 0: C = [4, 2 | 4, 8], S = [4 sig(4) * 4, 2 sig(2) * 8]
//          = [15.71222, 14.09275]; scale = 15.71222 / 127 = 0.1237183;
//          q = [127, round(113.91) = 114]
//   row 1: C = [-4, -2 | -4, -8], S = [-4 sig(-4) * -4, -2 sig(-2) * -8]
//          = [0.2877794, 1.907247]; scale = 1.907247 / 127 = 0.01501769;
//          q = [round(19.163) = 19, 127]
//   rows 2..7: past groupList[-1] = 2: q = 0, scale = 0.
TEST(GroupedMatmulSwigluQuantV2, SeedExampleReduced) {
  std::vector<double> x = fill(8 * 4, 1.0);
  for (int k = 0; k < 4; ++k)
    x[4 + k] = -1.0;
  std::vector<double> w = fill(2 * 4 * 4, 1.0);
  for (int i = 16; i < 32; ++i)
    w[i] = 2.0; // expert 1: never used
  Inputs in(8, 4, 4, 2, x, w, {1, 0.5, 1, 2, 1, 1, 1, 1}, fill(8, 1.0),
            {2, 2});
  auto [q, s] = in.run();
  ASSERT_EQ(q.shape(), (Shape{8, 2}));
  ASSERT_EQ(s.shape(), (Shape{8}));
  EXPECT_EQ(values(q), (std::vector<double>{127, 114, 19, 127, 0, 0, 0, 0, 0,
                                            0, 0, 0, 0, 0, 0, 0}));
  EXPECT_FLOAT_EQ(s.getDouble(0), 0.1237183f);
  EXPECT_FLOAT_EQ(s.getDouble(1), 0.01501769f);
  for (int64_t r = 2; r < 8; ++r)
    EXPECT_EQ(s.getDouble(r), 0.0) << r;
}

// Both group_list conventions, an empty middle group and a row past the
// end. E = 3, M = 4, K = 4, N = 4, x = ones, weights: expert 0 ones,
// expert 2 twos; weight_scale = 0.25; x_scale = [1, 1, 0.5, 1].
//   row 0 (expert 0): C = 1 everywhere: S = sig(1) = 0.7310586, q = 127,
//                     scale = 0.7310586 / 127 = 0.005756367
//   row 1 (expert 2): C = 8 * 0.25 = 2: S = 2 sig(2) * 2 = 3.523188,
//                     q = 127, scale = 0.02774164
//   row 2 (expert 2, x_scale 0.5): C = 1, as row 0
//   row 3: past the end: zeros.
TEST(GroupedMatmulSwigluQuantV2, CountAndCumsumWithEmptyGroup) {
  std::vector<double> w = fill(3 * 16, 1.0);
  for (int i = 16; i < 32; ++i)
    w[i] = 3.0;
  for (int i = 32; i < 48; ++i)
    w[i] = 2.0;
  Inputs count(4, 4, 4, 3, fill(16, 1.0), w, fill(12, 0.25), {1, 1, 0.5, 1},
               {1, 0, 2});
  Inputs cumsum(4, 4, 4, 3, fill(16, 1.0), w, fill(12, 0.25), {1, 1, 0.5, 1},
                {1, 1, 3});
  for (auto [q, s] : {count.run(GroupListType::Count), cumsum.run()}) {
    EXPECT_EQ(values(q), (std::vector<double>{127, 127, 127, 127, 127, 127,
                                              0, 0}));
    EXPECT_FLOAT_EQ(s.getDouble(0), 0.005756367f);
    EXPECT_FLOAT_EQ(s.getDouble(1), 0.02774164f);
    EXPECT_FLOAT_EQ(s.getDouble(2), 0.005756367f);
    EXPECT_EQ(s.getDouble(3), 0.0);
  }
}

// An all-zero row (x = 0) gives scale 0 and q 0, never NaN.
TEST(GroupedMatmulSwigluQuantV2, AllZeroRow) {
  Inputs in(2, 2, 2, 1, {0, 0, 1, 1}, {1, 1, 1, 1}, {1, 1}, {1, 1}, {2});
  auto [q, s] = in.run();
  EXPECT_EQ(values(q), (std::vector<double>{0, 127}));
  EXPECT_EQ(s.getDouble(0), 0.0);
  EXPECT_GT(s.getDouble(1), 0.0);
}

/// OPS.md §4.3-4.5 in plain loops: x [m,k], w [e][k][n], per-group counts.
/// compat: kernel dequant order and the fp32 -> fp16 -> int8 rounding.
void reference(int64_t m, int64_t k, int64_t n, const std::vector<int> &x,
               const std::vector<int> &w, const std::vector<float> &ws,
               const std::vector<float> &xs,
               const std::vector<int64_t> &counts, bool compat,
               std::vector<int> &q, std::vector<float> &scale) {
  int64_t half = n / 2;
  q.assign(m * half, 0);
  scale.assign(m, 0.0f);
  int64_t row = 0;
  for (size_t g = 0; g < counts.size(); ++g) {
    for (int64_t c = 0; c < counts[g]; ++c, ++row) {
      std::vector<float> cv(n);
      for (int64_t j = 0; j < n; ++j) {
        int32_t acc = 0;
        for (int64_t kk = 0; kk < k; ++kk)
          acc += x[row * k + kk] * w[(g * k + kk) * n + j];
        float a = static_cast<float>(acc), s = ws[g * n + j], t = xs[row];
        cv[j] = compat ? (a * t) * s : (a * s) * t;
      }
      std::vector<float> sv(half);
      float amax = 0.0f;
      for (int64_t j = 0; j < half; ++j) {
        float a = cv[j];
        float silu = a * (1.0f / (1.0f + std::exp(-a)));
        sv[j] = silu * cv[half + j];
        amax = std::max(amax, std::fabs(sv[j]));
      }
      scale[row] = amax / 127.0f;
      if (amax == 0.0f)
        continue;
      float inv = 1.0f / scale[row];
      for (int64_t j = 0; j < half; ++j) {
        float t = sv[j] * inv;
        if (compat)
          t = static_cast<float>(static_cast<_Float16>(t));
        q[row * half + j] = static_cast<int>(std::nearbyint(t));
      }
    }
  }
}

// (b) + (d): random cases, golden and npu-compat, count and cumsum lists.
TEST(GroupedMatmulSwigluQuantV2, RandomAgainstReference) {
  struct Size {
    int64_t m, k, n, e;
  };
  int compatDiffers = 0;
  for (Size sz : {Size{1, 1, 2, 1}, Size{3, 3, 6, 2}, Size{17, 17, 34, 3},
                  Size{17, 33, 18, 5}}) {
    for (uint64_t seed = 1; seed <= 4; ++seed) {
      Random r(seed * 100 + sz.m);
      std::vector<int> x = r.ints(sz.m * sz.k, -128, 127);
      std::vector<int> w = r.ints(sz.e * sz.k * sz.n, -128, 127);
      std::vector<float> ws = r.floats(sz.e * sz.n, -0.02f, 0.02f);
      std::vector<float> xs = r.floats(sz.m, 0.001f, 0.05f);
      std::vector<int64_t> counts = r.counts(sz.e, sz.m);
      bool useCount = seed % 2;
      std::vector<int64_t> gl = useCount ? counts : cumsum(counts);
      Inputs in(sz.m, sz.k, sz.n, sz.e, toDouble(x), toDouble(w), toDouble(ws),
                toDouble(xs), toDouble(gl));
      GroupListType type =
          useCount ? GroupListType::Count : GroupListType::Cumsum;
      for (bool compat : {false, true}) {
        std::vector<Tensor> got =
            in.runWith(compat ? Numerics::NpuCompat : Numerics::Golden, type);
        std::vector<int> q;
        std::vector<float> scale;
        reference(sz.m, sz.k, sz.n, x, w, ws, xs, counts, compat, q, scale);
        for (int64_t i = 0; i < got[0].numel(); ++i)
          ASSERT_EQ(got[0].getInt(i), q[i])
              << "m=" << sz.m << " seed " << seed << " compat " << compat
              << " element " << i;
        for (int64_t i = 0; i < sz.m; ++i)
          ASSERT_EQ(static_cast<float>(got[1].getDouble(i)), scale[i])
              << "m=" << sz.m << " seed " << seed << " row " << i;
      }
      std::vector<Tensor> golden = in.runWith(Numerics::Golden, type);
      std::vector<Tensor> compat = in.runWith(Numerics::NpuCompat, type);
      compatDiffers += !golden[0].sameValues(compat[0]);
    }
  }
  EXPECT_GT(compatDiffers, 0) << "npu-compat never differed from golden";
}

// (d) OPS.md §4.4's example: S * (1/s) = 101.49 rounds to 101 in golden,
// but to f16 101.5 and then to 102 in npu-compat. K = 1, x = 1,
// weight = 1, weight_scale = [4, 4, 127, 101.49]: S = [4 sig(4) * 127,
// 4 sig(4) * 101.49], so S / (max|S| / 127) = [127, 101.49].
TEST(GroupedMatmulSwigluQuantV2, NpuCompatDoubleRounding) {
  Inputs in(1, 1, 4, 1, {1}, {1, 1, 1, 1}, {4, 4, 127, 101.49}, {1}, {1});
  EXPECT_EQ(values(in.runWith(Numerics::Golden)[0]),
            (std::vector<double>{127, 101}));
  EXPECT_EQ(values(in.runWith(Numerics::NpuCompat)[0]),
            (std::vector<double>{127, 102}));
}

// (c) The eager API rejects bad calls with the located diagnostic.
TEST(GroupedMatmulSwigluQuantV2, ApiErrors) {
  Inputs in(2, 2, 2, 1, {1, 1, 1, 1}, {1, 1, 1, 1}, {1, 1}, {1, 1}, {2});
  Tensor i32List = tensor(DType::I32, {1}, {2});
  std::string msg = errorOf([&] {
    npu::grouped_matmul_swiglu_quant_v2(in.x, in.weight, in.weightScale,
                                        in.xScale, i32List);
  });
  EXPECT_NE(msg.find("GroupedMatmulSwigluQuantV2Test.cpp"), std::string::npos)
      << msg;
  EXPECT_NE(msg.find("'npu.grouped_matmul_swiglu_quant_v2' op group_list "
                     "must be i64, got i32"),
            std::string::npos)
      << msg;

  Tensor ndWeight = tensor(DType::I8, {1, 2, 2}, {1, 1, 1, 1});
  msg = errorOf([&] {
    npu::grouped_matmul_swiglu_quant_v2(in.x, ndWeight, in.weightScale,
                                        in.xScale, in.groupList);
  });
  EXPECT_NE(msg.find("weight must be in FRACTAL_NZ layout"), std::string::npos)
      << msg;

  Tensor bias = tensor(DType::I32, {1, 2}, {0, 0});
  GroupedMatmulSwigluQuantV2Options o;
  o.bias = &bias;
  msg = errorOf([&] {
    npu::grouped_matmul_swiglu_quant_v2(in.x, in.weight, in.weightScale,
                                        in.xScale, in.groupList, o);
  });
  EXPECT_NE(msg.find("bias currently only supports the default value None"),
            std::string::npos)
      << msg;

  o = {};
  o.quant_dtype = 2; // float8_e5m2 in torch_npu's numbering
  msg = errorOf([&] {
    npu::grouped_matmul_swiglu_quant_v2(in.x, in.weight, in.weightScale,
                                        in.xScale, in.groupList, o);
  });
  EXPECT_NE(msg.find("quant_dtype currently only supports the default value "
                     "0, got 2"),
            std::string::npos)
      << msg;
}

// (e) Bad group lists are run-time errors naming the entry.
TEST(GroupedMatmulSwigluQuantV2, GroupListErrors) {
  auto error = [](std::vector<double> gl, GroupListType type) {
    Inputs in(4, 1, 2, 2, fill(4, 1), fill(4, 1), fill(4, 1), fill(4, 1), gl);
    return errorOf([&] { in.run(type); });
  };
  EXPECT_NE(error({3, 1}, GroupListType::Cumsum)
                .find("group_list[1] = 1 is less than group_list[0] = 3; a "
                      "cumsum group_list must not decrease"),
            std::string::npos);
  EXPECT_NE(error({3, 2}, GroupListType::Count)
                .find("group_list[1] = 2 takes the groups past the 4 "
                      "available rows"),
            std::string::npos);
  EXPECT_NE(error({-1, 2}, GroupListType::Count)
                .find("group_list[0] = -1 is negative"),
            std::string::npos);
}

} // namespace
} // namespace kiln
