//===- OpRegistry.cpp - the OpInfo table, expanded from ir/Ops.def --------===//
#include "ir/OpInfo.h"
#include "ops/OpHooks.h"

#include <array>

namespace kiln {

namespace {
#define OPERANDS(...) __VA_ARGS__
#define ATTRS(...)
#define IN(n) OperandSpec{#n, false},
#define OPT(n) OperandSpec{#n, true},
#define OP(Class, name, traits, operands, attrs)                               \
  constexpr std::array<OperandSpec, ops::Class::kNumOperands>                  \
      k##Class##Operands{{operands}};
#include "ir/Ops.def"
#undef IN
#undef OPT

#define OP_INFO(Class, mnemonic, traits)                                       \
  OpInfo{OpKind::Class,                                                        \
         mnemonic,                                                             \
         traits,                                                               \
         k##Class##Operands,                                                   \
         &ops::infer##Class,                                                   \
         &ops::eval##Class,                                                    \
         []() -> OpAttrs { return ops::Class::Attrs{}; }},
#define OP(Class, name, traits, operands, attrs) OP_INFO(Class, #name, traits)
#define NPU_OP(Class, name, traits, operands, attrs)                           \
  OP_INFO(Class, "npu." #name, traits)
const OpInfo kOpInfos[] = {
#include "ir/Ops.def"
};
#undef OP_INFO
#undef OPERANDS
#undef ATTRS
static_assert(std::size(kOpInfos) == kNumOpKinds);
} // namespace

const OpInfo &opInfo(OpKind kind) { return kOpInfos[static_cast<size_t>(kind)]; }

const OpInfo *lookupOp(std::string_view mnemonic) {
  for (const OpInfo &info : kOpInfos)
    if (info.mnemonic == mnemonic)
      return &info;
  return nullptr;
}

std::span<const OpInfo> allOps() { return kOpInfos; }

} // namespace kiln
