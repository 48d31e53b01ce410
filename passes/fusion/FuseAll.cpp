//===- FuseAll.cpp - the fusion passes and fuse-all -----------------------===//
#include "passes/fusion/Fusions.h"

#include <algorithm>
#include <vector>

namespace kiln {

namespace {
struct Fusion {
  std::string_view name;
  int benefit;
  PatternFn pattern;
};
#define FUSION(Name, cli, benefit) Fusion{cli, benefit, &fuse##Name},
const Fusion kFusions[] = {
#include "passes/fusion/Fusions.def"
    Fusion{"", 0, nullptr}, // keeps the array non-empty
};
} // namespace

LogicalResult runFuseAll(Graph &g, const PassOptions &options) {
  std::vector<const Fusion *> order;
  for (const Fusion &f : kFusions)
    if (f.pattern)
      order.push_back(&f);
  std::stable_sort(order.begin(), order.end(),
                   [](auto *a, auto *b) { return a->benefit > b->benefit; });
  for (const Fusion *f : order)
    if (failed(applyPattern(g, options, f->pattern)))
      return failure();
  return success();
}

} // namespace kiln
