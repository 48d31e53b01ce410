//===- Location.h - source locations for ops and diagnostics ----*- C++ -*-===//
#pragma once

#include <iosfwd>
#include <source_location>
#include <string>

namespace kiln {

/// Where an op came from: a position in a .kir file, or the C++ line that
/// called the Builder. Line 0 means unknown.
struct Location {
  std::string file;
  unsigned line = 0;
  unsigned col = 0;

  static Location fromCpp(const std::source_location &loc) {
    return {loc.file_name(), static_cast<unsigned>(loc.line()),
            static_cast<unsigned>(loc.column())};
  }
  bool known() const { return line != 0; }
  bool operator==(const Location &) const = default;
};

/// Prints `file:line:col`, or `<unknown>`.
std::ostream &operator<<(std::ostream &os, const Location &loc);

} // namespace kiln
