//===- CommTestUtil.h - running N ranks in a test --------------*- C++ -*-===//
#pragma once

#include "ir/Parser.h"
#include "ir/Verifier.h"
#include "runtime/Communicator.h"
#include "runtime/Float16.h"
#include "runtime/RandomInputs.h"
#include "runtime/comm/InProcess.h"

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

namespace kiln::testing {

/// Runs fn(comm) on an in-process group of `ranks` threads with `timeout`;
/// returns each rank's status.
inline std::vector<int>
runRanks(int ranks, const std::function<int(Communicator &)> &fn,
         std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
  comm::InProcessGroup group(ranks);
  for (int r = 0; r < ranks; ++r)
    group.rank(r).setTimeout(timeout);
  return group.run(fn);
}

/// A parsed, verified one-function module whose diagnostics are collected.
struct ParsedGraph {
  std::mutex mutex;
  std::vector<std::string> errors;
  DiagEngine diags{[this](const Diagnostic &d) {
    std::lock_guard<std::mutex> lock(mutex);
    errors.push_back(d.message);
  }};
  std::unique_ptr<Module> module;
  explicit ParsedGraph(const std::string &text) {
    module = parseModule(text, "test.kir", diags);
    EXPECT_TRUE(module && succeeded(verify(*module)))
        << (errors.empty() ? "" : errors.back());
  }
  Graph &graph() { return *module->graphs.front(); }
  std::string allErrors() {
    std::lock_guard<std::mutex> lock(mutex);
    std::string out;
    for (auto &e : errors)
      out += e + "\n";
    return out;
  }
};

/// Rank r's seeded inputs for every parameter of `g`.
inline std::vector<Tensor> rankInputs(const Graph &g, const SymbolBindings &dims,
                                      int rank) {
  std::vector<Tensor> out;
  for (unsigned i = 0; i < g.params().size(); ++i) {
    FailureOr<Tensor> t = randomInput(g, i, dims, 1000 + 7919 * rank);
    EXPECT_FALSE(t.failed());
    out.push_back(std::move(*t));
  }
  return out;
}

/// Bitwise equality of two tensors' logical values (NaNs equal).
inline ::testing::AssertionResult sameBits(const Tensor &want,
                                           const Tensor &got) {
  if (want.type() != got.type())
    return ::testing::AssertionFailure()
           << "type " << toString(got.type()) << " != " << toString(want.type());
  for (int64_t i = 0; i < want.numel(); ++i) {
    double a = want.getDouble(i), b = got.getDouble(i);
    if (a != b && !(a != a && b != b))
      return ::testing::AssertionFailure()
             << "element " << i << ": got " << b << ", want " << a;
  }
  return ::testing::AssertionSuccess();
}

} // namespace kiln::testing
