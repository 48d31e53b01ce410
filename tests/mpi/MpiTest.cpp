//===- MpiTest.cpp - the MPI backend, run by CTest under mpirun -np 2 -----===//
//
// Every process is one rank of MPI's world (runtime/mpi/World.h). The
// reductions must be bit-identical to the in-process backend (which
// tests/unit/comm checks against independent sums): each rank rebuilds
// every rank's inputs from their seeds, runs them through an in-process
// group locally, and compares with what MPI gave it. Run directly (no
// mpirun) the program fails: it must not silently pass as one rank.
//
// --scenario NAME runs one failure case instead (tests/lit/mpi/):
//   mismatch    rank 1 reduces fewer elements
//   mismatch-warm  the same, after an all-reduce both ranks agree on
//   abort       rank 1 fails before its collective
//   exit-early  rank 1 returns without taking part
//   hang        rank 1 sleeps for 60 s (run with KILN_COMM_TIMEOUT_MS)
//
//===----------------------------------------------------------------------===//
#include "codegen/CommCalls.h"
#include "codegen/CompiledGraph.h"
#include "ir/Parser.h"
#include "ir/Verifier.h"
#include "runtime/Executor.h"
#include "runtime/RandomInputs.h"
#include "runtime/comm/InProcess.h"
#include "runtime/mpi/World.h"

#include <fmt/core.h>
#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <thread>

