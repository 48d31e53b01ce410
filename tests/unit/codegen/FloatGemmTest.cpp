//===- FloatGemmTest.cpp - the float GEMM engine's edges match -------------===//
//
// The register-blocked float engine (codegen/FloatGemm.h) through the ops
// that use it, bit for bit against runReference: every remainder of the
// register tile (M around the small-M limit and the row block, N around a
// vector and a column tile, K odd), int8 and int4, ND / NZ / transposed
// weights, per-channel and per-group scales, golden and npu-compat, dynamic
// mode over the whole sweep (both tile shapes, chosen at run time) and
// static mode over a few sizes (one tile shape, constant extents).
//
//===----------------------------------------------------------------------===//
#include "LoweringTestUtil.h"

namespace kiln {
namespace {

using namespace kiln::lowering_test;

/// x[M,K] times an int weight with per-channel scales and offsets.
std::string wqChannel(const std::string &w, const std::string &layout,
                      bool trans, const std::string &aod) {
  std::string wt = trans ? "[N,K]" : "[K,N]";
  std::string text = R"(
func @wq(%x: f16[M,K], %w: WT LAYOUT, %s: f16[N], %o: f16[N], %b: f16[N]) -> f16[M,N] sym(M, K, N) {
  %y = npu.weight_quant_batchmatmul(%x, %w, %s, antiquant_offset = %o, bias = %b) {transpose_weight = TRANS AOD} : f16[M,N]
  return %y
}
)";
  text = subst(text, "WT", w + wt);
  text = subst(text, "LAYOUT", layout);
  text = subst(text, "TRANS", trans ? "true" : "false");
  return subst(text, "AOD", aod.empty() ? "" : ", antiquant_out_dtype = " + aod);
}

/// Per-group 32 with a static K (so a static group count).
std::string wqGroup(const std::string &w, int64_t k, const std::string &x) {
  std::string text = R"(
func @wq(%x: X[M,KK], %w: W[KK,N], %s: X[G,N]) -> X[M,N] sym(M, N) {
  %y = npu.weight_quant_batchmatmul(%x, %w, %s) {antiquant_group_size = 32} : X[M,N]
  return %y
}
)";
  text = subst(text, "KK", std::to_string(k));
  text = subst(text, "G,", std::to_string((k + 31) / 32) + ",");
  text = subst(text, "W[", w + "[");
  return subst(text, "X[", x + "[");
}

const std::vector<int64_t> kRows = {1, 2, 3, 4, 5, 9};
const std::vector<int64_t> kCols = {1, 16, 17, 100, 128, 129, 255};

std::vector<SymbolBindings> sweep(bool withK, bool wide = true) {
  std::vector<SymbolBindings> out;
  for (int64_t m : wide ? kRows : std::vector<int64_t>{1, 3, 5})
    for (int64_t n : wide ? kCols : std::vector<int64_t>{1, 17, 129}) {
      SymbolBindings s{{"M", m}, {"N", n}};
      if (withK)
        s["K"] = (m * 7 + n) % 2 ? 33 : 7;
      out.push_back(s);
    }
  if (withK) {
    out.push_back({{"M", 1}, {"K", 255}, {"N", 300}});
    out.push_back({{"M", 17}, {"K", 100}, {"N", 65}});
    out.push_back({{"M", 2}, {"K", 0}, {"N", 33}});
    // Panels: more than one panel of rows, more than one k chunk.
    out.push_back({{"M", 70}, {"K", 300}, {"N", 100}});
    out.push_back({{"M", 129}, {"K", 513}, {"N", 17}});
    // Few rows: more than one strip of columns, more than one k chunk.
    out.push_back({{"M", 2}, {"K", 70}, {"N", 1100}});
  } else {
    out.push_back({{"M", 70}, {"N", 100}});
    out.push_back({{"M", 1}, {"N", 600}});
  }
  return out;
}

const std::vector<SymbolBindings> kStatic = {
    {{"M", 1}, {"K", 255}, {"N", 129}},
    {{"M", 7}, {"K", 17}, {"N", 255}},
    {{"M", 4}, {"K", 3}, {"N", 128}}};

