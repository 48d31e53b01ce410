//===- NpyTest.cpp - .npy round trips, numpy byte layout, bad files -------===//
#include "runtime/Npy.h"

#include "runtime/Float16.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

using namespace kiln;

namespace {

std::vector<std::byte> bytesOf(std::string_view s) {
  auto *p = reinterpret_cast<const std::byte *>(s.data());
  return {p, p + s.size()};
}

std::string stringOf(const std::vector<std::byte> &b) {
  return {reinterpret_cast<const char *>(b.data()), b.size()};
}

/// A .npy image with `header` used verbatim (no padding added).
std::string npy(std::string_view header, std::string_view data = "",
                int major = 1) {
  std::string s = "\x93NUMPY";
  s += static_cast<char>(major);
  s += '\0';
  size_t lengthSize = major == 1 ? 2 : 4;
  for (size_t i = 0; i < lengthSize; ++i)
    s += static_cast<char>(header.size() >> (8 * i));
  return s + std::string(header) + std::string(data);
}

std::string dict(std::string_view descr, std::string_view shape) {
  return "{'descr': '" + std::string(descr) +
         "', 'fortran_order': False, 'shape': " + std::string(shape) + ", }";
}

/// Reads `image` (named x.npy), collecting diagnostics.
struct Reader {
  std::vector<std::string> msgs;
  DiagEngine engine{[this](const Diagnostic &d) { msgs.push_back(d.message); }};

  FailureOr<Tensor> read(std::string_view image,
                         const NpyExpect *expect = nullptr) {
    return readNpyBytes(bytesOf(image), "x.npy", engine, expect);
  }
  /// Expects failure with exactly one `x.npy: ...` message containing `what`.
  void expectError(std::string_view image, std::string_view what,
                   const NpyExpect *expect = nullptr) {
    msgs.clear();
    EXPECT_TRUE(read(image, expect).failed()) << what;
    ASSERT_EQ(msgs.size(), 1u) << what;
    EXPECT_EQ(msgs[0].rfind("x.npy: ", 0), 0u) << msgs[0];
    EXPECT_NE(msgs[0].find(what), std::string::npos)
        << "message: " << msgs[0] << "\nexpected to contain: " << what;
  }
};

Tensor sample(DType dtype, const Shape &shape, Layout layout = Layout::ND) {
  Tensor t(dtype, shape, layout);
  for (int64_t k = 0; k < t.numel(); ++k)
    t.setDouble(k, dtype == DType::I4    ? (k * 5) % 16 - 8
                   : isInteger(dtype)    ? (k * 37) % 255 - 127
                   : dtype == DType::F32 ? k * 0.1 - 3
                                         : (k % 64 - 31.5) * 0.5);
  return t;
}

/// The file dtype tensors of `d` travel as.
DType fileDType(DType d) {
  return d == DType::I4 ? DType::I8 : d == DType::BF16 ? DType::F32 : d;
}

NpyExpect expectOf(DType dtype, std::vector<Dim> dims,
                   Layout layout = Layout::ND) {
  return NpyExpect{TensorType{dtype, std::move(dims), layout}, "x"};
}

} // namespace

TEST(Npy, NumpyByteExactHeader) {
  // What numpy.save writes for np.arange(6, dtype=np.float32).reshape(2, 3):
  // the dict, 20 spaces of growth room for the first dim, spaces up to a
  // 64-byte boundary, '\n'; header length 118 = 0x76, data at offset 128.
  std::string header = "{'descr': '<f4', 'fortran_order': False, "
                       "'shape': (2, 3), }" +
                       std::string(58, ' ') + "\n";
  ASSERT_EQ(header.size(), 118u);
  std::string expected = std::string("\x93NUMPY\x01\x00\x76\x00", 10) + header +
                         std::string("\0\0\0\0"      // 0.0f
                                     "\0\0\x80\x3f"  // 1.0f
                                     "\0\0\0\x40"    // 2.0f
                                     "\0\0\x40\x40"  // 3.0f
                                     "\0\0\x80\x40"  // 4.0f
                                     "\0\0\xa0\x40", // 5.0f
                                     24);
  Tensor t(DType::F32, {2, 3});
  for (int64_t k = 0; k < 6; ++k)
    t.setDouble(k, static_cast<double>(k));
  std::string written = stringOf(writeNpyBytes(t));
  EXPECT_EQ(written, expected);
  Reader r;
  FailureOr<Tensor> back = r.read(expected);
  ASSERT_FALSE(back.failed());
  EXPECT_TRUE(back->sameValues(t));
}

