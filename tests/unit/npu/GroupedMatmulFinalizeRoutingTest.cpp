//===- GroupedMatmulFinalizeRoutingTest.cpp - finalize_routing tests ------===//
//
// Golden cases worked by hand, random cases against a plain-loop reference
// of OPS.md §6.2 written here, the eager API, npu-compat and data errors.
//
//===----------------------------------------------------------------------===//
#include "runtime/Npu.h"
#include "tests/unit/npu/MoeTestUtil.h"

namespace kiln {
namespace {

using namespace testing::moe;
using npu::GroupedMatmulFinalizeRoutingOptions;

// (a) The seed's example (m, k, n = 576, 2048, 7168; batch = 72, topK = 8,
// 8 experts of 72 rows each (count), shared_input of batch/4 rows at
// offset batch/2, output_bs = batch) reduced to batch = 4, topK = 2,
// 2 experts of 4 rows, m = 8, k = n = 4, bsdp = 1, offset = 2.
// x = ones; w: expert 0 ones, expert 1 -ones, so acc = +4 / -4;
// scale = 0.5, pertoken_scale = 0.25, logit = 0.5 (rows 0-3) / 0.25 (4-7):
//   y = ((4 * 0.5) * 0.25) * 0.5 = 0.25 for rows 0-3, -0.125 for rows 4-7.
// row_index = [0,1,2,3, 3,2,1,0]: every token gets 0.25 - 0.125 = 0.125.
// shared_input = [1.5, -1, 0.5, 2], shared_input_weight = 2, at row 2:
//   out[2] = [3, -2, 1, 4] + 0.125.
TEST(GroupedMatmulFinalizeRouting, SeedExampleReduced) {
  Tensor x = tensor(DType::I8, {8, 4}, fill(32, 1));
  std::vector<double> wv = fill(32, 1);
  for (int i = 16; i < 32; ++i)
    wv[i] = -1;
  Tensor w = tensor(DType::I8, {2, 4, 4}, wv, Layout::NZ);
  Tensor groupList = tensor(DType::I64, {2}, {4, 4});
  Tensor scale = tensor(DType::F32, {2, 4}, fill(8, 0.5));
  Tensor pertoken = tensor(DType::F32, {8}, fill(8, 0.25));
  Tensor shared = tensor(DType::BF16, {1, 4}, {1.5, -1, 0.5, 2});
  Tensor logit =
      tensor(DType::F32, {8}, {0.5, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.25});
  Tensor rowIndex = tensor(DType::I64, {8}, {0, 1, 2, 3, 3, 2, 1, 0});
  GroupedMatmulFinalizeRoutingOptions o;
  o.scale = &scale;
  o.pertoken_scale = &pertoken;
  o.shared_input = &shared;
  o.logit = &logit;
  o.row_index = &rowIndex;
  o.shared_input_weight = 2.0;
  o.shared_input_offset = 2;
  o.output_bs = 4;
  Tensor y = npu::grouped_matmul_finalize_routing(x, w, groupList, o);
  ASSERT_EQ(y.shape(), (Shape{4, 4}));
  ASSERT_EQ(y.dtype(), DType::F32);
  EXPECT_EQ(values(y), (std::vector<double>{
                           0.125, 0.125, 0.125, 0.125,   //
                           0.125, 0.125, 0.125, 0.125,   //
                           3.125, -1.875, 1.125, 4.125,  //
                           0.125, 0.125, 0.125, 0.125}));
}

// Scatter-only mode (no shared_input, no logit), both group_list
// conventions, an empty expert and a row past the group_list total whose
// row_index (99) is never used. m = 6, k = n = 2, x[i] = [i+1, i+1];
// w: expert 0 ones, expert 2 [[1, 2], [1, 2]]; scale: expert 0 [1, 1],
// expert 2 [0.5, 0.25]; pertoken = 1; counts [3, 0, 2]:
//   rows 0-2 (expert 0): acc = 2(i+1): y = [2,2], [4,4], [6,6]
//   rows 3-4 (expert 2): acc = [2(i+1), 4(i+1)]: y = [4,4], [5,5]
// row_index = [1, 0, 1, 3, 0, 99]: out[0] = [4+5], out[1] = [2+6],
// out[3] = [4], the other rows 0. output_bs = 0 gives m = 6 rows.
TEST(GroupedMatmulFinalizeRouting, ScatterOnlyCountAndCumsum) {
  std::vector<double> xv;
  for (int i = 0; i < 6; ++i)
    xv.insert(xv.end(), {double(i + 1), double(i + 1)});
  Tensor x = tensor(DType::I8, {6, 2}, xv);
  Tensor w = tensor(DType::I8, {3, 2, 2}, {1, 1, 1, 1, 7, 7, 7, 7, 1, 2, 1, 2},
                    Layout::NZ);
  Tensor scale = tensor(DType::F32, {3, 2}, {1, 1, 9, 9, 0.5, 0.25});
  Tensor pertoken = tensor(DType::F32, {6}, fill(6, 1));
  Tensor rowIndex = tensor(DType::I64, {6}, {1, 0, 1, 3, 0, 99});
  Tensor count = tensor(DType::I64, {3}, {3, 0, 2});
  Tensor cumsum = tensor(DType::I64, {3}, {3, 3, 5});
  GroupedMatmulFinalizeRoutingOptions o;
  o.scale = &scale;
  o.pertoken_scale = &pertoken;
  o.row_index = &rowIndex;
  std::vector<double> want{9, 9, 8, 8, 0, 0, 4, 4, 0, 0, 0, 0};
  EXPECT_EQ(values(npu::grouped_matmul_finalize_routing(x, w, count, o)), want);
  o.group_list_type = GroupListType::Cumsum;
  EXPECT_EQ(values(npu::grouped_matmul_finalize_routing(x, w, cumsum, o)),
            want);
}

/// One random problem and OPS.md §6.2 in plain loops.
struct Problem {
  int64_t m, k, n, e, bsdp, offset, outRows;
  bool combine;
  std::vector<int> x, w, rowIndex;
  std::vector<float> scale, pertoken, logit, shared;
  std::vector<int64_t> counts;
  float weight = 1.0f;

