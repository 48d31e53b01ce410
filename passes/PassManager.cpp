//===- PassManager.cpp - passes and text pipelines ------------------------===//
#include "passes/Pass.h"

#include "ir/Verifier.h"
#include "passes/fusion/Fusions.h"

namespace kiln {

namespace {
const PassInfo kPasses[] = {
#define PASS(fn, name, summary) {name, summary, &fn},
#include "passes/Passes.def"
#define FUSION(Name, cli, benefit)                                             \
  {cli, "fuse into the torch_npu fused op (passes/fusion/" #Name ".cpp)",      \
   &runFusion<&fuse##Name>},
#include "passes/fusion/Fusions.def"
    {"fuse-all", "every fusion, highest benefit first", &runFuseAll},
};
} // namespace

std::span<const PassInfo> allPasses() { return kPasses; }

const PassInfo *lookupPass(std::string_view name) {
  for (const PassInfo &p : kPasses)
    if (p.name == name)
      return &p;
  return nullptr;
}

LogicalResult PassManager::addPipeline(std::string_view pipeline,
                                       DiagEngine &diags) {
  while (!pipeline.empty()) {
    size_t comma = pipeline.find(',');
    std::string_view name = pipeline.substr(0, comma);
    pipeline = comma == std::string_view::npos ? std::string_view()
                                               : pipeline.substr(comma + 1);
    if (name.empty())
      continue;
    const PassInfo *p = lookupPass(name);
    if (!p) {
      InFlightDiag d = emitError(diags, Location{});
      d << "unknown pass '" << name << "' (available:";
      for (const PassInfo &q : kPasses)
        d << ' ' << q.name;
      return d << ")";
    }
    addPass(*p);
  }
  return success();
}

LogicalResult PassManager::run(Module &m) const {
  for (const PassInfo *p : passes_) {
    for (const auto &g : m.graphs) {
      if (failed(p->run(*g, options_)))
        return failure();
      if (verifyEach_ && failed(verify(*g)))
        return emitError(g->diags(), g->loc())
               << "invalid IR after pass '" << p->name << "'";
    }
    if (afterPass_)
      afterPass_(p->name, m);
  }
  return success();
}

} // namespace kiln
