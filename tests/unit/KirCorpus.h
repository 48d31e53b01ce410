//===- KirCorpus.h - the .kir files tests sweep over ------------*- C++ -*-===//
//
// Shared by the round-trip, fusion-differential and JIT-differential tests:
// every `// -----` chunk of the .kir files under some source directories,
// the `// DIFF: M=33 B=5` symbol sizes a chunk may ask for, and the
// agreement rule (integers bit-exact, floats within one ulp).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"
#include "runtime/Compare.h"
#include "runtime/Executor.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

namespace kiln::testing {

struct KirChunk {
  std::string file;   ///< file name, for messages
  unsigned firstLine; ///< line of the chunk's first line in the file
  std::string text;
  std::string where() const { return file + ":" + std::to_string(firstLine); }
};

/// Every chunk of every .kir file under `dirs` (relative to the source
/// root, recursively), files in sorted order; missing dirs are skipped.
inline std::vector<KirChunk> kirChunks(std::initializer_list<const char *> dirs) {
  namespace fs = std::filesystem;
  std::vector<fs::path> files;
  for (const char *dir : dirs) {
    fs::path root = fs::path(KILN_SOURCE_DIR) / dir;
    if (!fs::exists(root))
      continue;
    for (const auto &e : fs::recursive_directory_iterator(root))
      if (e.path().extension() == ".kir")
        files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  static const std::regex marker(R"(^\s*// -----\s*$)");
  std::vector<KirChunk> chunks;
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

/// Every symbol of `g` bound to `size`, except those the chunk's
/// `// DIFF: SYM=N ...` line sets.
inline SymbolBindings chunkDims(const KirChunk &c, const Graph &g,
                                int64_t size) {
  SymbolBindings dims;
  for (const std::string &s : g.symbols())
    dims[s] = size;
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

/// Results agree: integers bit-exact, floats within one ulp of the dtype.
inline void expectAgree(const std::vector<Tensor> &want,
                        const std::vector<Tensor> &got,
                        const std::string &what) {
  ASSERT_EQ(want.size(), got.size()) << what;
  for (size_t i = 0; i < want.size(); ++i) {
    ASSERT_EQ(want[i].dtype(), got[i].dtype()) << what;
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

} // namespace kiln::testing
