//===- Tensor.cpp - owning, aligned n-d arrays ----------------------------===//
#include "runtime/Tensor.h"

#include "runtime/Float16.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cmath>
#include <cstring>
#include <new>
#include <sstream>

namespace kiln {

Shape rowMajorStrides(const Shape &shape) {
  Shape strides(shape.size(), 1);
  for (int64_t i = static_cast<int64_t>(shape.size()) - 2; i >= 0; --i)
    strides[i] = strides[i + 1] * shape[i + 1];
  return strides;
}

int64_t numElements(const Shape &shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

void unravelIndex(int64_t linear, const Shape &shape, std::span<int64_t> out) {
  for (int64_t i = static_cast<int64_t>(shape.size()) - 1; i >= 0; --i) {
    int64_t d = shape[i];
    out[i] = d ? linear % d : 0;
    linear = d ? linear / d : 0;
  }
}

std::string toString(const Shape &shape) {
  std::ostringstream os;
  os << '[';
  for (size_t i = 0; i < shape.size(); ++i)
    os << (i ? "," : "") << shape[i];
  os << ']';
  return os.str();
}

namespace {
int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }
constexpr size_t kAlignment = 64;

std::shared_ptr<std::byte[]> allocateZeroed(size_t bytes) {
  size_t n = std::max<size_t>(bytes, kAlignment);
  auto *p = new (std::align_val_t(kAlignment)) std::byte[n];
  std::memset(p, 0, n);
  return std::shared_ptr<std::byte[]>(p, [](std::byte *q) {
    ::operator delete[](q, std::align_val_t(kAlignment));
  });
}

/// `v` as a double, rounded to odd when |v| >= 2^53: the dropped bits are
/// folded into the lowest kept bit. A later rounding to f32/f16/bf16 (at
/// most 24 bits) then sees the same tie / non-tie as `v` itself, where a
/// plain int64 -> double conversion would round twice.
double toDoubleRoundToOdd(int64_t v) {
  uint64_t mag =
      v < 0 ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
  int shift = std::bit_width(mag) - 53;
  if (shift > 0) {
    uint64_t sticky = (mag & ((uint64_t(1) << shift) - 1)) != 0;
    mag = ((mag >> shift) | sticky) << shift;
  }
  double d = static_cast<double>(mag);
  return v < 0 ? -d : d;
}
} // namespace

Tensor::Tensor(DType dtype, Shape shape, Layout layout)
    : dtype_(dtype), shape_(std::move(shape)), layout_(layout) {
  assert((layout_ == Layout::ND || rank() >= 2) && "NZ needs rank >= 2");
  int64_t stored = numElements(storageShape());
  bytes_ = dtype_ == DType::I4
               ? static_cast<size_t>(ceilDiv(stored, 2))
               : static_cast<size_t>(stored) * bitWidth(dtype_) / 8;
  data_ = allocateZeroed(bytes_);
}

TensorType Tensor::type() const {
  TensorType t{dtype_, {}, layout_};
  for (int64_t d : shape_)
    t.dims.push_back(Dim(d));
  return t;
}

Shape Tensor::storageShapeFor(DType dtype, const Shape &shape, Layout layout) {
  if (layout == Layout::NZ) {
    assert(shape.size() >= 2 && "NZ needs rank >= 2");
    int64_t n0 = nzColumnsPerFractal(dtype);
    Shape s(shape.begin(), shape.end() - 2);
    s.push_back(ceilDiv(shape.back(), n0));
    s.push_back(ceilDiv(shape[shape.size() - 2], 16));
    s.push_back(16);
    s.push_back(n0);
    return s;
  }
  if (dtype == DType::I4) {
    if (shape.empty())
      return {8};
    Shape s = shape;
    s.back() = ceilDiv(s.back(), 8) * 8;
    return s;
  }
  return shape;
}

int64_t Tensor::storageIndex(int64_t linear) const {
  if (layout_ == Layout::ND && dtype_ != DType::I4)
    return linear;
  int64_t cols = shape_.empty() ? 1 : shape_.back();
  int64_t j = cols ? linear % cols : 0;
  int64_t row = cols ? linear / cols : 0;
  if (layout_ == Layout::ND)
    return row * (ceilDiv(cols, 8) * 8) + j;
  int64_t rows = dim(-2);
  int64_t i = row % rows, batch = row / rows;
  int64_t n0 = nzColumnsPerFractal(dtype_);
  int64_t k1 = ceilDiv(rows, 16), n1 = ceilDiv(cols, n0);
  return batch * (n1 * k1 * 16 * n0) + (j / n0) * (k1 * 16 * n0) +
         (i / 16) * (16 * n0) + (i % 16) * n0 + j % n0;
}

double Tensor::getDouble(int64_t linear) const {
  int64_t s = storageIndex(linear);
  switch (dtype_) {
  case DType::F32:
    return dataAs<float>()[s];
  case DType::F16:
    return halfToFloat(dataAs<uint16_t>()[s]);
  case DType::BF16:
    return bf16ToFloat(dataAs<uint16_t>()[s]);
  default:
    return static_cast<double>(getInt(linear));
  }
}

int64_t Tensor::getInt(int64_t linear) const {
  int64_t s = storageIndex(linear);
  switch (dtype_) {
  case DType::I4: {
    uint8_t byte = dataAs<uint8_t>()[s / 2];
    int nib = (s % 2) ? byte >> 4 : byte & 0xf;
    return nib >= 8 ? nib - 16 : nib;
  }
  case DType::I8:
    return dataAs<int8_t>()[s];
  case DType::I32:
    return dataAs<int32_t>()[s];
  case DType::I64:
    return dataAs<int64_t>()[s];
  default:
    assert(false && "getInt on a float tensor");
    return 0;
  }
}

void Tensor::setDouble(int64_t linear, double v) {
  if (isInteger(dtype_)) {
    setInt(linear, roundToIntType(v, dtype_));
    return;
  }
  int64_t s = storageIndex(linear);
  switch (dtype_) {
  case DType::F32:
    dataAs<float>()[s] = static_cast<float>(v);
    break;
  case DType::F16:
    dataAs<uint16_t>()[s] = doubleToHalf(v);
    break;
  case DType::BF16:
    dataAs<uint16_t>()[s] = doubleToBf16(v);
    break;
  default:
    break;
  }
}

void Tensor::setInt(int64_t linear, int64_t v) {
  if (isFloat(dtype_)) {
    setDouble(linear, toDoubleRoundToOdd(v));
    return;
  }
  int64_t s = storageIndex(linear);
  switch (dtype_) {
  case DType::I4: {
    uint8_t &byte = dataAs<uint8_t>()[s / 2];
    uint8_t nib = static_cast<uint8_t>(v) & 0xf;
    byte = (s % 2) ? static_cast<uint8_t>((byte & 0x0f) | (nib << 4))
                   : static_cast<uint8_t>((byte & 0xf0) | nib);
    break;
  }
  case DType::I8:
    dataAs<int8_t>()[s] = static_cast<int8_t>(v);
    break;
  case DType::I32:
    dataAs<int32_t>()[s] = static_cast<int32_t>(v);
    break;
  case DType::I64:
    dataAs<int64_t>()[s] = v;
    break;
  default:
    break;
  }
}

Tensor Tensor::toLayout(Layout layout) const {
  if (empty())
    return Tensor();
  Tensor out(dtype_, shape_, layout);
  int64_t n = numel();
  for (int64_t i = 0; i < n; ++i) {
    if (isInteger(dtype_))
      out.setInt(i, getInt(i));
    else
      out.setDouble(i, getDouble(i));
  }
  return out;
}

Tensor Tensor::clone() const {
  if (empty())
    return Tensor();
  Tensor out(dtype_, shape_, layout_);
  std::memcpy(out.data(), data(), bytes_);
  return out;
}

bool Tensor::sameValues(const Tensor &other) const {
  if (empty() || other.empty())
    return empty() && other.empty();
  if (dtype_ != other.dtype_ || shape_ != other.shape_)
    return false;
  int64_t n = numel();
  for (int64_t i = 0; i < n; ++i) {
    if (isInteger(dtype_)) {
      if (getInt(i) != other.getInt(i))
        return false;
      continue;
    }
    double a = getDouble(i), b = other.getDouble(i);
    if (a != b && !(std::isnan(a) && std::isnan(b)))
      return false;
  }
  return true;
}

} // namespace kiln
