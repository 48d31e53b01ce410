//===- OpDefs.h - typed op structs expanded from ir/Ops.def -----*- C++ -*-===//
//
// For every op `X` in the table this defines `ops::X` with
//   ops::X::kKind          its OpKind
//   ops::X::<operand>      operand indices (ops::MatMul::group_list)
//   ops::X::Operands       {Value *lhs = nullptr; ...} for the Builder
//   ops::X::Attrs          typed attributes with defaults and ==
// plus visitAttrs(attrs, v) calling v("name", value, defaultValue) per
// attribute, which the printer, parser and CSE use.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Attributes.h"

#include <cstdint>
#include <type_traits>
#include <variant>
#include <vector>

namespace kiln {

class Value;

/// Properties the passes may rely on.
enum OpTrait : unsigned {
  kNone = 0,
  kPure = 1u << 0,        ///< no side effects: may be CSE'd and DCE'd
  kElementwise = 1u << 1, ///< each output element depends on one position
  kSideEffect = 1u << 2,  ///< communicates or otherwise must stay
};

#define OPERANDS(...) __VA_ARGS__
#define ATTRS(...) __VA_ARGS__

enum class OpKind : uint16_t {
#define OP(Class, name, traits, operands, attrs) Class,
#include "ir/Ops.def"
};

inline constexpr unsigned kNumOpKinds = 0
#define OP(Class, name, traits, operands, attrs) +1
#include "ir/Ops.def"
    ;

namespace ops::detail {
// Operand indices.
#define IN(n) n,
#define OPT(n) n,
#define OP(Class, name, traits, operands, attrs)                               \
  struct Class##Index {                                                        \
    enum : unsigned { operands kNumOperands };                                 \
  };
#include "ir/Ops.def"
#undef IN
#undef OPT

// Operand structs for the Builder.
#define IN(n) Value *n = nullptr;
#define OPT(n) Value *n = nullptr;
#define OP(Class, name, traits, operands, attrs)                               \
  struct Class##Operands {                                                     \
    operands                                                                   \
  };
#include "ir/Ops.def"
#undef IN
#undef OPT

// Attribute structs.
#define ATTR(T, n, d) T n = d;
#define OP(Class, name, traits, operands, attrs)                               \
  struct Class##Attrs {                                                        \
    attrs bool operator==(const Class##Attrs &) const = default;               \
  };
#include "ir/Ops.def"
#undef ATTR
} // namespace ops::detail

namespace ops {
#define OP(Class, name, traits, operands, attrs)                               \
  struct Class : detail::Class##Index {                                        \
    static constexpr OpKind kKind = OpKind::Class;                             \
    using Operands = detail::Class##Operands;                                  \
    using Attrs = detail::Class##Attrs;                                        \
  };
#include "ir/Ops.def"

/// The operand struct flattened into operand order.
#define IN(n) o.n,
#define OPT(n) o.n,
#define OP(Class, name, traits, operands, attrs)                               \
  inline std::vector<Value *> operandList(                                     \
      [[maybe_unused]] const Class::Operands &o) {                             \
    return {operands};                                                         \
  }
#include "ir/Ops.def"
#undef IN
#undef OPT

/// Calls v(name, value, defaultValue) for each attribute, in table order.
#define ATTR(T, n, d) v(#n, a.n, defaults.n);
#define OP(Class, name, traits, operands, attrs)                               \
  template <class A, class V>                                                  \
    requires std::is_same_v<std::remove_const_t<A>, Class::Attrs>              \
  void visitAttrs([[maybe_unused]] A &a, [[maybe_unused]] V &&v) {             \
    [[maybe_unused]] static const Class::Attrs defaults{};                     \
    attrs                                                                      \
  }
#include "ir/Ops.def"
#undef ATTR
} // namespace ops

/// The attributes of any op.
using OpAttrs = std::variant<
#define OP(Class, name, traits, operands, attrs) ops::Class::Attrs,
#include "ir/Ops.def"
    std::monostate>;

#undef OPERANDS
#undef ATTRS

} // namespace kiln
