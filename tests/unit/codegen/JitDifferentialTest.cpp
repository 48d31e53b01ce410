//===- JitDifferentialTest.cpp - compiled code agrees with the reference --===//
//
// Every verified chunk of the .kir files under tests/lit/{ops,fusion} and
// examples/ runs on seeded random inputs on the reference executor and as
// compiled code in static and dynamic mode, with every symbol bound to 1,
// 3 and 17 (odd sizes that exercise remainders; a `// DIFF: M=33` line
// overrides a symbol). Integers must agree bit-exactly, floats within one
// ulp of the result dtype; a run-time data error must occur in both or
// neither.
//
//===----------------------------------------------------------------------===//
#include "codegen/CompiledGraph.h"
#include "ir/Parser.h"
#include "ir/Verifier.h"
#include "runtime/Compare.h"
#include "runtime/RandomInputs.h"

#include "../KirCorpus.h"

#include <gtest/gtest.h>


namespace kiln {
namespace {

using namespace kiln::testing;

TEST(JitDifferential, EveryKirChunkAgreesWithTheReference) {
  unsigned graphs = 0;
  for (const KirChunk &c :
       kirChunks({"tests/lit/ops", "tests/lit/fusion", "examples"})) {
    DiagEngine quiet([](const Diagnostic &) {});
    std::unique_ptr<Module> m = parseModule(c.text, c.file, quiet, c.firstLine);
    if (!m || failed(verify(*m)))
      continue;
    for (const auto &gp : m->graphs) {
      Graph &g = *gp;
      g.setDiags(quiet);
      CompileOptions staticOpts, dynamicOpts;
      dynamicOpts.mode = codegen::ShapeMode::Dynamic;
      std::unique_ptr<CompiledGraph> st = compile(g, staticOpts, quiet);
      std::unique_ptr<CompiledGraph> dy = compile(g, dynamicOpts, quiet);
      ASSERT_TRUE(st && dy) << c.where();
      for (int64_t size : {1, 3, 17}) {
        SymbolBindings dims = chunkDims(c, g, size);
        std::vector<Tensor> inputs;
        bool ok = true;
        for (unsigned p = 0; p < g.params().size() && ok; ++p) {
          FailureOr<Tensor> t = randomInput(g, p, dims, /*seed=*/size);
          ok = !t.failed();
          if (ok)
            inputs.push_back(std::move(*t));
        }
        if (!ok)
          continue;
        std::string what = c.where() + " @" + g.name() + " size " +
                           std::to_string(size);
        FailureOr<std::vector<Tensor>> want = runReference(g, inputs, {}, dims);
        FailureOr<std::vector<Tensor>> s = st->run(inputs, dims);
        FailureOr<std::vector<Tensor>> d = dy->run(inputs, dims);
        ASSERT_EQ(want.failed(), s.failed()) << what << " (static)";
        ASSERT_EQ(want.failed(), d.failed()) << what << " (dynamic)";
        if (want.failed())
          continue;
        expectAgree(*want, *s, what + " static");
        expectAgree(*want, *d, what + " dynamic");
      }
      ++graphs;
    }
  }
  EXPECT_GT(graphs, 20u);
}

} // namespace
} // namespace kiln