TEST(Npy, HeaderLayout) {
  for (const Shape &shape :
       {Shape{}, Shape{5}, Shape{0, 3}, Shape{1234567, 0}, Shape{2, 3, 4}}) {
    for (DType d : {DType::I8, DType::I4, DType::F16, DType::BF16}) {
      std::string s = stringOf(writeNpyBytes(Tensor(d, shape)));
      size_t length = static_cast<uint8_t>(s[8]) | static_cast<uint8_t>(s[9])
                                                       << 8;
      EXPECT_EQ((10 + length) % 64, 0u);
      EXPECT_EQ(s[9 + length], '\n');
      EXPECT_EQ(s.substr(6, 2), std::string("\x01\x00", 2));
    }
  }
  auto headerOf = [](DType d, Shape shape) {
    return stringOf(writeNpyBytes(Tensor(d, std::move(shape)))).substr(10);
  };
  EXPECT_EQ(headerOf(DType::F32, {}).rfind(dict("<f4", "()") + "   ", 0), 0u);
  EXPECT_EQ(headerOf(DType::I8, {5}).rfind(dict("|i1", "(5,)") + " ", 0), 0u);
  EXPECT_EQ(headerOf(DType::I4, {5}).rfind(dict("|i1", "(5,)"), 0), 0u);
  EXPECT_EQ(headerOf(DType::BF16, {2}).rfind(dict("<f4", "(2,)"), 0), 0u);
  EXPECT_EQ(headerOf(DType::I64, {2}).rfind(dict("<i8", "(2,)"), 0), 0u);
}

TEST(Npy, RoundTripEveryDType) {
  for (const Shape &shape :
       {Shape{2, 3}, Shape{}, Shape{2, 3, 5}, Shape{0, 3}, Shape{7}}) {
    for (DType d : {DType::I8, DType::I32, DType::I64, DType::F16, DType::F32,
                    DType::BF16, DType::I4}) {
      Tensor t = sample(d, shape);
      std::string image = stringOf(writeNpyBytes(t));
      std::vector<Dim> dims(shape.begin(), shape.end());
      NpyExpect expect = expectOf(d, dims);
      Reader r;
      FailureOr<Tensor> typed = r.read(image, &expect);
      ASSERT_FALSE(typed.failed()) << (r.msgs.empty() ? "" : r.msgs[0]);
      EXPECT_EQ(typed->dtype(), d);
      EXPECT_EQ(typed->layout(), Layout::ND);
      EXPECT_TRUE(typed->sameValues(t)) << toString(d) << toString(shape);
      // Untyped: i4 comes back as i8 and bf16 as f32, with the same values.
      FailureOr<Tensor> plain = r.read(image);
      ASSERT_FALSE(plain.failed());
      EXPECT_EQ(plain->dtype(), fileDType(d));
      EXPECT_EQ(plain->shape(), shape);
      for (int64_t k = 0; k < t.numel(); ++k)
        ASSERT_EQ(plain->getDouble(k), t.getDouble(k));
    }
  }
}

TEST(Npy, Bf16RoundsFloat32ToNearestEven) {
  Tensor f(DType::F32, {3});
  f.setDouble(0, 1 + std::ldexp(1.0, -8));     // tie -> 1
  f.setDouble(1, 1 + 3 * std::ldexp(1.0, -8)); // tie -> 1 + 2^-6
  f.setDouble(2, 1 + std::ldexp(1.0, -8) + std::ldexp(1.0, -20)); // up
  NpyExpect expect = expectOf(DType::BF16, {3});
  Reader r;
  FailureOr<Tensor> t = r.read(stringOf(writeNpyBytes(f)), &expect);
  ASSERT_FALSE(t.failed());
  EXPECT_EQ(t->getDouble(0), 1.0);
  EXPECT_EQ(t->getDouble(1), 1 + std::ldexp(1.0, -6));
  EXPECT_EQ(t->getDouble(2), 1 + std::ldexp(1.0, -7));
}