namespace kiln {
namespace {

Communicator *world = nullptr;

std::vector<float> seeded(int rank, int64_t n) {
  std::vector<float> v(n);
  for (int64_t i = 0; i < n; ++i)
    v[i] = static_cast<float>(((rank * 131 + i * 7) % 97) - 48) / 8;
  return v;
}

TEST(MpiTest, WorldHasTwoOrMoreRanks) {
  ASSERT_NE(world, nullptr);
  EXPECT_GE(world->size(), 2);
  EXPECT_STREQ(world->backend(), "mpi");
}

/// Runs body() with all-reduces through the peer window, then messages.
void onBothTransports(const std::function<void(const char *)> &body) {
  for (bool window : {true, false}) {
    world->setPeerWindows(window);
    body(window ? "peer window" : "messages");
  }
  world->setPeerWindows(true);
}

TEST(MpiTest, AllReduceMatchesInProcessBitForBit) {
  onBothTransports([](const char *how) {
    const int n = world->size();
    for (DType t : {DType::F32, DType::F16, DType::BF16})
      for (ReduceOp op : {ReduceOp::Sum, ReduceOp::Max, ReduceOp::Prod})
        for (Numerics m : {Numerics::Golden, Numerics::NpuCompat}) {
          ReduceSpec spec{t, op, m, std::nullopt};
          const int64_t count = 100003; // several slices, uneven
          auto make = [&](int r) {
            Tensor x(t, {count});
            std::vector<float> v = seeded(r, count);
            for (int64_t i = 0; i < count; ++i)
              x.setDouble(i, v[i] * (op == ReduceOp::Prod ? 0.01 : 1));
            return x;
          };
          Tensor mine = make(world->rank());
          CommStatus s = world->allreduce(mine.data(), count, spec);
          ASSERT_TRUE(s.ok()) << s.message();
          std::vector<Tensor> local;
          for (int r = 0; r < n; ++r)
            local.push_back(make(r));
          comm::InProcessGroup group(n);
          group.run([&](Communicator &c) {
            return c.allreduce(local[c.rank()].data(), count, spec).ok() ? 0
                                                                         : 1;
          });
          EXPECT_EQ(std::memcmp(mine.data(), local[0].data(), mine.byteSize()),
                    0)
              << toString(t) << " " << toString(op) << " through " << how;
        }
  });
}

TEST(MpiTest, NonBlockingOverlapsAndWaitsInAnyOrder) {
  onBothTransports([](const char *how) {
    std::vector<std::vector<float>> bufs;
    std::vector<Communicator::Ticket> tickets;
    for (int i = 0; i < 6; ++i) {
      bufs.push_back(std::vector<float>(1000 * (i + 1), 1.0f + world->rank()));
      tickets.push_back(
          world->start(bufs.back().data(), bufs.back().size(), {DType::F32}));
    }
    float want = 0;
    for (int r = 0; r < world->size(); ++r)
      want += 1.0f + r;
    for (int i = 5; i >= 0; --i) {
      ASSERT_TRUE(world->wait(tickets[i]).ok()) << how;
      EXPECT_EQ(bufs[i].back(), want) << how;
    }
  });
}

TEST(MpiTest, MmAllReduceBaseJitAndReferenceMatchInProcess) {
  const char *kir =
      "func @f(%x1: i8[M,K], %x2: i8[K,N], %bias: i32[N], %ds: bf16[N], "
      "%x3: bf16[M,N]) -> bf16[M,N] sym(M, K, N) {\n"
      "  %o = npu.mm_all_reduce_base(%x1, %x2, bias = %bias, x3 = %x3, "
      "dequant_scale = %ds) : bf16[M,N]\n  return %o\n}\n"
      "func @g(%x1: f16[M,K], %x2: f16[K,N], %x3: f16[M,N]) -> f16[M,N] "
      "sym(M, K, N) {\n"
      "  %o = npu.mm_all_reduce_base(%x1, %x2, x3 = %x3) : f16[M,N]\n"
      "  return %o\n}\n";
  DiagEngine &diags = DiagEngine::stderrEngine();
  std::unique_ptr<Module> m = parseModule(kir, "mpi.kir", diags);
  ASSERT_TRUE(m && succeeded(verify(*m)));
  SymbolBindings dims{{"M", 301}, {"K", 64}, {"N", 96}};
  const int n = world->size();
  for (auto &g : m->graphs)
    for (Numerics num : {Numerics::Golden, Numerics::NpuCompat}) {
      std::vector<std::vector<Tensor>> in(n);
      for (int r = 0; r < n; ++r)
        for (unsigned i = 0; i < g->params().size(); ++i)
          in[r].push_back(*randomInput(*g, i, dims, 77 + r));
      auto runWith = [&](Communicator &c, bool jit) {
        EvalOptions eval{num, &c};
        if (!jit)
          return runReference(*g, in[c.rank()], eval);
        auto exe = compile(*g, {.eval = eval}, diags);
        return exe ? exe->run(in[c.rank()])
                   : FailureOr<std::vector<Tensor>>(failure());
      };
      std::vector<Tensor> want(n);
      comm::InProcessGroup group(n);
      group.run([&](Communicator &c) {
        auto out = runWith(c, false);
        want[c.rank()] = out.failed() ? Tensor() : (*out)[0];
        return out.failed() ? 1 : 0;
      });
      ASSERT_FALSE(want[0].empty());
      // The reference, then the JIT pipelining 4 chunks through the shared
      // window, through all-reduces on the window and through messages;
      // then the JIT's own plan (small: one chunk, copied in).
      for (int how : {0, 1, 2, 3, 4}) {
        codegen::setMmAllReduceChunks(how == 0 ? 1 : how == 4 ? 0 : 4);
        codegen::setMmAllReducePeerWindow(how == 1 || how == 4);
        world->setPeerWindows(how != 3);
        auto got = runWith(*world, how != 0);
        ASSERT_FALSE(got.failed());
        EXPECT_EQ(
            std::memcmp((*got)[0].data(), want[0].data(), want[0].byteSize()),
            0)
            << g->name()
            << (how == 0   ? " reference"
                : how == 1 ? " jit, window"
                : how == 2 ? " jit, all-reduces on the window"
                : how == 3 ? " jit, messages"
                           : " jit, its own plan");
      }
      codegen::setMmAllReduceChunks(0);
      codegen::setMmAllReducePeerWindow(true);
      world->setPeerWindows(true);
    }
}

/// One failure scenario; prints the rank's error and returns its status.
int scenario(const std::string &name) {
  std::vector<float> b(64, 1);
  int rank = world->rank();
  if (rank == 1 && name == "exit-early")
    return 0;
  if (rank == 1 && name == "hang")
    std::this_thread::sleep_for(std::chrono::seconds(60));
  if (rank == 1 && name == "abort") {
    world->abort("cannot read shard1.npy");
    fmt::print(stderr, "rank 1: error: cannot read shard1.npy\n");
    return 1;
  }
  if (name == "mismatch-warm" &&
      !world->allreduce(b.data(), 64, {DType::F32}).ok())
    return 1;
  int64_t count = rank == 1 && name.starts_with("mismatch") ? 32 : 64;
  CommStatus s = world->allreduce(b.data(), count, {DType::F32});
  if (s.ok()) {
    fmt::print("rank {}: ok\n", rank);
    return 0;
  }
  fmt::print(stderr, "rank {}: error: {}\n", rank, s.message());
  return 1;
}

} // namespace
} // namespace kiln

int main(int argc, char **argv) {
  ::testing::InitGoogleTest(&argc, argv);
  std::string error;
  std::unique_ptr<kiln::Communicator> world = kiln::comm::openWorld(error);
  if (!world) {
    fmt::print(stderr, "kiln-mpi-test: run me under mpirun -np 2 ({})\n",
               error.empty() ? "not launched by mpirun" : error);
    return 1;
  }
  kiln::world = world.get();
  if (argc == 3 && std::string(argv[1]) == "--scenario")
    return kiln::scenario(argv[2]);
  int status = RUN_ALL_TESTS();
  if (status != 0)
    world->abort("a test failed");
  return status;
}
