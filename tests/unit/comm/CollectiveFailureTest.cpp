//===- CollectiveFailureTest.cpp - bad multi-rank runs end on every rank --===//
//
// Ranks that disagree on a graph's shapes, or a rank that fails before its
// collective, make every rank's run (reference or JIT) fail with a clear
// error at the op, in bounded time, never a hang.
//
//===----------------------------------------------------------------------===//
#include "CommTestUtil.h"

#include "codegen/CompiledGraph.h"
#include "runtime/Executor.h"

namespace kiln {
namespace {

using namespace std::chrono_literals;

const char *kMatmulAllReduce =
    "func @f(%x1: f16[M,K], %x2: f16[K,N]) -> f16[M,N] sym(M, K, N) {\n"
    "  %o = npu.mm_all_reduce_base(%x1, %x2) : f16[M,N]\n"
    "  return %o\n}\n";

int countContaining(const std::vector<std::string> &errors,
                    const std::string &what) {
  int n = 0;
  for (const std::string &e : errors)
    n += e.find(what) != std::string::npos;
  return n;
}

/// Every rank runs @f with M = 8 + rank (the JIT in static mode, or the
/// reference executor).
void runDisagreeing(bool jit) {
  testing::ParsedGraph pg(kMatmulAllReduce);
  auto begin = std::chrono::steady_clock::now();
  std::vector<int> st = testing::runRanks(2, [&](Communicator &c) {
    SymbolBindings dims{{"M", 8 + c.rank()}, {"K", 16}, {"N", 24}};
    std::vector<Tensor> in = testing::rankInputs(pg.graph(), dims, c.rank());
    EvalOptions eval{Numerics::Golden, &c};
    if (!jit)
      return runReference(pg.graph(), in, eval).failed() ? 1 : 0;
    auto exe = compile(pg.graph(), {.eval = eval, .threads = 1}, pg.diags);
    return !exe || exe->run(in).failed() ? 1 : 0;
  });
  EXPECT_LT(std::chrono::steady_clock::now() - begin, 10s);
  EXPECT_EQ(st, (std::vector<int>{1, 1}));
  EXPECT_EQ(countContaining(pg.errors, "ranks disagree on allreduce #0: rank "
                                       "0 has allreduce #0 (192 x f32"),
            2)
      << pg.allErrors();
}

TEST(CollectiveFailureTest, ShapesDisagreeInTheJit) { runDisagreeing(true); }
TEST(CollectiveFailureTest, ShapesDisagreeInTheReference) {
  runDisagreeing(false);
}

TEST(CollectiveFailureTest, FailingRankEndsTheOthersRuns) {
  testing::ParsedGraph pg(kMatmulAllReduce);
  std::vector<int> st = testing::runRanks(3, [&](Communicator &c) {
    if (c.rank() == 1) {
      c.abort("cannot read x1.1.npy");
      return 1;
    }
    SymbolBindings dims{{"M", 8}, {"K", 16}, {"N", 24}};
    std::vector<Tensor> in = testing::rankInputs(pg.graph(), dims, c.rank());
    auto exe = compile(pg.graph(), {.eval = {Numerics::Golden, &c}}, pg.diags);
    return !exe || exe->run(in).failed() ? 1 : 0;
  });
  EXPECT_EQ(st, (std::vector<int>{1, 1, 1}));
  EXPECT_EQ(countContaining(pg.errors, "rank 1 failed: cannot read x1.1.npy"),
            2)
      << pg.allErrors();
}

/// Rank 1's scatter_add reads an out-of-range index: its kernel reports the
/// data error and tells the others, whose allreduce then fails at once.
void runDataError(bool jit) {
  testing::ParsedGraph pg(
      "func @f(%u: f32[3,2], %idx: i32[3]) -> f32[4,2] {\n"
      "  %s = scatter_add(%u, %idx) {num_rows = 4} : f32[4,2]\n"
      "  %y = allreduce(%s) : f32[4,2]\n"
      "  return %y\n}\n");
  auto begin = std::chrono::steady_clock::now();
  std::vector<int> st = testing::runRanks(
      2,
      [&](Communicator &c) {
        std::vector<Tensor> in{Tensor(DType::F32, {3, 2}),
                               Tensor(DType::I32, {3})};
        in[1].setInt(2, c.rank() == 1 ? 9 : 3);
        EvalOptions eval{Numerics::Golden, &c};
        if (!jit)
          return runReference(pg.graph(), in, eval).failed() ? 1 : 0;
        auto exe = compile(pg.graph(), {.eval = eval}, pg.diags);
        return !exe || exe->run(in).failed() ? 1 : 0;
      },
      30s);
  EXPECT_LT(std::chrono::steady_clock::now() - begin, 10s);
  EXPECT_EQ(st, (std::vector<int>{1, 1}));
  EXPECT_EQ(countContaining(pg.errors, "'scatter_add' op index[2] = 9"), 1)
      << pg.allErrors();
  EXPECT_EQ(countContaining(pg.errors, "rank 1 failed: "), 1)
      << pg.allErrors();
}

TEST(CollectiveFailureTest, DataErrorInTheJitEndsTheOtherRanks) {
  runDataError(true);
}
TEST(CollectiveFailureTest, DataErrorInTheReferenceEndsTheOtherRanks) {
  runDataError(false);
}

} // namespace
} // namespace kiln
