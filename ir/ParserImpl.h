//===- ParserImpl.h - the .kir parser's internals (not installed) -*- C++ -*-=//
//
// Shared by Parser.cpp (functions and ops) and ParseValues.cpp (tokens,
// types and attribute values).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Lexer.h"
#include "ir/Parser.h"

#include <map>

namespace kiln::detail {

class Parser {
public:
  Parser(std::string_view buffer, std::string file, DiagEngine &diags,
         unsigned firstLine)
      : lexer_(buffer, std::move(file), firstLine), diags_(diags) {
    tok_ = lexer_.next();
  }

  std::unique_ptr<Module> parseModule();

  // Attribute values, one overload per attribute type (see Attributes.h).
  LogicalResult parseValue(bool &v);
  LogicalResult parseValue(int64_t &v);
  LogicalResult parseValue(double &v);
  LogicalResult parseValue(DType &v);
  LogicalResult parseValue(std::optional<DType> &v);
  LogicalResult parseValue(Layout &v);
  LogicalResult parseValue(Dim &v) { return parseDim(v); }
  LogicalResult parseValue(IntList &v);
  LogicalResult parseValue(DimList &v);
  LogicalResult parseValue(Elements &v);
  template <SpelledEnum E> LogicalResult parseValue(E &v);

private:
  // Token helpers.
  void consume() { tok_ = lexer_.next(); }
  InFlightDiag error(const Location &loc) { return emitError(diags_, loc); }
  InFlightDiag error() { return error(tok_.loc); }
  LogicalResult expect(Token::Kind kind, std::string_view what);
  bool consumeIf(Token::Kind kind) {
    if (!tok_.is(kind))
      return false;
    consume();
    return true;
  }
  /// Parses `elem (',' elem)*` up to `close` (which is consumed).
  template <class F> LogicalResult parseList(Token::Kind close, F &&elem);
  LogicalResult checkToken();
  /// The current token for messages: 'text', or "end of input".
  std::string found() const {
    return tok_.is(Token::Eof) ? "end of input" : "'" + std::string(tok_.text) + "'";
  }

  LogicalResult parseFunc(Module &m);
  LogicalResult parseSignature(Graph &g, std::vector<Token> &symbolUses,
                               std::vector<GraphResult> &results,
                               std::vector<TensorType> &resultTypes);
  LogicalResult parseType(TensorType &t, std::vector<Token> *symbolUses);
  LogicalResult parseDim(Dim &d, std::vector<Token> *symbolUses = nullptr);
  LogicalResult parseInteger(int64_t &v);
  LogicalResult parseOp(Graph &g);
  LogicalResult parseOperands(const OpInfo &info, std::vector<Value *> &ops);
  LogicalResult parseAttrDict(const OpInfo &info, OpAttrs &attrs);
  LogicalResult parseReturn(Graph &g, std::vector<GraphResult> &results,
                            const std::vector<TensorType> &resultTypes);
  LogicalResult checkSymbols(const Graph &g, const std::vector<Token> &uses);
  Value *lookupValue(const Token &name);

  Lexer lexer_;
  DiagEngine &diags_;
  Token tok_;
  std::map<std::string, Value *, std::less<>> scope_;
  std::vector<Token> symbolUses_; ///< symbols used in the current function
};


template <class F>
LogicalResult Parser::parseList(Token::Kind close, F &&elem) {
  if (consumeIf(close))
    return success();
  do {
    if (failed(elem()))
      return failure();
  } while (consumeIf(Token::Comma));
  return expect(close, "',' or closing bracket");
}

template <SpelledEnum E> LogicalResult Parser::parseValue(E &v) {
  std::optional<E> e = parseEnum<E>(tok_.text);
  if (!tok_.is(Token::Identifier) || !e) {
    InFlightDiag d = error();
    d << "expected one of";
    for (std::string_view n : EnumSpelling<E>::names)
      d << " " << n;
    return d << ", found " << found();
  }
  v = *e;
  consume();
  return success();
}

} // namespace kiln::detail
