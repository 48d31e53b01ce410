//===- CompiledGraphRun.cpp - CompiledGraph::run --------------------------===//
//
// A run: find the prepared entry (by input signature, else by binding the
// symbols), take an arena, point the buffer table at the inputs and at
// fresh result tensors, zero what the plan says, call the kernel, give the
// arena back.
//
//===----------------------------------------------------------------------===//
#include "codegen/PreparedRun.h"

#include "codegen/RuntimeCalls.h"

#include <cstring>

namespace kiln {

CompiledGraph::Prepared::Prepared(const Graph &g, SymbolBindings b,
                                  codegen::KernelFn f, codegen::BufferPlan p)
    : bindings(std::move(b)), fn(f), plan(std::move(p)) {
  for (const std::string &s : g.symbols()) {
    auto it = bindings.find(s);
    dims.push_back(it == bindings.end() ? 0 : it->second);
  }
}

std::unique_ptr<codegen::Arena> CompiledGraph::Prepared::takeArena() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!idle_.empty()) {
      std::unique_ptr<codegen::Arena> a = std::move(idle_.back());
      idle_.pop_back();
      return a;
    }
  }
  return std::make_unique<codegen::Arena>(plan);
}

void CompiledGraph::Prepared::giveArena(std::unique_ptr<codegen::Arena> a) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (idle_.size() < kIdleArenas)
    idle_.push_back(std::move(a));
}

std::shared_ptr<CompiledGraph::Prepared>
CompiledGraph::lookupSignature(std::span<const Tensor> inputs,
                               const SymbolBindings &preset) {
  const auto &params = graph_->params();
  if (inputs.size() != params.size())
    return nullptr;
  std::lock_guard<std::mutex> lock(mutex_);
  for (const auto &p : prepared_) {
    if (!p->inputShapes || p->preset != preset)
      continue;
    bool same = true;
    for (size_t i = 0; same && i < inputs.size(); ++i) {
      const TensorType &t = params[i]->type();
      same = inputs[i].dtype() == t.dtype && inputs[i].layout() == t.layout &&
             inputs[i].shape() == (*p->inputShapes)[i];
    }
    if (same)
      return p;
  }
  return nullptr;
}

FailureOr<std::vector<Tensor>> CompiledGraph::run(std::span<const Tensor> inputs,
                                                  const SymbolBindings &preset) {
  return run(inputs, preset, *graph_);
}

FailureOr<std::vector<Tensor>> CompiledGraph::run(std::span<const Tensor> inputs,
                                                  const SymbolBindings &preset,
                                                  const Graph &errorsAt) {
  std::shared_ptr<Prepared> p = lookupSignature(inputs, preset);
  if (!p) {
    FailureOr<SymbolBindings> bound = bindSymbols(errorsAt, inputs, preset);
    if (bound.failed())
      return failure();
    p = preparedFor(*bound, errorsAt);
    if (!p)
      return failure();
    std::lock_guard<std::mutex> lock(mutex_);
    if (!p->inputShapes) {
      p->inputShapes.emplace();
      for (const Tensor &t : inputs)
        p->inputShapes->push_back(t.shape());
      p->preset = preset;
    }
  }

  const codegen::BufferPlan &plan = p->plan;
  std::vector<Tensor> fresh;
  fresh.reserve(plan.fresh.size());
  for (const codegen::FreshTensor &f : plan.fresh)
    fresh.emplace_back(f.dtype, f.shape, f.layout);
  std::unique_ptr<codegen::Arena> arena = p->takeArena();
  std::vector<void *> &buffers = arena->buffers;
  for (size_t i = 0; i < plan.slots.size(); ++i) {
    const codegen::BufferSlot &s = plan.slots[i];
    if (s.kind == codegen::BufferSlot::Kind::Input)
      buffers[i] = const_cast<std::byte *>(inputs[s.index].data());
    else if (s.kind == codegen::BufferSlot::Kind::Result)
      buffers[i] = fresh[s.index].data();
  }
  for (uint32_t i : plan.zeroed)
    std::memset(buffers[i], 0, plan.slots[i].bytes);
  codegen::RuntimeContext rt{&errorsAt, pool_, {}};
  rt.comm = options_.eval.comm; // collectives (codegen/CommCalls.cpp)
  int32_t status = p->fn(buffers.data(), p->dims.data(), &rt);
  p->giveArena(std::move(arena));
  if (status != 0)
    return failure();

  std::vector<Tensor> results;
  results.reserve(plan.results.size());
  for (uint32_t r : plan.results) {
    const codegen::BufferSlot &s = plan.slots[r];
    results.push_back(s.kind == codegen::BufferSlot::Kind::Input
                          ? inputs[s.index]
                          : fresh[s.index]);
  }
  return results;
}

} // namespace kiln
