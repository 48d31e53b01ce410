//===- Diagnostics.cpp - located errors ------------------------------------===//
#include "ir/Diagnostics.h"

#include <fmt/core.h>

#include <iostream>

namespace kiln {

std::ostream &operator<<(std::ostream &os, const Location &loc) {
  if (!loc.known())
    return os << "<unknown>";
  return os << loc.file << ':' << loc.line << ':' << loc.col;
}

static const char *severityName(Severity s) {
  switch (s) {
  case Severity::Error:
    return "error";
  case Severity::Warning:
    return "warning";
  case Severity::Note:
    return "note";
  case Severity::Remark:
    return "remark";
  }
  return "error";
}

std::string format(const Diagnostic &d) {
  std::ostringstream os;
  // Errors about whole files (a bad .npy) carry the path in the message.
  if (d.loc.known())
    os << d.loc << ": ";
  os << severityName(d.severity) << ": " << d.message;
  return os.str();
}

DiagEngine::DiagEngine()
    : handler_([](const Diagnostic &d) { std::cerr << format(d) << '\n'; }) {}

void DiagEngine::emit(Diagnostic d) {
  if (d.severity == Severity::Error)
    ++numErrors_;
  handler_(d);
}

DiagEngine &DiagEngine::stderrEngine() {
  static DiagEngine engine;
  return engine;
}

InFlightDiag::~InFlightDiag() {
  if (!engine_)
    return;
  diag_.message = stream_.str();
  engine_->emit(std::move(diag_));
}

} // namespace kiln
