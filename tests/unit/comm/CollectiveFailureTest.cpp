//===- CollectiveFailureTest.cpp - bad multi-rank runs end on every rank --===//
//
// Ranks that disagree on a graph's shapes, or a rank that fails before its
// collective, make every rank's run (reference or JIT) fail with a clear
// error at the op, in bounded time, never a hang.
//
//===----------------------------------------------------------------------===//
#include "CommTestUtil.h"

#include "codegen/CommCalls.h"
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
/// reference executor); `expected` is the error every rank reports.
void runDisagreeing(bool jit, const std::string &expected) {
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
  EXPECT_EQ(countContaining(pg.errors, expected), 2) << pg.allErrors();
}

/// Through all-reduces (window or progress threads, which word the rest
/// differently).
const char *kMessagesDisagree = "rank 0 has allreduce #0 (192 x f32";

TEST(CollectiveFailureTest, ShapesDisagreeInTheJitPeerWindow) {
  runDisagreeing(true, "ranks disagree: rank 0 has npu.mm_all_reduce_base "
                       "m=8 k=16 n=24 (a peer window of 768 bytes); rank 1 "
                       "has npu.mm_all_reduce_base m=9 k=16 n=24");
}
TEST(CollectiveFailureTest, ShapesDisagreeInTheJitMessages) {
  codegen::setMmAllReducePeerWindow(false);
  runDisagreeing(true, kMessagesDisagree);
  codegen::setMmAllReducePeerWindow(true);
}
/// Runs @f in the JIT once per entry of `rows` (M; K = 16, N = 24); 1 at
/// the first failure.
int runWithRows(testing::ParsedGraph &pg, Communicator &c,
                const std::vector<int64_t> &rows,
                Numerics numerics = Numerics::Golden) {
  auto exe =
      compile(pg.graph(), {.eval = {numerics, &c}, .threads = 1}, pg.diags);
  for (int64_t m : rows) {
    SymbolBindings dims{{"M", m}, {"K", 16}, {"N", 24}};
    if (!exe ||
        exe->run(testing::rankInputs(pg.graph(), dims, c.rank())).failed())
      return 1;
  }
  return 0;
}

/// The window is big enough already (both ranks ran M = 100 in golden);
/// then rank 1 runs in npu-compat, whose f16 partials rank 0 must not read
/// as f32: the window's tags disagree and both fail at once.
TEST(CollectiveFailureTest, PeerWindowNumericsDisagreement) {
  testing::ParsedGraph pg(kMatmulAllReduce);
  auto begin = std::chrono::steady_clock::now();
  std::vector<int> st = testing::runRanks(2, [&](Communicator &c) {
    if (runWithRows(pg, c, {100}) != 0)
      return 2; // the warm-up must pass (the status check catches this)
    return runWithRows(pg, c, {8},
                       c.rank() == 0 ? Numerics::Golden : Numerics::NpuCompat);
  });
  EXPECT_LT(std::chrono::steady_clock::now() - begin, 10s);
  EXPECT_EQ(st, (std::vector<int>{1, 1}));
  EXPECT_EQ(countContaining(pg.errors, "f32 partials, golden"), 2)
      << pg.allErrors();
  EXPECT_EQ(countContaining(pg.errors, "f16 partials, npu-compat"), 2)
      << pg.allErrors();
}

/// Both ranks run M = 8; then rank 0 runs M = 100, which needs a bigger
/// peer window, while rank 1 runs M = 8 again: both fail at once.
TEST(CollectiveFailureTest, PeerWindowGrowthDisagreement) {
  testing::ParsedGraph pg(kMatmulAllReduce);
  auto begin = std::chrono::steady_clock::now();
  std::vector<int> st = testing::runRanks(2, [&](Communicator &c) {
    return runWithRows(pg, c, {8, c.rank() == 0 ? 100 : 8});
  });
  EXPECT_LT(std::chrono::steady_clock::now() - begin, 10s);
  EXPECT_EQ(st, (std::vector<int>{1, 1}));
  EXPECT_EQ(countContaining(pg.errors, "ranks disagree"), 2) << pg.allErrors();
}

/// Rank 1 runs once and returns; rank 0's second run waits on rank 1's
/// partials in the peer window and fails at once, not at the timeout.
TEST(CollectiveFailureTest, PeerWindowRankExitingEarly) {
  testing::ParsedGraph pg(kMatmulAllReduce);
  auto begin = std::chrono::steady_clock::now();
  std::vector<int> st = testing::runRanks(2, [&](Communicator &c) {
    return runWithRows(pg, c,
                       c.rank() == 0 ? std::vector<int64_t>{8, 8}
                                     : std::vector<int64_t>{8});
  });
  EXPECT_LT(std::chrono::steady_clock::now() - begin, 10s);
  EXPECT_EQ(st, (std::vector<int>{1, 0}));
  EXPECT_EQ(countContaining(pg.errors, "rank 1 exited before finishing it"), 1)
      << pg.allErrors();
}

TEST(CollectiveFailureTest, ShapesDisagreeInTheReference) {
  runDisagreeing(false, kMessagesDisagree);
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
