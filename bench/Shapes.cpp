//===- Shapes.cpp - the fused operators and shapes kiln-bench times -------===//
#include "bench/Shapes.h"

#include <fmt/core.h>

#include <utility>

namespace kiln::bench {

namespace {

/// `text` with each `$KEY` replaced (keys are tried in order, so a key must
/// not be a prefix of a later one).
std::string subst(std::string text,
                  const std::vector<std::pair<std::string, int64_t>> &vars) {
  for (const auto &[key, value] : vars) {
    std::string k = "$" + key, v = std::to_string(value);
    for (size_t at = text.find(k); at != std::string::npos;
         at = text.find(k, at + v.size()))
      text.replace(at, k.size(), v);
  }
  return text;
}

// The decompositions, as in tests/lit/fusion/<op>.kir (@canonical, @f16_plain
// with per-channel or per-group scales, @combine, @bias_x3).

const char *kQuantMatmulReduceSum = R"(
func @quant_matmul_reduce_sum(%x1: i8[B,M,K], %x2: i8[B,K,N] NZ, %s1: f32[B,M], %s2: bf16[N]) -> bf16[M,N] sym(B, M, K, N) {
  %acc = matmul(%x1, %x2) : i32[B,M,N]
  %p = dequant(%acc, %s2, row_scale = %s1) : f32[B,M,N]
  %r = reduce_sum(%p) {dims = [0]} : f32[M,N]
  %y = cast(%r) {to = bf16} : bf16[M,N]
  return %y
}
)";

const char *kWeightQuantPerChannel = R"(
func @weight_quant_batchmatmul(%x: f16[M,K], %w: $W[K,N], %s: f16[N]) -> f16[M,N] sym(M, K, N) {
  %wd = dequant(%w, %s) {out_dtype = f16} : f16[K,N]
  %y = matmul(%x, %wd) : f16[M,N]
  return %y
}
)";

// Per-group dequant needs a static K (and so a static group count).
const char *kWeightQuantPerGroup = R"(
func @weight_quant_batchmatmul(%x: f16[M,$K], %w: $W[$K,N], %s: f16[$G,N]) -> f16[M,N] sym(M, N) {
  %wd = dequant(%w, %s) {group_size = 128, out_dtype = f16} : f16[$K,N]
  %y = matmul(%x, %wd) : f16[M,N]
  return %y
}
)";

// SwiGLU halves a static last dim.
const char *kGroupedMatmulSwigluQuant = R"(
func @grouped_matmul_swiglu_quant_v2(%x: i8[M,K], %w: i8[E,K,$N] NZ, %ws: f32[E,$N], %xs: f32[M], %gl: i64[E]) -> (i8[M,$H], f32[M]) sym(E, M, K) {
  %acc = matmul(%x, %w, group_list = %gl) : i32[M,$N]
  %d = dequant(%acc, %ws, row_scale = %xs, group_list = %gl) : f32[M,$N]
  %a = swiglu(%d) : f32[M,$H]
  %q, %s = quant(%a) {mode = dynamic} : (i8[M,$H], f32[M])
  return %q, %s
}
)";

const char *kGroupedMatmulFinalizeRouting = R"(
func @grouped_matmul_finalize_routing(%x: i8[M,K], %w: i8[E,K,N] NZ, %gl: i64[E], %s: f32[E,N], %pt: f32[M], %lg: f32[M], %ri: i64[M], %sh: bf16[B,N]) -> f32[B,N] sym(E, M, K, N, B) {
  %acc = matmul(%x, %w, group_list = %gl) {group_list_type = count} : i32[M,N]
  %y = dequant(%acc, %s, row_scale = %pt, group_list = %gl) {group_list_type = count} : f32[M,N]
  %l = reshape(%lg) {shape = [M, 1]} : f32[M,1]
  %yw = mul(%y, %l) : f32[M,N]
  %init = cast(%sh) {to = f32} : f32[B,N]
  %out = scatter_add(%yw, %ri, init = %init) : f32[B,N]
  return %out
}
)";

// Single rank: the all-reduce is the identity, the epilogue is bias + x3.
const char *kMmAllReduceBase = R"(
func @mm_all_reduce_base(%x1: f16[M,K], %x2: f16[K,N], %bias: f16[N], %x3: f16[M,N]) -> f16[M,N] sym(M, K, N) {
  %acc = matmul(%x1, %x2) {out_dtype = f32} : f32[M,N]
  %bf = cast(%bias) {to = f32} : f32[N]
  %b = add(%acc, %bf) : f32[M,N]
  %x3f = cast(%x3) {to = f32} : f32[M,N]
  %p = add(%x3f, %b) : f32[M,N]
  %h = cast(%p) {to = f16} : f16[M,N]
  %o = allreduce(%h) : f16[M,N]
  return %o
}
)";

struct Builder {
  std::vector<BenchCase> cases;

