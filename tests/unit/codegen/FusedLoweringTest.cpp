//===- FusedLoweringTest.cpp - compiled fused ops match the reference -----===//
//
// npu.grouped_matmul_swiglu_quant_v2, npu.grouped_matmul_finalize_routing
// and npu.mm_all_reduce_base: each graph is compiled once in dynamic mode
// and swept over sizes 1, 2, 3, 7, 17, 33 per dim, and compiled in static
// mode for a few of them, in golden and npu-compat numerics; every run is
// compared bit for bit with runReference on the same seeded inputs. Data
// errors must carry the reference's words.
//
//===----------------------------------------------------------------------===//
#include "LoweringTestUtil.h"

namespace kiln {
namespace {

using namespace kiln::lowering_test;

const Numerics kNumerics[] = {Numerics::Golden, Numerics::NpuCompat};

const char *name(Numerics n) {
  return n == Numerics::Golden ? "golden" : "npu-compat";
}

/// `base` with extra bindings.
SymbolBindings with(SymbolBindings base, const SymbolBindings &extra) {
  for (const auto &[k, v] : extra)
    base[k] = v;
  return base;
}

/// Entries of a group list.
int64_t groupTotal(const Tensor &list, bool count) {
  int64_t total = 0;
  for (int64_t g = 0; g < list.numel(); ++g)
    total = count ? total + list.getInt(g) : list.getInt(g);
  return list.numel() ? total : 0;
}

//===----------------------------------------------------------------------===//
// npu.grouped_matmul_swiglu_quant_v2
//===----------------------------------------------------------------------===//

std::string swigluQuant(int64_t n, bool count) {
  std::string text = R"(
func @sq(%x: i8[M,K], %w: i8[E,K,NN] NZ, %ws: f32[E,NN], %xs: f32[M], %gl: i64[E])
    -> (i8[M,HH], f32[M]) sym(M, K, E) {
  %q, %s = npu.grouped_matmul_swiglu_quant_v2(%x, %w, %ws, %xs, %gl) {group_list_type = GLT} : (i8[M,HH], f32[M])
  return %q, %s
}
)";
  text = subst(text, "NN", std::to_string(n));
  text = subst(text, "HH", std::to_string(n / 2));
  return subst(text, "GLT", count ? "count" : "cumsum");
}

/// Partial group lists on half the seeds; zero rows and zero x_scale
/// entries (scale 0, q 0); weight scales small enough for SiLU's curved
/// part on half the seeds, wide (expf overflow) on the others.
Adjust swigluInputs(bool count) {
  return [=](std::vector<Tensor> &in, const SymbolBindings &dims,
             std::mt19937_64 &rng) {
    int64_t m = dims.at("M"), k = dims.at("K");
    if (rng() % 2)
      partialGroups(in[4], m, count, rng);
    if (m > 1)
      for (int64_t c = 0; c < k; ++c)
        in[0].setInt(k + c, 0);
    if (m > 0)
      in[3].setDouble(m - 1, 0.0);
    if (rng() % 2)
      for (int64_t i = 0; i < in[2].numel(); ++i)
        in[2].setDouble(i, in[2].getDouble(i) * 1e-4);
  };
}

TEST(LoweringSwigluQuant, SizesGroupListsAndNumerics) {
  std::vector<SymbolBindings> sizes;
  for (int64_t e : {1, 3, 7})
    for (const SymbolBindings &s : grid({"M", "K"}, kSizes))
      sizes.push_back(with(s, {{"E", e}}));
  std::vector<SymbolBindings> few = {{{"M", 33}, {"K", 17}, {"E", 7}},
                                     {{"M", 1}, {"K", 2}, {"E", 1}}};
  // N = 530: a half wider than one 256-column accumulator block.
  for (int64_t n : {2, 6, 34, 66, 530}) {
    for (bool count : {true, false}) {
      for (Numerics numerics : kNumerics) {
        SCOPED_TRACE("N = " + std::to_string(n) +
                     (count ? " count " : " cumsum ") + name(numerics));
        Kir k(swigluQuant(n, count));
        expectMatchesBoth(k, n > 66 ? few : sizes, few, swigluInputs(count),
                          numerics);
      }
    }
  }
}

TEST(LoweringSwigluQuant, EmptyAndWrapping) {
  Kir k(swigluQuant(4, true));
  expectMatches(k, ShapeMode::Dynamic,
                {{{"M", 0}, {"K", 3}, {"E", 2}},
                 {{"M", 3}, {"K", 0}, {"E", 2}},
                 {{"M", 3}, {"K", 2}, {"E", 0}}});
  // 16384 * 131073 does not fit i32: both wrap the same way.
  Adjust minus128 = [](std::vector<Tensor> &in, const SymbolBindings &,
                       std::mt19937_64 &) {
    for (unsigned p : {0u, 1u})
      for (int64_t i = 0; i < in[p].numel(); ++i)
        in[p].setInt(i, -128);
  };
  expectMatches(k, ShapeMode::Dynamic, {{{"M", 2}, {"K", 131073}, {"E", 1}}},
                minus128);
}

TEST(LoweringSwigluQuant, BadGroupListsFailBeforeWriting) {
  Tensor x = filled(DType::I8, {5, 4}, 1);
  Tensor w = filled(DType::I8, {3, 4, 2}, 1, Layout::NZ);
  Tensor ws = filled(DType::F32, {3, 2}, 1), xs = filled(DType::F32, {5}, 1);
  std::string text = R"(
func @sq(%x: i8[M,4], %w: i8[3,4,2] NZ, %ws: f32[3,2], %xs: f32[M], %gl: i64[3])
    -> (i8[M,1], f32[M]) sym(M) {
  %q, %s = npu.grouped_matmul_swiglu_quant_v2(%x, %w, %ws, %xs, %gl) {group_list_type = GLT} : (i8[M,1], f32[M])
  return %q, %s
}
)";
  std::string count = subst(text, "GLT", "count");
  std::string cumsum = subst(text, "GLT", "cumsum");
  for (ShapeMode mode : {ShapeMode::Static, ShapeMode::Dynamic}) {
    expectSameError(count, {x, w, ws, xs, ints(DType::I64, {1, -2, 0})},
                    "group_list[1] = -2 is negative", mode);
    expectSameError(cumsum, {x, w, ws, xs, ints(DType::I64, {2, 1, 5})},
                    "group_list[1] = 1 is less than group_list[0] = 2", mode);
    expectSameError(count, {x, w, ws, xs, ints(DType::I64, {2, 2, 2})},
                    "group_list[2] = 2 takes the groups past the 5", mode);
    expectSameError(cumsum, {x, w, ws, xs, ints(DType::I64, {0, 0, 6})},
                    "group_list[2] = 6 takes the groups past the 5", mode);
  }
}

