//===- LoweringTest.cpp - compiled linear-algebra ops match the reference -===//
//
// matmul, dequant, quant, swiglu and scatter_add: each graph is compiled
// once in dynamic mode and swept over many sizes (1, 2, 3, 7, 17, 33 per
// dim), and compiled in static mode for a few of them; every run is compared
// bit for bit with runReference on the same seeded inputs.
//
//===----------------------------------------------------------------------===//
#include "LoweringTestUtil.h"

namespace kiln {
namespace {

using namespace kiln::lowering_test;

//===----------------------------------------------------------------------===//
// matmul
//===----------------------------------------------------------------------===//

/// Four transpose combinations, ND and NZ rhs, in one graph: T is the
/// operand dtype, O the out_dtype attribute entry (or nothing).
std::string plainMatMuls(const std::string &t, const std::string &attr,
                         const std::string &out) {
  std::string text = R"(
func @mm(%a: T[M,K], %at: T[K,M], %b: T[K,N], %bt: T[N,K], %bn: T[K,N] NZ, %btn: T[N,K] NZ)
    -> (O[M,N], O[M,N], O[M,N], O[M,N], O[M,N], O[M,N]) sym(M, K, N) {
  %0 = matmul(%a, %b) {ATTR} : O[M,N]
  %1 = matmul(%a, %bt) {transpose_rhs = true ATTR2} : O[M,N]
  %2 = matmul(%at, %b) {transpose_lhs = true ATTR2} : O[M,N]
  %3 = matmul(%at, %bt) {transpose_lhs = true, transpose_rhs = true ATTR2} : O[M,N]
  %4 = matmul(%a, %bn) {ATTR} : O[M,N]
  %5 = matmul(%at, %btn) {transpose_lhs = true, transpose_rhs = true ATTR2} : O[M,N]
  return %0, %1, %2, %3, %4, %5
}
)";
  text = subst(text, "ATTR2", attr.empty() ? "" : ", " + attr);
  text = subst(text, "ATTR", attr);
  text = subst(text, "T[", t + "[");
  return subst(text, "O[", out + "[");
}

TEST(LoweringMatMul, FloatTransposesAndNZ) {
  std::vector<SymbolBindings> sizes = grid({"M", "K", "N"}, kSizes);
  // A row wider than one accumulator block (256 columns).
  sizes.push_back({{"M", 3}, {"K", 5}, {"N", 300}});
  std::vector<SymbolBindings> few = {{{"M", 7}, {"K", 17}, {"N", 33}},
                                     {{"M", 1}, {"K", 1}, {"N", 1}}};
  for (auto [t, attr, out] :
       {std::tuple<std::string, std::string, std::string>{"f32", "", "f32"},
        {"f16", "", "f16"},
        {"bf16", "", "bf16"},
        {"f16", "out_dtype = f32", "f32"},
        {"bf16", "out_dtype = f16", "f16"}}) {
    SCOPED_TRACE(t + " -> " + out);
    Kir k(plainMatMuls(t, attr, out));
    expectMatches(k, ShapeMode::Dynamic, sizes);
    expectMatches(k, ShapeMode::Static, few);
  }
}

TEST(LoweringMatMul, Int8TransposesAndNZ) {
  Kir k(plainMatMuls("i8", "", "i32"));
  std::vector<SymbolBindings> sizes = grid({"M", "K", "N"}, kSizes);
  sizes.push_back({{"M", 2}, {"K", 40}, {"N", 513}});
  expectMatchesBoth(k, sizes, {{{"M", 17}, {"K", 33}, {"N", 7}}});
}

TEST(LoweringMatMul, Int8SumWrapsToI32) {
  // 16384 * 131073 = 2147500032 does not fit i32: both wrap the same way.
  Kir k(R"(
func @wrap(%a: i8[1,K], %b: i8[K,1]) -> i32[1,1] sym(K) {
  %0 = matmul(%a, %b) : i32[1,1]
  return %0
}
)");
  Adjust minus128 = [](std::vector<Tensor> &in, const SymbolBindings &,
                       std::mt19937_64 &) {
    for (Tensor &t : in)
      for (int64_t i = 0; i < t.numel(); ++i)
        t.setInt(i, -128);
  };
  expectMatches(k, ShapeMode::Dynamic, {{{"K", 131073}}}, minus128);
}

TEST(LoweringMatMul, Batched) {
  Kir k(R"(
func @bmm(%a: f16[B,M,K], %b: f16[B,K,N], %w: f16[K,N], %x: f16[M,K], %bt: f16[B,N,K] NZ,
          %p: i8[2,B,K,M], %q: i8[N,K])
    -> (f32[B,M,N], f16[B,M,N], f16[B,M,N], bf16[B,M,N], i32[2,B,M,N]) sym(B, M, K, N) {
  %0 = matmul(%a, %b) {out_dtype = f32} : f32[B,M,N]
  %1 = matmul(%a, %w) : f16[B,M,N]
  %2 = matmul(%x, %b) : f16[B,M,N]
  %3 = matmul(%a, %bt) {transpose_rhs = true, out_dtype = bf16} : bf16[B,M,N]
  %4 = matmul(%p, %q) {transpose_lhs = true, transpose_rhs = true} : i32[2,B,M,N]
  return %0, %1, %2, %3, %4
}
)");
  std::vector<SymbolBindings> sizes;
  for (int64_t b : {1, 2, 3})
    for (const SymbolBindings &s : grid({"M", "K", "N"}, {1, 3, 7, 17}))
      sizes.push_back([&] {
        SymbolBindings c = s;
        c["B"] = b;
        return c;
      }());
  expectMatchesBoth(k, sizes, {{{"B", 3}, {"M", 7}, {"K", 17}, {"N", 2}}});
}

/// Grouped matmuls of one dtype over E experts, count and cumsum lists (the
/// group_list parameters are %gc, a count, and %gs, a cumsum).
std::string groupedMatMuls(const std::string &t, const std::string &out,
                           const std::string &listType) {
  std::string text = R"(
func @gmm(%x: T[M,K], %w: T[E,K,N], %wt: T[E,N,K] NZ, %gc: L[E], %gs: L[E])
    -> (O[M,N], O[M,N], O[M,N]) sym(M, K, N, E) {
  %0 = matmul(%x, %w, group_list = %gc) {group_list_type = count} : O[M,N]
  %1 = matmul(%x, %wt, group_list = %gs) {transpose_rhs = true} : O[M,N]
  %2 = matmul(%x, %w, group_list = %gs) : O[M,N]
  return %0, %1, %2
}
)";
  text = subst(text, "T[", t + "[");
  text = subst(text, "L[", listType + "[");
  return subst(text, "O[", out + "[");
}

