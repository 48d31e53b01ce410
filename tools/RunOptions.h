//===- RunOptions.h - kiln-run's options and messages -----------*- C++ -*-===//
#pragma once

#include <cstdint>
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

namespace kiln::tools {

/// kiln-run's command line (tools/kiln-run.cpp documents each flag).
struct RunOptions {
  std::string file;
  std::string func;
  std::vector<std::string> inputs;
  std::vector<std::string> dims;
  bool random = false;
  uint64_t seed = 0;
  std::string outputDir;
  std::string mode = "static";
  bool check = false;
  unsigned repeat = 1;
  unsigned threads = 0;
  std::string cacheDir; ///< --cache-dir: the persistent compile cache
  std::string passes = "fuse-all";
  std::string numerics = "golden";
  bool printValues = false;
  int ranks = 0; ///< --ranks: in-process ranks (0: MPI's world, or one)
};

/// One stderr line "WHO: ...", written at once (ranks may be threads).
struct Line {
  std::ostringstream os;
  explicit Line(const std::string &who) { os << who << ": "; }
  ~Line() { std::fputs(os.str().c_str(), stderr); }
  template <typename T> Line &operator<<(const T &v) {
    os << v;
    return *this;
  }
};

} // namespace kiln::tools
