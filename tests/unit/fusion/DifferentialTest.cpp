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

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

namespace kiln {
namespace {

struct Chunk {
  std::string file;
  unsigned firstLine;
  std::string text;
};

std::vector<Chunk> fusionChunks() {
  std::vector<Chunk> chunks;
  std::filesystem::path dir =
      std::filesystem::path(KILN_SOURCE_DIR) / "tests/lit/fusion";
  std::vector<std::filesystem::path> files;
  if (!std::filesystem::exists(dir))
    return chunks;
  for (const auto &e : std::filesystem::directory_iterator(dir))
    if (e.path().extension() == ".kir")
      files.push_back(e.path());
  std::sort(files.begin(), files.end());
  static const std::regex marker(R"(^\s*// -----\s*$)");
  for (const auto &path : files) {
    std::ifstream in(path);
    std::string line;
    unsigned n = 0;
    chunks.push_back({path.filename().string(), 1, ""});
    while (std::getline(in, line)) {
      ++n;
      if (std::regex_match(line, marker))
        chunks.push_back({path.filename().string(), n + 1, ""});
      else
        chunks.back().text += line + '\n';
    }
  }
  return chunks;
}

SymbolBindings dimsFor(const Chunk &c, const Graph &g) {
  SymbolBindings dims;
  for (const std::string &s : g.symbols())
    dims[s] = 7;
  static const std::regex directive(R"(// DIFF:(.*))");
  static const std::regex binding(R"(([A-Za-z_]\w*)=([0-9]+))");
  std::smatch m;
  if (std::regex_search(c.text, m, directive)) {
    std::string rest = m[1].str();
    for (std::sregex_iterator it(rest.begin(), rest.end(), binding), end;
         it != end; ++it)
      dims[(*it)[1].str()] = std::stoll((*it)[2].str());
  }
  return dims;
}

/// One unit in the last place of `v` in float dtype `t`.
double ulp(double v, DType t) {
  int mant = t == DType::F32 ? 23 : t == DType::F16 ? 10 : 7;
  int minExp = t == DType::F32 ? -126 : t == DType::F16 ? -14 : -126;
  int e = v == 0 ? minExp : std::max(std::ilogb(v), minExp);
  return std::ldexp(1.0, e - mant);
}

void expectClose(const Tensor &a, const Tensor &b, const std::string &what) {
  ASSERT_EQ(a.dtype(), b.dtype()) << what;
  ASSERT_EQ(a.shape(), b.shape()) << what;
  int64_t bad = 0;
  for (int64_t i = 0; i < a.numel() && bad < 5; ++i) {
    if (isInteger(a.dtype())) {
      if (a.getInt(i) != b.getInt(i)) {
        ++bad;
        ADD_FAILURE() << what << ": element " << i << " unfused "
                      << a.getInt(i) << " fused " << b.getInt(i);
      }
      continue;
    }
    double x = a.getDouble(i), y = b.getDouble(i);
    if (std::isnan(x) && std::isnan(y))
      continue;
    double tol = ulp(std::max(std::fabs(x), std::fabs(y)), a.dtype());
    if (!(std::fabs(x - y) <= tol)) {
      ++bad;
      ADD_FAILURE() << what << ": element " << i << " unfused " << x
                    << " fused " << y;
    }
  }
}

TEST(FusionDifferential, FusedGraphsMatchUnfused) {
  unsigned compared = 0;
  for (const Chunk &c : fusionChunks()) {
    std::string where = c.file + ":" + std::to_string(c.firstLine);
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
      SymbolBindings dims = dimsFor(c, g);
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
        ASSERT_EQ(want->size(), got->size());
        for (size_t r = 0; r < want->size(); ++r)
          expectClose((*want)[r], (*got)[r],
                      what + " result " + std::to_string(r));
      }
    }
    ++compared;
  }
  std::cout << "compared " << compared << " fused chunks\n";
  EXPECT_GT(compared, 30u); // every fusion's positive cases took part
}

} // namespace
} // namespace kiln
