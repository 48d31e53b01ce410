//===- Report.cpp - kiln-bench's aligned table and number formats ---------===//
#include "bench/Report.h"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>

namespace kiln::bench {

void Table::print(std::FILE *out) const {
  std::vector<size_t> width(header_.size());
  auto widen = [&](const std::vector<std::string> &row) {
    for (size_t i = 0; i < row.size() && i < width.size(); ++i)
      width[i] = std::max(width[i], row[i].size());
  };
  widen(header_);
  for (const auto &row : rows_)
    widen(row);
  auto line = [&](const std::vector<std::string> &row) {
    std::string s;
    for (size_t i = 0; i < width.size(); ++i) {
      const std::string &cell = i < row.size() ? row[i] : std::string();
      if (i)
        s += "  ";
      s += i == 0 ? fmt::format("{:<{}}", cell, width[i])
                  : fmt::format("{:>{}}", cell, width[i]);
    }
    while (!s.empty() && s.back() == ' ')
      s.pop_back();
    fmt::print(out, "{}\n", s);
  };
  line(header_);
  size_t total = 0;
  for (size_t w : width)
    total += w;
  fmt::print(out, "{}\n", std::string(total + 2 * (width.size() - 1), '-'));
  for (const auto &row : rows_)
    line(row);
  std::fflush(out);
}

std::string sig3(std::optional<double> v) {
  if (!v || !std::isfinite(*v))
    return "-";
  double a = std::fabs(*v);
  if (a == 0)
    return "0";
  int decimals = a >= 100 ? 0 : a >= 10 ? 1 : a >= 1 ? 2 : a >= 0.1 ? 3 : 4;
  return fmt::format("{:.{}f}", *v, decimals);
}

std::string ratio(std::optional<double> a, std::optional<double> b) {
  if (!a || !b || *b <= 0)
    return "-";
  return sig3(*a / *b) + "x";
}

std::string percent(double part, double whole, const char *mark) {
  if (whole <= 0 || !std::isfinite(part))
    return "-";
  return fmt::format("{:.1f}%{}", 100 * part / whole, mark);
}

} // namespace kiln::bench