TEST(FloatGemmWeightQuant, ChannelLayoutsAndEdges) {
  for (std::string w : {"i8", "i4"})
    for (std::string layout : {"", "NZ"})
      for (bool trans : {false, true})
        for (Numerics num : {Numerics::Golden, Numerics::NpuCompat}) {
          SCOPED_TRACE(w + " " + layout + (trans ? " T" : "") +
                       (num == Numerics::Golden ? " golden" : " npu"));
          Kir k(wqChannel(w, layout, trans, trans ? "" : "f16"));
          expectMatchesBoth(k, sweep(true), kStatic, {}, num);
        }
}

TEST(FloatGemmWeightQuant, PerGroupEdges) {
  for (std::string w : {"i8", "i4"})
    for (std::string x : {"f16", "bf16"})
      for (int64_t kk : {33, 95, 255})
        for (Numerics num : {Numerics::Golden, Numerics::NpuCompat}) {
          SCOPED_TRACE(w + " " + x + " K=" + std::to_string(kk));
          Kir k(wqGroup(w, kk, x));
          std::vector<SymbolBindings> few = {{{"M", 1}, {"N", 129}},
                                             {{"M", 5}, {"N", 17}}};
          expectMatchesBoth(k, sweep(false), few, {}, num);
        }
}

//===----------------------------------------------------------------------===//
// float matmul
//===----------------------------------------------------------------------===//

const char *kMatMul = R"(
func @mm(%a: T[M,K], %at: T[K,M], %b: T[K,N], %bt: T[N,K], %bn: T[K,N] NZ, %p: T[3,M,K], %q: T[3,K,N]) -> (O[M,N], O[M,N], O[M,N], O[3,M,N], O[3,M,N]) sym(M, K, N) {
  %0 = matmul(%a, %b) {ATTR} : O[M,N]
  %1 = matmul(%at, %bt) {transpose_lhs = true, transpose_rhs = true ATTR2} : O[M,N]
  %2 = matmul(%a, %bn) {ATTR} : O[M,N]
  %3 = matmul(%p, %q) {ATTR} : O[3,M,N]
  %4 = matmul(%p, %b) {ATTR} : O[3,M,N]
  return %0, %1, %2, %3, %4
}
)";

TEST(FloatGemmMatMul, DtypesLayoutsAndEdges) {
  for (std::string t : {"f32", "f16", "bf16"})
    for (std::string o : {std::string("same"), std::string("f32")}) {
      std::string out = o == "same" ? t : o;
      std::string attr = o == "same" ? "" : "out_dtype = " + o;
      std::string text = subst(kMatMul, "ATTR2", attr.empty() ? "" : ", " + attr);
      text = subst(text, "ATTR", attr);
      text = subst(subst(text, "T[", t + "["), "O[", out + "[");
      SCOPED_TRACE(t + " -> " + out);
      Kir k(text);
      expectMatchesBoth(k, sweep(true, false), kStatic);
    }
}

const char *kGrouped = R"(
func @gmm(%x: T[M,K], %w: T[3,K,N], %wt: T[3,N,K], %g: i64[3]) -> (T[M,N], T[M,N]) sym(M, K, N) {
  %0 = matmul(%x, %w, group_list = %g) {group_list_type = count} : T[M,N]
  %1 = matmul(%x, %wt, group_list = %g) {group_list_type = count, transpose_rhs = true} : T[M,N]
  return %0, %1
}
)";

TEST(FloatGemmMatMul, GroupedPartialGroups) {
  for (std::string t : {"f32", "f16", "bf16"}) {
    Kir k(subst(kGrouped, "T[", t + "["));
    Adjust groups = [](std::vector<Tensor> &in, const SymbolBindings &d,
                       std::mt19937_64 &rng) {
      partialGroups(in[3], d.at("M"), /*count=*/true, rng);
    };
    expectMatchesBoth(k, sweep(true, false), kStatic, groups);
  }
}

} // namespace
} // namespace kiln
