//===- DifferentialTest.cpp - fused graphs compute what unfused ones do ---===//
//
// Every chunk of every tests/lit/fusion/*.kir file that `fuse-all` changes
// is run before and after fusion on the reference executor, on seeded
// random inputs, and the results are compared: integers bit-exact, floats
// within one unit in the last place of the result dtype (the fused kernels
// follow the same fp32 operation order, so most agree exactly).
//
// Symbols are bound to 7 unless the chunk says otherwise with a line
//   // DIFF: M=33 B=5
// and each chunk runs with seeds 1..3.
//
//===----------------------------------------------------------------------===//
#include "ir/Parser.h"
#include "ir/Printer.h"
#include "ir/Verifier.h"
#include "passes/Pass.h"
#include "runtime/Executor.h"
#include "runtime/RandomInputs.h"

#include "../KirCorpus.h"

#include <gtest/gtest.h>

#include <sstream>

namespace kiln {
namespace {

using namespace kiln::testing;

TEST(FusionDifferential, FusedGraphsMatchUnfused) {
  unsigned compared = 0;
  for (const KirChunk &c : kirChunks({"tests/lit/fusion"})) {
    std::string where = c.where();
    DiagEngine quiet([](const Diagnostic &) {});
    std::unique_ptr<Module> m = parseModule(c.text, c.file, quiet, c.firstLine);
    if (!m || failed(verify(*m)))
      continue; // verifier-negative chunks are lit's business
    std::string before;
    {
      std::ostringstream os;
      print(os, *m);
      before = os.str();
    }
    std::unique_ptr<Module> fused =
        parseModule(c.text, c.file, quiet, c.firstLine);
    PassManager pm;
    ASSERT_TRUE(succeeded(pm.addPipeline("fuse-all", quiet)));
    ASSERT_TRUE(succeeded(pm.run(*fused))) << where;
    std::ostringstream after;
    print(after, *fused);
    if (after.str() == before)
      continue; // a must-not-fire case
    for (size_t gi = 0; gi < m->graphs.size(); ++gi) {
      Graph &g = *m->graphs[gi];
      Graph &f = *fused->graphs[gi];
      SymbolBindings dims = chunkDims(c, g, 7);
      for (uint64_t seed = 1; seed <= 3; ++seed) {
        std::vector<Tensor> inputs;
        for (unsigned p = 0; p < g.params().size(); ++p) {
          FailureOr<Tensor> t = randomInput(g, p, dims, seed);
          ASSERT_FALSE(t.failed()) << where;
          inputs.push_back(std::move(*t));
        }
        std::string what = where + " @" + g.name() + " seed " +
                           std::to_string(seed);
        FailureOr<std::vector<Tensor>> want = runReference(g, inputs, {}, dims);
        ASSERT_FALSE(want.failed()) << what << " (unfused run failed)";
        FailureOr<std::vector<Tensor>> got = runReference(f, inputs, {}, dims);
        ASSERT_FALSE(got.failed()) << what << " (fused run failed)";
        expectAgree(*want, *got, what);
      }
    }
    ++compared;
  }
  std::cout << "compared " << compared << " fused chunks\n";
  EXPECT_GT(compared, 30u); // every fusion's positive cases took part
}

} // namespace
} // namespace kiln
