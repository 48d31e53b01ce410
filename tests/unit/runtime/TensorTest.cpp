//===- TensorTest.cpp - storage, NZ index map, i4 packing, rounding -------===//
#include "runtime/Tensor.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <set>

using namespace kiln;

namespace {

/// Whether storage element `s` of `t` is all zero bits (i4: one nibble).
bool storageElementIsZero(const Tensor &t, int64_t s) {
  if (t.dtype() == DType::I4) {
    auto byte = static_cast<uint8_t>(t.data()[s / 2]);
    return ((s % 2 ? byte >> 4 : byte) & 0xf) == 0;
  }
  int64_t size = bitWidth(t.dtype()) / 8;
  for (int64_t b = 0; b < size; ++b)
    if (t.data()[s * size + b] != std::byte{0})
      return false;
  return true;
}

/// A nonzero, exactly representable test value for element `k` of `dtype`.
double sampleValue(DType dtype, int64_t k) {
  switch (dtype) {
  case DType::I4:
    return (k * 7 + 3) % 15 - 7 == 0 ? 5 : (k * 7 + 3) % 15 - 7; // [-7, 7]
  case DType::I8:
    return (k * 37) % 255 - 127 == 0 ? 1 : (k * 37) % 255 - 127;
  case DType::I32:
  case DType::I64:
    return 2 * ((k * 7919) % 100003) - 100003; // odd
  case DType::F16:
    return ((k * 13) % 400 - 199.5) * 0.25; // 9 significant bits
  case DType::BF16:
    return ((k * 13) % 256 - 127.5) * 0.5; // 8 significant bits
  case DType::F32:
    return static_cast<float>((k * 7919) % 10007 * 0.1 - 500.05);
  }
  return 0;
}

Tensor sampleTensor(DType dtype, const Shape &shape, Layout layout) {
  Tensor t(dtype, shape, layout);
  for (int64_t k = 0; k < t.numel(); ++k)
    t.setDouble(k, sampleValue(dtype, k));
  return t;
}

/// Storage offset of logical (batch, i, j) through the 4-D NZ index map
/// NZ[j / n0][i / 16][i % 16][j % n0] = ND[i][j], using row-major strides of
/// the storage shape (independent of Tensor::storageIndex's closed form).
int64_t nzOffset(const Tensor &t, int64_t batch, int64_t i, int64_t j) {
  Shape storage = t.storageShape();
  Shape strides = rowMajorStrides(storage);
  int64_t n0 = storage.back(), r = static_cast<int64_t>(storage.size());
  int64_t batchStride = r > 4 ? strides[r - 5] : 0;
  return batch * batchStride + (j / n0) * strides[r - 4] +
         (i / 16) * strides[r - 3] + (i % 16) * strides[r - 2] + j % n0;
}

} // namespace

TEST(Tensor, ZeroInitialisedAndAligned) {
  for (DType d : {DType::I4, DType::I8, DType::I32, DType::I64, DType::F16,
                  DType::BF16, DType::F32}) {
    for (const Shape &shape :
         {Shape{}, Shape{0, 3}, Shape{3, 5}, Shape{1, 1}, Shape{17, 33}}) {
      for (Layout layout : {Layout::ND, Layout::NZ}) {
        if (layout == Layout::NZ && shape.size() < 2)
          continue;
        Tensor t(d, shape, layout);
        EXPECT_FALSE(t.empty());
        EXPECT_EQ(reinterpret_cast<uintptr_t>(t.data()) % 64, 0u);
        for (size_t b = 0; b < t.byteSize(); ++b)
          ASSERT_EQ(t.data()[b], std::byte{0});
        for (int64_t k = 0; k < t.numel(); ++k)
          ASSERT_EQ(t.getDouble(k), 0.0);
      }
    }
  }
}

TEST(Tensor, StorageShapes) {
  // n0 = 32 bytes / element size: 32 (i8), 16 (f16/bf16), 8 (i32/f32) and
  // 64 for i4 (eight int32 containers of eight i4).
  EXPECT_EQ(Tensor(DType::I8, {17, 33}, Layout::NZ).storageShape(),
            (Shape{2, 2, 16, 32}));
  EXPECT_EQ(Tensor(DType::F16, {17, 33}, Layout::NZ).storageShape(),
            (Shape{3, 2, 16, 16}));
  EXPECT_EQ(Tensor(DType::BF16, {16, 32}, Layout::NZ).storageShape(),
            (Shape{2, 1, 16, 16}));
  EXPECT_EQ(Tensor(DType::I32, {17, 33}, Layout::NZ).storageShape(),
            (Shape{5, 2, 16, 8}));
  EXPECT_EQ(Tensor(DType::I4, {17, 33}, Layout::NZ).storageShape(),
            (Shape{1, 2, 16, 64}));
  EXPECT_EQ(Tensor(DType::F16, {3, 5, 70}, Layout::NZ).storageShape(),
            (Shape{3, 5, 1, 16, 16}));
  EXPECT_EQ(Tensor(DType::I8, {17, 33}, Layout::NZ).byteSize(), 2048u);
  EXPECT_EQ(Tensor(DType::I4, {17, 33}, Layout::NZ).byteSize(), 1024u);
  // i4 ND: each stored row padded to a multiple of 8 elements (one int32).
  EXPECT_EQ(Tensor(DType::I4, {3, 5}).storageShape(), (Shape{3, 8}));
  EXPECT_EQ(Tensor(DType::I4, {2, 9}).storageShape(), (Shape{2, 16}));
  EXPECT_EQ(Tensor(DType::I4, {4, 8}).storageShape(), (Shape{4, 8}));
  EXPECT_EQ(Tensor(DType::I4, {7}).storageShape(), (Shape{8}));
  EXPECT_EQ(Tensor(DType::I4, {}).storageShape(), (Shape{8}));
  EXPECT_EQ(Tensor(DType::I4, {3, 5}).byteSize(), 12u);
  EXPECT_EQ(Tensor(DType::I4, {2, 9}).byteSize(), 16u);
  EXPECT_EQ(Tensor(DType::F32, {3, 5}).storageShape(), (Shape{3, 5}));
  // The static form agrees without allocating.
  EXPECT_EQ(Tensor::storageShapeFor(DType::I8, {4, 17, 33}, Layout::NZ),
            (Shape{4, 2, 2, 16, 32}));
}

