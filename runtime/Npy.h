//===- Npy.h - NumPy .npy reading and writing -------------------*- C++ -*-===//
//
// Reads and writes the NumPy `.npy` format (versions 1.0, 2.0 and 3.0,
// little-endian, C order) for the dtypes kiln feeds its graphs with: int8,
// int32, int64, float16 and float32. Types numpy has no spelling for travel
// as their nearest file dtype: bf16 as float32 and i4 as int8. Every
// malformed file yields exactly one diagnostic `<path>: <what is wrong>`.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Diagnostics.h"
#include "ir/Types.h"
#include "runtime/Tensor.h"

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace kiln {

/// The graph parameter a file feeds. When given to readNpy, the file is
/// checked against it and converted to its dtype and layout:
///  - bf16 is read from float32 files, each value rounded to nearest even;
///  - i4 is read from int8 files whose values all lie in [-8, 7];
///  - an NZ layout accepts the logical ND array or (except for i4) the NZ
///    storage array of shape `Tensor(dtype, dims, NZ).storageShape()`,
///    whose padding is ignored;
///  - otherwise the file dtype must equal the parameter dtype.
/// The file shape must equal `type.dims`; a symbolic dim matches any size
/// (the NZ storage form needs static dims).
struct NpyExpect {
  TensorType type;
  /// The parameter name used in messages, with or without the leading `%`.
  std::string paramName;
};

/// Reads the .npy file at `path`. On failure reports one error and returns
/// failure; never crashes on malformed input.
FailureOr<Tensor> readNpy(const std::string &path, DiagEngine &diags,
                          const NpyExpect *expect = nullptr);

/// Reads an in-memory .npy image; `nameForErrors` prefixes every message.
FailureOr<Tensor> readNpyBytes(std::span<const std::byte> bytes,
                               std::string_view nameForErrors,
                               DiagEngine &diags,
                               const NpyExpect *expect = nullptr);

/// The .npy image numpy.save would write for `t` in its logical ND shape:
/// bf16 as `<f4`, i4 as `|i1`, others natively; the header is padded so the
/// data starts at a multiple of 64 bytes (format 1.0 unless the header needs
/// more than 65535 bytes).
std::vector<std::byte> writeNpyBytes(const Tensor &t);

/// Writes writeNpyBytes(t) to `path`; reports an error if the file cannot be
/// written.
LogicalResult writeNpy(const std::string &path, const Tensor &t,
                       DiagEngine &diags);

} // namespace kiln
