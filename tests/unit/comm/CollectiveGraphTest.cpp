//===- CollectiveGraphTest.cpp - allreduce and mm_all_reduce_base on N ranks ===//
//
// Every rank of an in-process group (1, 2, 4 ranks) runs the same graph on
// its own seeded shard, through the reference executor and the JIT (static
// and dynamic mode), golden and npu-compat; every rank's result must equal,
// bit for bit, the sum computed here independently: each rank's local
// partial by plain loops (OPS.md §5.1), then the reduction in rank order
// (golden: f32, one rounding; npu-compat: rounding after every addition).
//
//===----------------------------------------------------------------------===//
#include "CommTestUtil.h"

#include "codegen/CommCalls.h"
#include "codegen/CompiledGraph.h"
#include "runtime/Executor.h"

#include <cstdlib>
#include <map>

namespace kiln {
namespace {

using testing::ParsedGraph;

enum class Engine { Reference, Static, Dynamic };
const char *name(Engine e) {
  return e == Engine::Reference ? "reference"
         : e == Engine::Static  ? "static"
                                : "dynamic";
}

/// Runs `g` on `inputs` with `comm` through `engine`.
FailureOr<std::vector<Tensor>> runOn(Engine engine, const Graph &g,
                                     std::span<const Tensor> inputs,
                                     Numerics numerics, Communicator &comm,
                                     DiagEngine &diags) {
  EvalOptions eval{numerics, &comm};
  if (engine == Engine::Reference)
    return runReference(g, inputs, eval);
  CompileOptions co;
  co.mode = engine == Engine::Static ? codegen::ShapeMode::Static
                                     : codegen::ShapeMode::Dynamic;
  co.eval = eval;
  co.threads = 2;
  std::unique_ptr<CompiledGraph> exe = compile(g, co, diags);
  if (!exe)
    return failure();
  return exe->run(inputs);
}

/// This rank's partial of npu.mm_all_reduce_base (operands by name),
/// computed without the reference kernel.
std::vector<float> mmPartial(const std::map<std::string, const Tensor *> &in,
                             int64_t group, bool compat, DType outType) {
  auto get = [&](const char *n) -> const Tensor * {
    auto it = in.find(n);
    return it == in.end() ? nullptr : it->second;
  };
  const Tensor &x1 = *get("x1"), &x2 = *get("x2");
  const Tensor *bias = get("bias"), *x3 = get("x3"), *as = get("as"),
               *ao = get("ao"), *ds = get("ds"), *pt = get("pt");
  int64_t k = x2.shape()[0], n = x2.shape()[1], rows = x1.numel() / k;
  DType inType = x1.dtype();
  auto r = [&](float v, DType t) {
    return compat ? static_cast<float>(roundToFloatType(v, t)) : v;
  };
  auto f = [](const Tensor &t, int64_t i) {
    return static_cast<float>(t.getDouble(i));
  };
  std::vector<float> p(rows * n);
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < n; ++j) {
      float v = 0;
      if (inType == DType::I8) {
        int64_t acc = 0;
        for (int64_t kk = 0; kk < k; ++kk)
          acc += x1.getInt(i * k + kk) * x2.getInt(kk * n + j);
        if (bias)
          acc += bias->getInt(j);
        v = static_cast<float>(static_cast<int32_t>(static_cast<uint32_t>(acc)));
        v = v * f(*ds, ds->numel() == 1 ? 0 : j);
        if (pt)
          v = v * f(*pt, i);
      } else {
        for (int64_t kk = 0; kk < k; ++kk) {
          float w = f(x2, kk * n + j);
          if (as) {
            int64_t s = as->numel() == 1 ? 0 : group ? (kk / group) * n + j : j;
            if (ao)
              w = r(w + f(*ao, s), inType);
            w = r(w * f(*as, s), inType);
          }
          float prod = f(x1, i * k + kk) * w;
          v = v + prod;
        }
        if (bias)
          v = v + f(*bias, j);
      }
      v = r(v, outType);
      if (x3)
        v = r(v + f(*x3, i * n + j), outType);
      p[i * n + j] = v;
    }
  return p;
}

struct Case {
  std::string name, kir;
  SymbolBindings dims;
  int64_t group = 0;
};

std::vector<Case> mmCases() {
  return {
      {"non_quant_f16_bias_x3",
       "func @f(%x1: f16[M,K], %x2: f16[K,N], %bias: f16[N], %x3: f16[M,N]) "
       "-> f16[M,N] sym(M, K, N) {\n"
       "  %o = npu.mm_all_reduce_base(%x1, %x2, bias = %bias, x3 = %x3) : "
       "f16[M,N]\n  return %o\n}\n",
       {{"M", 37}, {"K", 48}, {"N", 300}}},
      {"non_quant_bf16_3d_nz",
       "func @f(%x1: bf16[B,S,K], %x2: bf16[K,N] NZ, %x3: bf16[B,S,N]) -> "
       "bf16[B,S,N] sym(B, S, K, N) {\n"
       "  %o = npu.mm_all_reduce_base(%x1, %x2, x3 = %x3) : bf16[B,S,N]\n"
       "  return %o\n}\n",
       {{"B", 2}, {"S", 9}, {"K", 40}, {"N", 33}}},
      {"weight_quant_per_group_offset_bias",
       "func @f(%x1: f16[M,64], %x2: i8[64,N], %as: f16[2,N], %ao: f16[2,N], "
       "%bias: f16[N]) -> f16[M,N] sym(M, N) {\n"
       "  %o = npu.mm_all_reduce_base(%x1, %x2, bias = %bias, antiquant_scale "
       "= %as, antiquant_offset = %ao) {antiquant_group_size = 32} : "
       "f16[M,N]\n  return %o\n}\n",
       {{"M", 21}, {"N", 40}},
       32},
      {"weight_quant_per_channel_bf16_nz_x3",
       "func @f(%x1: bf16[M,K], %x2: i8[K,N] NZ, %as: bf16[N], %x3: "
       "bf16[M,N]) -> bf16[M,N] sym(M, K, N) {\n"
       "  %o = npu.mm_all_reduce_base(%x1, %x2, antiquant_scale = %as, x3 = "
       "%x3) : bf16[M,N]\n  return %o\n}\n",
       {{"M", 16}, {"K", 50}, {"N", 70}}},
      {"full_quant_bias_bf16_scale_x3",
       "func @f(%x1: i8[M,K], %x2: i8[K,N], %bias: i32[N], %ds: bf16[N], "
       "%x3: bf16[M,N]) -> bf16[M,N] sym(M, K, N) {\n"
       "  %o = npu.mm_all_reduce_base(%x1, %x2, bias = %bias, x3 = %x3, "
       "dequant_scale = %ds) : bf16[M,N]\n  return %o\n}\n",
       {{"M", 19}, {"K", 64}, {"N", 48}}},
      {"full_quant_pertoken_f16_3d",
       "func @f(%x1: i8[2,5,K], %x2: i8[K,N], %ds: f32[N], %pt: f32[10], "
       "%x3: f16[2,5,N]) -> f16[2,5,N] sym(K, N) {\n"
       "  %o = npu.mm_all_reduce_base(%x1, %x2, x3 = %x3, dequant_scale = "
       "%ds, pertoken_scale = %pt) : f16[2,5,N]\n  return %o\n}\n",
       {{"K", 32}, {"N", 24}}},
      // Several int8 work tiles each way (264 x 128), k past one block
      // (256) and odd, an NZ weight; bf16, whose range the sums of 301
      // int8 products stay within.
      {"full_quant_many_tiles_nz_bias_pertoken",
       "func @f(%x1: i8[M,K], %x2: i8[K,N] NZ, %bias: i32[N], %ds: bf16[N], "
       "%pt: f32[M]) -> bf16[M,N] sym(M, K, N) {\n"
       "  %o = npu.mm_all_reduce_base(%x1, %x2, bias = %bias, dequant_scale "
       "= %ds, pertoken_scale = %pt) : bf16[M,N]\n  return %o\n}\n",
       {{"M", 300}, {"K", 301}, {"N", 150}}},
  };
}

/// Runs `c` on `ranks` ranks with every engine and numerics mode and
/// compares every rank's result with the independent sum.
void checkCase(const Case &c, int ranks) {
  ParsedGraph pg(c.kir);
  Graph &g = pg.graph();
  std::vector<std::vector<Tensor>> inputs;
  for (int r = 0; r < ranks; ++r)
    inputs.push_back(testing::rankInputs(g, c.dims, r));
  DType outType = g.results()[0].value->type().dtype;
  for (Numerics m : {Numerics::Golden, Numerics::NpuCompat}) {
    bool compat = m == Numerics::NpuCompat;
    std::vector<float> sum;
    for (int r = 0; r < ranks; ++r) {
      std::map<std::string, const Tensor *> named;
      for (unsigned i = 0; i < g.params().size(); ++i)
        named[g.param(i)->name()] = &inputs[r][i];
      std::vector<float> p = mmPartial(named, c.group, compat, outType);
      if (r == 0)
        sum = p;
      else
        for (size_t i = 0; i < sum.size(); ++i)
          sum[i] = compat ? static_cast<float>(
                                roundToFloatType(sum[i] + p[i], outType))
                          : sum[i] + p[i];
    }
    for (Engine e : {Engine::Reference, Engine::Static, Engine::Dynamic}) {
      std::vector<int> st = testing::runRanks(ranks, [&](Communicator &comm) {
        FailureOr<std::vector<Tensor>> out =
            runOn(e, g, inputs[comm.rank()], m, comm, pg.diags);
        if (out.failed()) {
          ADD_FAILURE() << pg.allErrors();
          return 1;
        }
        const Tensor &got = (*out)[0];
        for (int64_t i = 0; i < got.numel(); ++i)
          if (got.getDouble(i) != roundToFloatType(sum[i], outType)) {
            ADD_FAILURE() << c.name << " rank " << comm.rank() << " of "
                          << ranks << " " << name(e)
                          << (compat ? " npu-compat" : " golden")
                          << ": element " << i << " is " << got.getDouble(i)
                          << ", want " << roundToFloatType(sum[i], outType);
            return 1;
          }
        return 0;
      });
      EXPECT_EQ(st, std::vector<int>(ranks, 0)) << c.name << " " << name(e);
    }
  }
}

class MmAllReduceRanks : public ::testing::TestWithParam<int> {};

TEST_P(MmAllReduceRanks, EveryModeMatchesTheIndependentSum) {
  for (const Case &c : mmCases())
    checkCase(c, GetParam());
}

TEST_P(MmAllReduceRanks, ChunkedOverlapIsBitIdentical) {
  // Forces the JIT to pipeline 5 row chunks (uneven: 37 rows), through the
  // peer window and through messages.
  for (bool window : {true, false}) {
    codegen::setMmAllReduceChunks(5);
    codegen::setMmAllReducePeerWindow(window);
    checkCase(mmCases()[0], GetParam());
    checkCase(mmCases()[4], GetParam());
  }
  codegen::setMmAllReduceChunks(0);
  codegen::setMmAllReducePeerWindow(true);
}

TEST_P(MmAllReduceRanks, MessagesMatchTheIndependentSum) {
  codegen::setMmAllReducePeerWindow(false);
  for (const Case &c : mmCases())
    checkCase(c, GetParam());
  codegen::setMmAllReducePeerWindow(true);
}

INSTANTIATE_TEST_SUITE_P(Ranks, MmAllReduceRanks, ::testing::Values(1, 2, 4));

class AllReduceRanks : public ::testing::TestWithParam<int> {};

TEST_P(AllReduceRanks, AllReduceOpMatchesTheIndependentReduction) {
  int ranks = GetParam();
  struct OpCase {
    std::string type, op;
  };
  for (std::string type : {"f32[M,N]", "f16[M,N]", "bf16[M,N]", "f16[M,N] NZ"})
    for (std::string op : {"sum", "max", "min", "prod"}) {
      ParsedGraph pg("func @f(%x: " + type + ") -> " + type +
                     " sym(M, N) {\n  %o = allreduce(%x) {reduce_op = " + op +
                     "} : " + type + "\n  return %o\n}\n");
      Graph &g = pg.graph();
      SymbolBindings dims{{"M", 7}, {"N", 45}};
      std::vector<std::vector<Tensor>> in;
      for (int r = 0; r < ranks; ++r)
        in.push_back(testing::rankInputs(g, dims, r));
      DType t = in[0][0].dtype();
      for (Numerics m : {Numerics::Golden, Numerics::NpuCompat}) {
        Tensor want(t, in[0][0].shape(), in[0][0].layout()); // not a view
        for (int64_t i = 0; i < want.numel(); ++i) {
          float acc = static_cast<float>(in[0][0].getDouble(i));
          for (int r = 1; r < ranks; ++r) {
            float v = static_cast<float>(in[r][0].getDouble(i));
            acc = op == "sum"   ? acc + v
                  : op == "max" ? std::max(acc, v)
                  : op == "min" ? std::min(acc, v)
                                : acc * v;
            if (m == Numerics::NpuCompat)
              acc = static_cast<float>(roundToFloatType(acc, t));
          }
          want.setDouble(i, acc);
        }
        for (Engine e : {Engine::Reference, Engine::Static, Engine::Dynamic}) {
          std::vector<int> st = testing::runRanks(ranks, [&](Communicator &c) {
            auto out = runOn(e, g, in[c.rank()], m, c, pg.diags);
            if (out.failed())
              return 1;
            EXPECT_TRUE(testing::sameBits(want, (*out)[0]))
                << type << " " << op << " " << name(e) << " rank " << c.rank();
            return 0;
          });
          EXPECT_EQ(st, std::vector<int>(ranks, 0)) << pg.allErrors();
        }
      }
    }
}

INSTANTIATE_TEST_SUITE_P(Ranks, AllReduceRanks, ::testing::Values(1, 2, 4));

} // namespace
} // namespace kiln
