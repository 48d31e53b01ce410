//===- BufferPlan.cpp - where each value of a compiled run lives ----------===//
#include "codegen/BufferPlan.h"

#include "codegen/Lowering.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <map>
#include <new>

namespace kiln::codegen {

namespace {

constexpr size_t kAlignment = 64;

/// Ops whose lowering may leave elements of a result unwritten and so needs
/// it zeroed before each run (see the rule in BufferPlan.h). Empty: every
/// lowering writes all of its results.
constexpr std::array<OpKind, 0> kZeroedResultOps{};

bool zeroedResultOp(OpKind kind) {
  return std::find(kZeroedResultOps.begin(), kZeroedResultOps.end(), kind) !=
         kZeroedResultOps.end();
}

size_t alignUp(size_t n) { return (n + kAlignment - 1) / kAlignment * kAlignment; }

/// Storage bytes of a tensor (as Tensor allocates them) and whether its
/// storage holds padding beyond the logical elements.
std::pair<size_t, bool> storage(DType dtype, const Shape &shape,
                                Layout layout) {
  int64_t stored = numElements(Tensor::storageShapeFor(dtype, shape, layout));
  size_t bytes = dtype == DType::I4
                     ? static_cast<size_t>((stored + 1) / 2)
                     : static_cast<size_t>(stored) * bitWidth(dtype) / 8;
  bool padded = stored != numElements(shape) ||
                (dtype == DType::I4 && stored % 2 != 0);
  return {bytes, padded};
}

/// An intermediate placed in the arena, live until op `last`.
struct Live {
  size_t offset, end;
  size_t last;
};

/// The lowest 64-aligned offset where `bytes` fit between live blocks.
size_t firstFit(std::vector<Live> &live, size_t bytes) {
  std::sort(live.begin(), live.end(),
            [](const Live &a, const Live &b) { return a.offset < b.offset; });
  size_t at = 0;
  for (const Live &l : live) {
    if (at + bytes <= l.offset)
      break;
    at = std::max(at, alignUp(l.end));
  }
  return at;
}

} // namespace

FailureOr<BufferPlan> planBuffers(const Graph &g,
                                  const SymbolBindings &bindings) {
  std::vector<const Value *> order = bufferOrder(g);
  std::map<const Value *, uint32_t> slotOf;
  for (uint32_t i = 0; i < order.size(); ++i)
    slotOf[order[i]] = i;

  // Position of each op, and of each value's last reader.
  std::map<const Op *, size_t> position;
  std::map<const Value *, size_t> lastUse;
  size_t p = 0;
  for (const auto &op : g.ops()) {
    position[op.get()] = p;
    for (const Value *v : op->operands())
      if (v)
        lastUse[v] = p;
    ++p;
  }

  BufferPlan plan;
  plan.slots.resize(order.size());
  std::vector<bool> isResult(order.size(), false);
  for (const GraphResult &r : g.results()) {
    uint32_t s = slotOf.at(r.value);
    plan.results.push_back(s);
    isResult[s] = true;
  }

  std::vector<Live> live;
  for (uint32_t i = 0; i < order.size(); ++i) {
    const Value *v = order[i];
    BufferSlot &slot = plan.slots[i];
    if (v->isParam()) {
      slot.kind = BufferSlot::Kind::Input;
      slot.index = v->index();
      continue;
    }
    const TensorType &t = v->type();
    FailureOr<Shape> shape = resolveShape(t, bindings, g.diags(), g.loc());
    if (shape.failed())
      return failure();
    auto [bytes, padded] = storage(t.dtype, *shape, t.layout);
    slot.bytes = bytes;
    if (isResult[i]) {
      slot.kind = BufferSlot::Kind::Result;
      slot.index = static_cast<uint32_t>(plan.fresh.size());
      plan.fresh.push_back({t.dtype, std::move(*shape), t.layout});
      continue;
    }
    size_t def = position.at(v->definingOp());
    auto it = lastUse.find(v);
    size_t last = it == lastUse.end() ? def : std::max(def, it->second);
    // Values whose last reader came before this op are dead.
    std::erase_if(live, [&](const Live &l) { return l.last < def; });
    slot.kind = BufferSlot::Kind::Arena;
    slot.offset = firstFit(live, bytes);
    slot.zero = padded || zeroedResultOp(v->definingOp()->kind());
    live.push_back({slot.offset, slot.offset + bytes, last});
    plan.arenaBytes = std::max(plan.arenaBytes, slot.offset + bytes);
    plan.intermediateBytes += bytes;
    if (slot.zero && bytes)
      plan.zeroed.push_back(i);
  }
  plan.arenaBytes = alignUp(plan.arenaBytes);
  return plan;
}

Arena::Arena(const BufferPlan &plan) {
  size_t bytes = std::max(plan.arenaBytes, kAlignment);
  memory = new (std::align_val_t(kAlignment)) std::byte[bytes];
  std::memset(memory, 0xff, bytes);
  buffers.resize(plan.slots.size(), nullptr);
  for (size_t i = 0; i < plan.slots.size(); ++i)
    if (plan.slots[i].kind == BufferSlot::Kind::Arena)
      buffers[i] = memory + plan.slots[i].offset;
}

Arena::~Arena() {
  ::operator delete[](memory, std::align_val_t(kAlignment));
}

} // namespace kiln::codegen