  Problem(uint64_t seed, int64_t m_, int64_t k_, int64_t n_, int64_t e_,
          bool combine_)
      : m(m_), k(k_), n(n_), e(e_), combine(combine_) {
    Random r(seed);
    outRows = r.ints(1, 1, int(m) + 3)[0];
    bsdp = combine ? r.ints(1, 1, int(outRows))[0] : 0;
    offset = combine ? r.ints(1, 0, int(outRows - bsdp))[0] : 0;
    x = r.ints(m * k, -128, 127);
    w = r.ints(e * k * n, -128, 127);
    rowIndex = r.ints(m, 0, int(outRows) - 1);
    scale = r.floats(e * n, -0.01f, 0.01f);
    pertoken = r.floats(m, 0.001f, 0.02f);
    logit = r.floats(m, 0.0f, 1.0f);
    shared = r.floats(bsdp * n, -1.0f, 1.0f, /*bf16=*/true);
    counts = r.counts(e, m);
    weight = combine ? r.floats(1, 0.5f, 2.0f)[0] : 1.0f;
  }

  std::vector<float> reference(bool compat) const {
    std::vector<float> out(outRows * n, 0.0f);
    for (int64_t j = 0; j < bsdp * n; ++j)
      out[offset * n + j] = shared[j] * weight;
    int64_t i = 0;
    for (int64_t g = 0; g < e; ++g) {
      for (int64_t c = 0; c < counts[g]; ++c, ++i) {
        for (int64_t col = 0; col < n; ++col) {
          int32_t acc = 0;
          for (int64_t kk = 0; kk < k; ++kk)
            acc += x[i * k + kk] * w[(g * k + kk) * n + col];
          float y = static_cast<float>(acc) * scale[g * n + col];
          if (!combine)
            y = y * pertoken[i];
          else if (compat)
            y = y * (pertoken[i] * logit[i]);
          else
            y = (y * pertoken[i]) * logit[i];
          out[rowIndex[i] * n + col] += y;
        }
      }
    }
    return out;
  }

