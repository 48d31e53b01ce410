//===- EagerJitTest.cpp - the eager API runs compiled code ----------------===//
//
// Every one-op npu.* function of tests/lit/ops/npu_*.kir, with its symbols
// bound small, runs through runSingleOp (what every kiln::npu::* function
// calls) on the JIT and on the reference executor with the same seeded
// random inputs: results must be bit-identical, and data errors the same
// words. A second call with the same shapes is an eager-cache hit that
// compiles nothing.
//
//===----------------------------------------------------------------------===//
#include "codegen/CompileCache.h"
#include "ir/Parser.h"
#include "ir/Verifier.h"
#include "runtime/Npu.h"
#include "runtime/RandomInputs.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace kiln {
namespace {

namespace fs = std::filesystem;

bool sameBytes(const Tensor &a, const Tensor &b) {
  return a.dtype() == b.dtype() && a.shape() == b.shape() &&
         a.byteSize() == b.byteSize() &&
         std::memcmp(a.data(), b.data(), a.byteSize()) == 0;
}

/// The op of a one-op graph, called through runSingleOp on `backend`;
/// results, or the error's text.
struct Outcome {
  std::vector<Tensor> results;
  std::string error;
};

Outcome callEagerly(const Op &op, const std::vector<Tensor> &args,
                    EagerBackend backend, Numerics numerics) {
  EagerBackendScope scope(backend);
  std::vector<const Tensor *> inputs;
  for (const Value *v : op.operands())
    inputs.push_back(v ? &args[v->index()] : nullptr);
  try {
    return {runSingleOp(op.kind(), inputs, op.attrVariant(),
                        std::source_location::current(),
                        {.numerics = numerics}),
            ""};
  } catch (const Error &e) {
    return {{}, e.what()};
  }
}

TEST(EagerJit, BitIdenticalToTheReferenceOnEveryNpuOpExample) {
  std::vector<fs::path> files;
  for (const auto &e : fs::directory_iterator(fs::path(KILN_SOURCE_DIR) /
                                              "tests/lit/ops"))
    if (e.path().filename().string().starts_with("npu_"))
      files.push_back(e.path());
  ASSERT_GE(files.size(), 5u);
  unsigned compared = 0;
  for (const fs::path &file : files) {
    std::ifstream in(file);
    std::stringstream text;
    text << in.rdbuf();
    DiagEngine diags;
    std::unique_ptr<Module> m = parseModule(text.str(), file.string(), diags);
    ASSERT_TRUE(m && succeeded(verify(*m))) << file;
    for (const auto &g : m->graphs) {
      if (g->ops().size() != 1)
        continue;
      const Op &op = *g->ops().front();
      SymbolBindings dims;
      for (const std::string &s : g->symbols())
        dims[s] = 3;
      // Skip the big static examples: the reference would take long.
      int64_t elements = 0;
      std::vector<Tensor> args;
      for (unsigned i = 0; i < g->params().size(); ++i) {
        FailureOr<Tensor> t = randomInput(*g, i, dims, 100 + i);
        ASSERT_FALSE(t.failed()) << g->name();
        elements += t->numel();
        args.push_back(std::move(*t));
      }
      if (elements > (1 << 20))
        continue;
      for (Numerics n : {Numerics::Golden, Numerics::NpuCompat}) {
        Outcome want = callEagerly(op, args, EagerBackend::Reference, n);
        Outcome got = callEagerly(op, args, EagerBackend::Jit, n);
        std::string where = file.filename().string() + " @" + g->name();
        ASSERT_EQ(got.error, want.error) << where;
        ASSERT_EQ(got.results.size(), want.results.size()) << where;
        for (size_t r = 0; r < got.results.size(); ++r)
          EXPECT_TRUE(sameBytes(got.results[r], want.results[r]))
              << where << " result " << r;
        compared += want.error.empty();
      }
    }
  }
  EXPECT_GE(compared, 10u);
}

/// Seeded quant_matmul_reduce_sum operands at b, m, k, n.
struct Qmrs {
  Tensor x1, x2, s1, s2;
  Qmrs(int64_t b, int64_t m, int64_t k, int64_t n, uint64_t seed) {
    std::string kir = "func @q(%x1: i8[" + std::to_string(b) + "," +
                      std::to_string(m) + "," + std::to_string(k) +
                      "], %x2: i8[" + std::to_string(b) + "," +
                      std::to_string(k) + "," + std::to_string(n) +
                      "] NZ, %s1: f32[" + std::to_string(b) + "," +
                      std::to_string(m) + "], %s2: bf16[" + std::to_string(n) +
                      "]) -> bf16[" + std::to_string(m) + "," +
                      std::to_string(n) +
                      R"(] {
  %y = npu.quant_matmul_reduce_sum(%x1, %x2, x1_scale = %s1, x2_scale = %s2) : bf16[)" +
                      std::to_string(m) + "," + std::to_string(n) + R"(]
  return %y
})";
    DiagEngine diags;
    std::unique_ptr<Module> mod = parseModule(kir, "qmrs.kir", diags);
    const Graph &g = *mod->graphs.front();
    x1 = *randomInput(g, 0, {}, seed);
    x2 = *randomInput(g, 1, {}, seed + 1);
    s1 = *randomInput(g, 2, {}, seed + 2);
    s2 = *randomInput(g, 3, {}, seed + 3);
  }
  Tensor run() const {
    return npu::quant_matmul_reduce_sum(x1, x2,
                                        {.x1_scale = &s1, .x2_scale = &s2});
  }
};

TEST(EagerJit, SecondCallWithTheSameShapesIsACacheHit) {
  Qmrs a(2, 9, 40, 24, 1), b(2, 9, 40, 24, 50);
  Tensor first = a.run();
  EagerCacheStats s0 = eagerCacheStats();
  CompileCacheStats c0 = compileCacheStats();
  Tensor second = b.run();
  EagerCacheStats s1 = eagerCacheStats();
  CompileCacheStats c1 = compileCacheStats();
  EXPECT_EQ(s1.hits, s0.hits + 1);
  EXPECT_EQ(s1.compiled, s0.compiled);
  EXPECT_EQ(c1.compiles, c0.compiles);

  // The cost of a hit (reported, not checked: the machine is shared).
  std::vector<double> us;
  for (int i = 0; i < 101; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    (void)b.run();
    us.push_back(std::chrono::duration<double, std::micro>(
                     std::chrono::steady_clock::now() - t0)
                     .count());
  }
  std::sort(us.begin(), us.end());
  std::printf("eager call with the same shapes (a hit): median %.1f us\n",
              us[us.size() / 2]);

  EagerBackendScope ref(EagerBackend::Reference);
  EXPECT_TRUE(sameBytes(first, a.run()));
  EXPECT_TRUE(sameBytes(second, b.run()));
}

TEST(EagerJit, ErrorsAreLocatedAtTheCallOnBothBackends) {
  Qmrs a(2, 3, 8, 16, 1);
  for (EagerBackend backend : {EagerBackend::Jit, EagerBackend::Reference}) {
    EagerBackendScope scope(backend);
    int line = __LINE__ + 2;
    try {
      npu::quant_matmul_reduce_sum(a.x1, a.x2, {.x1_scale = &a.s1});
      FAIL() << "expected kiln::Error";
    } catch (const Error &e) {
      EXPECT_NE(std::string(e.what()).find(":" + std::to_string(line) + ":"),
                std::string::npos)
          << e.what();
    }
  }
}

} // namespace
} // namespace kiln