/// Seeds alternate between the covering random lists of randomInput and
/// lists that leave trailing rows in no group.
Adjust partialGroupLists(unsigned countParam, unsigned cumsumParam) {
  return [=](std::vector<Tensor> &in, const SymbolBindings &dims,
             std::mt19937_64 &rng) {
    if (rng() % 2)
      return;
    partialGroups(in[countParam], dims.at("M"), /*count=*/true, rng);
    partialGroups(in[cumsumParam], dims.at("M"), /*count=*/false, rng);
  };
}

TEST(LoweringMatMul, Grouped) {
  std::vector<SymbolBindings> sizes;
  for (int64_t e : {1, 3, 7})
    for (const SymbolBindings &s : grid({"M", "K", "N"}, kSizes))
      sizes.push_back([&] {
        SymbolBindings c = s;
        c["E"] = e;
        return c;
      }());
  std::vector<SymbolBindings> few = {{{"M", 33}, {"K", 17}, {"N", 7}, {"E", 7}},
                                     {{"M", 3}, {"K", 2}, {"N", 1}, {"E", 3}}};
  for (auto [t, out, list] :
       {std::tuple<std::string, std::string, std::string>{"i8", "i32", "i64"},
        {"f16", "f16", "i32"},
        {"bf16", "bf16", "i64"},
        {"f32", "f32", "i32"}}) {
    SCOPED_TRACE(t);
    Kir k(groupedMatMuls(t, out, list));
    expectMatchesBoth(k, sizes, few, partialGroupLists(3, 4));
  }
}

