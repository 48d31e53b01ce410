//===- Attributes.h - value types that op attributes can hold ---*- C++ -*-===//
//
// Every attribute in ir/Ops.def has one of these types; the printer, parser
// and CSE handle them generically, so no op writes its own.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Types.h"

#include <array>
#include <cstddef>
#include <optional>
#include <string_view>
#include <vector>

namespace kiln {

/// torch_npu's group_list_type: 0 = cumsum (end offsets), 1 = counts.
enum class GroupListType : uint8_t { Cumsum, Count };
/// quant: a static scale/offset, or dynamic per-token (abs-max / 127).
enum class QuantMode : uint8_t { Static, Dynamic };
/// swiglu: which half of the last dim goes through SiLU.
enum class SwigluHalf : uint8_t { First, Second };
/// allreduce reduction (torch.distributed's names; the npu fused ops accept
/// only sum).
enum class ReduceOp : uint8_t { Sum, Max, Min, Prod };

/// Spellings of an attribute enum, indexed by its value.
template <class E> struct EnumSpelling;
template <> struct EnumSpelling<GroupListType> {
  static constexpr std::array<std::string_view, 2> names = {"cumsum", "count"};
};
template <> struct EnumSpelling<QuantMode> {
  static constexpr std::array<std::string_view, 2> names = {"static", "dynamic"};
};
template <> struct EnumSpelling<SwigluHalf> {
  static constexpr std::array<std::string_view, 2> names = {"first", "second"};
};
template <> struct EnumSpelling<ReduceOp> {
  static constexpr std::array<std::string_view, 4> names = {"sum", "max",
                                                            "min", "prod"};
};

template <class E>
concept SpelledEnum = requires { EnumSpelling<E>::names; };

template <SpelledEnum E> std::string_view toString(E e) {
  return EnumSpelling<E>::names[static_cast<size_t>(e)];
}
template <SpelledEnum E> std::optional<E> parseEnum(std::string_view s) {
  const auto &names = EnumSpelling<E>::names;
  for (size_t i = 0; i < names.size(); ++i)
    if (names[i] == s)
      return static_cast<E>(i);
  return std::nullopt;
}

/// Literal tensor contents of a `constant`: one value (a splat) or one per
/// element in row-major order. Integers are exact up to 2^53.
struct Elements {
  std::vector<double> values;
  bool operator==(const Elements &) const = default;
};

/// A shape written in an attribute; dims may be symbols.
using DimList = std::vector<Dim>;
using IntList = std::vector<int64_t>;

} // namespace kiln
