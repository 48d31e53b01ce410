//===- Lexer.cpp - tokens of the .kir text format -------------------------===//
#include "ir/Lexer.h"

#include <cctype>

namespace kiln {

namespace {
bool isWordChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.';
}
} // namespace

void Lexer::advance() {
  if (peek() == '\n') {
    ++line_;
    col_ = 1;
  } else {
    ++col_;
  }
  ++pos_;
}

void Lexer::skipTrivia() {
  while (pos_ < buf_.size()) {
    char c = peek();
    if (std::isspace(static_cast<unsigned char>(c))) {
      advance();
    } else if (c == '/' && peek(1) == '/') {
      while (pos_ < buf_.size() && peek() != '\n')
        advance();
    } else {
      return;
    }
  }
}

Token Lexer::make(Token::Kind kind, size_t start, Location loc) const {
  return Token{kind, buf_.substr(start, pos_ - start), std::move(loc)};
}

Token Lexer::lexNumber(size_t start, Location loc) {
  bool isFloat = false;
  if (peek() == '-' || peek() == '+')
    advance();
  while (std::isdigit(static_cast<unsigned char>(peek())))
    advance();
  if (peek() == '.' && std::isdigit(static_cast<unsigned char>(peek(1)))) {
    isFloat = true;
    advance();
    while (std::isdigit(static_cast<unsigned char>(peek())))
      advance();
  }
  if (peek() == 'e' || peek() == 'E') {
    size_t save = pos_;
    unsigned saveCol = col_;
    advance();
    if (peek() == '-' || peek() == '+')
      advance();
    if (std::isdigit(static_cast<unsigned char>(peek()))) {
      isFloat = true;
      while (std::isdigit(static_cast<unsigned char>(peek())))
        advance();
    } else {
      pos_ = save;
      col_ = saveCol;
    }
  }
  // "inf"/"nan" are spelled as identifiers; a number may not run into a word.
  if (isWordChar(peek()))
    return Token{Token::Error, "malformed number", loc};
  return make(isFloat ? Token::Float : Token::Integer, start, std::move(loc));
}

Token Lexer::lexWord(Token::Kind kind, size_t start, Location loc) {
  while (isWordChar(peek()))
    advance();
  Token t = make(kind, start, std::move(loc));
  if (kind != Token::Identifier)
    t.text.remove_prefix(1); // drop % or @
  if (t.text.empty())
    return Token{Token::Error,
                 kind == Token::ValueName ? "expected a value name after '%'"
                                          : "expected a function name after '@'",
                 t.loc};
  return t;
}

Token Lexer::next() {
  skipTrivia();
  Location loc = here();
  size_t start = pos_;
  if (pos_ >= buf_.size())
    return Token{Token::Eof, {}, loc};
  char c = peek();
  if (std::isdigit(static_cast<unsigned char>(c)) ||
      ((c == '-' || c == '+') &&
       std::isdigit(static_cast<unsigned char>(peek(1)))))
    return lexNumber(start, loc);
  if (std::isalpha(static_cast<unsigned char>(c)) || c == '_')
    return lexWord(Token::Identifier, start, loc);
  if (c == '%' || c == '@') {
    advance();
    return lexWord(c == '%' ? Token::ValueName : Token::FuncName, start, loc);
  }
  if (c == '-' && peek(1) == '>') {
    advance();
    advance();
    return make(Token::Arrow, start, loc);
  }
  Token::Kind kind;
  switch (c) {
  case '(':
    kind = Token::LParen;
    break;
  case ')':
    kind = Token::RParen;
    break;
  case '[':
    kind = Token::LBracket;
    break;
  case ']':
    kind = Token::RBracket;
    break;
  case '{':
    kind = Token::LBrace;
    break;
  case '}':
    kind = Token::RBrace;
    break;
  case ',':
    kind = Token::Comma;
    break;
  case ':':
    kind = Token::Colon;
    break;
  case '=':
    kind = Token::Equal;
    break;
  default:
    advance();
    return Token{Token::Error, "unexpected character", loc};
  }
  advance();
  return make(kind, start, loc);
}

} // namespace kiln
