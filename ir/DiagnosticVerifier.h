//===- DiagnosticVerifier.h - check `expected-error` annotations -*- C++ -*-===//
//
// MLIR's -verify-diagnostics for .kir files: a comment
//   // expected-error@+1 {{contracting dims differ}}
// says the next line must produce an error containing that text. Offsets
// @+N, @-N, @above and @below are supported; without one, the same line.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Diagnostics.h"

#include <string>
#include <string_view>
#include <vector>

namespace kiln {

class DiagnosticVerifier {
public:
  /// Scans `buffer` (whose first line is `firstLine`) for expectations.
  DiagnosticVerifier(std::string_view buffer, unsigned firstLine = 1);

  /// Matches a produced diagnostic against the expectations.
  void handle(const Diagnostic &d);
  /// Reports expected-but-missing and unexpected diagnostics to `out`.
  LogicalResult finish(DiagEngine &out, const std::string &file);

private:
  struct Expected {
    Severity severity;
    unsigned line;
    std::string text;
    bool matched = false;
  };
  std::vector<Expected> expected_;
  std::vector<Diagnostic> unexpected_;
};

} // namespace kiln
