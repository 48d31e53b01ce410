//===- Types.cpp - dtypes, dims, layouts and tensor types ------------------===//
#include "ir/Types.h"

#include <array>
#include <ostream>
#include <sstream>

namespace kiln {

namespace {
struct DTypeInfo {
  DType type;
  std::string_view name;
  int bits;
  bool isFloat;
};
constexpr std::array<DTypeInfo, 7> kDTypes = {{
    {DType::I4, "i4", 4, false},
    {DType::I8, "i8", 8, false},
    {DType::I32, "i32", 32, false},
    {DType::I64, "i64", 64, false},
    {DType::F16, "f16", 16, true},
    {DType::BF16, "bf16", 16, true},
    {DType::F32, "f32", 32, true},
}};
const DTypeInfo &info(DType t) { return kDTypes[static_cast<size_t>(t)]; }
} // namespace

std::string_view toString(DType t) { return info(t).name; }
bool isFloat(DType t) { return info(t).isFloat; }
bool isInteger(DType t) { return !info(t).isFloat; }
int bitWidth(DType t) { return info(t).bits; }

std::optional<DType> parseDType(std::string_view s) {
  for (const DTypeInfo &i : kDTypes)
    if (i.name == s)
      return i.type;
  return std::nullopt;
}

std::string_view toString(Layout l) { return l == Layout::NZ ? "NZ" : "ND"; }

std::optional<Layout> parseLayout(std::string_view s) {
  if (s == "ND")
    return Layout::ND;
  if (s == "NZ")
    return Layout::NZ;
  return std::nullopt;
}

int64_t nzColumnsPerFractal(DType t) { return 32 * 8 / bitWidth(t); }

bool TensorType::isStatic() const {
  for (const Dim &d : dims)
    if (d.isSymbol())
      return false;
  return true;
}

int64_t TensorType::numElements() const {
  int64_t n = 1;
  for (const Dim &d : dims)
    n *= d.size();
  return n;
}

std::ostream &operator<<(std::ostream &os, const Dim &d) {
  if (d.isSymbol())
    return os << d.symbol();
  return os << d.size();
}

std::ostream &operator<<(std::ostream &os, DType t) { return os << toString(t); }
std::ostream &operator<<(std::ostream &os, Layout l) { return os << toString(l); }

std::ostream &operator<<(std::ostream &os, const TensorType &t) {
  os << t.dtype << '[';
  for (size_t i = 0; i < t.dims.size(); ++i)
    os << (i ? "," : "") << t.dims[i];
  os << ']';
  if (t.layout != Layout::ND)
    os << ' ' << t.layout;
  return os;
}

std::string toString(const TensorType &t) {
  std::ostringstream os;
  os << t;
  return os.str();
}

std::string toString(const Dim &d) {
  std::ostringstream os;
  os << d;
  return os.str();
}

} // namespace kiln
