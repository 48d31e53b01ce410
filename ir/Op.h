//===- Op.h - SSA values and ops --------------------------------*- C++ -*-===//
#pragma once

#include "ir/Diagnostics.h"
#include "ir/Location.h"
#include "ir/OpDefs.h"
#include "ir/OpInfo.h"
#include "ir/Types.h"

#include <memory>
#include <span>
#include <string>
#include <vector>

namespace kiln {

class Graph;
class Op;

/// One use of a value: operand `index` of `user`, or graph result `index`
/// when `user` is nullptr (so a graph result counts as a use).
struct Use {
  Op *user;
  unsigned index;
  bool operator==(const Use &) const = default;
};

/// An SSA value: a graph parameter or an op result.
class Value {
public:
  const TensorType &type() const { return type_; }
  void setType(TensorType t) { type_ = std::move(t); }
  /// The op that defines this value; nullptr for parameters.
  Op *definingOp() const { return def_; }
  bool isParam() const { return def_ == nullptr; }
  /// Result number within the defining op, or parameter number.
  unsigned index() const { return index_; }
  /// The parameter's name (without `%`); empty for op results.
  const std::string &name() const { return name_; }

  const std::vector<Use> &uses() const { return uses_; }
  bool hasOneUse() const { return uses_.size() == 1; }
  bool unused() const { return uses_.empty(); }
  /// Redirects every use of this value (graph results included) to `other`.
  void replaceAllUsesWith(Value *other);
  /// The graph this value belongs to (nullptr for a detached op's result).
  Graph *graph() const;

  template <class T> bool definedBy() const;

private:
  friend class Op;
  friend class Graph;
  Value(TensorType type, Op *def, unsigned index, std::string name,
        Graph *owner = nullptr)
      : type_(std::move(type)), def_(def), index_(index),
        name_(std::move(name)), owner_(owner) {}

  TensorType type_;
  Op *def_;
  unsigned index_;
  std::string name_;
  Graph *owner_; ///< set for parameters only
  std::vector<Use> uses_;
};

/// An operation: kind, operands (nullptr where an optional one is absent),
/// typed attributes, results and a source location.
class Op {
public:
  Op(OpKind kind, std::vector<Value *> operands, OpAttrs attrs,
     const std::vector<TensorType> &resultTypes, Location loc);
  ~Op();
  Op(const Op &) = delete;
  Op &operator=(const Op &) = delete;

  OpKind kind() const { return kind_; }
  const OpInfo &info() const { return opInfo(kind_); }
  std::string_view mnemonic() const { return info().mnemonic; }
  template <class T> bool isa() const { return kind_ == T::kKind; }

  template <class T> const typename T::Attrs &attrs() const {
    return std::get<typename T::Attrs>(attrs_);
  }
  template <class T> typename T::Attrs &attrs() {
    return std::get<typename T::Attrs>(attrs_);
  }
  const OpAttrs &attrVariant() const { return attrs_; }

  unsigned numOperands() const { return operands_.size(); }
  /// Operand `i`, or nullptr for an absent optional operand.
  Value *operand(unsigned i) const { return operands_[i]; }
  std::span<Value *const> operands() const { return operands_; }
  void setOperand(unsigned i, Value *v);

  unsigned numResults() const { return results_.size(); }
  Value *result(unsigned i = 0) const { return results_[i].get(); }
  std::vector<Value *> results() const;

  const Location &loc() const { return loc_; }
  Graph *parent() const { return parent_; }

  /// An error at this op's location, prefixed `'mnemonic' op `.
  InFlightDiag emitError() const;
  InFlightDiag emitRemark() const;

private:
  friend class Graph;
  OpKind kind_;
  std::vector<Value *> operands_;
  OpAttrs attrs_;
  std::vector<std::unique_ptr<Value>> results_;
  Location loc_;
  Graph *parent_ = nullptr;
};

template <class T> bool Value::definedBy() const {
  return def_ && def_->isa<T>();
}

} // namespace kiln
