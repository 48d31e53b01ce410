//===- RoundTripTest.cpp - print(parse(text)) is a fixed point everywhere -===//
//
// Every chunk of every .kir file in tests/lit and examples/ that parses and
// verifies must print to text that parses back and prints identically.
//
//===----------------------------------------------------------------------===//
#include "ir/Parser.h"
#include "ir/Printer.h"
#include "ir/Verifier.h"

#include "../KirCorpus.h"

#include <gtest/gtest.h>

#include <sstream>

namespace kiln {
namespace {

std::string printModule(const Module &m) {
  std::ostringstream os;
  print(os, m);
  return os.str();
}

TEST(RoundTrip, EveryKirFileIsAFixedPoint) {
  unsigned checked = 0;
  for (const testing::KirChunk &c : testing::kirChunks({"tests/lit", "examples"})) {
    DiagEngine quiet([](const Diagnostic &) {});
    std::unique_ptr<Module> m = parseModule(c.text, c.file, quiet);
    if (!m || m->graphs.empty() || failed(verify(*m)))
      continue; // negative tests
    std::string once = printModule(*m);
    std::unique_ptr<Module> again = parseModule(once, "printed.kir", quiet);
    ASSERT_TRUE(again) << c.where() << ": printed IR does not parse:\n"
                       << once;
    ASSERT_TRUE(succeeded(verify(*again))) << c.where();
    EXPECT_EQ(printModule(*again), once) << c.where();
    ++checked;
  }
  EXPECT_GT(checked, 30u);
}

} // namespace
} // namespace kiln
