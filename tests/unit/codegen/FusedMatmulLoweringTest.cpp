//===- FusedMatmulLoweringTest.cpp - fused quantized matmuls match ---------===//
//
// npu.quant_matmul_reduce_sum and npu.weight_quant_batchmatmul compiled in
// dynamic mode over sizes 1, 2, 3, 7, 17, 33 per symbol and in static mode
// for a few, in golden and npu-compat numerics, each run compared bit for
// bit with runReference on the same seeded inputs.
//
//===----------------------------------------------------------------------===//
#include "LoweringTestUtil.h"

#include <map>

namespace kiln {
namespace {

using namespace kiln::lowering_test;

constexpr Numerics kBoth[] = {Numerics::Golden, Numerics::NpuCompat};

const char *name(Numerics n) {
  return n == Numerics::Golden ? "golden" : "npu-compat";
}

/// §1.3 packing: FP19 scale bits, bit 46, a 9-bit offset at bit 37.
int64_t pack(float scale, int64_t offset) {
  uint64_t u = (std::bit_cast<uint32_t>(scale) & 0xFFFFE000u) | (1ull << 46) |
               (static_cast<uint64_t>(offset & 0x1FF) << 37);
  return static_cast<int64_t>(u);
}

//===----------------------------------------------------------------------===//
// quant_matmul_reduce_sum
//===----------------------------------------------------------------------===//

const char *kReduceSum = R"(
func @qmrs(%x1: i8[B,M,K], %x2: i8[B,K,N] NZ, %s1: f32[B,M], %s2: bf16[N]) -> bf16[M,N] sym(B, M, K, N) {
  %y = npu.quant_matmul_reduce_sum(%x1, %x2, x1_scale = %s1, x2_scale = %s2) : bf16[M,N]
  return %y
}
)";

TEST(LoweringQuantMatmulReduceSum, SizesAndNumerics) {
  std::vector<SymbolBindings> sizes =
      grid({"M", "K", "N"}, kSizes, {{"B", 1}});
  for (int64_t batches : {2, 3, 7})
    for (const SymbolBindings &s : grid({"M", "K", "N"}, {1, 3, 17, 33},
                                        {{"B", batches}}))
      sizes.push_back(s);
  // Rows wider than one accumulator block (256 columns).
  sizes.push_back({{"B", 3}, {"M", 2}, {"K", 40}, {"N", 300}});
  sizes.push_back({{"B", 2}, {"M", 3}, {"K", 17}, {"N", 513}});
  std::vector<SymbolBindings> few = {
      {{"B", 3}, {"M", 7}, {"K", 17}, {"N", 33}},
      {{"B", 1}, {"M", 1}, {"K", 1}, {"N", 1}},
      {{"B", 2}, {"M", 2}, {"K", 33}, {"N", 300}}};
  for (Numerics numerics : kBoth) {
    SCOPED_TRACE(name(numerics));
    Kir k(kReduceSum);
    expectMatchesBoth(k, sizes, few, {}, numerics);
  }
}

TEST(LoweringQuantMatmulReduceSum, StaticShapes) {
  Kir k(R"(
func @qmrs(%x1: i8[3,5,40], %x2: i8[3,40,37] NZ, %s1: f32[3,5], %s2: bf16[37]) -> bf16[5,37] {
  %y = npu.quant_matmul_reduce_sum(%x1, %x2, x1_scale = %s1, x2_scale = %s2) : bf16[5,37]
  return %y
}
)");
  for (Numerics numerics : kBoth)
    expectMatchesBoth(k, {{}}, {{}}, {}, numerics);
}

TEST(LoweringQuantMatmulReduceSum, Int32SumWraps) {
  // 16384 * 131073 = 2147500032 does not fit i32; both wrap the same way.
  Kir k(kReduceSum);
  Adjust minus128 = [](std::vector<Tensor> &in, const SymbolBindings &,
                       std::mt19937_64 &) {
    for (int p : {0, 1})
      for (int64_t i = 0; i < in[p].numel(); ++i)
        in[p].setInt(i, -128);
  };
  for (Numerics numerics : kBoth)
    expectMatches(k, ShapeMode::Dynamic,
                  {{{"B", 2}, {"M", 1}, {"K", 131073}, {"N", 2}}}, minus128,
                  numerics);
}

TEST(LoweringQuantMatmulReduceSum, EmptyDims) {
  // B = 0 or K = 0 gives zero sums; M or N = 0 gives nothing to compute.
  Kir k(kReduceSum);
  for (Numerics numerics : kBoth)
    expectMatches(k, ShapeMode::Dynamic,
                  {{{"B", 0}, {"M", 3}, {"K", 2}, {"N", 5}},
                   {{"B", 2}, {"M", 3}, {"K", 0}, {"N", 5}},
                   {{"B", 2}, {"M", 0}, {"K", 2}, {"N", 5}},
                   {{"B", 2}, {"M", 3}, {"K", 2}, {"N", 0}}},
                  {}, numerics);
}

TEST(LoweringQuantMatmulReduceSum, NumericsModesDiffer) {
  // Sanity: the sweep above exercises both paths only if they disagree.
  Kir k(kReduceSum);
  ASSERT_TRUE(k.g);
  SymbolBindings dims{{"B", 7}, {"M", 5}, {"K", 33}, {"N", 17}};
  std::vector<Tensor> in = inputsFor(*k.g, dims, 1, {});
  auto golden = runReference(*k.g, in, {Numerics::Golden}, dims);
  auto npu = runReference(*k.g, in, {Numerics::NpuCompat}, dims);
  ASSERT_FALSE(golden.failed() || npu.failed());
  EXPECT_FALSE(sameBits((*golden)[0], (*npu)[0]));
}

//===----------------------------------------------------------------------===//
// weight_quant_batchmatmul
//===----------------------------------------------------------------------===//

/// One form of the op: the .kir text is built from these.
struct Wq {
  std::string x = "f16";   ///< f16 | bf16
  std::string w = "i8";    ///< i8 | i4
  bool nz = false, trans = false;
  std::string scale = "[N]"; ///< [1] [1,1] [N] [1,N], or [G,N] per group
  int64_t group = 0, k = 0;  ///< group size; a static K (0: symbol K)
  bool offset = false, packed = false; ///< packed: i64 scale, i32 offset
  std::string bias;          ///< "" | [N] | [1,N]
  std::string qs, qsDims = "[N]"; ///< "" | f32 | i64
  bool qo = false;
  std::string aod; ///< antiquant_out_dtype: "" | f32 | f16 | bf16