TEST(Npy, NzFromLogicalAndStorageArrays) {
  for (DType d : {DType::I8, DType::F16, DType::BF16, DType::F32, DType::I32,
                  DType::I4}) {
    for (const Shape &shape : {Shape{17, 33}, Shape{2, 5, 70}}) {
      Tensor nz = sample(d, shape, Layout::NZ);
      std::vector<Dim> dims(shape.begin(), shape.end());
      NpyExpect expect = expectOf(d, dims, Layout::NZ);
      Reader r;
      // Written in logical ND form, read back into NZ.
      std::string logical = stringOf(writeNpyBytes(nz));
      EXPECT_NE(logical.find(shape.size() == 2 ? "(17, 33)" : "(2, 5, 70)"),
                std::string::npos);
      FailureOr<Tensor> a = r.read(logical, &expect);
      ASSERT_FALSE(a.failed()) << r.msgs[0];
      EXPECT_EQ(a->layout(), Layout::NZ);
      EXPECT_TRUE(a->sameValues(nz));
      // The storage array (n1, k1, 16, n0) in its file dtype; its padding
      // (here 1s) is ignored.
      Tensor raw(fileDType(d), nz.storageShape());
      for (int64_t s = 0; s < raw.numel(); ++s)
        raw.setDouble(s, 1);
      for (int64_t k = 0; k < nz.numel(); ++k)
        raw.setDouble(nz.storageIndex(k), nz.getDouble(k));
      std::string image = stringOf(writeNpyBytes(raw));
      if (d == DType::I4) { // only the logical form is accepted for i4 NZ
        r.expectError(image, "does not match parameter %x of type i4[",
                      &expect);
        continue;
      }
      FailureOr<Tensor> b = r.read(image, &expect);
      ASSERT_FALSE(b.failed()) << r.msgs[0];
      EXPECT_EQ(b->layout(), Layout::NZ);
      EXPECT_TRUE(b->sameValues(nz)) << toString(d);
      EXPECT_EQ(std::memcmp(b->data(), nz.data(), nz.byteSize()), 0);
    }
  }
}

TEST(Npy, ExpectationMismatches) {
  Reader r;
  std::string f32 = npy(dict("<f4", "(3, 4)"), std::string(48, '\0'));
  NpyExpect f16 = expectOf(DType::F16, {3, 4});
  r.expectError(f32, "", &f16);
  EXPECT_EQ(
      r.msgs[0],
      "x.npy: dtype float32 does not match parameter %x of type f16[3,4]");
  std::string f16file = npy(dict("<f2", "(3, 5)"), std::string(30, '\0'));
  r.expectError(f16file, "", &f16);
  EXPECT_EQ(r.msgs[0],
            "x.npy: shape (3,5) does not match parameter %x of type f16[3,4]");
  NpyExpect bf16 = expectOf(DType::BF16, {3, 4});
  r.expectError(npy(dict("<f2", "(3, 4)"), std::string(24, '\0')),
                "dtype float16 does not match parameter %x of type bf16[3,4] "
                "(bf16 is read from float32 files)",
                &bf16);
  NpyExpect i4 = expectOf(DType::I4, {2, 4});
  r.expectError(npy(dict("|i1", "(2, 4)"),
                    std::string("\x01\xf8\x07\x00\x00\x09\x00\x00", 8)),
                "value 9 at flat index 5 is outside the i4 range [-8, 7] of "
                "parameter %x",
                &i4);
  r.expectError(npy(dict("|i1", "(2, 4)"), std::string(7, '\0') + "\xf7"),
                "value -9 at flat index 7", &i4);
  NpyExpect nz = expectOf(DType::F16, {3, 4}, Layout::NZ);
  r.expectError(f16file,
                "shape (3,5) does not match parameter %x of type f16[3,4] NZ "
                "(nor its NZ storage shape (1,1,16,16))",
                &nz);
  NpyExpect rank = expectOf(DType::F16, {12});
  r.expectError(f16file, "shape (3,5) does not match", &rank);
  NpyExpect badNz = expectOf(DType::F16, {12}, Layout::NZ);
  r.expectError(f16file, "NZ needs rank 2", &badNz);
  // A symbolic dim matches any size; an unnamed parameter reads naturally.
  NpyExpect sym = expectOf(DType::F16, {Dim("M"), 5});
  r.msgs.clear();
  EXPECT_FALSE(r.read(f16file, &sym).failed());
  NpyExpect unnamed{TensorType{DType::I8, {3, 5}, Layout::ND}, ""};
  r.expectError(f16file, "dtype float16 does not match parameter of type i8",
                &unnamed);
}

