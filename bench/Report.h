//===- Report.h - kiln-bench's aligned table and number formats -*- C++ -*-===//
#pragma once

#include <cstdio>
#include <optional>
#include <string>
#include <vector>

namespace kiln::bench {

/// A text table: a header row, then rows; the first column is left-aligned,
/// the others right-aligned, each as wide as its widest cell.
class Table {
public:
  explicit Table(std::vector<std::string> header)
      : header_(std::move(header)) {}
  void addRow(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  /// Prints the header, a rule, and the rows accumulated so far.
  void print(std::FILE *out) const;

private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

/// Three significant digits without an exponent ("1234", "12.3", "0.0123");
/// "-" for a missing value.
std::string sig3(std::optional<double> v);
/// `a / b` as "12.3x" ("-" if either is missing).
std::string ratio(std::optional<double> a, std::optional<double> b);
/// 100 * `part / whole` as "42.1%" with `mark` appended.
std::string percent(double part, double whole, const char *mark = "");

} // namespace kiln::bench
