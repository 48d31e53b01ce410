//===- Npy.cpp - NumPy .npy reading and writing ---------------------------===//
//
// Layout of a .npy file: the magic "\x93NUMPY", a major and a minor version
// byte, the header length (little-endian u16 for 1.0, u32 for 2.0 and 3.0),
// the header (a Python dict literal padded with spaces and a final '\n' so
// the data starts at a multiple of 64 bytes), then the raw elements in C
// order. Elements are decoded byte by byte, so the reader does not depend on
// the host byte order; whole-buffer copies are only a fast path.
//
// Each reading step returns "" or the problem; readNpyBytes reports it, so a
// bad file produces exactly one diagnostic.
//
//===----------------------------------------------------------------------===//
#include "runtime/Npy.h"

#include "runtime/Float16.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <bit>
#include <cassert>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>

namespace kiln {

namespace {

constexpr std::string_view kMagic = "\x93NUMPY";
constexpr size_t kAlign = 64;
/// numpy leaves room for the first dim to grow to this many digits
/// (GROWTH_AXIS_MAX_DIGITS in numpy/lib/format.py).
constexpr size_t kGrowthDigits = 21;
/// Bound on the product of the nonzero dims, so that neither the size checks
/// here nor the NZ / i4 padding in Tensor can overflow int64.
constexpr int64_t kMaxElements = int64_t(1) << 48;
constexpr bool kLittleEndianHost = std::endian::native == std::endian::little;

/// A file dtype kiln reads: descr code without byte order, numpy's name.
struct FileDType {
  std::string_view code;
  std::string_view name;
  DType dtype;
  size_t size;
};
constexpr FileDType kFileDTypes[] = {{"i1", "int8", DType::I8, 1},
                                     {"i4", "int32", DType::I32, 4},
                                     {"i8", "int64", DType::I64, 8},
                                     {"f2", "float16", DType::F16, 2},
                                     {"f4", "float32", DType::F32, 4}};

/// The file dtype that holds tensors of `t`: i4 travels as int8, bf16 as
/// float32.
const FileDType &fileDTypeFor(DType t) {
  DType stored = t == DType::I4 ? DType::I8 : t == DType::BF16 ? DType::F32 : t;
  return *std::find_if(std::begin(kFileDTypes), std::end(kFileDTypes),
                       [&](const FileDType &f) { return f.dtype == stored; });
}

/// Python spelling of a shape tuple: (2, 3), (5,), (). `sep` is ", " in
/// headers (as numpy writes it) and "," in messages.
std::string pyTuple(const Shape &shape, std::string_view sep = ",") {
  return fmt::format("({}{})", fmt::join(shape, sep),
                     shape.size() == 1 ? "," : "");
}

/// Parses the header's Python dict literal, e.g.
/// `{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }`, in any key
/// order and spacing. Returns "" on success, else what is wrong.
class HeaderParser {
public:
  explicit HeaderParser(std::string_view text) : text_(text) {}