TEST(Tensor, NzIndexMap) {
  // A hand-computed point: i8 [17,33], element (16, 32) is NZ[1][1][0][0].
  Tensor i8(DType::I8, {17, 33}, Layout::NZ);
  EXPECT_EQ(i8.storageIndex(16 * 33 + 32), 1 * (2 * 16 * 32) + 1 * (16 * 32));
  for (DType d : {DType::I4, DType::I8, DType::I32, DType::F16, DType::F32}) {
    for (const Shape &shape :
         {Shape{17, 33}, Shape{3, 5, 70}, Shape{16, 32}, Shape{2, 40, 129}}) {
      Tensor t = sampleTensor(d, shape, Layout::NZ);
      int64_t rows = shape[shape.size() - 2], cols = shape.back();
      std::set<int64_t> used;
      for (int64_t k = 0; k < t.numel(); ++k) {
        int64_t j = k % cols, i = (k / cols) % rows, b = k / (rows * cols);
        ASSERT_EQ(t.storageIndex(k), nzOffset(t, b, i, j))
            << toString(shape) << " " << toString(d) << " at " << k;
        used.insert(t.storageIndex(k));
      }
      EXPECT_EQ(static_cast<int64_t>(used.size()), t.numel()); // injective
      // Everything else is zero padding.
      for (int64_t s = 0; s < numElements(t.storageShape()); ++s)
        if (!used.count(s)) {
          ASSERT_TRUE(storageElementIsZero(t, s)) << "padding at " << s;
        }
    }
  }
}

TEST(Tensor, I4NibbleOrderAndRowPadding) {
  Tensor t(DType::I4, {2, 3});
  t.setInt(0, 3);  // byte 0, low nibble
  t.setInt(1, -2); // byte 0, high nibble (0xE)
  t.setInt(3, 5);  // row 1 starts at storage element 8: byte 4, low nibble
  EXPECT_EQ(static_cast<uint8_t>(t.data()[0]), 0xE3);
  EXPECT_EQ(static_cast<uint8_t>(t.data()[4]), 0x05);
  EXPECT_EQ(t.getInt(0), 3);
  EXPECT_EQ(t.getInt(1), -2);
  EXPECT_EQ(t.getInt(3), 5);
  // Raw 0x8F: element 0 = 0xF = -1, element 1 = 0x8 = -8.
  t.data()[0] = std::byte{0x8F};
  EXPECT_EQ(t.getInt(0), -1);
  EXPECT_EQ(t.getInt(1), -8);
}

TEST(Tensor, I4SignExtension) {
  Tensor t(DType::I4, {16});
  for (int64_t v = -8; v <= 7; ++v)
    t.setInt(v + 8, v);
  for (int64_t v = -8; v <= 7; ++v) {
    EXPECT_EQ(t.getInt(v + 8), v);
    EXPECT_EQ(t.getDouble(v + 8), static_cast<double>(v));
  }
  t.setInt(0, 9); // setInt wraps modulo 2^4: 9 -> -7
  EXPECT_EQ(t.getInt(0), -7);
}

TEST(Tensor, SetDoubleRoundsHalfEvenAndSaturates) {
  Tensor t(DType::I8, {1});
  auto roundTrip = [&](double v) {
    t.setDouble(0, v);
    return t.getInt(0);
  };
  EXPECT_EQ(roundTrip(127.5), 127); // rounds to 128, saturates
  EXPECT_EQ(roundTrip(126.5), 126);
  EXPECT_EQ(roundTrip(-128.5), -128);
  EXPECT_EQ(roundTrip(-129.0), -128);
  EXPECT_EQ(roundTrip(2.5), 2);
  EXPECT_EQ(roundTrip(-2.5), -2);
  EXPECT_EQ(roundTrip(3.5), 4);
  EXPECT_EQ(roundTrip(0.49999999999999994), 0);
  EXPECT_EQ(roundTrip(1e300), 127);
  EXPECT_EQ(roundTrip(-INFINITY), -128);
  EXPECT_EQ(roundTrip(NAN), 0);
  Tensor i4(DType::I4, {1});
  i4.setDouble(0, 7.5);
  EXPECT_EQ(i4.getInt(0), 7);
  i4.setDouble(0, -8.5);
  EXPECT_EQ(i4.getInt(0), -8);
  Tensor i32(DType::I32, {1});
  i32.setDouble(0, 2147483647.5);
  EXPECT_EQ(i32.getInt(0), 2147483647);
}

