//===- Pass.h - passes and text pipelines -----------------------*- C++ -*-===//
#pragma once

#include "ir/Graph.h"

#include <functional>
#include <span>
#include <string_view>
#include <vector>

namespace kiln {

/// Knobs a pass may read; set by tools, never global.
struct PassOptions {
  /// Fusion passes explain, as remarks, why each candidate did not fuse.
  bool debugFusion = false;
};

using PassFn = LogicalResult (*)(Graph &g, const PassOptions &options);

struct PassInfo {
  std::string_view name;
  std::string_view summary;
  PassFn run;
};

#define PASS(fn, name, summary) LogicalResult fn(Graph &g, const PassOptions &);
#include "passes/Passes.def"

std::span<const PassInfo> allPasses();
/// nullptr if no pass has this name.
const PassInfo *lookupPass(std::string_view name);

/// An ordered list of passes, run over every graph of a module.
class PassManager {
public:
  explicit PassManager(PassOptions options = {}) : options_(options) {}

  /// Parses "a,b,c"; reports an unknown name to `diags`.
  LogicalResult addPipeline(std::string_view pipeline, DiagEngine &diags);
  void addPass(const PassInfo &pass) { passes_.push_back(&pass); }
  /// Verify after every pass (on by default: passes must keep IR valid).
  void setVerifyEach(bool v) { verifyEach_ = v; }
  /// Called after each pass with its name (for --print-ir-after-all).
  void setAfterPass(std::function<void(std::string_view, const Module &)> f) {
    afterPass_ = std::move(f);
  }

  LogicalResult run(Module &m) const;

private:
  PassOptions options_;
  std::vector<const PassInfo *> passes_;
  bool verifyEach_ = true;
  std::function<void(std::string_view, const Module &)> afterPass_;
};

} // namespace kiln
