//===- DiagnosticVerifier.cpp - check `expected-error` annotations --------===//
#include "ir/DiagnosticVerifier.h"

#include <regex>

namespace kiln {

namespace {
Severity severityFromName(const std::string &s) {
  if (s == "warning")
    return Severity::Warning;
  if (s == "note")
    return Severity::Note;
  if (s == "remark")
    return Severity::Remark;
  return Severity::Error;
}
} // namespace

DiagnosticVerifier::DiagnosticVerifier(std::string_view buffer,
                                       unsigned firstLine) {
  static const std::regex re(
      R"(expected-(error|warning|note|remark)(@([+-][0-9]+|above|below))?\s*\{\{(.*?)\}\})");
  unsigned line = firstLine;
  size_t start = 0;
  while (start <= buffer.size()) {
    size_t end = buffer.find('\n', start);
    if (end == std::string_view::npos)
      end = buffer.size();
    std::string text(buffer.substr(start, end - start));
    for (std::sregex_iterator it(text.begin(), text.end(), re), last;
         it != last; ++it) {
      const std::smatch &m = *it;
      int target = static_cast<int>(line);
      std::string off = m[3].str();
      if (off == "above")
        target -= 1;
      else if (off == "below")
        target += 1;
      else if (!off.empty())
        target += std::stoi(off);
      expected_.push_back({severityFromName(m[1].str()),
                           static_cast<unsigned>(std::max(target, 0)),
                           m[4].str()});
    }
    start = end + 1;
    ++line;
  }
}

void DiagnosticVerifier::handle(const Diagnostic &d) {
  for (Expected &e : expected_) {
    if (!e.matched && e.severity == d.severity && e.line == d.loc.line &&
        d.message.find(e.text) != std::string::npos) {
      e.matched = true;
      return;
    }
  }
  unexpected_.push_back(d);
}

LogicalResult DiagnosticVerifier::finish(DiagEngine &out,
                                         const std::string &file) {
  bool ok = true;
  for (const Diagnostic &d : unexpected_) {
    ok = false;
    emitError(out, d.loc) << "unexpected diagnostic: " << d.message;
  }
  for (const Expected &e : expected_) {
    if (e.matched)
      continue;
    ok = false;
    emitError(out, Location{file, e.line, 1})
        << "expected diagnostic \"" << e.text << "\" was not produced";
  }
  return success(ok);
}

} // namespace kiln
