//===- Parser.h - .kir text to a Module -------------------------*- C++ -*-===//
//
// Grammar (see docs in README and tests/lit/ir):
//   module  := func*
//   func    := 'func' @name '(' (param (',' param)*)? ')' '->' results
//              ('sym' '(' ident (',' ident)* ')')? '{' op* return '}'
//   param   := %name ':' type
//   results := type | '(' (result (',' result)*)? ')'
//   result  := (ident ':')? type
//   type    := dtype '[' (dim (',' dim)*)? ']' ('NZ' | 'ND')?
//   op      := %v (',' %v)* '=' mnemonic '(' operands ')' attr-dict? ':' types
//   operands:= (%v (',' %v)*)? (',' ident '=' %v)*   -- optional operands by name
//   attr-dict := '{' (ident '=' value (',' ident '=' value)*)? '}'
//   return  := 'return' (%v (',' %v)*)?
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Diagnostics.h"
#include "ir/Graph.h"

#include <memory>
#include <string>
#include <string_view>

namespace kiln {

/// Parses `buffer` (named `file` in diagnostics; its first line is numbered
/// `firstLine`). Reports the first error to `diags` and returns nullptr.
/// The graphs report later diagnostics to `diags` too. Does not verify.
std::unique_ptr<Module> parseModule(std::string_view buffer, std::string file,
                                    DiagEngine &diags, unsigned firstLine = 1);

} // namespace kiln
