//===- Match.h - a small matcher DSL over SSA use-def chains ----*- C++ -*-===//
//
//   Value *x, *w; Op *dq;
//   if (match(root, m::op<ops::MatMul>(m::any(&x),
//                      m::op<ops::Dequant>(m::any(&w), m::any()).oneUse().bind(&dq))))
//
// A pattern matches a Value (through its defining op) or, at the root, an
// Op. Captures are written as matching proceeds; read them only after a
// successful match. Operand patterns apply to the first N operands in table
// order; the rest are unconstrained (inspect them after the match).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Op.h"

#include <functional>
#include <tuple>

namespace kiln::m {

/// Matches any present value and optionally captures it.
struct AnyValue {
  Value **capture = nullptr;
  bool match(Value *v) const {
    if (!v)
      return false;
    if (capture)
      *capture = v;
    return true;
  }
};
inline AnyValue any(Value **capture = nullptr) { return {capture}; }

/// Matches exactly `v`.
struct SameValue {
  const Value *expected;
  bool match(Value *v) const { return v && v == expected; }
};
inline SameValue same(const Value *v) { return {v}; }

/// Matches a value defined by an op of kind T whose operands match `subs`.
template <class T, class... Subs> class OpPattern {
public:
  explicit OpPattern(Subs... subs) : subs_(std::move(subs)...) {}

  /// The matched value must have exactly one use (no other consumer would
  /// keep the intermediate alive after fusion).
  OpPattern &oneUse() {
    oneUse_ = true;
    return *this;
  }
  OpPattern &bind(Op **op) {
    bind_ = op;
    return *this;
  }
  OpPattern &where(std::function<bool(const Op &)> pred) {
    pred_ = std::move(pred);
    return *this;
  }

  bool match(Value *v) const {
    if (!v || !v->definedBy<T>())
      return false;
    if (oneUse_ && !v->hasOneUse())
      return false;
    return matchOp(*v->definingOp());
  }

  bool matchOp(Op &op) const {
    if (!op.isa<T>() || op.numOperands() < sizeof...(Subs))
      return false;
    if (!matchOperands(op, std::index_sequence_for<Subs...>{}))
      return false;
    if (pred_ && !pred_(op))
      return false;
    if (bind_)
      *bind_ = &op;
    return true;
  }

private:
  template <size_t... I>
  bool matchOperands(Op &op, std::index_sequence<I...>) const {
    return (std::get<I>(subs_).match(op.operand(I)) && ...);
  }

  std::tuple<Subs...> subs_;
  bool oneUse_ = false;
  Op **bind_ = nullptr;
  std::function<bool(const Op &)> pred_;
};

template <class T, class... Subs> OpPattern<T, Subs...> op(Subs... subs) {
  return OpPattern<T, Subs...>(std::move(subs)...);
}

/// Matches a binary op of kind T with operands in either order.
template <class T, class A, class B> struct CommutativePattern {
  A a;
  B b;
  Op **bind_ = nullptr;
  bool oneUse_ = false;

  CommutativePattern &bind(Op **op) {
    bind_ = op;
    return *this;
  }
  CommutativePattern &oneUse() {
    oneUse_ = true;
    return *this;
  }
  bool match(Value *v) const {
    if (!v || !v->definedBy<T>() || (oneUse_ && !v->hasOneUse()))
      return false;
    return matchOp(*v->definingOp());
  }
  bool matchOp(Op &op) const {
    if (!op.isa<T>())
      return false;
    bool ok = (a.match(op.operand(0)) && b.match(op.operand(1))) ||
              (a.match(op.operand(1)) && b.match(op.operand(0)));
    if (ok && bind_)
      *bind_ = &op;
    return ok;
  }
};

template <class T, class A, class B>
CommutativePattern<T, A, B> commutative(A a, B b) {
  return {std::move(a), std::move(b)};
}

/// Matches either pattern (the first that matches wins).
template <class A, class B> struct EitherPattern {
  A a;
  B b;
  bool match(Value *v) const { return a.match(v) || b.match(v); }
};
template <class A, class B> EitherPattern<A, B> either(A a, B b) {
  return {std::move(a), std::move(b)};
}

} // namespace kiln::m

namespace kiln {
/// Matches a root op against a pattern.
template <class P> bool match(Op &root, const P &pattern) {
  return pattern.matchOp(root);
}
/// Matches a value against a pattern.
template <class P> bool matchValue(Value *v, const P &pattern) {
  return pattern.match(v);
}
} // namespace kiln
