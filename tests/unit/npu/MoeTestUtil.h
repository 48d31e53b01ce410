//===- MoeTestUtil.h - helpers for the grouped MoE op tests -----*- C++ -*-===//
#pragma once

#include "runtime/SingleOp.h"
#include "runtime/Tensor.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace kiln::testing::moe {

/// A tensor of `dtype`/`shape` holding `values` in row-major order, stored
/// in `layout`.
inline Tensor tensor(DType dtype, Shape shape,
                     const std::vector<double> &values,
                     Layout layout = Layout::ND) {
  Tensor t(dtype, std::move(shape), layout);
  EXPECT_EQ(static_cast<int64_t>(values.size()), t.numel());
  for (size_t i = 0; i < values.size() && i < size_t(t.numel()); ++i)
    t.setDouble(static_cast<int64_t>(i), values[i]);
  return t;
}

/// `n` copies of `v`.
inline std::vector<double> fill(int64_t n, double v) {
  return std::vector<double>(n, v);
}

/// All values of `t` in row-major order.
inline std::vector<double> values(const Tensor &t) {
  std::vector<double> out;
  for (int64_t i = 0; i < t.numel(); ++i)
    out.push_back(t.getDouble(i));
  return out;
}

/// Seeded random data.
struct Random {
  std::mt19937_64 rng;
  explicit Random(uint64_t seed) : rng(seed) {}
  std::vector<int> ints(int64_t n, int lo, int hi) {
    std::uniform_int_distribution<int> u(lo, hi);
    std::vector<int> v(n);
    for (int &x : v)
      x = u(rng);
    return v;
  }
  /// Floats exactly representable in bf16 when `bf16` (so the test's
  /// float copy is the tensor's value).
  std::vector<float> floats(int64_t n, float lo, float hi, bool bf16 = false) {
    std::uniform_real_distribution<float> u(lo, hi);
    std::vector<float> v(n);
    for (float &x : v) {
      x = u(rng);
      if (bf16)
        x = static_cast<float>(tensor(DType::BF16, {1}, {x}).getDouble(0));
    }
    return v;
  }
  /// Counts of `e` groups covering at most `m` rows (some may be 0, the
  /// total may fall short of m).
  std::vector<int64_t> counts(int64_t e, int64_t m) {
    std::vector<int64_t> c(e, 0);
    int64_t left = std::uniform_int_distribution<int64_t>(0, m)(rng);
    for (int64_t g = 0; g < e && left > 0; ++g) {
      c[g] = g + 1 == e ? left
                        : std::uniform_int_distribution<int64_t>(0, left)(rng);
      left -= c[g];
    }
    return c;
  }
};

template <class T> std::vector<double> toDouble(const std::vector<T> &v) {
  return std::vector<double>(v.begin(), v.end());
}

/// Inclusive prefix sums (the cumsum convention) of counts.
inline std::vector<int64_t> cumsum(const std::vector<int64_t> &counts) {
  std::vector<int64_t> c(counts);
  for (size_t g = 1; g < c.size(); ++g)
    c[g] += c[g - 1];
  return c;
}

/// The message of the kiln::Error that `f` throws ("" if none).
template <class F> std::string errorOf(F &&f) {
  try {
    f();
  } catch (const Error &e) {
    return e.what();
  }
  return "";
}

} // namespace kiln::testing::moe
