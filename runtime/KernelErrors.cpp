//===- KernelErrors.cpp - run-time data errors ----------------------------===//
#include "runtime/KernelErrors.h"

#include <fmt/core.h>

namespace kiln {

std::string describe(KernelError e, int64_t a, int64_t b, int64_t c,
                     int64_t d) {
  switch (e) {
  case KernelError::GroupListNegative:
    return fmt::format("group_list[{}] = {} is negative", a, b);
  case KernelError::GroupListDecreasing:
    return fmt::format("group_list[{}] = {} is less than group_list[{}] = {}; "
                       "a cumsum group_list must not decrease",
                       a, b, a - 1, c);
  case KernelError::GroupListTooLarge:
    return fmt::format("group_list[{}] = {} takes the groups past the {} "
                       "available rows",
                       a, b, c);
  case KernelError::IndexOutOfRange:
    return fmt::format("index[{}] = {} is out of range for {} output rows", a,
                       b, c);
  case KernelError::SliceOutOfRange:
    return fmt::format("slice [{}, {}) exceeds dim {} of size {} at run time",
                       a, b, c, d);
  case KernelError::RowIndexOutOfRange:
    return fmt::format("row_index[{}] = {} is out of range for {} output rows",
                       a, b, c);
  case KernelError::SharedInputOutOfRange:
    return fmt::format("shared_input_offset ({}) + shared_input rows ({}) "
                       "exceeds the {} output rows",
                       a, b, c);
  }
  return "unknown kernel error";
}

} // namespace kiln