//===----------------------------------------------------------------------===//
// npu.grouped_matmul_finalize_routing
//===----------------------------------------------------------------------===//

/// Combine mode (output_bs = B, a shared window at row 1), scatter-only
/// with an i32 row_index (output_bs = m), and combine without
/// pertoken_scale.
std::string finalizeRouting(bool count) {
  std::string text = R"(
func @fr(%x: i8[M,K], %w: i8[E,K,N] NZ, %gl: i64[E], %s: f32[E,N], %pt: f32[M], %sh: bf16[S,N], %lg: f32[M], %ri: i64[M], %rj: i32[M])
    -> (f32[B,N], f32[M,N], f32[B,N]) sym(M, K, N, E, B, S) {
  %0 = npu.grouped_matmul_finalize_routing(%x, %w, %gl, scale = %s, pertoken_scale = %pt, shared_input = %sh, logit = %lg, row_index = %ri) {shared_input_weight = 0.75, shared_input_offset = 1, output_bs = B, group_list_type = GLT} : f32[B,N]
  %1 = npu.grouped_matmul_finalize_routing(%x, %w, %gl, scale = %s, pertoken_scale = %pt, row_index = %rj) {group_list_type = GLT} : f32[M,N]
  %2 = npu.grouped_matmul_finalize_routing(%x, %w, %gl, scale = %s, shared_input = %sh, logit = %lg, row_index = %ri) {shared_input_offset = 1, output_bs = B, group_list_type = GLT} : f32[B,N]
  return %0, %1, %2
}
)";
  return subst(text, "GLT", count ? "count" : "cumsum");
}