  Tensor run(GroupListType type, Numerics numerics) const {
    Tensor tx = tensor(DType::I8, {m, k}, toDouble(x));
    Tensor tw = tensor(DType::I8, {e, k, n}, toDouble(w), Layout::NZ);
    std::vector<int64_t> gl =
        type == GroupListType::Count ? counts : cumsum(counts);
    Tensor tgl = tensor(DType::I64, {e}, toDouble(gl));
    Tensor ts = tensor(DType::F32, {e, n}, toDouble(scale));
    Tensor tpt = tensor(DType::F32, {m}, toDouble(pertoken));
    Tensor tlg = tensor(DType::F32, {m}, toDouble(logit));
    Tensor tsh = tensor(DType::BF16, {bsdp, n}, toDouble(shared));
    Tensor tri = tensor(DType::I32, {m}, toDouble(rowIndex));
    using FR = ops::GroupedMatmulFinalizeRouting;
    return runSingleOp(OpKind::GroupedMatmulFinalizeRouting,
                       {&tx, &tw, &tgl, &ts, nullptr, nullptr, &tpt,
                        combine ? &tsh : nullptr, combine ? &tlg : nullptr,
                        &tri},
                       FR::Attrs{.shared_input_weight = weight,
                                 .shared_input_offset = offset,
                                 .output_bs = Dim(outRows),
                                 .group_list_type = type},
                       std::source_location::current(), {numerics})[0];
  }
};

// (b) + (d): random problems in both modes, both conventions, golden and
// npu-compat (kernel order (acc * scale) * (pertoken * logit)).
TEST(GroupedMatmulFinalizeRouting, RandomAgainstReference) {
  struct Size {
    int64_t m, k, n, e;
  };
  int compatDiffers = 0;
  for (Size sz : {Size{1, 1, 1, 1}, Size{3, 3, 5, 2}, Size{17, 17, 33, 3},
                  Size{17, 32, 64, 4}}) {
    for (uint64_t seed = 1; seed <= 6; ++seed) {
      Problem p(seed * 1000 + sz.m, sz.m, sz.k, sz.n, sz.e, seed % 3 != 0);
      GroupListType type =
          seed % 2 ? GroupListType::Count : GroupListType::Cumsum;
      for (bool compat : {false, true}) {
        Tensor got =
            p.run(type, compat ? Numerics::NpuCompat : Numerics::Golden);
        std::vector<float> want = p.reference(compat);
        ASSERT_EQ(got.numel(), static_cast<int64_t>(want.size()));
        for (int64_t i = 0; i < got.numel(); ++i)
          ASSERT_EQ(static_cast<float>(got.getDouble(i)), want[i])
              << "m=" << sz.m << " seed " << seed << " compat " << compat
              << " element " << i;
      }
      compatDiffers += p.reference(false) != p.reference(true);
    }
  }
  EXPECT_GT(compatDiffers, 0) << "the two orders never differed";
}

// (c) The eager API rejects bad calls with the located diagnostic.
TEST(GroupedMatmulFinalizeRouting, ApiErrors) {
  Tensor x = tensor(DType::I8, {2, 2}, fill(4, 1));
  Tensor w = tensor(DType::I8, {1, 2, 2}, fill(4, 1), Layout::NZ);
  Tensor gl = tensor(DType::I64, {1}, {2});
  Tensor scale = tensor(DType::F32, {1, 2}, fill(2, 1));
  Tensor shared = tensor(DType::BF16, {2, 2}, fill(4, 1));
  Tensor ri = tensor(DType::I64, {2}, {0, 1});
  GroupedMatmulFinalizeRoutingOptions o;
  o.scale = &scale;
  o.row_index = &ri;
  o.shared_input = &shared;
  std::string msg =
      errorOf([&] { npu::grouped_matmul_finalize_routing(x, w, gl, o); });
  EXPECT_NE(msg.find("GroupedMatmulFinalizeRoutingTest.cpp"),
            std::string::npos)
      << msg;
  EXPECT_NE(msg.find("'npu.grouped_matmul_finalize_routing' op shared_input "
                     "and logit must be given together (got shared_input "
                     "without the other)"),
            std::string::npos)
      << msg;

  Tensor logit = tensor(DType::F32, {2}, fill(2, 1));
  o.logit = &logit;
  o.shared_input_offset = 1;
  msg = errorOf([&] { npu::grouped_matmul_finalize_routing(x, w, gl, o); });
  EXPECT_NE(msg.find("shared_input_offset (1) + shared_input rows (2) exceeds "
                     "the 2 output rows"),
            std::string::npos)
      << msg;

  o = {};
  o.row_index = &ri;
  msg = errorOf([&] { npu::grouped_matmul_finalize_routing(x, w, gl, o); });
  EXPECT_NE(msg.find("scale is required for int8 w"), std::string::npos) << msg;

  o.scale = &scale;
  o.output_bs = -3;
  msg = errorOf([&] { npu::grouped_matmul_finalize_routing(x, w, gl, o); });
  EXPECT_NE(msg.find("output_bs must be >= 0, got -3"), std::string::npos)
      << msg;

  o.output_bs = 0;
  o.dtype = DType::F16;
  msg = errorOf([&] { npu::grouped_matmul_finalize_routing(x, w, gl, o); });
  EXPECT_NE(msg.find("dtype must be f32 (the output is always float32), got "
                     "f16"),
            std::string::npos)
      << msg;
}

// (e) Run-time data errors: an out-of-range row_index among the used rows
// (named with its position and value), bad group lists.
TEST(GroupedMatmulFinalizeRouting, DataErrors) {
  Tensor x = tensor(DType::I8, {3, 2}, fill(6, 1));
  Tensor w = tensor(DType::I8, {1, 2, 2}, fill(4, 1), Layout::NZ);
  Tensor scale = tensor(DType::F32, {1, 2}, fill(2, 1));
  Tensor ri = tensor(DType::I64, {3}, {0, 4, -1});
  Tensor gl = tensor(DType::I64, {1}, {3});
  GroupedMatmulFinalizeRoutingOptions o;
  o.scale = &scale;
  o.row_index = &ri;
  o.output_bs = 4;
  std::string msg =
      errorOf([&] { npu::grouped_matmul_finalize_routing(x, w, gl, o); });
  EXPECT_NE(msg.find("row_index[1] = 4 is out of range for 4 output rows"),
            std::string::npos)
      << msg;

  // Only the first row is used: the bad indices are never read.
  Tensor one = tensor(DType::I64, {1}, {1});
  EXPECT_EQ(values(npu::grouped_matmul_finalize_routing(x, w, one, o)),
            (std::vector<double>{2, 2, 0, 0, 0, 0, 0, 0}));

  Tensor tooMany = tensor(DType::I64, {1}, {4});
  msg = errorOf(
      [&] { npu::grouped_matmul_finalize_routing(x, w, tooMany, o); });
  EXPECT_NE(msg.find("group_list[0] = 4 takes the groups past the 3 available "
                     "rows"),
            std::string::npos)
      << msg;
}

} // namespace
} // namespace kiln