TEST(Npy, HeaderSpellingVariations) {
  Reader r;
  std::string data(24, '\0');
  for (std::string header :
       {"{'shape': (2, 3), 'fortran_order': False, 'descr': '<f4'}",
        "{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (2,3)}",
        "  {'descr':'<f4','fortran_order':False,'shape':( 2 , 3 , ),}  \n",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2L, 3L), }\n",
        "{'descr': 'f4', 'fortran_order': False, 'shape': (2, 3), }"}) {
    FailureOr<Tensor> t = r.read(npy(header, data));
    ASSERT_FALSE(t.failed()) << header << ": " << r.msgs[0];
    EXPECT_EQ(t->shape(), (Shape{2, 3}));
  }
  // Versions 2.0 and 3.0 differ only in a 4-byte header length.
  for (int major : {2, 3}) {
    FailureOr<Tensor> t = r.read(npy(dict("<f4", "(2, 3)"), data, major));
    ASSERT_FALSE(t.failed());
  }
  EXPECT_EQ(r.read(npy(dict("<i4", "(5,)"), std::string(20, '\0')))->shape(),
            (Shape{5}));
  EXPECT_EQ(r.read(npy(dict("<i8", "()"), std::string(8, '\0')))->shape(),
            (Shape{}));
  EXPECT_EQ(r.read(npy(dict(">i1", "(2,)"), "ab"))->dtype(), DType::I8);
  EXPECT_TRUE(r.msgs.empty());
}

TEST(Npy, MalformedFiles) {
  Reader r;
  std::string data(48, '\0');
  std::string good = dict("<f4", "(3, 4)");
  r.expectError("", "not a .npy file (bad magic string)");
  r.expectError("PK\x03\x04 not numpy", "bad magic");
  r.expectError("\x93NUMPY", "truncated header");
  r.expectError("\x93NUMPY\x01\x00\x10", "truncated header");
  r.expectError(npy(good, data).substr(0, 40), "truncated header");
  std::string v4 = npy(good, data);
  v4[6] = 4;
  r.expectError(v4, "unsupported .npy format version 4.0");
  v4[6] = 1, v4[7] = 1;
  r.expectError(v4, "unsupported .npy format version 1.1");
  std::pair<std::string, std::string_view> cases[] = {
      {"[1, 2]", "header is not a dict"},
      {"{'descr': '<f4', 'shape': (3, 4)}", "missing key 'fortran_order'"},
      {"{'descr': '<f4', 'fortran_order': False}", "missing key 'shape'"},
      {dict("<f4", "(3, x)"), "cannot parse shape: expected an integer"},
      {dict("<f4", "[3, 4]"), "shape is not a tuple"},
      {dict("<f4", "(12)"), "shape (12) is not a tuple"},
      {dict("<f4", "(3 4)"), "cannot parse shape: expected ',' or ')'"},
      {dict("<f4", "(3, -4)"), "negative dimension -4"},
      {dict("<f4", "(99999999999999999999, 1)"), "in shape is too large"},
      {dict("<f4", "(4294967296, 4294967296)"),
       "shape (4294967296,4294967296) has too many elements"},
      {good + " 'x'", "unexpected text after the dict"},
      {good.substr(0, good.size() - 1) + "'extra': 1}",
       "unexpected key 'extra'"},
      {"{'descr': '<f4', 'descr': '<f4'}", "duplicate key 'descr'"},
      {"{'descr': '<f4' 'fortran_order': False}",
       "expected ',' or '}' after the value of 'descr'"},
      {"{'descr': '<f4", "descr is not a string"},
      {"{'descr' '<f4'}", "expected ':' after 'descr'"},
      {"{descr: '<f4'}", "expected a quoted key"},
      {"{'fortran_order': 0}", "fortran_order is not True or False"},
      {"{'descr': '<f4'\x01\xff}", "in \"{'descr': '<f4'??}\""},
      {"{'descr': [('a', '<f4')]}", "structured dtypes"},
      // Unsupported element types and orders.
      {dict("|u1", "(3, 4)"), "unsupported dtype '|u1'"},
      {dict("<f8", "(3, 4)"), "unsupported dtype '<f8'"},
      {dict("|b1", "(3, 4)"), "unsupported dtype '|b1'"},
      {dict("|O", "(3, 4)"), "unsupported dtype '|O'"},
      {dict(">f4", "(3, 4)"), "big-endian dtype '>f4' is not supported"},
      {"{'descr': '<f4', 'fortran_order': True, 'shape': (3, 4)}",
       "fortran_order arrays are not supported"}};
  for (const auto &[header, what] : cases)
    r.expectError(npy(header, data), what);
  // Data of the wrong length.
  r.expectError(npy(good, std::string(20, '\0')),
                "truncated: expected 48 bytes of data, found 20");
  r.expectError(npy(good, std::string(52, '\0')),
                "trailing data after array: expected 48 bytes of data, found "
                "52");
}

