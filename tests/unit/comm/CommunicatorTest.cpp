//===- CommunicatorTest.cpp - in-process all-reduce numerics and failures -===//
//
// Groups of 1, 2 and 4 threads reduce seeded buffers of f32/f16/bf16 with
// every reduce op in both numerics modes; the expected values are computed
// here, independently, in rank order (golden: f32 sum, one rounding;
// npu-compat: rounding after every addition). Then the failure contract:
// a mismatched collective, an aborting rank, a rank leaving early and a
// slow rank each end with an error on every rank, well within the timeout.
//
//===----------------------------------------------------------------------===//
#include "CommTestUtil.h"

#include <cmath>
#include <cstring>
#include <random>
#include <thread>

namespace kiln {
namespace {

using namespace std::chrono_literals;
using testing::runRanks;

/// Every test runs twice: all-reduces through the peer window (the
/// default) and through the progress threads (KILN_ALLREDUCE_WINDOW=0,
/// read when a group's ranks are made).
class CommunicatorTest : public ::testing::TestWithParam<bool> {
protected:
  void SetUp() override {
    setenv("KILN_ALLREDUCE_WINDOW", GetParam() ? "1" : "0", 1);
  }
  void TearDown() override { unsetenv("KILN_ALLREDUCE_WINDOW"); }
};
INSTANTIATE_TEST_SUITE_P(Transports, CommunicatorTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool> &p) {
                           return p.param ? "PeerWindow" : "ProgressThreads";
                         });

/// Rank r's element i, exactly representable in `t`.
float valueAt(int r, int64_t i, DType t) {
  std::mt19937 rng(static_cast<unsigned>(r * 100003 + i));
  float v = std::uniform_real_distribution<float>(-2, 2)(rng);
  return static_cast<float>(roundToFloatType(v, t));
}

std::vector<uint8_t> buffer(int r, int64_t n, DType t) {
  std::vector<uint8_t> b(n * (t == DType::F32 ? 4 : 2));
  for (int64_t i = 0; i < n; ++i) {
    float v = valueAt(r, i, t);
    if (t == DType::F32)
      std::memcpy(&b[i * 4], &v, 4);
    else {
      uint16_t h = t == DType::F16 ? doubleToHalf(v) : doubleToBf16(v);
      std::memcpy(&b[i * 2], &h, 2);
    }
  }
  return b;
}

float elementOf(const std::vector<uint8_t> &b, int64_t i, DType t) {
  if (t == DType::F32) {
    float v;
    std::memcpy(&v, &b[i * 4], 4);
    return v;
  }
  uint16_t h;
  std::memcpy(&h, &b[i * 2], 2);
  return t == DType::F16 ? halfToFloat(h) : bf16ToFloat(h);
}

float expected(int ranks, int64_t i, const ReduceSpec &s) {
  auto op = [&](float a, float b) {
    switch (s.op) {
    case ReduceOp::Sum: return a + b;
    case ReduceOp::Prod: return a * b;
    case ReduceOp::Max: return std::max(a, b);
    case ReduceOp::Min: return std::min(a, b);
    }
    return a;
  };
  float acc = valueAt(0, i, s.dtype);
  for (int r = 1; r < ranks; ++r) {
    acc = op(acc, valueAt(r, i, s.dtype));
    if (s.numerics == Numerics::NpuCompat)
      acc = static_cast<float>(roundToFloatType(acc, s.dtype));
  }
  return static_cast<float>(roundToFloatType(acc, s.dtype));
}

TEST_P(CommunicatorTest, AllReduceEveryTypeOpModeAndGroupSize) {
  const int64_t n = 1037; // not a multiple of the slice count
  for (int ranks : {1, 2, 4})
    for (DType t : {DType::F32, DType::F16, DType::BF16})
      for (ReduceOp op :
           {ReduceOp::Sum, ReduceOp::Max, ReduceOp::Min, ReduceOp::Prod})
        for (Numerics m : {Numerics::Golden, Numerics::NpuCompat}) {
          ReduceSpec spec{t, op, m, std::nullopt};
          std::vector<int> st = runRanks(ranks, [&](Communicator &c) {
            std::vector<uint8_t> b = buffer(c.rank(), n, t);
            CommStatus s = c.allreduce(b.data(), n, spec);
            EXPECT_TRUE(s.ok()) << s.message();
            int bad = 0;
            for (int64_t i = 0; i < n; ++i)
              bad += elementOf(b, i, t) != expected(ranks, i, spec);
            EXPECT_EQ(bad, 0) << ranks << " ranks, " << toString(t) << " "
                              << toString(op)
                              << (m == Numerics::Golden ? " golden" : " compat");
            return s.ok() && bad == 0 ? 0 : 1;
          });
          EXPECT_EQ(st, std::vector<int>(ranks, 0));
        }
}

TEST_P(CommunicatorTest, GoldenDiffersFromCompatWhereRoundingMatters) {
  // f16: 2048 + 1 + 1 rounds to 2048 after each addition (compat) but is
  // 2050 in f32 (golden).
  for (Numerics m : {Numerics::Golden, Numerics::NpuCompat}) {
    runRanks(3, [&](Communicator &c) {
      uint16_t v = doubleToHalf(c.rank() == 0 ? 2048 : 1);
      EXPECT_TRUE(c.allreduce(&v, 1, {DType::F16, ReduceOp::Sum, m}).ok());
      EXPECT_EQ(halfToFloat(v), m == Numerics::Golden ? 2050 : 2048);
      return 0;
    });
  }
}

TEST_P(CommunicatorTest, NonBlockingWaitsInAnyOrder) {
  runRanks(4, [](Communicator &c) {
    std::vector<float> a(100, 1.0f + c.rank()), b(7, 2.0f), d(1, -1.0f);
    auto ta = c.start(a.data(), 100, {DType::F32});
    auto tb = c.start(b.data(), 7, {DType::F32});
    auto td = c.start(d.data(), 1, {DType::F32, ReduceOp::Max});
    EXPECT_TRUE(c.wait(td).ok());
    EXPECT_TRUE(c.wait(ta).ok());
    EXPECT_TRUE(c.wait(tb).ok());
    EXPECT_EQ(a[99], 1 + 2 + 3 + 4);
    EXPECT_EQ(b[0], 8);
    EXPECT_EQ(d[0], -1);
    return 0;
  });
}

/// Runs `ranks` ranks; each must fail with a message containing `what`,
/// well before the (long) timeout.
void expectFailsEverywhere(int ranks, const std::string &what,
                           const std::function<int(Communicator &)> &fn,
                           std::chrono::milliseconds timeout = 30s) {
  auto begin = std::chrono::steady_clock::now();
  std::vector<int> st = runRanks(ranks, fn, timeout);
  auto took = std::chrono::steady_clock::now() - begin;
  EXPECT_LT(took, 10s);
  for (int r = 0; r < ranks; ++r)
    EXPECT_NE(st[r], 0) << "rank " << r << " did not report the failure";
  (void)what;
}

/// fn's collective failed with a message containing each of `parts` (the
/// transports word the rest differently): 1 (expected).
int failedWith(const CommStatus &s, std::initializer_list<std::string> parts) {
  EXPECT_FALSE(s.ok());
  for (const std::string &part : parts)
    EXPECT_NE(s.message().find(part), std::string::npos) << s.message();
  return s.ok() ? 0 : 1;
}

TEST_P(CommunicatorTest, MismatchedCountFailsOnEveryRank) {
  expectFailsEverywhere(3, "disagree", [](Communicator &c) {
    std::vector<float> b(16);
    int64_t n = c.rank() == 2 ? 12 : 16;
    return failedWith(c.allreduce(b.data(), n, {DType::F32}),
                      {"ranks disagree", "rank 0 has allreduce #0 (16 x f32",
                       "rank 2 has allreduce #0 (12 x f32"});
  });
}

/// After a collective they agree on (the peer window is big enough
/// already, so its tags must catch it).
TEST_P(CommunicatorTest, MismatchAfterAgreeingFailsOnEveryRank) {
  expectFailsEverywhere(2, "disagree", [](Communicator &c) {
    std::vector<float> b(16, 1.0f);
    if (!c.allreduce(b.data(), 16, {DType::F32}).ok())
      return 0;
    int64_t n = c.rank() == 1 ? 12 : 16;
    return failedWith(
        c.allreduce(b.data(), n, {DType::F32}),
        {"ranks disagree", "allreduce #1 (16 x f32", "allreduce #1 (12 x f32"});
  });
}

TEST_P(CommunicatorTest, MismatchedDtypeFailsOnEveryRank) {
  expectFailsEverywhere(2, "disagree", [](Communicator &c) {
    std::vector<float> b(16);
    DType t = c.rank() == 1 ? DType::F16 : DType::F32;
    return failedWith(c.allreduce(b.data(), 8, {t}),
                      {"ranks disagree", "rank 1 has allreduce #0 (8 x f16"});
  });
}

TEST_P(CommunicatorTest, AbortingRankFailsEveryRank) {
  expectFailsEverywhere(4, "", [](Communicator &c) {
    std::vector<float> b(64);
    if (c.rank() == 3) {
      std::this_thread::sleep_for(50ms);
      c.abort("cannot read shard3.npy");
      return 1;
    }
    return failedWith(c.allreduce(b.data(), 64, {DType::F32}),
                      {"rank 3 failed: cannot read shard3.npy"});
  });
}

TEST_P(CommunicatorTest, RankExitingEarlyFailsTheOthers) {
  std::vector<int> st = runRanks(2, [](Communicator &c) {
    if (c.rank() == 1)
      return 0; // leaves without taking part
    std::vector<float> b(64);
    return failedWith(c.allreduce(b.data(), 64, {DType::F32}),
                      {"allreduce #0 (64 x f32", "rank(s) 1 exited"}) == 1
               ? 0
               : 1;
  });
  EXPECT_EQ(st, (std::vector<int>{0, 0}));
}

TEST_P(CommunicatorTest, SlowRankTimesOutAndTheFailureSticks) {
  auto begin = std::chrono::steady_clock::now();
  std::vector<int> st = runRanks(
      2,
      [](Communicator &c) {
        std::vector<float> b(64);
        if (c.rank() == 1)
          std::this_thread::sleep_for(600ms);
        CommStatus s = c.allreduce(b.data(), 64, {DType::F32});
        return failedWith(s, {"allreduce #0", "200 ms", "rank(s) 1"});
      },
      200ms);
  EXPECT_LT(std::chrono::steady_clock::now() - begin, 5s);
  EXPECT_EQ(st, (std::vector<int>{1, 1}));
}

TEST_P(CommunicatorTest, AgreeNamesBothSides) {
  expectFailsEverywhere(2, "", [](Communicator &c) {
    std::string mine = c.rank() == 0 ? "x1 f16[4,8]" : "x1 f16[4,16]";
    return failedWith(c.agree(mine), {"rank 0 has x1 f16[4,8]; rank 1 has x1 "
                                      "f16[4,16]"});
  });
  std::vector<int> st = runRanks(3, [](Communicator &c) {
    return c.agree("same").ok() ? 0 : 1;
  });
  EXPECT_EQ(st, (std::vector<int>{0, 0, 0}));
}

} // namespace
} // namespace kiln
