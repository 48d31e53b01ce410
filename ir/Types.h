//===- Types.h - dtypes, dims, layouts and tensor types ---------*- C++ -*-===//
#pragma once

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kiln {

/// Element types. i4 is stored packed two per byte (eight per int32), low
/// nibble first, along the stored last dimension (OPS.md §1.2).
enum class DType : uint8_t { I4, I8, I32, I64, F16, BF16, F32 };

std::string_view toString(DType t);
std::optional<DType> parseDType(std::string_view s);
bool isFloat(DType t);
bool isInteger(DType t);
/// Bits per element (4 for i4).
int bitWidth(DType t);

/// Memory layout of a tensor. NZ is FRACTAL_NZ (OPS.md §1.1): the last two
/// logical dims [R, C] are stored as [ceil(C/n0), ceil(R/16), 16, n0].
enum class Layout : uint8_t { ND, NZ };

std::string_view toString(Layout l);
std::optional<Layout> parseLayout(std::string_view s);
/// Elements per fractal row for NZ: 32 bytes / element size.
int64_t nzColumnsPerFractal(DType t);

/// A dimension: a known size or a named symbol bound at run time.
class Dim {
public:
  Dim(int64_t size = 0) : size_(size) {}
  Dim(int size) : size_(size) {}
  Dim(std::string symbol) : size_(-1), symbol_(std::move(symbol)) {}
  Dim(const char *symbol) : Dim(std::string(symbol)) {}

  bool isStatic() const { return symbol_.empty(); }
  bool isSymbol() const { return !symbol_.empty(); }
  int64_t size() const { return size_; }
  const std::string &symbol() const { return symbol_; }
  bool operator==(const Dim &) const = default;

private:
  int64_t size_;
  std::string symbol_;
};

std::ostream &operator<<(std::ostream &os, const Dim &d);

/// Type of every SSA value: element type, logical shape and layout.
struct TensorType {
  DType dtype = DType::F32;
  std::vector<Dim> dims;
  Layout layout = Layout::ND;

  int64_t rank() const { return static_cast<int64_t>(dims.size()); }
  /// dims[i] with Python-style negative indexing.
  const Dim &dim(int64_t i) const { return dims[i < 0 ? i + rank() : i]; }
  bool isStatic() const;
  /// Product of dims; only for static types.
  int64_t numElements() const;
  bool operator==(const TensorType &) const = default;
};

std::ostream &operator<<(std::ostream &os, DType t);
std::ostream &operator<<(std::ostream &os, Layout l);
/// Prints the IR spelling, e.g. `i8[E,2048,7168] NZ`.
std::ostream &operator<<(std::ostream &os, const TensorType &t);
std::string toString(const TensorType &t);
std::string toString(const Dim &d);

} // namespace kiln
