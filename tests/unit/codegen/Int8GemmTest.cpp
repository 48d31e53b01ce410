//===- Int8GemmTest.cpp - the int8 GEMM engine on every ISA path ----------===//
//
// Every op on codegen/Int8Gemm compiled with each TargetISA this host runs
// (avx512vnni, avx512, avx2, generic), in dynamic mode over edge sizes
// (1, 2, 3, 7, 17, 33, 100, 255 and past the kc = 512 k block) and in
// static mode for a few, compared bit for bit with runReference.
//
//===----------------------------------------------------------------------===//
#include "LoweringTestUtil.h"

namespace kiln {
namespace {

using namespace kiln::lowering_test;
using codegen::TargetISA;

/// The ISAs this host can run (forcing one it cannot is an error).
std::vector<TargetISA> isas() {
  std::vector<TargetISA> out;
  for (TargetISA isa : {TargetISA::Avx512Vnni, TargetISA::Avx512,
                        TargetISA::Avx2, TargetISA::Generic})
    if (codegen::hostSupports(isa))
      out.push_back(isa);
  return out;
}

/// Compiles `k` for `isa` in `mode` and checks each size bit for bit.
void expectIsaMatches(Kir &k, TargetISA isa, ShapeMode mode,
                      const std::vector<SymbolBindings> &sizes,
                      Numerics numerics = Numerics::Golden,
                      const Adjust &adjust = {}) {
  SCOPED_TRACE(codegen::isaName(isa));
  CompileOptions options{.mode = mode, .eval = {numerics}};
  options.isa = isa;
  expectCompiledMatches(k, options, sizes, adjust, 100);
}

/// Each of `names` over the edge sizes with the others at `base`, then a
/// small full grid.
std::vector<SymbolBindings> edgeSweep(const std::vector<std::string> &names,
                                      SymbolBindings base) {
  std::vector<SymbolBindings> out;
  for (const std::string &n : names)
    for (int64_t v : {1, 2, 3, 7, 17, 33, 100, 255}) {
      SymbolBindings s = base;
      s[n] = v;
      out.push_back(s);
    }
  for (const SymbolBindings &s : grid(names, {1, 7, 33}, {}))
    out.push_back(s);
  return out;
}

const char *kReduceSum = R"(
func @qmrs(%x1: i8[B,M,K], %x2: i8[B,K,N] NZ, %s1: f32[B,M], %s2: bf16[N]) -> bf16[M,N] sym(B, M, K, N) {
  %y = npu.quant_matmul_reduce_sum(%x1, %x2, x1_scale = %s1, x2_scale = %s2) : bf16[M,N]
  return %y
}
)";

TEST(Int8Gemm, QuantMatmulReduceSumEveryIsa) {
  std::vector<SymbolBindings> sizes =
      edgeSweep({"M", "K", "N"}, {{"M", 17}, {"K", 33}, {"N", 33}});
  for (SymbolBindings &s : sizes)
    s["B"] = s["M"] * s["K"] * s["N"] > 200000 ? 1 : 2;
  // Several k blocks, rows past one work tile, odd K.
  sizes.push_back({{"B", 2}, {"M", 101}, {"K", 1101}, {"N", 130}});
  std::vector<SymbolBindings> few = {{{"B", 2}, {"M", 7}, {"K", 17}, {"N", 33}},
                                     {{"B", 1}, {"M", 100}, {"K", 555}, {"N", 255}}};
  for (TargetISA isa : isas())
    for (Numerics numerics : {Numerics::Golden, Numerics::NpuCompat}) {
      Kir k(kReduceSum);
      expectIsaMatches(k, isa, ShapeMode::Dynamic, sizes, numerics);
      expectIsaMatches(k, isa, ShapeMode::Static, few, numerics);
    }
}

TEST(Int8Gemm, FullRangeInt8IsExact) {
  // All -128: every pair product is 2^14 and pairs sum to 2^15 (the case
  // vpmaddubsw saturates); the i32 sum wraps past 2^31 for K = 140000.
  Adjust minus128 = [](std::vector<Tensor> &in, const SymbolBindings &,
                       std::mt19937_64 &) {
    for (int p : {0, 1})
      for (int64_t i = 0; i < in[p].numel(); ++i)
        in[p].setInt(i, -128);
  };
  for (TargetISA isa : isas()) {
    Kir k(kReduceSum);
    expectIsaMatches(k, isa, ShapeMode::Dynamic,
                     {{{"B", 1}, {"M", 2}, {"K", 140000}, {"N", 3}},
                      {{"B", 2}, {"M", 7}, {"K", 64}, {"N", 65}}},
                     Numerics::Golden, minus128);
  }
}

// The matmul primitive (codegen/Int8MatMul.cpp): transposes, ND and NZ rhs.
const char *kPlain = R"(
func @mm(%a: i8[M,K], %at: i8[K,M], %b: i8[K,N], %bt: i8[N,K], %bn: i8[K,N] NZ, %btn: i8[N,K] NZ)
    -> (i32[M,N], i32[M,N], i32[M,N], i32[M,N], i32[M,N], i32[M,N]) sym(M, K, N) {
  %0 = matmul(%a, %b) : i32[M,N]
  %1 = matmul(%a, %bt) {transpose_rhs = true} : i32[M,N]
  %2 = matmul(%at, %b) {transpose_lhs = true} : i32[M,N]
  %3 = matmul(%at, %bt) {transpose_lhs = true, transpose_rhs = true} : i32[M,N]
  %4 = matmul(%a, %bn) : i32[M,N]
  %5 = matmul(%at, %btn) {transpose_lhs = true, transpose_rhs = true} : i32[M,N]
  return %0, %1, %2, %3, %4, %5
}
)";

