//===- RoundTripTest.cpp - print(parse(text)) is a fixed point everywhere -===//
//
// Every chunk of every .kir file in tests/lit and examples/ that parses and
// verifies must print to text that parses back and prints identically.
//
//===----------------------------------------------------------------------===//
#include "ir/Parser.h"
#include "ir/Printer.h"
#include "ir/Verifier.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

namespace kiln {
namespace {

std::string printModule(const Module &m) {
  std::ostringstream os;
  print(os, m);
  return os.str();
}

TEST(RoundTrip, EveryKirFileIsAFixedPoint) {
  namespace fs = std::filesystem;
  static const std::regex marker(R"(^\s*// -----\s*$)");
  unsigned checked = 0;
  for (const char *root : {"tests/lit", "examples"}) {
    for (const auto &e :
         fs::recursive_directory_iterator(fs::path(KILN_SOURCE_DIR) / root)) {
      if (e.path().extension() != ".kir")
        continue;
      std::ifstream in(e.path());
      std::vector<std::string> chunks(1);
      std::string line;
      while (std::getline(in, line)) {
        if (std::regex_match(line, marker))
          chunks.emplace_back();
        else
          chunks.back() += line + '\n';
      }
      for (const std::string &chunk : chunks) {
        DiagEngine quiet([](const Diagnostic &) {});
        std::unique_ptr<Module> m = parseModule(chunk, "x.kir", quiet);
        if (!m || m->graphs.empty() || failed(verify(*m)))
          continue; // negative tests
        std::string once = printModule(*m);
        std::unique_ptr<Module> again = parseModule(once, "y.kir", quiet);
        ASSERT_TRUE(again) << e.path() << ": printed IR does not parse:\n"
                           << once;
        ASSERT_TRUE(succeeded(verify(*again))) << e.path();
        EXPECT_EQ(printModule(*again), once) << e.path();
        ++checked;
      }
    }
  }
  EXPECT_GT(checked, 30u);
}

} // namespace
} // namespace kiln
