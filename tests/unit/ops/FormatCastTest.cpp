//===- FormatCastTest.cpp - format_cast: ND <-> NZ round trips ------------===//
#include "OpTestUtil.h"

using namespace kiln;
using namespace kiln::testing;

namespace {

Op *formatCast(TestGraph &g, TensorType type, Layout layout) {
  Value *x = g.b.param("x", std::move(type));
  Op *op = g.b.format_cast({.input = x}, {.layout = layout}).op();
  return g.b.ok() ? op : nullptr;
}

/// ND -> NZ -> ND through two format_casts; checks the values survive and
/// returns the NZ intermediate.
Tensor roundTrip(DType dtype, Shape shape, const std::vector<double> &vals) {
  TensorType type = makeTensor(dtype, shape, vals).type();
  TestGraph g;
  Op *toNZ = formatCast(g, type, Layout::NZ);
  EXPECT_TRUE(toNZ) << g.lastError();
  TensorType nzType = type;
  nzType.layout = Layout::NZ;
  EXPECT_EQ(toNZ->result()->type(), nzType);
  Op *toND =
      g.b.format_cast({.input = toNZ->result()}, {.layout = Layout::ND}).op();
  EXPECT_TRUE(g.b.ok()) << g.lastError();
  EXPECT_EQ(toND->result()->type(), type);

  Tensor x = makeTensor(dtype, shape, vals);
  auto nz = evalOp(*toNZ, {&x});
  EXPECT_EQ(nz.size(), 1u);
  EXPECT_EQ(nz[0].layout(), Layout::NZ);
  EXPECT_EQ(values(nz[0]), vals);
  auto nd = evalOp(*toND, {&nz[0]});
  EXPECT_EQ(nd.size(), 1u);
  EXPECT_EQ(nd[0].layout(), Layout::ND);
  EXPECT_EQ(values(nd[0]), vals);
  return nz[0];
}

/// Number of nonzero bytes of t's storage.
int64_t nonzeroBytes(const Tensor &t) {
  int64_t n = 0;
  for (size_t i = 0; i < t.byteSize(); ++i)
    n += t.data()[i] != std::byte{0};
  return n;
}

TEST(FormatCastTest, I8OddShape) {
  // n0 = 32: storage [n1 = 2, k1 = 2, 16, 32]. Element (16, 32) sits at
  // (32/32)*(2*16*32) + (16/16)*(16*32) = 1536.
  std::vector<double> vals;
  for (int i = 0; i < 17 * 33; ++i)
    vals.push_back(i % 255 - 127 == 0 ? 1 : i % 255 - 127);
  Tensor nz = roundTrip(DType::I8, {17, 33}, vals);
  EXPECT_EQ(nz.storageShape(), (Shape{2, 2, 16, 32}));
  EXPECT_EQ(nz.byteSize(), 2048u);
  EXPECT_EQ(nz.dataAs<int8_t>()[1536], vals[16 * 33 + 32]);
  EXPECT_EQ(nz.dataAs<int8_t>()[1], vals[1]);   // (0, 1)
  EXPECT_EQ(nz.dataAs<int8_t>()[32], vals[33]); // (1, 0)
  EXPECT_EQ(nonzeroBytes(nz), 17 * 33);         // padding stays zero
}

TEST(FormatCastTest, I4OddShape) {
  // n0 = 64 (an int32 of packed i4 per 8 columns): storage [1, 2, 16, 64];
  // element (16, 32) is nibble 16*64 + 32 = 1056, the low half of byte 528.
  std::vector<double> vals;
  for (int i = 0; i < 17 * 33; ++i)
    vals.push_back(i % 15 - 7 == 0 ? -8 : i % 15 - 7);
  Tensor nz = roundTrip(DType::I4, {17, 33}, vals);
  EXPECT_EQ(nz.storageShape(), (Shape{1, 2, 16, 64}));
  EXPECT_EQ(nz.byteSize(), 1024u);
  uint8_t byte = nz.dataAs<uint8_t>()[528];
  EXPECT_EQ(byte & 0xf, static_cast<int>(vals[16 * 33 + 32]) & 0xf);
  EXPECT_EQ(byte >> 4, 0); // (16, 33) is column padding
  int64_t nonzeroNibbles = 0;
  for (size_t i = 0; i < nz.byteSize(); ++i) {
    uint8_t b = nz.dataAs<uint8_t>()[i];
    nonzeroNibbles += ((b & 0xf) != 0) + ((b >> 4) != 0);
  }
  EXPECT_EQ(nonzeroNibbles, 17 * 33);
}

TEST(FormatCastTest, F16Batched) {
  // n0 = 16: per batch [n1 = 5, k1 = 1, 16, 16].
  std::vector<double> vals;
  for (int i = 0; i < 3 * 5 * 70; ++i)
    vals.push_back((i % 2047) * 0.5 - 511.75);
  Tensor nz = roundTrip(DType::F16, {3, 5, 70}, vals);
  EXPECT_EQ(nz.storageShape(), (Shape{3, 5, 1, 16, 16}));
}

TEST(FormatCastTest, BF16AndF32) {
  std::vector<double> vals;
  for (int i = 0; i < 33 * 9; ++i)
    vals.push_back(i * 0.25 - 37);
  Tensor bf = roundTrip(DType::BF16, {33, 9}, vals);
  EXPECT_EQ(bf.storageShape(), (Shape{1, 3, 16, 16}));
  Tensor f = roundTrip(DType::F32, {33, 9}, vals);
  EXPECT_EQ(f.storageShape(), (Shape{2, 3, 16, 8}));
  Tensor one = roundTrip(DType::F32, {1, 1}, {3.5});
  EXPECT_EQ(one.storageShape(), (Shape{1, 1, 16, 8}));
}

TEST(FormatCastTest, SymbolsKept) {
  TestGraph g;
  g.b.symbols({"M"});
  Op *op = formatCast(g, {DType::I8, {"M", 64}}, Layout::NZ);
  ASSERT_TRUE(op) << g.lastError();
  EXPECT_EQ(op->result()->type(),
            (TensorType{DType::I8, {"M", 64}, Layout::NZ}));
}

TEST(FormatCastTest, NDToNDAndRank1ND) {
  TestGraph g;
  Op *op = formatCast(g, {DType::F32, {3}}, Layout::ND);
  ASSERT_TRUE(op) << g.lastError();
  Tensor x = makeTensor(DType::F32, {3}, {1, 2, 3});
  auto out = evalOp(*op, {&x});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(values(out[0]), (std::vector<double>{1, 2, 3}));
}

TEST(FormatCastTest, ErrorNZNeedsRank2) {
  TestGraph g;
  EXPECT_FALSE(formatCast(g, {DType::F32, {5}}, Layout::NZ));
  EXPECT_EQ(g.lastError(),
            "'format_cast' op NZ layout needs rank >= 2, got f32[5]");
}

} // namespace