  std::string parse(std::string &descr, bool &fortranOrder, Shape &shape) {
    static constexpr std::string_view kKeys[] = {"descr", "fortran_order",
                                                 "shape"};
    bool seen[3] = {false, false, false};
    if (!eat("{"))
      return "header is not a dict";
    while (!eat("}")) {
      std::string key, err;
      if (!parseString(key))
        return "expected a quoted key";
      size_t k = std::find(kKeys, kKeys + 3, key) - kKeys;
      if (k == 3 || seen[k])
        return (k == 3 ? "unexpected key '" : "duplicate key '") + key + "'";
      seen[k] = true;
      if (!eat(":"))
        return "expected ':' after '" + key + "'";
      if (k == 0 && at('['))
        return "structured dtypes (a list descr) are not supported";
      if (k == 0 && !parseString(descr))
        return "descr is not a string";
      if (k == 1 && !(fortranOrder = eat("True")) && !eat("False"))
        return "fortran_order is not True or False";
      if (k == 2 && !(err = parseShape(shape)).empty())
        return err;
      if (!eat(",") && !at('}'))
        return "expected ',' or '}' after the value of '" + key + "'";
    }
    for (size_t k = 0; k < 3; ++k)
      if (!seen[k])
        return "missing key '" + std::string(kKeys[k]) + "'";
    return at('\0') ? "" : "unexpected text after the dict";
  }

private:
  /// Skips whitespace; true if `c` comes next ('\0': the end of the text).
  bool at(char c) {
    while (pos_ < text_.size() &&
           std::isspace(static_cast<uint8_t>(text_[pos_])))
      ++pos_;
    return pos_ < text_.size() ? text_[pos_] == c && c : c == '\0';
  }
  /// Skips whitespace and consumes `word` if it comes next.
  bool eat(std::string_view word) {
    if (!at(word[0]) || text_.substr(pos_, word.size()) != word)
      return false;
    pos_ += word.size();
    return true;
  }
  /// A '...' or "..." literal without escapes.
  bool parseString(std::string &out) {
    if (!at('\'') && !at('"'))
      return false;
    size_t end = text_.find(text_[pos_], pos_ + 1);
    if (end == std::string_view::npos)
      return false;
    out = text_.substr(pos_ + 1, end - pos_ - 1);
    pos_ = end + 1;
    return out.find('\\') == std::string::npos;
  }
  /// A tuple of non-negative ints: (), (5,), (2, 3) or (2, 3,).
  std::string parseShape(Shape &shape) {
    if (!eat("("))
      return "shape is not a tuple";
    bool comma = false;
    while (!eat(")")) {
      bool negative = eat("-");
      at(' ');
      size_t start = pos_;
      int64_t v = 0;
      for (; pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9';
           ++pos_) {
        if (v > (std::numeric_limits<int64_t>::max() - 9) / 10)
          return "dimension " + std::string(text_.substr(start, 20)) +
                 "... in shape is too large";
        v = v * 10 + (text_[pos_] - '0');
      }
      if (pos_ == start)
        return "cannot parse shape: expected an integer";
      pos_ += text_.substr(pos_, 1) == "L"; // Python 2 long suffix
      if (negative && v)
        return "negative dimension -" + std::to_string(v) + " in shape";
      shape.push_back(v);
      comma = eat(",");
      if (!comma && !at(')'))
        return "cannot parse shape: expected ',' or ')'";
    }
    if (shape.size() == 1 && !comma)
      return "shape (" + std::to_string(shape[0]) + ") is not a tuple";
    return "";
  }

