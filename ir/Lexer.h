//===- Lexer.h - tokens of the .kir text format -----------------*- C++ -*-===//
#pragma once

#include "ir/Location.h"

#include <string>
#include <string_view>

namespace kiln {

struct Token {
  enum Kind {
    Eof,
    Error,      ///< text is the message
    Identifier, ///< func, matmul, npu.weight_quant_batchmatmul, f16, M, true
    ValueName,  ///< %x (text without the %)
    FuncName,   ///< @f (text without the @)
    Integer,
    Float,
    LParen,
    RParen,
    LBracket,
    RBracket,
    LBrace,
    RBrace,
    Comma,
    Colon,
    Equal,
    Arrow,
  };
  Kind kind = Eof;
  std::string_view text;
  Location loc;

  bool is(Kind k) const { return kind == k; }
  bool isKeyword(std::string_view kw) const {
    return kind == Identifier && text == kw;
  }
};

/// Splits a buffer into tokens; `//` comments and whitespace are skipped.
class Lexer {
public:
  /// `firstLine` lets a chunk of a split file report its original lines.
  Lexer(std::string_view buffer, std::string file, unsigned firstLine = 1)
      : buf_(buffer), file_(std::move(file)), line_(firstLine) {}

  Token next();

private:
  Location here() const { return {file_, line_, col_}; }
  char peek(size_t ahead = 0) const {
    return pos_ + ahead < buf_.size() ? buf_[pos_ + ahead] : '\0';
  }
  void advance();
  void skipTrivia();
  Token make(Token::Kind kind, size_t start, Location loc) const;
  Token lexNumber(size_t start, Location loc);
  Token lexWord(Token::Kind kind, size_t start, Location loc);

  std::string_view buf_;
  std::string file_;
  size_t pos_ = 0;
  unsigned line_;
  unsigned col_ = 1;
};

} // namespace kiln