TEST(Npy, EveryTruncationAndByteFlipFailsCleanly) {
  std::string image = stringOf(writeNpyBytes(sample(DType::F16, {3, 4})));
  Reader r;
  for (size_t n = 0; n < image.size(); ++n)
    r.expectError(image.substr(0, n), n < 6     ? "bad magic"
                                      : n < 128 ? "truncated header"
                                                : "truncated: expected 24");
  // Corrupting any header byte either still parses or gives one error.
  for (size_t i = 0; i < 128; ++i) {
    for (char c : {'\0', '(', '\'', '}', ',', '-', '9', '\xff'}) {
      std::string bad = image;
      bad[i] = c;
      r.msgs.clear();
      FailureOr<Tensor> t = r.read(bad);
      EXPECT_EQ(r.msgs.size(), t.failed() ? 1u : 0u) << i << " " << c;
    }
  }
}

TEST(Npy, Files) {
  std::filesystem::path dir =
      std::filesystem::path(::testing::TempDir()) / "kiln-npy-test";
  std::filesystem::create_directories(dir);
  std::string path = (dir / "w.npy").string();
  Tensor t = sample(DType::BF16, {4, 32}, Layout::NZ);
  Reader r;
  ASSERT_TRUE(succeeded(writeNpy(path, t, r.engine)));
  NpyExpect expect = expectOf(DType::BF16, {4, 32}, Layout::NZ);
  FailureOr<Tensor> back = readNpy(path, r.engine, &expect);
  ASSERT_FALSE(back.failed());
  EXPECT_TRUE(back->sameValues(t));
  EXPECT_EQ(back->layout(), Layout::NZ);
  std::string missing = (dir / "missing.npy").string();
  EXPECT_TRUE(readNpy(missing, r.engine).failed());
  ASSERT_EQ(r.msgs.size(), 1u);
  EXPECT_EQ(r.msgs[0].rfind(missing + ": cannot open", 0), 0u) << r.msgs[0];
  r.msgs.clear();
  EXPECT_TRUE(readNpy(dir.string(), r.engine).failed()); // a directory
  ASSERT_EQ(r.msgs.size(), 1u);
  r.msgs.clear();
  EXPECT_TRUE(
      failed(writeNpy((dir / "no/such/dir.npy").string(), t, r.engine)));
  ASSERT_EQ(r.msgs.size(), 1u);
  EXPECT_NE(r.msgs[0].find("cannot write"), std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST(Npy, HugeHeaderUsesVersion2) {
  // 30000 unit dims need a header longer than 65535 bytes.
  Tensor t(DType::F32, Shape(30000, 1));
  t.setDouble(0, 2.5);
  std::string image = stringOf(writeNpyBytes(t));
  EXPECT_EQ(image.substr(6, 2), std::string("\x02\x00", 2));
  EXPECT_GT(image.size(), 65536u + 12);
  EXPECT_EQ((image.size() - 4) % 64, 0u); // data (one float) at 64k
  Reader r;
  FailureOr<Tensor> back = r.read(image);
  ASSERT_FALSE(back.failed());
  EXPECT_EQ(back->rank(), 30000);
  EXPECT_EQ(back->getDouble(0), 2.5);
}