TEST(Tensor, SetIntOnFloatsRoundsOnce) {
  // 2^60 + 2^36 + 1 is just above the f32 tie 2^60 + 2^36; converting to
  // double first would land exactly on the tie and round down to even.
  const int64_t p60 = int64_t(1) << 60;
  Tensor f32(DType::F32, {1});
  f32.setInt(0, p60 + (int64_t(1) << 36) + 1);
  EXPECT_EQ(f32.getDouble(0), std::ldexp(1.0, 60) + std::ldexp(1.0, 37));
  f32.setInt(0, -(p60 + (int64_t(1) << 36)));
  EXPECT_EQ(f32.getDouble(0), -std::ldexp(1.0, 60));
  Tensor bf16(DType::BF16, {1});
  bf16.setInt(0, p60 + (int64_t(1) << 52) + 1);
  EXPECT_EQ(bf16.getDouble(0), std::ldexp(1.0, 60) + std::ldexp(1.0, 53));
  bf16.setInt(0, INT64_MIN);
  EXPECT_EQ(bf16.getDouble(0), -std::ldexp(1.0, 63));
  Tensor f16(DType::F16, {1});
  f16.setInt(0, 65519);
  EXPECT_EQ(f16.getDouble(0), 65504.0);
  f16.setInt(0, 65520);
  EXPECT_TRUE(std::isinf(f16.getDouble(0)));
}

TEST(Tensor, ToLayoutRoundTrip) {
  for (DType d : {DType::I8, DType::F16, DType::F32, DType::I4, DType::BF16,
                  DType::I32}) {
    for (const Shape &shape :
         {Shape{1, 1}, Shape{17, 33}, Shape{3, 5, 70}, Shape{16, 32}}) {
      Tensor nd = sampleTensor(d, shape, Layout::ND);
      Tensor nz = nd.toLayout(Layout::NZ);
      EXPECT_EQ(nz.layout(), Layout::NZ);
      EXPECT_EQ(nz.shape(), shape);
      ASSERT_TRUE(nz.sameValues(nd)) << toString(d) << toString(shape);
      for (int64_t k = 0; k < nd.numel(); ++k)
        ASSERT_EQ(nz.getDouble(k), sampleValue(d, k)) << k;
      Tensor back = nz.toLayout(Layout::ND);
      EXPECT_EQ(back.layout(), Layout::ND);
      ASSERT_EQ(back.byteSize(), nd.byteSize());
      EXPECT_EQ(std::memcmp(back.data(), nd.data(), nd.byteSize()), 0);
    }
  }
}

TEST(Tensor, CloneAndSameValues) {
  Tensor a = sampleTensor(DType::F16, {3, 5}, Layout::ND);
  Tensor b = a.clone();
  EXPECT_NE(a.data(), b.data());
  EXPECT_TRUE(a.sameValues(b));
  b.setDouble(7, 1000.0);
  EXPECT_FALSE(a.sameValues(b));
  EXPECT_FALSE(a.sameValues(Tensor(DType::F16, {5, 3})));
  EXPECT_FALSE(a.sameValues(Tensor(DType::F32, {3, 5})));
  Tensor nan(DType::F32, {1});
  nan.setDouble(0, NAN);
  EXPECT_TRUE(nan.sameValues(nan.clone()));
  // A default-constructed tensor has no storage; copies stay empty.
  Tensor none;
  EXPECT_TRUE(none.empty());
  EXPECT_TRUE(none.clone().empty());
  EXPECT_TRUE(none.toLayout(Layout::ND).empty());
  EXPECT_TRUE(none.sameValues(Tensor()));
  EXPECT_FALSE(none.sameValues(a));
}

TEST(Tensor, TypeAndHelpers) {
  Tensor t(DType::BF16, {4, 32}, Layout::NZ);
  EXPECT_EQ(toString(t.type()), "bf16[4,32] NZ");
  EXPECT_EQ(t.dim(-1), 32);
  EXPECT_EQ(rowMajorStrides({2, 3, 4}), (Shape{12, 4, 1}));
  EXPECT_EQ(numElements({}), 1);
  EXPECT_EQ(numElements({0, 3}), 0);
  int64_t idx[3];
  unravelIndex(23, {2, 3, 4}, idx);
  EXPECT_EQ(idx[0], 1);
  EXPECT_EQ(idx[1], 2);
  EXPECT_EQ(idx[2], 3);
  EXPECT_EQ(toString(Shape{2, 3}), "[2,3]");
}