const char *kGroupedI8 = R"(
func @gmm(%x: i8[M,4], %w: i8[3,4,2], %g: i64[3]) -> i32[M,2] sym(M) {
  %0 = matmul(%x, %w, group_list = %g) {group_list_type = GLT} : i32[M,2]
  return %0
}
)";

TEST(LoweringMatMul, BadGroupListsFailBeforeWriting) {
  std::string count = subst(kGroupedI8, "GLT", "count");
  std::string cumsum = subst(kGroupedI8, "GLT", "cumsum");
  Tensor x = filled(DType::I8, {5, 4}, 1), w = filled(DType::I8, {3, 4, 2}, 1);
  for (ShapeMode mode : {ShapeMode::Static, ShapeMode::Dynamic}) {
    expectSameError(count, {x, w, ints(DType::I64, {1, -2, 0})},
                    "group_list[1] = -2 is negative", mode);
    expectSameError(cumsum, {x, w, ints(DType::I64, {2, 1, 5})},
                    "group_list[1] = 1 is less than group_list[0] = 2", mode);
    expectSameError(count, {x, w, ints(DType::I64, {2, 2, 2})},
                    "group_list[2] = 2 takes the groups past the 5", mode);
    expectSameError(cumsum, {x, w, ints(DType::I64, {0, 0, 6})},
                    "group_list[2] = 6 takes the groups past the 5", mode);
  }
}

TEST(LoweringMatMul, EmptyDims) {
  // K = 0 gives zero sums; M or N = 0 gives nothing to compute.
  std::vector<SymbolBindings> sizes = {{{"M", 3}, {"K", 0}, {"N", 2}},
                                       {{"M", 0}, {"K", 4}, {"N", 2}},
                                       {{"M", 2}, {"K", 3}, {"N", 0}}};
  Kir k(plainMatMuls("f16", "out_dtype = f32", "f32"));
  expectMatches(k, ShapeMode::Dynamic, sizes);
  Kir g(groupedMatMuls("i8", "i32", "i64"));
  expectMatches(g, ShapeMode::Dynamic,
                {{{"M", 0}, {"K", 2}, {"N", 3}, {"E", 2}},
                 {{"M", 3}, {"K", 0}, {"N", 3}, {"E", 2}},
                 {{"M", 3}, {"K", 2}, {"N", 3}, {"E", 0}}});
}

//===----------------------------------------------------------------------===//
// dequant
//===----------------------------------------------------------------------===//

TEST(LoweringDequant, BroadcastScalesOffsetsAndRowScale) {
  Kir k(R"(
func @dq(%acc: i32[M,N], %s: f32[N], %r: f32[M], %q: i8[B,M,N], %t: bf16[1], %o: bf16[1],
         %u: f16[M,1], %rr: f32[B,M], %v: f16[], %w: i4[M,N] NZ, %c: f32[1,N])
    -> (bf16[M,N], f32[B,M,N], f16[B,M,N], f32[B,M,N], f32[M,N]) sym(B, M, N) {
  %0 = dequant(%acc, %s, row_scale = %r) {out_dtype = bf16} : bf16[M,N]
  %1 = dequant(%q, %t, offset = %o) : f32[B,M,N]
  %2 = dequant(%q, %u, offset = %u, row_scale = %rr) {out_dtype = f16} : f16[B,M,N]
  %3 = dequant(%q, %v) : f32[B,M,N]
  %4 = dequant(%w, %c) : f32[M,N]
  return %0, %1, %2, %3, %4
}
)");
  std::vector<SymbolBindings> sizes = grid({"M", "N"}, kSizes, {{"B", 2}});
  sizes.push_back({{"B", 3}, {"M", 17}, {"N", 7}});
  // Large i32 accumulators (float rounding of int) and large scales.
  Adjust big = [](std::vector<Tensor> &in, const SymbolBindings &,
                  std::mt19937_64 &rng) {
    std::uniform_int_distribution<int64_t> u(-2147483648LL, 2147483647LL);
    for (int64_t i = 0; i < in[0].numel(); ++i)
      in[0].setInt(i, u(rng));
    for (int64_t i = 0; i < in[1].numel(); ++i)
      in[1].setDouble(i, in[1].getDouble(i) * 1e-3);
  };
  expectMatchesBoth(k, sizes, {{{"B", 2}, {"M", 7}, {"N", 33}}}, big);
}

