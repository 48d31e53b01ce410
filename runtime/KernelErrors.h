//===- KernelErrors.h - run-time data errors, one wording everywhere ------===//
//
// Data-dependent errors (a bad group_list, an out-of-range index) are found
// by the reference kernels and by JIT-ed code alike; both report them with
// these messages so a user sees the same words whichever path ran.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <string>

namespace kiln {

enum class KernelError : int32_t {
  GroupListNegative,   ///< a = entry, b = value
  GroupListDecreasing, ///< a = entry, b = value, c = previous end
  GroupListTooLarge,   ///< a = entry, b = value, c = rows
  IndexOutOfRange,     ///< a = position, b = value, c = rows
  SliceOutOfRange,     ///< a = start, b = end, c = axis, d = dim size
  RowIndexOutOfRange,  ///< a = position, b = value, c = output rows
  /// a = shared_input_offset, b = shared_input rows, c = output rows
  SharedInputOutOfRange,
};

/// The message for an error (without the `'op' op` prefix).
std::string describe(KernelError e, int64_t a, int64_t b, int64_t c = 0,
                     int64_t d = 0);

} // namespace kiln
