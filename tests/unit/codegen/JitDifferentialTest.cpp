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

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>

namespace kiln {
namespace {

struct Chunk {
  std::string where;
  std::string text;
};

std::vector<Chunk> kirChunks() {
  namespace fs = std::filesystem;
  static const std::regex marker(R"(^\s*// -----\s*$)");
  std::vector<fs::path> files;
  for (const char *dir : {"tests/lit/ops", "tests/lit/fusion", "examples"})
    for (const auto &e : fs::directory_iterator(fs::path(KILN_SOURCE_DIR) / dir))
      if (e.path().extension() == ".kir")
        files.push_back(e.path());
  std::sort(files.begin(), files.end());
  std::vector<Chunk> chunks;
  for (const auto &path : files) {
    std::ifstream in(path);
    std::string line;
    unsigned n = 0;
    chunks.push_back({path.filename().string() + ":1", ""});
    while (std::getline(in, line)) {
      ++n;
      if (std::regex_match(line, marker))
        chunks.push_back({path.filename().string() + ":" + std::to_string(n + 1), ""});
      else
        chunks.back().text += line + '\n';
    }
  }
  return chunks;
}

SymbolBindings bindDims(const Graph &g, const std::string &text, int64_t size) {
  SymbolBindings dims;
  for (const std::string &s : g.symbols())
    dims[s] = size;
  static const std::regex directive(R"(// DIFF:(.*))");
  static const std::regex binding(R"(([A-Za-z_]\w*)=([0-9]+))");
  std::smatch m;
  if (std::regex_search(text, m, directive)) {
    std::string rest = m[1].str();
    for (std::sregex_iterator it(rest.begin(), rest.end(), binding), end;
         it != end; ++it)
      dims[(*it)[1].str()] = std::stoll((*it)[2].str());
  }
  return dims;
}

void expectAgree(const std::vector<Tensor> &want, const std::vector<Tensor> &got,
                 const std::string &what) {
  ASSERT_EQ(want.size(), got.size()) << what;
  for (size_t i = 0; i < want.size(); ++i) {
    ASSERT_EQ(want[i].shape(), got[i].shape()) << what;
    Difference d = compare(want[i], got[i]);
    if (isInteger(want[i].dtype()))
      EXPECT_EQ(d.mismatches, 0) << what << " result " << i << " max_abs "
                                 << d.maxAbs;
    else
      EXPECT_LE(d.maxUlps, 1.0) << what << " result " << i << " max_abs "
                                << d.maxAbs;
  }
}

TEST(JitDifferential, EveryKirChunkAgreesWithTheReference) {
  unsigned graphs = 0;
  for (const Chunk &c : kirChunks()) {
    DiagEngine quiet([](const Diagnostic &) {});
    std::unique_ptr<Module> m = parseModule(c.text, c.where, quiet);
    if (!m || failed(verify(*m)))
      continue;
    for (const auto &gp : m->graphs) {
      Graph &g = *gp;
      g.setDiags(quiet);
      CompileOptions staticOpts, dynamicOpts;
      dynamicOpts.mode = codegen::ShapeMode::Dynamic;
      std::unique_ptr<CompiledGraph> st = compile(g, staticOpts, quiet);
      std::unique_ptr<CompiledGraph> dy = compile(g, dynamicOpts, quiet);
      ASSERT_TRUE(st && dy) << c.where;
      for (int64_t size : {1, 3, 17}) {
        SymbolBindings dims = bindDims(g, c.text, size);
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
        std::string what = c.where + " @" + g.name() + " size " +
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
