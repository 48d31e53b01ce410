//===- BufferPlanTest.cpp - intermediates share one reused arena ----------===//
//
// The plan of a chain reuses dead values' bytes (peak < sum), never
// overlaps values live at the same time, never aliases an op's result with
// its operands, keeps results and inputs out of the arena and zeroes
// padded (NZ) intermediates; compiled runs stay equal to the reference
// when called again (arena reuse) and from several threads at once.
//
//===----------------------------------------------------------------------===//
#include "LoweringTestUtil.h"

#include "codegen/BufferPlan.h"
#include "codegen/CompileCache.h"
#include "codegen/Lowering.h"

#include <atomic>
#include <cstring>
#include <map>
#include <thread>

namespace kiln {
namespace {

using codegen::BufferSlot;
using lowering_test::Kir;

constexpr std::string_view kChain = R"(
func @chain(%x: f32[M,64]) -> (y: f32[M,64]) sym(M) {
  %a = add(%x, %x) : f32[M,64]
  %b = mul(%a, %a) : f32[M,64]
  %c = add(%b, %x) : f32[M,64]
  %d = mul(%c, %c) : f32[M,64]
  %e = add(%d, %b) : f32[M,64]
  %f = mul(%e, %x) : f32[M,64]
  %g = add(%f, %f) : f32[M,64]
  %y = mul(%g, %a) : f32[M,64]
  return %y
}
)";

/// Whether [a, a + n) and [b, b + m) intersect.
bool overlap(size_t a, size_t n, size_t b, size_t m) {
  return n && m && a < b + m && b < a + n;
}

TEST(BufferPlan, ChainReusesDeadIntermediates) {
  Kir k(kChain);
  ASSERT_TRUE(k.g);
  FailureOr<codegen::BufferPlan> plan = codegen::planBuffers(*k.g, {{"M", 33}});
  ASSERT_FALSE(plan.failed()) << k.errors();
  EXPECT_LT(plan->arenaBytes, plan->intermediateBytes);
  EXPECT_EQ(plan->intermediateBytes, 7u * 33 * 64 * 4);

  std::vector<const Value *> order = codegen::bufferOrder(*k.g);
  ASSERT_EQ(plan->slots.size(), order.size());
  EXPECT_EQ(plan->slots[0].kind, BufferSlot::Kind::Input);
  EXPECT_EQ(plan->slots.back().kind, BufferSlot::Kind::Result);
  ASSERT_EQ(plan->results, std::vector<uint32_t>{uint32_t(order.size() - 1)});

  // Op positions, and each value's last reader.
  std::map<const Value *, size_t> def, last;
  size_t p = 0;
  for (const auto &op : k.g->ops()) {
    for (const Value *v : op->operands())
      last[v] = p;
    for (const Value *r : op->results())
      def[r] = last[r] = p;
    ++p;
  }
  for (size_t i = 0; i < order.size(); ++i) {
    const BufferSlot &a = plan->slots[i];
    if (a.kind != BufferSlot::Kind::Arena)
      continue;
    EXPECT_EQ(a.offset % 64, 0u);
    EXPECT_LE(a.offset + a.bytes, plan->arenaBytes);
    EXPECT_FALSE(a.zero); // ND f32: no padding, and add/mul write everything
    for (size_t j = i + 1; j < order.size(); ++j) {
      const BufferSlot &b = plan->slots[j];
      if (b.kind != BufferSlot::Kind::Arena)
        continue;
      bool bothLive = def[order[i]] <= last[order[j]] &&
                      def[order[j]] <= last[order[i]];
      if (bothLive) {
        EXPECT_FALSE(overlap(a.offset, a.bytes, b.offset, b.bytes))
            << "values " << i << " and " << j << " share bytes";
      }
    }
  }
}

TEST(BufferPlan, PaddedIntermediatesAreZeroed) {
  Kir k(R"(
func @nz(%w: i8[40,20]) -> (y: i8[40,20]) {
  %n = format_cast(%w) {layout = NZ} : i8[40,20] NZ
  %y = format_cast(%n) {layout = ND} : i8[40,20]
  return %y
}
)");
  ASSERT_TRUE(k.g);
  FailureOr<codegen::BufferPlan> plan = codegen::planBuffers(*k.g, {});
  ASSERT_FALSE(plan.failed()) << k.errors();
  ASSERT_EQ(plan->slots[1].kind, BufferSlot::Kind::Arena);
  EXPECT_TRUE(plan->slots[1].zero);
  EXPECT_EQ(plan->zeroed, std::vector<uint32_t>{1});
}

/// Seeded inputs for `g` at `dims`.
std::vector<Tensor> inputsFor(const Graph &g, const SymbolBindings &dims,
                              uint64_t seed) {
  std::vector<Tensor> in;
  for (unsigned i = 0; i < g.params().size(); ++i)
    in.push_back(*randomInput(g, i, dims, seed + i));
  return in;
}

bool sameBytes(const Tensor &a, const Tensor &b) {
  return a.byteSize() == b.byteSize() &&
         std::memcmp(a.data(), b.data(), a.byteSize()) == 0;
}

TEST(BufferPlan, RepeatedAndConcurrentRunsMatchTheReference) {
  Kir k(kChain);
  ASSERT_TRUE(k.g);
  for (auto mode : {codegen::ShapeMode::Static, codegen::ShapeMode::Dynamic}) {
    std::unique_ptr<CompiledGraph> cg =
        compile(*k.g, {.mode = mode, .threads = 2}, k.engine);
    ASSERT_TRUE(cg);
    // Several calls per shape (the arena is reused), shapes interleaved.
    for (int round = 0; round < 3; ++round)
      for (int64_t m : {1, 17, 100}) {
        auto in = inputsFor(*k.g, {{"M", m}}, 10 * round + m);
        auto got = cg->run(in);
        auto want = runReference(*k.g, in);
        ASSERT_TRUE(!got.failed() && !want.failed()) << k.errors();
        EXPECT_TRUE(sameBytes((*got)[0], (*want)[0])) << "M=" << m;
      }
    // Four threads at once, each with its own inputs.
    std::vector<std::thread> threads;
    std::atomic<int> bad{0};
    for (int t = 0; t < 4; ++t)
      threads.emplace_back([&, t] {
        for (int i = 0; i < 20; ++i) {
          auto in = inputsFor(*k.g, {{"M", 33}}, 1000 * t + i);
          auto got = cg->run(in);
          auto want = runReference(*k.g, in);
          if (got.failed() || want.failed() || !sameBytes((*got)[0], (*want)[0]))
            ++bad;
        }
      });
    for (std::thread &t : threads)
      t.join();
    EXPECT_EQ(bad, 0);
  }
}

TEST(BufferPlan, PrepareCompilesAheadAndReportsUnboundSymbols) {
  Kir k(kChain);
  ASSERT_TRUE(k.g);
  std::unique_ptr<CompiledGraph> cg = compile(*k.g, {}, k.engine);
  ASSERT_TRUE(cg);
  EXPECT_TRUE(failed(cg->prepare({})));
  EXPECT_NE(k.errors().find("symbol M"), std::string::npos) << k.errors();
  ASSERT_TRUE(succeeded(cg->prepare({{"M", 9}})));
  CompileCacheStats before = compileCacheStats();
  auto in = inputsFor(*k.g, {{"M", 9}}, 7);
  auto got = cg->run(in);
  ASSERT_FALSE(got.failed());
  EXPECT_TRUE(sameBytes((*got)[0], (*runReference(*k.g, in))[0]));
  CompileCacheStats after = compileCacheStats();
  EXPECT_EQ(after.compiles, before.compiles);
  EXPECT_EQ(after.memoryHits, before.memoryHits); // not even a lookup
}

} // namespace
} // namespace kiln
