//===- Parser.cpp - .kir text to a Module ---------------------------------===//
//
// Recursive descent with one token of lookahead. The first error stops the
// parse: one clear, located message beats a cascade.
//
//===----------------------------------------------------------------------===//
#include "ir/Parser.h"

#include "ir/ParserImpl.h"

namespace kiln::detail {

//===----------------------------------------------------------------------===//
// Ops
//===----------------------------------------------------------------------===//

Value *Parser::lookupValue(const Token &name) {
  auto it = scope_.find(name.text);
  if (it == scope_.end()) {
    error(name.loc) << "use of undefined value '%" << name.text << "'";
    return nullptr;
  }
  return it->second;
}

LogicalResult Parser::parseOperands(const OpInfo &info,
                                    std::vector<Value *> &operands) {
  operands.assign(info.operands.size(), nullptr);
  // An op without operands (constant) may leave out the parentheses.
  if (info.operands.empty() && !tok_.is(Token::LParen))
    return success();
  size_t positional = 0;
  bool sawNamed = false;
  Location open = tok_.loc;
  if (failed(expect(Token::LParen, "'(' before the operands")))
    return failure();
  if (failed(parseList(Token::RParen, [&]() -> LogicalResult {
        if (failed(checkToken()))
          return failure();
        if (tok_.is(Token::ValueName)) {
          if (sawNamed)
            return error() << "positional operand after a named one";
          if (positional >= info.operands.size() ||
              info.operands[positional].optional)
            return error() << "'" << info.mnemonic << "' takes "
                           << positional << " positional operand"
                           << (positional == 1 ? "" : "s")
                           << "; name optional ones as `name = %v`";
          Value *v = lookupValue(tok_);
          if (!v)
            return failure();
          operands[positional++] = v;
          consume();
          return success();
        }
        if (!tok_.is(Token::Identifier))
          return error() << "expected an operand, found " << found();
        Token name = tok_;
        consume();
        sawNamed = true;
        size_t idx = 0;
        while (idx < info.operands.size() &&
               info.operands[idx].name != name.text)
          ++idx;
        if (idx == info.operands.size() || !info.operands[idx].optional)
          return error(name.loc) << "'" << info.mnemonic
                                 << "' has no optional operand named '"
                                 << name.text << "'";
        if (operands[idx])
          return error(name.loc) << "operand '" << name.text
                                 << "' given twice";
        if (failed(expect(Token::Equal, "'=' after the operand name")))
          return failure();
        if (!tok_.is(Token::ValueName))
          return expect(Token::ValueName, "a value");
        Value *v = lookupValue(tok_);
        if (!v)
          return failure();
        operands[idx] = v;
        consume();
        return success();
      })))
    return failure();
  size_t required = 0;
  for (const OperandSpec &s : info.operands)
    required += !s.optional;
  if (positional != required)
    return error(open) << "'" << info.mnemonic << "' expects " << required
                       << " operand" << (required == 1 ? "" : "s")
                       << ", got " << positional;
  return success();
}

LogicalResult Parser::parseAttrDict(const OpInfo &info, OpAttrs &attrs) {
  std::vector<std::string_view> seen;
  return parseList(Token::RBrace, [&]() -> LogicalResult {
    if (failed(checkToken()))
      return failure();
    if (!tok_.is(Token::Identifier))
      return error() << "expected an attribute name, found " << found();
    Token name = tok_;
    consume();
    if (std::find(seen.begin(), seen.end(), name.text) != seen.end())
      return error(name.loc) << "attribute '" << name.text << "' given twice";
    seen.push_back(name.text);
    if (failed(expect(Token::Equal, "'=' after the attribute name")))
      return failure();
    bool found = false;
    LogicalResult result = success();
    std::string known;
    std::visit(
        [&](auto &a) {
          if constexpr (!std::is_same_v<std::decay_t<decltype(a)>,
                                        std::monostate>)
            ops::visitAttrs(a, [&](std::string_view n, auto &value,
                                   const auto &) {
              known += (known.empty() ? "" : ", ") + std::string(n);
              if (n != name.text || found)
                return;
              found = true;
              result = parseValue(value);
            });
        },
        attrs);
    if (!found) {
      InFlightDiag d = error(name.loc);
      d << "'" << info.mnemonic << "' has no attribute '" << name.text << "'";
      if (!known.empty())
        d << " (it has: " << known << ")";
      return failure();
    }
    return result;
  });
}

LogicalResult Parser::parseOp(Graph &g) {
  std::vector<Token> names;
  Location loc = tok_.loc;
  do {
    if (!tok_.is(Token::ValueName))
      return expect(Token::ValueName, "a result name");
    if (scope_.count(tok_.text))
      return error() << "redefinition of value '%" << tok_.text << "'";
    names.push_back(tok_);
    consume();
  } while (consumeIf(Token::Comma));
  if (failed(expect(Token::Equal, "'=' after the result names")))
    return failure();
  if (failed(checkToken()))
    return failure();
  if (!tok_.is(Token::Identifier))
    return error() << "expected an op name, found " << found();
  const OpInfo *info = lookupOp(tok_.text);
  if (!info)
    return error() << "unknown op '" << tok_.text << "'";
  consume();

  std::vector<Value *> operands;
  if (failed(parseOperands(*info, operands)))
    return failure();
  OpAttrs attrs = info->defaultAttrs();
  if (consumeIf(Token::LBrace) && failed(parseAttrDict(*info, attrs)))
    return failure();
  if (failed(expect(Token::Colon, "':' before the result types")))
    return failure();
  std::vector<TensorType> types;
  if (consumeIf(Token::LParen)) {
    if (failed(parseList(Token::RParen, [&] {
          types.emplace_back();
          return parseType(types.back(), &symbolUses_);
        })))
      return failure();
  } else {
    types.emplace_back();
    if (failed(parseType(types.back(), &symbolUses_)))
      return failure();
  }
  if (types.size() != names.size())
    return error(loc) << names.size() << " result name"
                      << (names.size() == 1 ? "" : "s") << " but "
                      << types.size() << " result type"
                      << (types.size() == 1 ? "" : "s");
  Op *op = g.append(std::make_unique<Op>(info->kind, std::move(operands),
                                         std::move(attrs), types, loc));
  for (size_t i = 0; i < names.size(); ++i)
    scope_[std::string(names[i].text)] = op->result(i);
  return success();
}

LogicalResult Parser::parseReturn(Graph &g, std::vector<GraphResult> &results,
                                  const std::vector<TensorType> &resultTypes) {
  Location loc = tok_.loc;
  consume(); // 'return'
  std::vector<Value *> values;
  if (tok_.is(Token::ValueName)) {
    do {
      if (!tok_.is(Token::ValueName))
        return expect(Token::ValueName, "a value");
      Value *v = lookupValue(tok_);
      if (!v)
        return failure();
      values.push_back(v);
      consume();
    } while (consumeIf(Token::Comma));
  }
  if (values.size() != resultTypes.size())
    return error(loc) << "function @" << g.name() << " returns "
                      << resultTypes.size() << " value"
                      << (resultTypes.size() == 1 ? "" : "s") << " but "
                      << values.size() << (values.size() == 1 ? " is" : " are")
                      << " given";
  for (size_t i = 0; i < values.size(); ++i) {
    if (values[i]->type() != resultTypes[i])
      return error(loc) << "returned value #" << i << " has type "
                        << values[i]->type() << " but @" << g.name()
                        << " declares " << resultTypes[i];
    results[i].value = values[i];
  }
  return success();
}

LogicalResult Parser::checkSymbols(const Graph &g,
                                   const std::vector<Token> &uses) {
  for (const Token &t : uses)
    if (!g.hasSymbol(t.text))
      return error(t.loc) << "unknown symbol '" << t.text
                          << "'; declare it with sym(" << t.text
                          << ") after the result types";
  return success();
}

LogicalResult Parser::parseSignature(Graph &g, std::vector<Token> &symbolUses,
                                     std::vector<GraphResult> &results,
                                     std::vector<TensorType> &resultTypes) {
  if (failed(expect(Token::LParen, "'(' before the parameters")))
    return failure();
  if (failed(parseList(Token::RParen, [&]() -> LogicalResult {
        if (!tok_.is(Token::ValueName))
          return expect(Token::ValueName, "a parameter such as %x");
        Token name = tok_;
        consume();
        if (scope_.count(name.text))
          return error(name.loc) << "duplicate parameter '%" << name.text
                                 << "'";
        if (failed(expect(Token::Colon, "':' after the parameter name")))
          return failure();
        TensorType t;
        if (failed(parseType(t, &symbolUses)))
          return failure();
        scope_[std::string(name.text)] =
            g.addParam(std::string(name.text), std::move(t));
        return success();
      })))
    return failure();
  if (failed(expect(Token::Arrow, "'->' before the result types")))
    return failure();
  auto parseResult = [&]() -> LogicalResult {
    GraphResult r{nullptr, {}};
    if (tok_.is(Token::Identifier) && !parseDType(tok_.text)) {
      r.name = std::string(tok_.text);
      consume();
      if (failed(expect(Token::Colon, "':' after the result name")))
        return failure();
    }
    TensorType t;
    if (failed(parseType(t, &symbolUses)))
      return failure();
    results.push_back(std::move(r));
    resultTypes.push_back(std::move(t));
    return success();
  };
  if (consumeIf(Token::LParen)) {
    if (failed(parseList(Token::RParen, parseResult)))
      return failure();
  } else if (failed(parseResult())) {
    return failure();
  }
  if (tok_.isKeyword("sym")) {
    consume();
    if (failed(expect(Token::LParen, "'(' after sym")))
      return failure();
    if (failed(parseList(Token::RParen, [&]() -> LogicalResult {
          if (!tok_.is(Token::Identifier))
            return expect(Token::Identifier, "a symbol name");
          if (parseDType(tok_.text) || tok_.text == "NZ" || tok_.text == "ND")
            return error() << "'" << tok_.text
                           << "' is reserved and cannot name a symbol";
          g.declareSymbol(std::string(tok_.text));
          consume();
          return success();
        })))
      return failure();
  }
  return checkSymbols(g, symbolUses);
}

LogicalResult Parser::parseFunc(Module &m) {
  if (failed(checkToken()))
    return failure();
  if (!tok_.isKeyword("func"))
    return error() << "expected 'func', found " << found();
  Location loc = tok_.loc;
  consume();
  if (!tok_.is(Token::FuncName))
    return expect(Token::FuncName, "a function name such as @main");
  if (m.lookup(tok_.text))
    return error() << "redefinition of function @" << tok_.text;
  auto g = std::make_unique<Graph>(std::string(tok_.text), loc);
  g->setDiags(diags_);
  consume();
  scope_.clear();
  symbolUses_.clear();

  std::vector<Token> signatureSymbols;
  std::vector<GraphResult> results;
  std::vector<TensorType> resultTypes;
  if (failed(parseSignature(*g, signatureSymbols, results, resultTypes)))
    return failure();
  if (failed(expect(Token::LBrace, "'{' to open the function body")))
    return failure();
  while (!tok_.isKeyword("return")) {
    if (tok_.is(Token::RBrace) || tok_.is(Token::Eof))
      return error() << "function @" << g->name()
                     << " must end with a return";
    if (failed(parseOp(*g)))
      return failure();
  }
  if (failed(parseReturn(*g, results, resultTypes)))
    return failure();
  if (failed(expect(Token::RBrace, "'}' after return")))
    return failure();
  if (failed(checkSymbols(*g, symbolUses_)))
    return failure();
  g->setResults(std::move(results));
  m.graphs.push_back(std::move(g));
  return success();
}

std::unique_ptr<Module> Parser::parseModule() {
  auto m = std::make_unique<Module>();
  while (!tok_.is(Token::Eof))
    if (failed(parseFunc(*m)))
      return nullptr;
  return m;
}


} // namespace kiln::detail

namespace kiln {

std::unique_ptr<Module> parseModule(std::string_view buffer, std::string file,
                                    DiagEngine &diags, unsigned firstLine) {
  using detail::Parser;
  return Parser(buffer, std::move(file), diags, firstLine).parseModule();
}

} // namespace kiln