TEST(LoweringDequant, PerGroupI4AndI8) {
  // group_axis -2 (K static, groups of 32 and 16) and -1 (N static).
  Kir k(R"(
func @dq(%w: i4[100,N] NZ, %s: f16[4,N], %o: f16[4,N], %v: i4[M,64], %t: f32[1,4],
         %x: i8[B,40,N], %g: bf16[B,3,1], %y: i4[100,N])
    -> (f16[100,N], f32[M,64], bf16[B,40,N], f32[100,N]) sym(B, M, N) {
  %0 = dequant(%w, %s, offset = %o) {out_dtype = f16, group_size = 32} : f16[100,N]
  %1 = dequant(%v, %t) {group_size = 16, group_axis = -1} : f32[M,64]
  %2 = dequant(%x, %g) {group_size = 16, group_axis = 1, out_dtype = bf16} : bf16[B,40,N]
  %3 = dequant(%y, %s, offset = %o) {group_size = 32} : f32[100,N]
  return %0, %1, %2, %3
}
)");
  std::vector<SymbolBindings> sizes = grid({"M", "N"}, kSizes, {{"B", 2}});
  expectMatchesBoth(k, sizes, {{{"B", 1}, {"M", 3}, {"N", 17}}});
}

TEST(LoweringDequant, PerExpertGroupList) {
  Kir k(R"(
func @dq(%acc: i32[M,N], %s: f32[E,N], %o: f32[E,N], %gc: i64[E], %gs: i32[E], %t: bf16[E,1], %r: f32[M])
    -> (f32[M,N], bf16[M,N]) sym(M, N, E) {
  %0 = dequant(%acc, %s, offset = %o, group_list = %gc) {group_list_type = count} : f32[M,N]
  %1 = dequant(%acc, %t, row_scale = %r, group_list = %gs) {out_dtype = bf16} : bf16[M,N]
  return %0, %1
}
)");
  std::vector<SymbolBindings> sizes;
  for (int64_t e : {1, 2, 7})
    for (const SymbolBindings &s : grid({"M", "N"}, kSizes))
      sizes.push_back([&] {
        SymbolBindings c = s;
        c["E"] = e;
        return c;
      }());
  expectMatchesBoth(k, sizes, {{{"M", 17}, {"N", 3}, {"E", 7}}},
                    partialGroupLists(3, 4));
  // A bad list fails with the reference's words.
  Tensor acc = filled(DType::I32, {4, 2}, 3), s = filled(DType::F32, {2, 2}, 1);
  Tensor t = filled(DType::BF16, {2, 1}, 1), r = filled(DType::F32, {4}, 1);
  std::string text = R"(
func @dq(%acc: i32[M,2], %s: f32[2,2], %o: f32[2,2], %gc: i64[2], %gs: i32[2], %t: bf16[2,1], %r: f32[M])
    -> (f32[M,2], bf16[M,2]) sym(M) {
  %0 = dequant(%acc, %s, offset = %o, group_list = %gc) {group_list_type = count} : f32[M,2]
  %1 = dequant(%acc, %t, row_scale = %r, group_list = %gs) {out_dtype = bf16} : bf16[M,2]
  return %0, %1
}
)";
  expectSameError(
      text,
      {acc, s, s, ints(DType::I64, {1, 4}), ints(DType::I32, {1, 2}), t, r},
      "group_list[1] = 4 takes the groups past the 4", ShapeMode::Dynamic);
  expectSameError(
      text,
      {acc, s, s, ints(DType::I64, {1, 3}), ints(DType::I32, {3, 2}), t, r},
      "a cumsum group_list must not decrease", ShapeMode::Static);
}