/// Partial group lists on half the seeds; row_index entries past the
/// list's total out of range (they must never be read).
Adjust finalizeInputs(bool count) {
  return [=](std::vector<Tensor> &in, const SymbolBindings &dims,
             std::mt19937_64 &rng) {
    if (rng() % 2)
      partialGroups(in[2], dims.at("M"), count, rng);
    int64_t used = groupTotal(in[2], count);
    for (unsigned p : {7u, 8u})
      for (int64_t i = used; i < in[p].numel(); ++i)
        in[p].setInt(i, i % 2 ? -5 : 1000);
  };
}

/// Sizes with 1 + S <= B (the shared window fits).
std::vector<SymbolBindings> finalizeSizes() {
  std::vector<SymbolBindings> sizes;
  int64_t e = 0;
  for (const SymbolBindings &s : grid({"M", "K", "N"}, kSizes)) {
    int64_t b = 2 + (s.at("M") + s.at("N")) % 7;
    sizes.push_back(
        with(s, {{"E", 1 + 3 * (e++ % 3)}, {"B", b}, {"S", s.at("K") % b}}));
  }
  // Rows wider than one 256-column block.
  sizes.push_back(
      {{"M", 7}, {"K", 5}, {"N", 300}, {"E", 3}, {"B", 4}, {"S", 3}});
  sizes.push_back(
      {{"M", 40}, {"K", 3}, {"N", 520}, {"E", 2}, {"B", 9}, {"S", 2}});
  return sizes;
}

TEST(LoweringFinalizeRouting, SizesGroupListsAndNumerics) {
  std::vector<SymbolBindings> sizes = finalizeSizes();
  std::vector<SymbolBindings> few = {
      {{"M", 33}, {"K", 17}, {"N", 7}, {"E", 7}, {"B", 5}, {"S", 4}},
      {{"M", 1}, {"K", 1}, {"N", 1}, {"E", 1}, {"B", 1}, {"S", 0}},
      {{"M", 7}, {"K", 5}, {"N", 300}, {"E", 3}, {"B", 4}, {"S", 3}}};
  for (bool count : {true, false}) {
    for (Numerics numerics : kNumerics) {
      SCOPED_TRACE(std::string(count ? "count " : "cumsum ") + name(numerics));
      Kir k(finalizeRouting(count));
      expectMatchesBoth(k, sizes, few, finalizeInputs(count), numerics);
    }
  }
}

TEST(LoweringFinalizeRouting, EmptyDims) {
  Kir k(finalizeRouting(true));
  expectMatches(k, ShapeMode::Dynamic,
                {{{"M", 0}, {"K", 3}, {"N", 2}, {"E", 2}, {"B", 2}, {"S", 1}},
                 {{"M", 3}, {"K", 0}, {"N", 2}, {"E", 2}, {"B", 2}, {"S", 1}},
                 {{"M", 3}, {"K", 2}, {"N", 0}, {"E", 2}, {"B", 2}, {"S", 1}},
                 {{"M", 3}, {"K", 2}, {"N", 3}, {"E", 0}, {"B", 2}, {"S", 1}}});
}

const char *kFinalizeErrors = R"(
func @fr(%x: i8[M,4], %w: i8[2,4,3] NZ, %gl: i64[2], %s: f32[2,3], %sh: bf16[S,3], %lg: f32[M], %ri: RI[M])
    -> f32[4,3] sym(M, S) {
  %y = npu.grouped_matmul_finalize_routing(%x, %w, %gl, scale = %s, shared_input = %sh, logit = %lg, row_index = %ri) {shared_input_offset = 2, output_bs = 4, group_list_type = GLT} : f32[4,3]
  return %y
}
)";

