//===- DimFlags.h - the tools' `--dim SYM=N` flags --------------*- C++ -*-===//
#pragma once

#include "ir/Graph.h"
#include "runtime/Executor.h"

#include <optional>
#include <string>
#include <vector>

namespace kiln {

/// Splits "NAME=VALUE" (a leading `%` on NAME is dropped); nullopt when
/// either side is empty or there is no `=`.
std::optional<std::pair<std::string, std::string>>
splitAssignment(const std::string &s);

/// Parses `--dim SYM=N` flags into bindings. N must be a whole decimal
/// number >= 0; with `g`, SYM must be one of its symbols. On a bad flag,
/// returns nullopt and sets `error` to a message without the tool's name.
std::optional<SymbolBindings> parseDimFlags(const std::vector<std::string> &flags,
                                            const Graph *g, std::string &error);

} // namespace kiln