//===----------------------------------------------------------------------===//
// quant
//===----------------------------------------------------------------------===//

TEST(LoweringQuant, Static) {
  Kir k(R"(
func @q(%x: f16[M,N], %s: f32[N], %o: f32[N], %y: bf16[B,M,N], %t: bf16[], %z: f32[M,N], %u: f16[M,1])
    -> (i8[M,N], i8[B,M,N], i8[M,N], i8[M,N]) sym(B, M, N) {
  %0 = quant(%x, scale = %s, offset = %o) : i8[M,N]
  %1 = quant(%y, scale = %t) : i8[B,M,N]
  %2 = quant(%z, scale = %u, offset = %u) : i8[M,N]
  %3 = quant(%x, scale = %s) : i8[M,N]
  return %0, %1, %2, %3
}
)");
  // Scales large enough to saturate; exact .5 products to test ties; a NaN.
  Adjust wide = [](std::vector<Tensor> &in, const SymbolBindings &,
                   std::mt19937_64 &rng) {
    for (unsigned p : {1u, 4u, 6u})
      for (int64_t i = 0; i < in[p].numel(); ++i)
        in[p].setDouble(i, in[p].getDouble(i) * 300);
    in[1].setDouble(0, 1.0);
    in[2].setDouble(0, 0.0);
    for (int64_t i = 0; i < in[0].numel(); i += in[0].dim(1))
      in[0].setDouble(i, static_cast<double>(rng() % 21) - 10.5);
    in[5].setDouble(in[5].numel() - 1, NAN);
  };
  std::vector<SymbolBindings> sizes = grid({"M", "N"}, kSizes, {{"B", 2}});
  expectMatchesBoth(k, sizes, {{{"B", 3}, {"M", 7}, {"N", 17}}}, wide);
}

TEST(LoweringQuant, DynamicPerToken) {
  Kir k(R"(
func @q(%x: f16[M,N], %y: bf16[B,M,N], %z: f32[M,N])
    -> (i8[M,N], f32[M], i8[B,M,N], f32[B,M], i8[M,N], f32[M]) sym(B, M, N) {
  %0, %1 = quant(%x) {mode = dynamic} : (i8[M,N], f32[M])
  %2, %3 = quant(%y) {mode = dynamic} : (i8[B,M,N], f32[B,M])
  %4, %5 = quant(%z) {mode = dynamic} : (i8[M,N], f32[M])
  return %0, %1, %2, %3, %4, %5
}
)");
  // A zero row, a row with a NaN, and a -0 row in the f32 input.
  Adjust rows = [](std::vector<Tensor> &in, const SymbolBindings &dims,
                   std::mt19937_64 &rng) {
    int64_t n = dims.at("N"), m = dims.at("M");
    for (int64_t c = 0; c < n; ++c)
      in[0].setDouble(c, 0.0);
    if (m > 1) {
      in[2].setDouble(n + rng() % n, NAN);
      for (int64_t c = 0; c < n; ++c)
        in[2].setDouble(c, -0.0);
    }
    for (int64_t i = 0; i < in[2].numel(); ++i)
      in[2].setDouble(i, in[2].getDouble(i) * 1000);
  };
  std::vector<SymbolBindings> sizes = grid({"M", "N"}, kSizes, {{"B", 2}});
  sizes.push_back({{"B", 1}, {"M", 3}, {"N", 1000}});
  for (Numerics numerics : {Numerics::Golden, Numerics::NpuCompat}) {
    SCOPED_TRACE(numerics == Numerics::Golden ? "golden" : "npu-compat");
    expectMatchesBoth(k, sizes, {{{"B", 2}, {"M", 3}, {"N", 33}}}, rows,
                      numerics);
  }
}

//===----------------------------------------------------------------------===//
// swiglu
//===----------------------------------------------------------------------===//

