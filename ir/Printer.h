//===- Printer.h - a Module to .kir text ------------------------*- C++ -*-===//
#pragma once

#include "ir/Graph.h"

#include <iosfwd>
#include <string>

namespace kiln {

/// Prints in the form the parser reads: parameters keep their names, op
/// results are numbered %0, %1, ... in order, attributes equal to their
/// default are left out. Deterministic, and print(parse(print(g))) == print(g).
void print(std::ostream &os, const Graph &g);
void print(std::ostream &os, const Module &m);
std::string toString(const Graph &g);

/// Graphviz dot of a graph: one node per op and parameter.
void printDot(std::ostream &os, const Graph &g);

} // namespace kiln