  /// Adds `c` with its function renamed @op_<index>: each case's graph text
  /// is then unique, so no case finds another's artefact in the process-wide
  /// compile cache (same-text cases would share a dynamic-mode artefact and
  /// hide its cold compile).
  void push(BenchCase c) {
    size_t at = c.kir.find('(', c.kir.find("func @"));
    c.kir.insert(at, "_" + std::to_string(cases.size()));
    cases.push_back(std::move(c));
  }

  void quantMatmulReduceSum(int64_t b, int64_t m, int64_t k, int64_t n,
                            bool small) {
    push({fmt::format("quant_matmul_reduce_sum/b{}.m{}.k{}.n{}", b, m, k, n),
          kQuantMatmulReduceSum,
          {{"B", b}, {"M", m}, {"K", k}, {"N", n}},
          double(b) * m * k * n,
          true,
          small});
  }

  void weightQuant(bool int4, bool perGroup, int64_t m, int64_t k, int64_t n,
                   bool small) {
    std::string name =
        fmt::format("weight_quant_batchmatmul/{}.{}/m{}.k{}.n{}",
                    int4 ? "i4" : "i8", perGroup ? "g128" : "channel", m, k, n);
    std::string text = perGroup ? kWeightQuantPerGroup : kWeightQuantPerChannel;
    text = subst(text, {{"K", k}, {"G", (k + 127) / 128}});
    for (size_t at; (at = text.find("$W")) != std::string::npos;)
      text.replace(at, 2, int4 ? "i4" : "i8");
    SymbolBindings dims{{"M", m}, {"N", n}};
    if (!perGroup)
      dims["K"] = k;
    push({name, text, dims, double(m) * k * n, false, small});
  }

  void groupedMatmulSwigluQuant(int64_t e, int64_t m, int64_t k, int64_t n,
                                bool small) {
    push({fmt::format("grouped_matmul_swiglu_quant_v2/e{}.m{}.k{}.n{}", e, m, k,
                      n),
          subst(kGroupedMatmulSwigluQuant, {{"N", n}, {"H", n / 2}}),
          {{"E", e}, {"M", m}, {"K", k}},
          double(m) * k * n,
          true,
          small});
  }

  void groupedMatmulFinalizeRouting(int64_t e, int64_t m, int64_t k, int64_t n,
                                    int64_t batch, bool small) {
    push({fmt::format("grouped_matmul_finalize_routing/e{}.m{}.k{}.n{}.b{}", e,
                      m, k, n, batch),
          kGroupedMatmulFinalizeRouting,
          {{"E", e}, {"M", m}, {"K", k}, {"N", n}, {"B", batch}},
          double(m) * k * n,
          true,
          small});
  }

  void mmAllReduceBase(int64_t m, int64_t k, int64_t n, bool small) {
    push({fmt::format("mm_all_reduce_base/m{}.k{}.n{}", m, k, n),
          kMmAllReduceBase,
          {{"M", m}, {"K", k}, {"N", n}},
          double(m) * k * n,
          false,
          small});
  }
};

} // namespace

std::vector<BenchCase> benchCases() {
  Builder b;
  b.quantMatmulReduceSum(8, 256, 1024, 1024, false);
  b.quantMatmulReduceSum(8, 32, 128, 128, true);

  // M = 1 and 16 are decode (bandwidth-bound); 8192 x 320 x 256 is compute.
  // K = 320 keeps its size in the small variant: per-group 128 needs K > 128.
  struct Mkn {
    int64_t m, k, n;
  };
  const Mkn large[] = {{1, 4096, 4096}, {16, 4096, 4096}, {8192, 320, 256}};
  const Mkn small[] = {{1, 512, 512}, {16, 512, 512}, {1024, 320, 32}};
  for (bool int4 : {false, true})
    for (bool perGroup : {false, true})
      for (int i = 0; i < 3; ++i) {
        b.weightQuant(int4, perGroup, large[i].m, large[i].k, large[i].n,
                      false);
        b.weightQuant(int4, perGroup, small[i].m, small[i].k, small[i].n, true);
      }

  // M counts routed rows (tokens x top-k), split across E experts.
  b.groupedMatmulSwigluQuant(8, 512, 2048, 1024, false);
  b.groupedMatmulSwigluQuant(8, 64, 256, 128, true);
  b.groupedMatmulSwigluQuant(2, 512, 7168, 4096, false);
  b.groupedMatmulSwigluQuant(2, 64, 896, 512, true);

  // 72 tokens x top-8 = 576 routed rows, combined back into 72.
  b.groupedMatmulFinalizeRouting(8, 576, 2048, 7168, 72, false);
  b.groupedMatmulFinalizeRouting(8, 72, 256, 896, 9, true);

  b.mmAllReduceBase(1280, 5120, 640, false);
  b.mmAllReduceBase(160, 640, 80, true);
  return b.cases;
}

} // namespace kiln::bench
