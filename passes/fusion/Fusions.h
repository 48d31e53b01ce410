//===- Fusions.h - declarations of the fusion patterns ----------*- C++ -*-===//
#pragma once

#include "passes/Rewriter.h"

namespace kiln {

#define FUSION(Name, cli, benefit) LogicalResult fuse##Name(Op &root, Rewriter &rw);
#include "passes/fusion/Fusions.def"

/// A pass applying one pattern to a fixed point.
template <PatternFn P>
LogicalResult runFusion(Graph &g, const PassOptions &options) {
  return applyPattern(g, options, P);
}

LogicalResult runFuseAll(Graph &g, const PassOptions &options);

} // namespace kiln