TEST(LoweringFinalizeRouting, DataErrorsFailBeforeWriting) {
  std::string count =
      subst(subst(kFinalizeErrors, "GLT", "count"), "RI", "i64");
  std::string cumsum =
      subst(subst(kFinalizeErrors, "GLT", "cumsum"), "RI", "i32");
  Tensor x = filled(DType::I8, {5, 4}, 1);
  Tensor w = filled(DType::I8, {2, 4, 3}, 1, Layout::NZ);
  Tensor s = filled(DType::F32, {2, 3}, 1), lg = filled(DType::F32, {5}, 1);
  Tensor sh = filled(DType::BF16, {2, 3}, 1),
         sh3 = filled(DType::BF16, {3, 3}, 1);
  Tensor ri = ints(DType::I64, {0, 1, 2, 3, 0});
  for (ShapeMode mode : {ShapeMode::Static, ShapeMode::Dynamic}) {
    expectSameError(count, {x, w, ints(DType::I64, {1, -2}), s, sh, lg, ri},
                    "group_list[1] = -2 is negative", mode);
    expectSameError(cumsum,
                    {x, w, ints(DType::I64, {3, 2}), s, sh, lg,
                     ints(DType::I32, {0, 1, 2, 3, 0})},
                    "group_list[1] = 2 is less than group_list[0] = 3", mode);
    expectSameError(count, {x, w, ints(DType::I64, {3, 3}), s, sh, lg, ri},
                    "group_list[1] = 3 takes the groups past the 5", mode);
    expectSameError(count,
                    {x, w, ints(DType::I64, {2, 2}), s, sh, lg,
                     ints(DType::I64, {0, 3, 4, 1, 0})},
                    "row_index[2] = 4 is out of range for 4 output rows", mode);
    // Only rows below the total are checked: row 4 (value -1) is unused.
    expectSameError(cumsum,
                    {x, w, ints(DType::I64, {1, 4}), s, sh, lg,
                     ints(DType::I32, {0, -3, 1, 1, -1})},
                    "row_index[1] = -3 is out of range for 4 output rows",
                    mode);
    expectSameError(count, {x, w, ints(DType::I64, {2, 2}), s, sh3, lg, ri},
                    "shared_input_offset (2) + shared_input rows (3) exceeds "
                    "the 4 output rows",
                    mode);
  }
}

//===----------------------------------------------------------------------===//
// npu.mm_all_reduce_base
//===----------------------------------------------------------------------===//

TEST(LoweringMmAllReduce, NonQuant) {
  std::string text = R"(
func @nq(%a: T[M,K], %b: T[K,N], %bn: T[K,N] NZ, %bias: T[N], %x3: T[M,N], %a3: T[B,S,K], %y3: T[B,S,N])
    -> (T[M,N], T[M,N], T[B,S,N], T[M,N]) sym(M, K, N, B, S) {
  %0 = npu.mm_all_reduce_base(%a, %b) : T[M,N]
  %1 = npu.mm_all_reduce_base(%a, %bn, bias = %bias, x3 = %x3) : T[M,N]
  %2 = npu.mm_all_reduce_base(%a3, %b, bias = %bias, x3 = %y3) : T[B,S,N]
  %3 = npu.mm_all_reduce_base(%a, %b, x3 = %x3) : T[M,N]
  return %0, %1, %2, %3
}
)";
  std::vector<SymbolBindings> sizes =
      grid({"M", "K", "N"}, kSizes, {{"B", 2}, {"S", 3}});
  sizes.push_back({{"M", 3}, {"K", 5}, {"N", 300}, {"B", 1}, {"S", 2}});
  std::vector<SymbolBindings> few = {
      {{"M", 7}, {"K", 17}, {"N", 33}, {"B", 3}, {"S", 1}},
      {{"M", 1}, {"K", 1}, {"N", 1}, {"B", 1}, {"S", 1}}};
  for (const char *t : {"f16", "bf16"})
    for (Numerics numerics : kNumerics) {
      SCOPED_TRACE(std::string(t) + " " + name(numerics));
      Kir k(subst(text, "T[", std::string(t) + "["));
      expectMatchesBoth(k, sizes, few, {}, numerics);
    }
}

