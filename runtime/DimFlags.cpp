//===- DimFlags.cpp - the tools' `--dim SYM=N` flags ----------------------===//
#include "runtime/DimFlags.h"

#include <charconv>

namespace kiln {

std::optional<std::pair<std::string, std::string>>
splitAssignment(const std::string &s) {
  size_t eq = s.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == s.size())
    return std::nullopt;
  std::string name = s.substr(0, eq);
  if (name[0] == '%')
    name.erase(0, 1);
  if (name.empty())
    return std::nullopt;
  return std::make_pair(name, s.substr(eq + 1));
}

std::optional<SymbolBindings> parseDimFlags(const std::vector<std::string> &flags,
                                            const Graph *g, std::string &error) {
  SymbolBindings bindings;
  for (const std::string &flag : flags) {
    auto kv = splitAssignment(flag);
    if (!kv) {
      error = "--dim expects NAME=VALUE, got '" + flag + "'";
      return std::nullopt;
    }
    const auto &[name, value] = *kv;
    if (g && !g->hasSymbol(name)) {
      error = "--dim " + name + ": @" + g->name() + " has no symbol " + name;
      return std::nullopt;
    }
    int64_t v = -1;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
    if (ec != std::errc() || end != value.data() + value.size() || v < 0) {
      error = "--dim " + name + " needs a size >= 0, got '" + value + "'";
      return std::nullopt;
    }
    bindings[name] = v;
  }
  return bindings;
}

} // namespace kiln
