//===- PreparedRun.h - what CompiledGraph keeps per shape binding -*- C++ -*-=//
//
// Private to codegen/CompiledGraph*.cpp. Everything a run at one shape
// binding needs that does not depend on the data: the kernel, the buffer
// plan, the dims argument, the input signature that selects it without
// binding symbols again, and the pool of arenas.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "codegen/BufferPlan.h"
#include "codegen/CompileCache.h"
#include "codegen/CompiledGraph.h"

#include <memory>
#include <mutex>
#include <optional>
#include <vector>

namespace kiln {

struct CompiledGraph::Prepared {
  Prepared(const Graph &g, SymbolBindings bindings, codegen::KernelFn fn,
           codegen::BufferPlan plan);

  SymbolBindings bindings;
  codegen::KernelFn fn;
  codegen::BufferPlan plan;
  std::vector<int64_t> dims; ///< the kernel's %dims: one per graph symbol

  /// Input shapes (and preset) of a call this entry served; a call with
  /// the same ones binds the same symbols. Unset: never matches.
  std::optional<std::vector<Shape>> inputShapes;
  SymbolBindings preset;

  /// An arena from the pool, or a new one when all are in use.
  std::unique_ptr<codegen::Arena> takeArena();
  /// Returns an arena; beyond kIdleArenas idle ones it is freed.
  void giveArena(std::unique_ptr<codegen::Arena> arena);

private:
  std::mutex mutex_;
  std::vector<std::unique_ptr<codegen::Arena>> idle_;
};

} // namespace kiln