  std::string_view text_;
  size_t pos_ = 0;
};

/// Little-endian unsigned integer of `size` bytes at `p`.
uint64_t loadLE(const std::byte *p, size_t size) {
  uint64_t v = 0;
  for (size_t i = 0; i < size; ++i)
    v |= static_cast<uint64_t>(p[i]) << (8 * i);
  return v;
}

void appendLE(std::vector<std::byte> &out, uint64_t v, size_t size) {
  for (size_t i = 0; i < size; ++i)
    out.push_back(static_cast<std::byte>(v >> (8 * i)));
}

/// What the header says about the data, then (resolveTarget) the tensor to
/// build from it: dtype, logical shape, layout, and whether the file holds
/// the NZ storage array rather than the logical one.
struct NpyHeader {
  const FileDType *dtype = nullptr;
  Shape shape;
  std::span<const std::byte> data;
  DType target = DType::F32;
  Shape targetShape;
  Layout layout = Layout::ND;
  bool storageForm = false;
};

/// The file dtype `descr` names, or why it is not supported.
std::string lookupDescr(std::string_view descr, const FileDType *&dtype) {
  std::string_view code = descr;
  char order = code.empty() ? ' ' : code.front();
  if (std::string_view("<>|=").find(order) != std::string_view::npos)
    code.remove_prefix(1);
  for (const FileDType &f : kFileDTypes) {
    if (f.code != code)
      continue;
    if (order == '>' && f.size > 1)
      return fmt::format("big-endian dtype '{}' is not supported", descr);
    dtype = &f;
    return "";
  }
  return fmt::format("unsupported dtype '{}'; kiln reads int8 '|i1', int32 "
                     "'<i4', int64 '<i8', float16 '<f2' and float32 '<f4'",
                     descr);
}

/// Checks the preamble, the header dict and the data size.
std::string parseHeader(std::span<const std::byte> bytes, NpyHeader &h) {
  if (bytes.size() < kMagic.size() ||
      std::memcmp(bytes.data(), kMagic.data(), kMagic.size()) != 0)
    return "not a .npy file (bad magic string)";
  if (bytes.size() < kMagic.size() + 2)
    return "truncated header: no format version";
  auto major = static_cast<unsigned>(bytes[6]);
  auto minor = static_cast<unsigned>(bytes[7]);
  if (major < 1 || major > 3 || minor != 0)
    return fmt::format("unsupported .npy format version {}.{}", major, minor);
  size_t lengthSize = major == 1 ? 2 : 4, start = 8 + lengthSize;
  if (bytes.size() < start)
    return "truncated header: the file ends inside the header length";
  uint64_t length = loadLE(bytes.data() + 8, lengthSize);
  if (length > bytes.size() - start)
    return fmt::format("truncated header: expected {} bytes, found {}", length,
                       bytes.size() - start);
  std::string_view text(reinterpret_cast<const char *>(bytes.data() + start),
                        length);
  std::string descr;
  bool fortranOrder = false;
  if (std::string err = HeaderParser(text).parse(descr, fortranOrder, h.shape);
      !err.empty()) {
    // Quote the header (at most 100 bytes, no padding) as printable ASCII.
    std::string shown(text.substr(
        0, std::min<size_t>(text.find_last_not_of(" \n") + 1, 100)));
    for (char &c : shown)
      if (static_cast<unsigned char>(c) - 0x20u >= 0x5fu)
        c = '?';
    return "malformed header: " + err + " in \"" + shown + "\"";
  }
  if (std::string err = lookupDescr(descr, h.dtype); !err.empty())
    return err;
  if (fortranOrder)
    return "fortran_order arrays are not supported (save a C-ordered array)";
  int64_t count = 1;
  for (int64_t d : h.shape) {
    if (d > 0 && count > kMaxElements / d)
      return "shape " + pyTuple(h.shape) + " has too many elements";
    count *= std::max<int64_t>(d, 1);
  }
  if (std::find(h.shape.begin(), h.shape.end(), 0) != h.shape.end())
    count = 0;
  size_t expected = static_cast<size_t>(count) * h.dtype->size;
  h.data = bytes.subspan(start + length);
  if (h.data.size() != expected)
    return fmt::format("{}: expected {} bytes of data, found {}",
                       h.data.size() < expected ? "truncated"
                                                : "trailing data after array",
                       expected, h.data.size());
  return "";
}

/// `%name` of the expected parameter, or "" when unnamed.
std::string paramLabel(const NpyExpect &expect) {
  const std::string &name = expect.paramName;
  return name.empty() || name.front() == '%' ? name : "%" + name;
}

/// Checks the file against the parameter it feeds (see NpyExpect).
std::string resolveTarget(NpyHeader &h, const NpyExpect *expect) {
  h.target = h.dtype->dtype;
  h.targetShape = h.shape;
  if (!expect)
    return "";
  const TensorType &type = expect->type;
  std::string param = paramLabel(*expect);
  auto mismatch = [&](const std::string &what) {
    return fmt::format("{} does not match parameter {}{}of type {}", what,
                       param, param.empty() ? "" : " ", toString(type));
  };
  if (type.layout == Layout::NZ && type.rank() < 2)
    return "parameter type " + toString(type) + " is invalid: NZ needs rank 2";
  const FileDType &wanted = fileDTypeFor(type.dtype);
  if (&wanted != h.dtype)
    return mismatch("dtype " + std::string(h.dtype->name)) +
           (wanted.dtype == type.dtype
                ? ""
                : fmt::format(" ({} is read from {} files)",
                              toString(type.dtype), wanted.name));
  h.target = type.dtype;
  h.layout = type.layout;
  bool logical = static_cast<int64_t>(h.shape.size()) == type.rank();
  for (size_t i = 0; logical && i < h.shape.size(); ++i)
    logical = type.dims[i].isSymbol() || type.dims[i].size() == h.shape[i];
  if (logical)
    return "";
  std::string shapeText = "shape " + pyTuple(h.shape);
  if (type.layout != Layout::NZ || type.dtype == DType::I4 || !type.isStatic())
    return mismatch(shapeText);
  h.targetShape.clear();
  for (const Dim &d : type.dims)
    h.targetShape.push_back(d.size());
  Shape storage =
      Tensor::storageShapeFor(type.dtype, h.targetShape, Layout::NZ);
  h.storageForm = h.shape == storage;
  if (h.storageForm)
    return "";
  return mismatch(shapeText) + " (nor its NZ storage shape " +
         pyTuple(storage) + ")";
}

/// Builds the tensor from the validated data section. Padding in an NZ
/// storage-form file is ignored: the tensor's padding stays zero.
std::string decode(const NpyHeader &h, const NpyExpect *expect, Tensor &t) {
  t = Tensor(h.target, h.targetShape, h.layout);
  size_t size = h.dtype->size;
  if (kLittleEndianHost && h.dtype->dtype == h.target &&
      h.layout == Layout::ND) {
    std::memcpy(t.data(), h.data.data(), h.data.size());
    return "";
  }
  for (int64_t i = 0, n = t.numel(); i < n; ++i) {
    int64_t src = h.storageForm ? t.storageIndex(i) : i;
    uint64_t raw = loadLE(h.data.data() + src * size, size);
    if (isFloat(h.target)) {
      t.setDouble(i, size == 2
                         ? halfToFloat(static_cast<uint16_t>(raw))
                         : std::bit_cast<float>(static_cast<uint32_t>(raw)));
      continue;
    }
    int64_t v = size == 1   ? static_cast<int8_t>(raw)
                : size == 4 ? static_cast<int32_t>(raw)
                            : static_cast<int64_t>(raw);
    if (h.target == DType::I4 && (v < -8 || v > 7))
      return fmt::format("value {} at flat index {} is outside the i4 range "
                         "[-8, 7] of parameter {}",
                         v, i, paramLabel(*expect));
    t.setInt(i, v);
  }
  return "";
}

/// Starts the one diagnostic of a failed read or write: `<name>: ...`.
InFlightDiag report(DiagEngine &diags, std::string_view name) {
  InFlightDiag d = emitError(diags, Location{std::string(name), 0, 0});
  d << name << ": ";
  return d;
}

} // namespace

FailureOr<Tensor> readNpyBytes(std::span<const std::byte> bytes,
                               std::string_view nameForErrors,
                               DiagEngine &diags, const NpyExpect *expect) {
  NpyHeader header;
  Tensor t;
  std::string err = parseHeader(bytes, header);
  if (err.empty())
    err = resolveTarget(header, expect);
  if (err.empty())
    err = decode(header, expect, t);
  if (!err.empty())
    return report(diags, nameForErrors) << err;
  return t;
}

FailureOr<Tensor> readNpy(const std::string &path, DiagEngine &diags,
                          const NpyExpect *expect) {
  std::FILE *f = std::fopen(path.c_str(), "rb");
  if (!f)
    return report(diags, path) << "cannot open: " << std::strerror(errno);
  std::vector<std::byte> bytes;
  std::byte chunk[1 << 16];
  while (size_t got = std::fread(chunk, 1, sizeof(chunk), f))
    bytes.insert(bytes.end(), chunk, chunk + got);
  int err = std::ferror(f) ? errno : 0;
  std::fclose(f);
  if (err)
    return report(diags, path) << "cannot read: " << std::strerror(err);
  return readNpyBytes(bytes, path, diags, expect);
}

std::vector<std::byte> writeNpyBytes(const Tensor &t) {
  assert(!t.empty() && "writing a default-constructed Tensor");
  const FileDType &ft = fileDTypeFor(t.dtype());
  const Shape &shape = t.shape();
  // Exactly what numpy.save writes: sorted keys, repr() values, room for the
  // first dim to grow, then spaces and '\n' up to a 64-byte boundary (a full
  // 64 when already aligned, as numpy does).
  std::string header =
      fmt::format("{{'descr': '{}{}', 'fortran_order': False, 'shape': {}, }}",
                  ft.size == 1 ? '|' : '<', ft.code, pyTuple(shape, ", "));
  if (!shape.empty())
    header.append(kGrowthDigits - std::to_string(shape[0]).size(), ' ');
  auto padding = [&](size_t lengthSize) {
    return kAlign -
           (kMagic.size() + 2 + lengthSize + header.size() + 1) % kAlign;
  };
  size_t lengthSize = header.size() + 1 + padding(2) <= 0xffff ? 2 : 4;
  header.append(padding(lengthSize), ' ');
  header += '\n';

  std::string prefix(kMagic);
  prefix += {static_cast<char>(lengthSize == 2 ? 1 : 2), '\0'};
  auto *chars = reinterpret_cast<const std::byte *>(prefix.data());
  std::vector<std::byte> out(chars, chars + prefix.size());
  appendLE(out, header.size(), lengthSize);
  chars = reinterpret_cast<const std::byte *>(header.data());
  out.insert(out.end(), chars, chars + header.size());

  int64_t n = t.numel();
  if (kLittleEndianHost && t.layout() == Layout::ND && t.dtype() == ft.dtype) {
    out.insert(out.end(), t.data(), t.data() + n * ft.size);
    return out;
  }
  out.reserve(out.size() + n * ft.size);
  for (int64_t i = 0; i < n; ++i) {
    double v = isFloat(ft.dtype) ? t.getDouble(i) : 0;
    appendLE(out,
             ft.dtype == DType::F16   ? doubleToHalf(v)
             : ft.dtype == DType::F32 ? std::bit_cast<uint32_t>(float(v))
                                      : static_cast<uint64_t>(t.getInt(i)),
             ft.size);
  }
  return out;
}

LogicalResult writeNpy(const std::string &path, const Tensor &t,
                       DiagEngine &diags) {
  std::vector<std::byte> bytes = writeNpyBytes(t);
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char *>(bytes.data()), bytes.size());
  out.close();
  if (!out)
    return report(diags, path) << "cannot write: " << std::strerror(errno);
  return success();
}

} // namespace kiln