TEST(LoweringMmAllReduce, WeightQuant) {
  std::string text = R"(
func @wq(%a: T[M,K], %w: i8[K,N] NZ, %s1: T[1], %sn: T[N], %on: T[N], %s1n: T[1,N], %bias: T[N], %x3: T[M,N],
         %a3: T[B,S,100], %wg: i8[100,N], %sg: T[4,N], %og: T[4,N])
    -> (T[M,N], T[M,N], T[M,N], T[B,S,N]) sym(M, K, N, B, S) {
  %0 = npu.mm_all_reduce_base(%a, %w, antiquant_scale = %s1) : T[M,N]
  %1 = npu.mm_all_reduce_base(%a, %w, bias = %bias, antiquant_scale = %sn, antiquant_offset = %on, x3 = %x3) : T[M,N]
  %2 = npu.mm_all_reduce_base(%a, %w, antiquant_scale = %s1n) : T[M,N]
  %3 = npu.mm_all_reduce_base(%a3, %wg, antiquant_scale = %sg, antiquant_offset = %og) {antiquant_group_size = 32} : T[B,S,N]
  return %0, %1, %2, %3
}
)";
  std::vector<SymbolBindings> sizes =
      grid({"M", "K", "N"}, kSizes, {{"B", 2}, {"S", 3}});
  std::vector<SymbolBindings> few = {
      {{"M", 7}, {"K", 17}, {"N", 33}, {"B", 3}, {"S", 1}},
      {{"M", 2}, {"K", 3}, {"N", 260}, {"B", 1}, {"S", 2}}};
  for (const char *t : {"f16", "bf16"})
    for (Numerics numerics : kNumerics) {
      SCOPED_TRACE(std::string(t) + " " + name(numerics));
      Kir k(subst(text, "T[", std::string(t) + "["));
      expectMatchesBoth(k, sizes, few, {}, numerics);
    }
}

TEST(LoweringMmAllReduce, FullQuant) {
  Kir k(R"(
func @fq(%a: i8[M,K], %b: i8[K,N], %bn: i8[K,N] NZ, %bias: i32[N], %ds: i64[N], %dsb: bf16[1,N], %df: f32[1],
         %pt: f32[M], %x3: f16[M,N], %x3b: bf16[M,N], %a3: i8[1,S,K], %pt3: f32[S])
    -> (f16[M,N], bf16[M,N], f16[M,N], bf16[1,S,N]) sym(M, K, N, S) {
  %0 = npu.mm_all_reduce_base(%a, %b, bias = %bias, dequant_scale = %ds) : f16[M,N]
  %1 = npu.mm_all_reduce_base(%a, %bn, x3 = %x3b, dequant_scale = %dsb) : bf16[M,N]
  %2 = npu.mm_all_reduce_base(%a, %bn, bias = %bias, x3 = %x3, dequant_scale = %df, pertoken_scale = %pt) : f16[M,N]
  %3 = npu.mm_all_reduce_base(%a3, %b, dequant_scale = %dsb, pertoken_scale = %pt3) : bf16[1,S,N]
  return %0, %1, %2, %3
}
)");
  // Packed scales as npu_trans_quant_param makes them (random offset bits,
  // which the op ignores); small f32 scales so f16 results stay finite;
  // a full-range i32 bias on half the seeds, so acc + bias wraps.
  Adjust scales = [](std::vector<Tensor> &in, const SymbolBindings &,
                     std::mt19937_64 &rng) {
    std::uniform_real_distribution<float> u(1e-4f, 1e-2f);
    for (int64_t i = 0; i < in[4].numel(); ++i) {
      uint32_t bits = std::bit_cast<uint32_t>(u(rng) * (rng() % 2 ? 1 : -1));
      int64_t packed = int64_t(bits & 0xFFFFE000u) | (int64_t(1) << 46) |
                       (int64_t(rng() & 0x1FF) << 37);
      in[4].setInt(i, packed);
    }
    in[6].setDouble(0, in[6].getDouble(0) * 1e-3);
    if (rng() % 2)
      for (int64_t i = 0; i < in[3].numel(); ++i)
        in[3].setInt(i, static_cast<int32_t>(rng()));
  };
  std::vector<SymbolBindings> sizes = grid({"M", "K", "N"}, kSizes, {{"S", 3}});
  sizes.push_back({{"M", 2}, {"K", 9}, {"N", 513}, {"S", 2}});
  std::vector<SymbolBindings> few = {{{"M", 7}, {"K", 17}, {"N", 33}, {"S", 2}},
                                     {{"M", 1}, {"K", 1}, {"N", 1}, {"S", 1}}};
  for (Numerics numerics : kNumerics) {
    SCOPED_TRACE(name(numerics));
    expectMatchesBoth(k, sizes, few, scales, numerics);
  }
}

} // namespace
} // namespace kiln