TEST(LoweringSwiGLU, HalvesAndDtypes) {
  Kir k(R"(
func @s(%a: f32[M,2], %b: f32[M,6], %c: f16[M,14], %d: bf16[M,34], %e: f32[B,M,66], %f: f16[B,M,4])
    -> (f32[M,1], f32[M,3], f16[M,7], bf16[M,17], f32[B,M,33], f16[B,M,2]) sym(B, M) {
  %0 = swiglu(%a) : f32[M,1]
  %1 = swiglu(%b) {activate = second} : f32[M,3]
  %2 = swiglu(%c) : f16[M,7]
  %3 = swiglu(%d) {activate = second} : bf16[M,17]
  %4 = swiglu(%e) : f32[B,M,33]
  %5 = swiglu(%f) {activate = second} : f16[B,M,2]
  return %0, %1, %2, %3, %4, %5
}
)");
  // Values up to +-100 reach expf's overflow and underflow.
  Adjust wide = [](std::vector<Tensor> &in, const SymbolBindings &,
                   std::mt19937_64 &) {
    for (Tensor &t : in)
      for (int64_t i = 0; i < t.numel(); ++i)
        t.setDouble(i, t.getDouble(i) * (i % 3 == 0 ? 100 : 8));
  };
  std::vector<SymbolBindings> sizes = grid({"M"}, kSizes, {{"B", 2}});
  sizes.push_back({{"B", 3}, {"M", 17}});
  expectMatchesBoth(k, sizes, {{{"B", 2}, {"M", 7}}}, wide);
}

//===----------------------------------------------------------------------===//
// scatter_add
//===----------------------------------------------------------------------===//

TEST(LoweringScatterAdd, FloatAndIntRowAdds) {
  Kir k(R"(
func @sa(%u: bf16[R,C], %i: i32[R], %v: f32[R,2,C], %j: i64[R], %n: f32[T,2,C], %w: i32[R,C], %h: i32[T,C], %x: f16[R,C])
    -> (bf16[T,C], f32[T,2,C], i32[T,C], i32[T,C], f16[T,C]) sym(R, T, C) {
  %0 = scatter_add(%u, %i) {num_rows = T} : bf16[T,C]
  %1 = scatter_add(%v, %j, init = %n) : f32[T,2,C]
  %2 = scatter_add(%w, %i, init = %h) {num_rows = T} : i32[T,C]
  %3 = scatter_add(%w, %j) {num_rows = T} : i32[T,C]
  %4 = scatter_add(%x, %j) {num_rows = T} : f16[T,C]
  return %0, %1, %2, %3, %4
}
)");
  // i32 values near the range ends so that sums wrap.
  Adjust wrap = [](std::vector<Tensor> &in, const SymbolBindings &,
                   std::mt19937_64 &rng) {
    for (unsigned p : {5u, 6u})
      for (int64_t i = 0; i < in[p].numel(); ++i)
        in[p].setInt(i, static_cast<int32_t>(rng()));
  };
  std::vector<SymbolBindings> sizes = grid({"R", "T", "C"}, kSizes);
  expectMatchesBoth(
      k, sizes,
      {{{"R", 33}, {"T", 7}, {"C", 3}}, {{"R", 1}, {"T", 17}, {"C", 2}}}, wrap);
}

TEST(LoweringScatterAdd, IndexOutOfRange) {
  std::string text = R"(
func @sa(%u: f32[R,2], %i: i64[R], %n: f32[3,2]) -> f32[3,2] sym(R) {
  %0 = scatter_add(%u, %i, init = %n) : f32[3,2]
  return %0
}
)";
  Tensor u = filled(DType::F32, {4, 2}, 1), n = filled(DType::F32, {3, 2}, 0);
  for (ShapeMode mode : {ShapeMode::Static, ShapeMode::Dynamic}) {
    expectSameError(text, {u, ints(DType::I64, {0, 2, 3, 1}), n},
                    "index[2] = 3 is out of range for 3 output rows", mode);
    expectSameError(text, {u, ints(DType::I64, {0, -1, 2, 7}), n},
                    "index[1] = -1 is out of range", mode);
  }
}

} // namespace
} // namespace kiln