TEST(Int8Gemm, MatMulEveryIsa) {
  std::vector<SymbolBindings> sizes =
      edgeSweep({"M", "K", "N"}, {{"M", 17}, {"K", 33}, {"N", 33}});
  sizes.push_back({{"M", 101}, {"K", 1030}, {"N", 140}});
  std::vector<SymbolBindings> few = {{{"M", 7}, {"K", 17}, {"N", 33}},
                                     {{"M", 100}, {"K", 255}, {"N", 129}}};
  for (TargetISA isa : isas()) {
    Kir k(kPlain);
    expectIsaMatches(k, isa, ShapeMode::Dynamic, sizes);
    expectIsaMatches(k, isa, ShapeMode::Static, few);
  }
}

TEST(Int8Gemm, BatchedAndGroupedMatMul) {
  Kir batched(R"(
func @bmm(%a: i8[B,M,K], %b: i8[B,K,N] NZ, %w: i8[K,N], %x: i8[M,K])
    -> (i32[B,M,N], i32[B,M,N], i32[B,M,N]) sym(B, M, K, N) {
  %0 = matmul(%a, %b) : i32[B,M,N]
  %1 = matmul(%a, %w) : i32[B,M,N]
  %2 = matmul(%x, %b) : i32[B,M,N]
  return %0, %1, %2
}
)");
  std::vector<SymbolBindings> sizes = {
      {{"B", 3}, {"M", 7}, {"K", 33}, {"N", 17}},
      {{"B", 2}, {"M", 100}, {"K", 3}, {"N", 255}},
      {{"B", 1}, {"M", 1}, {"K", 1}, {"N", 1}},
      {{"B", 0}, {"M", 2}, {"K", 2}, {"N", 2}}};
  for (TargetISA isa : isas())
    expectIsaMatches(batched, isa, ShapeMode::Dynamic, sizes);
  for (const char *type : {"count", "cumsum"}) {
    Kir grouped(subst(R"(
func @gmm(%x: i8[M,K], %w: i8[E,K,N] NZ, %wt: i8[E,N,K], %g: i64[E])
    -> (i32[M,N], i32[M,N]) sym(M, K, N, E) {
  %0 = matmul(%x, %w, group_list = %g) {group_list_type = GLT} : i32[M,N]
  %1 = matmul(%x, %wt, group_list = %g) {group_list_type = GLT, transpose_rhs = true} : i32[M,N]
  return %0, %1
}
)", "GLT", type));
    bool count = std::string(type) == "count";
    Adjust groups = [count](std::vector<Tensor> &in, const SymbolBindings &dims,
                            std::mt19937_64 &rng) {
      partialGroups(in[3], dims.at("M"), count, rng);
    };
    std::vector<SymbolBindings> gsizes = {
        {{"M", 33}, {"K", 17}, {"N", 7}, {"E", 3}},
        {{"M", 255}, {"K", 100}, {"N", 130}, {"E", 2}},
        {{"M", 1}, {"K", 1}, {"N", 1}, {"E", 1}},
        {{"M", 5}, {"K", 2}, {"N", 3}, {"E", 0}}};
    for (TargetISA isa : isas())
      expectIsaMatches(grouped, isa, ShapeMode::Dynamic, gsizes,
                       Numerics::Golden, groups);
  }
}

TEST(Int8Gemm, ForcedIsaTheHostLacksIsAnError) {
  for (TargetISA isa : {TargetISA::Avx512Vnni, TargetISA::Avx512,
                        TargetISA::Avx2}) {
    if (codegen::hostSupports(isa))
      continue;
    Kir k(kReduceSum);
    CompileOptions options;
    options.isa = isa;
    std::unique_ptr<CompiledGraph> exe = compile(*k.g, options, k.engine);
    if (!exe)
      continue;
    std::vector<Tensor> inputs =
        inputsFor(*k.g, {{"B", 1}, {"M", 1}, {"K", 1}, {"N", 1}}, 1, {});
    EXPECT_TRUE(exe->run(inputs).failed());
  }
}

} // namespace
} // namespace kiln
