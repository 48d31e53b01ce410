//===- Tensor.h - owning, aligned n-d arrays --------------------*- C++ -*-===//
#pragma once

#include "ir/Types.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace kiln {

using Shape = std::vector<int64_t>;

/// Row-major strides of `shape`, in elements.
Shape rowMajorStrides(const Shape &shape);
/// Product of the dims (1 for rank 0).
int64_t numElements(const Shape &shape);
/// The multi-index of row-major position `linear`.
void unravelIndex(int64_t linear, const Shape &shape, std::span<int64_t> out);
std::string toString(const Shape &shape);

/// An owning tensor: dtype, logical shape, layout and a 64-byte aligned,
/// zero-initialised buffer. The buffer holds the *storage* form: NZ blocked
/// (OPS.md §1.1, zero padded) and i4 packed two per byte, low nibble first,
/// with each stored row padded to a whole int32 (eight i4).
class Tensor {
public:
  Tensor() = default;
  Tensor(DType dtype, Shape shape, Layout layout = Layout::ND);

  DType dtype() const { return dtype_; }
  Layout layout() const { return layout_; }
  const Shape &shape() const { return shape_; }
  int64_t rank() const { return static_cast<int64_t>(shape_.size()); }
  /// shape()[i], negative i counting from the end.
  int64_t dim(int64_t i) const { return shape_[i < 0 ? i + rank() : i]; }
  int64_t numel() const { return numElements(shape_); }
  /// The static TensorType of this tensor.
  TensorType type() const;
  bool empty() const { return !data_; }

  /// Shape of the stored elements (NZ: [..., n1, k1, 16, n0]; i4 ND: last
  /// dim rounded up to a multiple of 8).
  Shape storageShape() const {
    return storageShapeFor(dtype_, shape_, layout_);
  }
  /// storageShape() of a tensor with this dtype, logical shape and layout,
  /// without allocating one.
  static Shape storageShapeFor(DType dtype, const Shape &shape, Layout layout);
  size_t byteSize() const { return bytes_; }
  std::byte *data() { return data_.get(); }
  const std::byte *data() const { return data_.get(); }
  template <class T> T *dataAs() { return reinterpret_cast<T *>(data_.get()); }
  template <class T> const T *dataAs() const {
    return reinterpret_cast<const T *>(data_.get());
  }

  /// Storage element position of logical row-major element `linear`.
  int64_t storageIndex(int64_t linear) const;

  /// Element `linear` (logical row-major) as a double; integers are exact
  /// up to 2^53, f16/bf16 widened exactly.
  double getDouble(int64_t linear) const;
  /// Element `linear` of an integer tensor.
  int64_t getInt(int64_t linear) const;
  /// Float dtypes: rounds to nearest even. Integer dtypes: rounds half to
  /// even and saturates (NaN becomes 0), the float->int rule of OPS.md §0.
  void setDouble(int64_t linear, double v);
  /// Integer dtypes: stores v modulo 2^bits (two's complement wrap).
  /// Float dtypes: converts v and rounds to nearest even.
  void setInt(int64_t linear, int64_t v);

  /// The same values in another layout.
  Tensor toLayout(Layout layout) const;
  /// A deep copy.
  Tensor clone() const;
  /// Same dtype, shape and logical values (layout may differ).
  bool sameValues(const Tensor &other) const;

private:
  DType dtype_ = DType::F32;
  Shape shape_;
  Layout layout_ = Layout::ND;
  size_t bytes_ = 0;
  std::shared_ptr<std::byte[]> data_;
};

} // namespace kiln