  std::string describe() const {
    std::ostringstream os;
    os << x << " " << w << (nz ? " NZ" : " ND") << (trans ? " T" : "")
       << " scale" << (packed ? "(i64)" : "") << scale << " G" << group
       << (offset ? " off" : "") << " bias" << bias << " qs:" << qs << qsDims
       << (qo ? " qo" : "") << " aod:" << aod;
    return os.str();
  }
};

struct WqGraph {
  std::string text;
  std::map<std::string, unsigned> params;
};

WqGraph build(const Wq &c) {
  WqGraph g;
  std::string kDim = c.k ? std::to_string(c.k) : "K";
  std::string sDims = subst(c.scale, "G", std::to_string(
                                               c.group ? (c.k + c.group - 1) / c.group : 0));
  std::string sType = c.packed ? "i64" : c.x;
  std::string oType = c.packed ? "i32" : c.x;
  std::vector<std::pair<std::string, std::string>> ps = {
      {"x", c.x + "[M," + kDim + "]"},
      {"w", c.w + (c.trans ? "[N," + kDim + "]" : "[" + kDim + ",N]") +
                (c.nz ? " NZ" : "")},
      {"s", sType + sDims}};
  if (c.offset)
    ps.push_back({"o", oType + sDims});
  if (!c.qs.empty())
    ps.push_back({"qs", c.qs + c.qsDims});
  if (c.qo)
    ps.push_back({"qo", "f32" + c.qsDims});
  if (!c.bias.empty())
    ps.push_back({"b", (c.x == "f16" ? "f16" : "f32") + c.bias});
  std::string out = (c.qs.empty() ? c.x : "i8") + "[M,N]";
  std::ostringstream os;
  os << "func @wq(";
  for (size_t i = 0; i < ps.size(); ++i) {
    os << (i ? ", " : "") << "%" << ps[i].first << ": " << ps[i].second;
    g.params[ps[i].first] = i;
  }
  os << ") -> " << out << " sym(M, " << (c.k ? "" : "K, ") << "N) {\n";
  os << "  %y = npu.weight_quant_batchmatmul(%x, %w, %s";
  for (const char *opt : {"o", "qs", "qo", "b"}) {
    static const std::map<std::string, std::string> kw = {
        {"o", "antiquant_offset"}, {"qs", "quant_scale"},
        {"qo", "quant_offset"}, {"b", "bias"}};
    if (g.params.count(opt))
      os << ", " << kw.at(opt) << " = %" << opt;
  }
  os << ") {antiquant_group_size = " << c.group
     << ", transpose_weight = " << (c.trans ? "true" : "false");
  if (!c.aod.empty())
    os << ", antiquant_out_dtype = " << c.aod;
  os << "} : " << out << "\n  return %y\n}\n";
  g.text = os.str();
  return g;
}

/// Real packed scales instead of random int64s, and quant scales and offsets
/// that spread the int8 results over the whole range (some saturating).
Adjust wqInputs(const Wq &c, const WqGraph &g) {
  return [c, params = g.params](std::vector<Tensor> &in, const SymbolBindings &,
                                std::mt19937_64 &rng) {
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    std::uniform_int_distribution<int64_t> off9(-300, 300);
    if (c.packed) {
      Tensor &s = in[params.at("s")];
      for (int64_t i = 0; i < s.numel(); ++i)
        s.setInt(i, pack(u(rng), off9(rng))); // the offset bits are ignored
      if (c.offset)
        for (int64_t i = 0; i < in[params.at("o")].numel(); ++i)
          in[params.at("o")].setInt(i, off9(rng) % 128);
    }
    if (c.qs.empty())
      return;
    Tensor &qs = in[params.at("qs")];
    for (int64_t i = 0; i < qs.numel(); ++i) {
      float scale = u(rng) / 16.0f;
      if (c.qs == "i64")
        qs.setInt(i, pack(scale, std::clamp<int64_t>(off9(rng), -256, 255)));
      else
        qs.setDouble(i, scale);
    }
    if (c.qo)
      for (int64_t i = 0; i < in[params.at("qo")].numel(); ++i)
        in[params.at("qo")].setDouble(i, u(rng) * 300.0f); // s9 clips some
  };
}

void expectWq(const Wq &c, bool wide = true) {
  SCOPED_TRACE(c.describe());
  WqGraph g = build(c);
  Kir k(g.text);
  ASSERT_TRUE(k.g) << g.text;
  std::vector<SymbolBindings> sizes, few;
  SymbolBindings fixed;
  if (c.k) {
    sizes = grid({"M", "N"}, kSizes);
    few = {{{"M", 7}, {"N", 33}}, {{"M", 1}, {"N", 1}}};
  } else {
    sizes = grid({"M", "K", "N"}, wide ? kSizes : std::vector<int64_t>{1, 3, 17, 33});
    few = {{{"M", 7}, {"K", 17}, {"N", 33}}, {{"M", 1}, {"K", 1}, {"N", 1}}};
  }
  // More rows than one row block, more columns than one column block.
  sizes.push_back(c.k ? SymbolBindings{{"M", 19}, {"N", 300}}
                      : SymbolBindings{{"M", 19}, {"K", 5}, {"N", 300}});
  Adjust adjust = wqInputs(c, g);
  for (Numerics numerics : kBoth) {
    SCOPED_TRACE(name(numerics));
    expectMatchesBoth(k, sizes, few, adjust, numerics);
  }
}

TEST(LoweringWeightQuantBatchmatmul, WeightFormats) {
  for (std::string x : {"f16", "bf16"})
    for (std::string w : {"i8", "i4"})
      for (bool nz : {false, true})
        for (bool trans : {false, true}) {
          Wq c;
          c.x = x, c.w = w, c.nz = nz, c.trans = trans, c.offset = true;
          expectWq(c);
        }
}

TEST(LoweringWeightQuantBatchmatmul, ScaleShapesOffsetsAndBias) {
  for (std::string x : {"f16", "bf16"})
    for (std::string scale : {"[1]", "[1,1]", "[N]", "[1,N]"})
      for (bool offset : {false, true}) {
        Wq c;
        c.x = x, c.scale = scale, c.offset = offset;
        c.bias = scale == "[1,N]" ? "[1,N]" : "[N]";
        c.w = offset ? "i4" : "i8";
        expectWq(c, /*wide=*/false);
      }
}

TEST(LoweringWeightQuantBatchmatmul, PerGroup) {
  // K = 96, G = 32: whole groups; K = 100, G = 64: a partial last group.
  for (auto [k, g] : {std::pair<int64_t, int64_t>{96, 32}, {100, 64}})
    for (std::string x : {"f16", "bf16"})
      for (std::string w : {"i8", "i4"})
        for (bool nz : {false, true}) {
          Wq c;
          c.x = x, c.w = w, c.nz = nz, c.trans = nz && w == "i8";
          c.scale = "[G,N]", c.group = g, c.k = k, c.offset = g == 64;
          c.bias = x == "bf16" ? "[1,N]" : "";
          expectWq(c);
        }
}

TEST(LoweringWeightQuantBatchmatmul, AntiquantOutDtype) {
  for (std::string x : {"f16", "bf16"})
    for (std::string aod : {std::string("f32"), x}) {
      Wq c;
      c.x = x, c.aod = aod, c.offset = true, c.bias = "[N]";
      c.w = aod == "f32" ? "i8" : "i4";
      c.trans = aod != "f32";
      expectWq(c, /*wide=*/false);
      c.scale = "[G,N]", c.group = 32, c.k = 64, c.nz = true;
      expectWq(c);
    }
}

TEST(LoweringWeightQuantBatchmatmul, QuantScaleInt8Output) {
  for (std::string x : {"f16", "bf16"})
    for (std::string qs : {"f32", "i64"})
      for (std::string dims : {"[N]", "[1,N]", "[1]"})
        for (bool qo : {false, true}) {
          if (qs == "i64" && qo)
            continue; // the offset is packed into the scale
          Wq c;
          c.x = x, c.qs = qs, c.qsDims = dims, c.qo = qo, c.offset = true;
          c.bias = dims == "[1]" ? "" : "[N]";
          c.w = dims == "[N]" ? "i4" : "i8";
          c.trans = dims == "[1,N]";
          expectWq(c, /*wide=*/false);
        }
}

TEST(LoweringWeightQuantBatchmatmul, PackedAntiquantScale) {
  // f16 x, i8 ND weight given transposed, per-channel i64 scale, i32 offset.
  for (std::string scale : {"[N]", "[1,N]"})
    for (bool offset : {false, true})
      for (std::string aod : {"", "f16"}) {
        Wq c;
        c.trans = true, c.packed = true, c.scale = scale, c.offset = offset;
        c.aod = aod, c.bias = offset ? "[N]" : "";
        expectWq(c, /*wide=*/aod.empty());
      }
}

TEST(LoweringWeightQuantBatchmatmul, EmptyDims) {
  // K = 0: Y is zero before the epilogue (bias, requant); M or N = 0: no
  // result elements.
  for (int form : {0, 1, 2}) {
    Wq c;
    c.offset = true, c.bias = "[N]";
    if (form == 1)
      c.qs = "f32", c.qo = true, c.x = "bf16";
    if (form == 2)
      c.trans = c.packed = true;
    WqGraph g = build(c);
    Kir k(g.text);
    for (Numerics numerics : kBoth)
      expectMatches(k, ShapeMode::Dynamic,
                    {{{"M", 3}, {"K", 0}, {"N", 5}},
                     {{"M", 0}, {"K", 4}, {"N", 5}},
                     {{"M", 3}, {"K", 4}, {"N", 0}}},
                    wqInputs(c, g), numerics);
  }
}

TEST(LoweringWeightQuantBatchmatmul, NumericsModesDiffer) {
  // Sanity: golden and npu-compat disagree on these inputs, so the sweeps
  // above exercise both paths.
  for (Wq c : {Wq{}, [] {
                 Wq p;
                 p.trans = p.packed = p.offset = true;
                 return p;
               }()}) {
    c.x = c.packed ? "f16" : "bf16";
    WqGraph g = build(c);
    Kir k(g.text);
    ASSERT_TRUE(k.g);
    // The packed path differs only by fp32 ulps before the f16 rounding.
    SymbolBindings dims{{"M", 33}, {"K", 33}, {"N", 64}};
    std::vector<Tensor> in = inputsFor(*k.g, dims, 1, wqInputs(c, g));
    auto golden = runReference(*k.g, in, {Numerics::Golden}, dims);
    auto npu = runReference(*k.g, in, {Numerics::NpuCompat}, dims);
    ASSERT_FALSE(golden.failed() || npu.failed());
    EXPECT_FALSE(sameBits((*golden)[0], (*npu)[0])) << c.describe();
  }
}

} // namespace
} // namespace kiln
