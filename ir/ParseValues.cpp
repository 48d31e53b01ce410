//===- ParseValues.cpp - tokens, types and attribute values ---------------===//
#include "ir/ParserImpl.h"

#include <charconv>
#include <cmath>

namespace kiln::detail {

LogicalResult Parser::checkToken() {
  if (tok_.is(Token::Error))
    return error() << tok_.text;
  return success();
}

LogicalResult Parser::expect(Token::Kind kind, std::string_view what) {
  if (failed(checkToken()))
    return failure();
  if (!tok_.is(kind)) {
    if (tok_.is(Token::Eof))
      return error() << "expected " << what << ", found end of input";
    return error() << "expected " << what << ", found " << found();
  }
  consume();
  return success();
}


LogicalResult Parser::parseInteger(int64_t &v) {
  if (failed(checkToken()))
    return failure();
  if (!tok_.is(Token::Integer))
    return error() << "expected an integer, found " << found();
  std::string_view s = tok_.text;
  if (!s.empty() && s.front() == '+')
    s.remove_prefix(1);
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size())
    return error() << "integer '" << tok_.text << "' is out of range";
  consume();
  return success();
}

LogicalResult Parser::parseDim(Dim &d, std::vector<Token> *symbolUses) {
  if (tok_.is(Token::Identifier)) {
    d = Dim(std::string(tok_.text));
    if (symbolUses)
      symbolUses->push_back(tok_);
    consume();
    return success();
  }
  int64_t v;
  Location loc = tok_.loc;
  if (failed(parseInteger(v)))
    return failure();
  if (v < 0)
    return error(loc) << "dimension " << v << " is negative";
  d = Dim(v);
  return success();
}

LogicalResult Parser::parseType(TensorType &t, std::vector<Token> *symbolUses) {
  if (failed(checkToken()))
    return failure();
  if (!tok_.is(Token::Identifier))
    return error() << "expected a tensor type such as f16[M,4096], found " << found();
  std::optional<DType> dt = parseDType(tok_.text);
  if (!dt)
    return error() << "unknown element type '" << tok_.text
                   << "' (expected i4, i8, i32, i64, f16, bf16 or f32)";
  consume();
  t = TensorType{*dt, {}, Layout::ND};
  if (failed(expect(Token::LBracket, "'[' after the element type")))
    return failure();
  if (failed(parseList(Token::RBracket, [&] {
        Dim d;
        if (failed(parseDim(d, symbolUses)))
          return failure();
        t.dims.push_back(std::move(d));
        return success();
      })))
    return failure();
  if (tok_.isKeyword("NZ") || tok_.isKeyword("ND")) {
    t.layout = *parseLayout(tok_.text);
    if (t.layout == Layout::NZ && t.rank() < 2)
      return error() << "NZ layout needs a tensor of rank 2 or more";
    consume();
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Attribute values
//===----------------------------------------------------------------------===//

LogicalResult Parser::parseValue(bool &v) {
  if (!tok_.isKeyword("true") && !tok_.isKeyword("false"))
    return error() << "expected true or false, found " << found();
  v = tok_.text == "true";
  consume();
  return success();
}

LogicalResult Parser::parseValue(int64_t &v) { return parseInteger(v); }

LogicalResult Parser::parseValue(double &v) {
  if (failed(checkToken()))
    return failure();
  if (tok_.isKeyword("inf") || tok_.isKeyword("nan")) {
    v = tok_.text == "inf" ? INFINITY : NAN;
    consume();
    return success();
  }
  if (!tok_.is(Token::Integer) && !tok_.is(Token::Float))
    return error() << "expected a number, found " << found();
  std::string s(tok_.text);
  char *end = nullptr;
  v = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size() || std::isinf(v))
    return error() << "number '" << tok_.text << "' is out of range";
  consume();
  return success();
}

LogicalResult Parser::parseValue(DType &v) {
  std::optional<DType> t = parseDType(tok_.text);
  if (!tok_.is(Token::Identifier) || !t)
    return error() << "expected an element type, found " << found();
  v = *t;
  consume();
  return success();
}

LogicalResult Parser::parseValue(std::optional<DType> &v) {
  DType t;
  if (failed(parseValue(t)))
    return failure();
  v = t;
  return success();
}

LogicalResult Parser::parseValue(Layout &v) {
  std::optional<Layout> l = parseLayout(tok_.text);
  if (!tok_.is(Token::Identifier) || !l)
    return error() << "expected ND or NZ, found " << found();
  v = *l;
  consume();
  return success();
}


LogicalResult Parser::parseValue(IntList &v) {
  v.clear(); // replace the default, do not append to it
  if (failed(expect(Token::LBracket, "'['")))
    return failure();
  return parseList(Token::RBracket, [&] {
    int64_t x;
    if (failed(parseInteger(x)))
      return failure();
    v.push_back(x);
    return success();
  });
}

LogicalResult Parser::parseValue(DimList &v) {
  v.clear();
  if (failed(expect(Token::LBracket, "'['")))
    return failure();
  return parseList(Token::RBracket, [&] {
    Dim d;
    if (failed(parseDim(d, &symbolUses_)))
      return failure();
    v.push_back(std::move(d));
    return success();
  });
}

LogicalResult Parser::parseValue(Elements &v) {
  v.values.clear();
  if (failed(expect(Token::LBracket, "'['")))
    return failure();
  return parseList(Token::RBracket, [&] {
    double x;
    if (failed(parseValue(x)))
      return failure();
    v.values.push_back(x);
    return success();
  });
}


} // namespace kiln::detail
