#include "hcl.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <utility>

namespace akeyless_upstream::plugin::hcl {

namespace {

Error syntax_error(Position position, std::string_view what) {
  std::string text = format_position(position);
  text += ": ";
  text += what;
  return Error(ErrorCode::kInvalidArgument, std::move(text));
}

bool is_ident_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

// HCL v1 identifiers continue with letters, digits, '-' and '.'.
bool is_ident_char(char c) {
  return is_ident_start(c) || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

bool is_hex_digit(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

int hex_value(char c) {
  if (is_digit(c)) {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  return c - 'A' + 10;
}

void append_utf8(std::string& out, std::uint32_t code_point) {
  if (code_point < 0x80) {
    out += static_cast<char>(code_point);
  } else if (code_point < 0x800) {
    out += static_cast<char>(0xC0 | (code_point >> 6));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  } else if (code_point < 0x10000) {
    out += static_cast<char>(0xE0 | (code_point >> 12));
    out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (code_point >> 18));
    out += static_cast<char>(0x80 | ((code_point >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  }
}

// == lexer ==

enum class TokenType {
  kEof,
  kIdent,
  kString,
  kHeredoc,
  kNumber,
  kLeftBrace,
  kRightBrace,
  kLeftBracket,
  kRightBracket,
  kAssign,
  kColon,
  kComma,
};

struct Token {
  TokenType type = TokenType::kEof;
  // The decoded text of a string or heredoc, the name of an identifier, a number as written.
  std::string text;
  Position position;
  // end_offset is the byte offset just past the token.
  std::size_t end_offset = 0;
};

// describe names a token for a message without repeating its content: a string may hold a
// secret.
std::string describe(const Token& token) {
  switch (token.type) {
    case TokenType::kEof:
      return "end of input";
    case TokenType::kIdent:
      return "a bare word";
    case TokenType::kString:
      return "a string";
    case TokenType::kHeredoc:
      return "a heredoc";
    case TokenType::kNumber:
      return "a number";
    case TokenType::kLeftBrace:
      return "'{'";
    case TokenType::kRightBrace:
      return "'}'";
    case TokenType::kLeftBracket:
      return "'['";
    case TokenType::kRightBracket:
      return "']'";
    case TokenType::kAssign:
      return "'='";
    case TokenType::kColon:
      return "':'";
    case TokenType::kComma:
      return "','";
  }
  return "a token";
}

class Lexer {
 public:
  explicit Lexer(std::string_view text) : text_(text) {}

  Result<std::vector<Token>> run() {
    std::vector<Token> tokens;
    while (true) {
      if (auto status = skip_space_and_comments(); !status.ok()) {
        return status.error();
      }
      Token token;
      token.position = here();
      if (at_end()) {
        token.end_offset = offset_;
        tokens.push_back(std::move(token));
        return tokens;
      }
      char c = peek();
      Status status;
      if (c == '"') {
        status = lex_string(token);
      } else if (c == '<') {
        status = lex_heredoc(token);
      } else if (is_digit(c) || (c == '-' && (is_digit(peek(1)) || peek(1) == '.'))) {
        status = lex_number(token);
      } else if (is_ident_start(c)) {
        token.type = TokenType::kIdent;
        while (!at_end() && is_ident_char(peek())) {
          token.text += advance();
        }
      } else if (auto punct = punctuation(c)) {
        token.type = *punct;
        advance();
      } else {
        status = unexpected_character();
      }
      if (!status.ok()) {
        return status.error();
      }
      token.end_offset = offset_;
      tokens.push_back(std::move(token));
    }
  }

 private:
  bool at_end() const { return offset_ >= text_.size(); }
  char peek(std::size_t ahead = 0) const {
    return offset_ + ahead < text_.size() ? text_[offset_ + ahead] : '\0';
  }
  Position here() const { return Position{line_, column_, offset_}; }

  char advance() {
    char c = text_[offset_++];
    if (c == '\n') {
      ++line_;
      column_ = 1;
    } else {
      ++column_;
    }
    return c;
  }

  static std::optional<TokenType> punctuation(char c) {
    switch (c) {
      case '{':
        return TokenType::kLeftBrace;
      case '}':
        return TokenType::kRightBrace;
      case '[':
        return TokenType::kLeftBracket;
      case ']':
        return TokenType::kRightBracket;
      case '=':
        return TokenType::kAssign;
      case ':':
        return TokenType::kColon;
      case ',':
        return TokenType::kComma;
      default:
        return std::nullopt;
    }
  }

  Status unexpected_character() {
    unsigned char c = static_cast<unsigned char>(peek());
    char text[64];
    // Only punctuation is echoed: letters and digits here could be part of a pasted secret.
    if (std::ispunct(c) != 0) {
      std::snprintf(text, sizeof text, "unexpected character '%c'", c);
    } else {
      std::snprintf(text, sizeof text, "unexpected byte 0x%02x", c);
    }
    return syntax_error(here(), text);
  }

  // Whitespace, newlines and the three comment forms of HCL v1: '#' and '//' to the end of the
  // line, '/* ... */' across lines (not nested).
  Status skip_space_and_comments() {
    while (!at_end()) {
      char c = peek();
      if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
        advance();
      } else if (c == '#' || (c == '/' && peek(1) == '/')) {
        while (!at_end() && peek() != '\n') {
          advance();
        }
      } else if (c == '/' && peek(1) == '*') {
        Position start = here();
        advance();
        advance();
        while (!(peek() == '*' && peek(1) == '/')) {
          if (at_end()) {
            return syntax_error(start, "comment '/*' is not closed with '*/'");
          }
          advance();
        }
        advance();
        advance();
      } else if (c == '/') {
        return syntax_error(here(), "unexpected '/'; comments start with '#', '//' or '/*'");
      } else {
        break;
      }
    }
    return Status::success();
  }

  // A double-quoted string. Escapes are decoded; `${...}` is copied as written, quotes and all,
  // because HCL v1 lets an interpolation contain quotes (it is not evaluated here).
  Status lex_string(Token& token) {
    Position start = here();
    token.type = TokenType::kString;
    advance();
    int braces = 0;
    while (true) {
      if (at_end()) {
        return syntax_error(start, "string is not closed with '\"'");
      }
      char c = peek();
      if (braces == 0 && c == '\n') {
        return syntax_error(start, "string is not closed with '\"' before the end of the line");
      }
      if (braces == 0 && c == '"') {
        advance();
        return Status::success();
      }
      if (c == '$' && peek(1) == '{') {
        ++braces;
        token.text += advance();
        token.text += advance();
        continue;
      }
      if (braces > 0) {
        if (c == '}') {
          --braces;
        }
        token.text += advance();
        continue;
      }
      if (c == '\\') {
        if (auto status = lex_escape(token.text); !status.ok()) {
          return status;
        }
        continue;
      }
      token.text += advance();
    }
  }

  Status lex_escape(std::string& out) {
    Position start = here();
    advance();
    if (at_end()) {
      return syntax_error(start, "string ends inside an escape sequence");
    }
    char c = advance();
    switch (c) {
      case 'n':
        out += '\n';
        return Status::success();
      case 't':
        out += '\t';
        return Status::success();
      case 'r':
        out += '\r';
        return Status::success();
      case '"':
        out += '"';
        return Status::success();
      case '\\':
        out += '\\';
        return Status::success();
      case '/':
        out += '/';
        return Status::success();
      case 'a':
        out += '\a';
        return Status::success();
      case 'b':
        out += '\b';
        return Status::success();
      case 'f':
        out += '\f';
        return Status::success();
      case 'v':
        out += '\v';
        return Status::success();
      case 'u':
      case 'U':
        break;
      default:
        return syntax_error(
            start, "unknown escape sequence in string (use \\n \\t \\r \\\" \\\\ or \\uXXXX)");
    }

    auto read_hex = [&](int digits) -> std::optional<std::uint32_t> {
      std::uint32_t value = 0;
      for (int i = 0; i < digits; ++i) {
        if (!is_hex_digit(peek())) {
          return std::nullopt;
        }
        value = value * 16 + static_cast<std::uint32_t>(hex_value(advance()));
      }
      return value;
    };
    int digits = c == 'u' ? 4 : 8;
    auto code_point = read_hex(digits);
    if (!code_point) {
      return syntax_error(start, c == 'u' ? "\\u must be followed by 4 hex digits"
                                          : "\\U must be followed by 8 hex digits");
    }
    // A UTF-16 surrogate pair written as two \u escapes (the JSON way) is one code point.
    if (*code_point >= 0xD800 && *code_point <= 0xDBFF && peek() == '\\' && peek(1) == 'u') {
      advance();
      advance();
      auto low = read_hex(4);
      if (!low || *low < 0xDC00 || *low > 0xDFFF) {
        return syntax_error(start, "\\u escape starts a surrogate pair that is not completed");
      }
      *code_point = 0x10000 + ((*code_point - 0xD800) << 10) + (*low - 0xDC00);
    }
    if ((*code_point >= 0xD800 && *code_point <= 0xDFFF) || *code_point > 0x10FFFF) {
      return syntax_error(start, "escape sequence is not a valid Unicode code point");
    }
    append_utf8(out, *code_point);
    return Status::success();
  }

  // `<<ANCHOR` or `<<-ANCHOR`, a newline, lines, and a line holding only the anchor (leading
  // whitespace allowed, as HCL v1 allows). `<<` keeps the lines as written; `<<-` removes the
  // closing line's indentation from every line when all non-empty lines carry it. The value
  // ends with a newline after the last line, as in HCL v1.
  Status lex_heredoc(Token& token) {
    Position start = here();
    token.type = TokenType::kHeredoc;
    if (peek(1) != '<') {
      return syntax_error(start, "unexpected character '<' (heredocs start with '<<')");
    }
    advance();
    advance();
    bool indented = false;
    if (peek() == '-') {
      indented = true;
      advance();
    }
    std::string anchor;
    while (!at_end() && (is_ident_char(peek()))) {
      anchor += advance();
    }
    if (anchor.empty()) {
      return syntax_error(start, "heredoc needs an anchor word after '<<' (for example <<EOF)");
    }
    if (peek() == '\r') {
      advance();
    }
    if (peek() != '\n') {
      return syntax_error(here(), "heredoc anchor must be followed by a newline");
    }
    advance();

    std::vector<std::string_view> lines;
    std::string_view closing_indent;
    while (true) {
      if (at_end()) {
        return syntax_error(start, "heredoc is not closed by a line holding only its anchor");
      }
      std::size_t line_start = offset_;
      while (!at_end() && peek() != '\n') {
        advance();
      }
      std::string_view line = text_.substr(line_start, offset_ - line_start);
      if (!at_end()) {
        advance();
      }
      if (!line.empty() && line.back() == '\r') {
        line.remove_suffix(1);
      }
      std::size_t indent_end = line.find_first_not_of(" \t");
      if (indent_end != std::string_view::npos && line.substr(indent_end) == anchor) {
        closing_indent = line.substr(0, indent_end);
        break;
      }
      lines.push_back(line);
    }

    bool strip = indented && !closing_indent.empty() &&
                 std::all_of(lines.begin(), lines.end(), [&](std::string_view line) {
                   return line.empty() || line.substr(0, closing_indent.size()) == closing_indent;
                 });
    for (std::string_view line : lines) {
      if (strip && !line.empty()) {
        line.remove_prefix(closing_indent.size());
      }
      token.text += line;
      token.text += '\n';
    }
    return Status::success();
  }

  // Numbers as HCL v1 writes them: optional '-', decimal digits with an optional fraction and
  // exponent, or 0x hex digits. The text is kept as written.
  Status lex_number(Token& token) {
    Position start = here();
    token.type = TokenType::kNumber;
    if (peek() == '-') {
      token.text += advance();
    }
    if (peek() == '0' && (peek(1) == 'x' || peek(1) == 'X')) {
      token.text += advance();
      token.text += advance();
      if (!is_hex_digit(peek())) {
        return syntax_error(start, "hex number needs digits after 0x");
      }
      while (is_hex_digit(peek())) {
        token.text += advance();
      }
    } else {
      while (is_digit(peek())) {
        token.text += advance();
      }
      if (peek() == '.') {
        token.text += advance();
        if (!is_digit(peek())) {
          return syntax_error(start, "number needs digits after the decimal point");
        }
        while (is_digit(peek())) {
          token.text += advance();
        }
      }
      if (peek() == 'e' || peek() == 'E') {
        token.text += advance();
        if (peek() == '+' || peek() == '-') {
          token.text += advance();
        }
        if (!is_digit(peek())) {
          return syntax_error(start, "number needs digits in its exponent");
        }
        while (is_digit(peek())) {
          token.text += advance();
        }
      }
      if (token.text == "-" || token.text.empty()) {
        return syntax_error(start, "'-' must be followed by a number");
      }
    }
    if (!at_end() && is_ident_char(peek())) {
      return syntax_error(start,
                          "invalid number (a value that is not a number must be in double quotes)");
    }
    return Status::success();
  }

  std::string_view text_;
  std::size_t offset_ = 0;
  int line_ = 1;
  int column_ = 1;
};

// == parser ==

bool is_object_list(const Value& value) {
  if (!value.is_list() || value.as_list().empty()) {
    return false;
  }
  const List& items = value.as_list();
  return std::all_of(items.begin(), items.end(), [](const Value& v) { return v.is_object(); });
}

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : tokens_(std::move(tokens)) {}

  Result<Value> parse_document() {
    const Token& first = peek();
    if (first.type == TokenType::kEof) {
      return Value::make_object({}, first.position);
    }

    // JSON: HCL v1 reads a document starting with '{' as JSON, where ':' separates keys and
    // values.
    if (first.type == TokenType::kLeftBrace) {
      json_ = true;
      return finish_lone_value();
    }

    bool lone =
        first.type == TokenType::kNumber || first.type == TokenType::kLeftBracket ||
        ((first.type == TokenType::kString || first.type == TokenType::kHeredoc ||
          (first.type == TokenType::kIdent && (first.text == "true" || first.text == "false"))) &&
         peek(1).type == TokenType::kEof);
    if (lone) {
      return finish_lone_value();
    }

    auto body = parse_body(TokenType::kEof, first.position);
    if (body.ok()) {
      body->set_end_offset(last_end_);
    }
    return body;
  }

 private:
  // Nesting is bounded so that hostile input cannot exhaust the stack; real configurations
  // nest a handful of levels.
  static constexpr int kMaxDepth = 100;

  struct DepthGuard {
    explicit DepthGuard(int& depth) : depth_(++depth) {}
    ~DepthGuard() { --depth_; }
    DepthGuard(const DepthGuard&) = delete;
    DepthGuard& operator=(const DepthGuard&) = delete;
    int& depth_;
  };

  static Error too_deep(Position position) {
    return syntax_error(position, "blocks and lists are nested more than " +
                                      std::to_string(kMaxDepth) + " levels deep");
  }

  const Token& peek(std::size_t ahead = 0) const {
    std::size_t index = std::min(index_ + ahead, tokens_.size() - 1);
    return tokens_[index];
  }
  const Token& next() {
    const Token& token = tokens_[index_];
    last_end_ = token.end_offset;
    if (index_ + 1 < tokens_.size()) {
      ++index_;
    }
    return token;
  }

  Result<Value> finish_lone_value() {
    auto value = parse_value();
    if (!value.ok()) {
      return value.error();
    }
    if (peek().type != TokenType::kEof) {
      return syntax_error(peek().position,
                          "expected end of input after the value, found " + describe(peek()));
    }
    return value;
  }

  // A body is a sequence of items up to `end` ('}' or end of input). Items may be separated by
  // commas; newlines carry no meaning in HCL v1.
  Result<Value> parse_body(TokenType end, Position position) {
    DepthGuard guard(depth_);
    if (depth_ > kMaxDepth) {
      return too_deep(position);
    }
    Object members;
    while (peek().type != end) {
      if (peek().type == TokenType::kEof) {
        return syntax_error(peek().position, "block is not closed with '}'");
      }
      if (auto status = parse_item(members); !status.ok()) {
        return status.error();
      }
      if (peek().type == TokenType::kComma) {
        next();
      }
    }
    if (end != TokenType::kEof) {
      next();
    }
    return Value::make_object(std::move(members), position);
  }

  Status parse_item(Object& members) {
    const Token& key_token = next();
    if (key_token.type != TokenType::kIdent && key_token.type != TokenType::kString) {
      return syntax_error(key_token.position, "expected a key, found " + describe(key_token));
    }
    std::string key = key_token.text;
    Position key_position = key_token.position;

    const Token& after = peek();
    if (after.type == TokenType::kAssign || (json_ && after.type == TokenType::kColon)) {
      next();
      auto value = parse_value();
      if (!value.ok()) {
        return value.error();
      }
      return add_member(members, std::move(key), std::move(value).value(), key_position);
    }

    if (after.type == TokenType::kLeftBrace) {
      Position brace = next().position;
      auto body = parse_body(TokenType::kRightBrace, brace);
      if (!body.ok()) {
        return body.error();
      }
      body->set_end_offset(last_end_);
      return add_member(members, std::move(key), std::move(body).value(), key_position);
    }

    // `key "label" ... { }`: each label is one more level of nesting, the way HCL v1 decodes it.
    if (after.type == TokenType::kString || after.type == TokenType::kIdent) {
      std::vector<std::pair<std::string, Position>> labels;
      while (peek().type == TokenType::kString || peek().type == TokenType::kIdent) {
        const Token& label = next();
        labels.emplace_back(label.text, label.position);
      }
      if (peek().type != TokenType::kLeftBrace) {
        return syntax_error(peek().position, "expected '{' after the labels of block " +
                                                 safe_key_for_message(key) + ", found " +
                                                 describe(peek()));
      }
      Position brace = next().position;
      auto body = parse_body(TokenType::kRightBrace, brace);
      if (!body.ok()) {
        return body.error();
      }
      Value value = std::move(body).value();
      value.set_end_offset(last_end_);
      for (auto it = labels.rbegin(); it != labels.rend(); ++it) {
        Object wrapper;
        wrapper.push_back(Member{it->first, std::move(value), it->second});
        value = Value::make_object(std::move(wrapper), it->second);
        value.set_end_offset(last_end_);
      }
      return add_member(members, std::move(key), std::move(value), key_position);
    }

    return syntax_error(after.position, std::string("expected '") + (json_ ? ":" : "=") +
                                            "' after key " + safe_key_for_message(key) +
                                            ", found " + describe(after));
  }

  // add_member keeps each key once. Repeated blocks merge into a list of objects, as HCL v1's
  // decoder does (`NodeAttestor "a" {}` twice gives a list); any other repetition is ambiguous
  // and is an error.
  static Status add_member(Object& members, std::string key, Value value, Position position) {
    auto existing =
        std::find_if(members.begin(), members.end(), [&](const Member& m) { return m.key == key; });
    if (existing == members.end()) {
      members.push_back(Member{std::move(key), std::move(value), position});
      return Status::success();
    }

    Value& old = existing->value;
    bool old_blocks = old.is_object() || is_object_list(old);
    bool new_blocks = value.is_object() || is_object_list(value);
    if (!old_blocks || !new_blocks) {
      return syntax_error(
          position, "key " + safe_key_for_message(key) + " is set more than once (first on line " +
                        std::to_string(existing->key_position.line) + "); keep one");
    }
    if (old.is_object()) {
      List items;
      items.push_back(std::move(old));
      old = Value::make_list(std::move(items), existing->key_position);
    }
    if (value.is_object()) {
      old.as_list().push_back(std::move(value));
    } else {
      for (Value& item : value.as_list()) {
        old.as_list().push_back(std::move(item));
      }
    }
    return Status::success();
  }

  Result<Value> parse_value() {
    auto value = parse_value_here();
    if (value.ok()) {
      value->set_end_offset(last_end_);
    }
    return value;
  }

  Result<Value> parse_value_here() {
    const Token& token = next();
    switch (token.type) {
      case TokenType::kString:
      case TokenType::kHeredoc:
        return Value::make_string(token.text, token.position);
      case TokenType::kNumber:
        return Value::make_number(token.text, token.position);
      case TokenType::kIdent:
        if (token.text == "true" || token.text == "false") {
          return Value::make_bool(token.text == "true", token.position);
        }
        if (token.text == "null") {
          return syntax_error(token.position, "null is not supported; leave the key out instead");
        }
        return syntax_error(token.position,
                            "expected a value, found a bare word (strings need double quotes)");
      case TokenType::kLeftBracket:
        return parse_list(token.position);
      case TokenType::kLeftBrace:
        return parse_body(TokenType::kRightBrace, token.position);
      default:
        return syntax_error(token.position, "expected a value, found " + describe(token));
    }
  }

  // `[a, b, c]` with an optional trailing comma; elements may be objects.
  Result<Value> parse_list(Position position) {
    DepthGuard guard(depth_);
    if (depth_ > kMaxDepth) {
      return too_deep(position);
    }
    List items;
    while (peek().type != TokenType::kRightBracket) {
      if (peek().type == TokenType::kEof) {
        return syntax_error(position, "list is not closed with ']'");
      }
      auto item = parse_value();
      if (!item.ok()) {
        return item.error();
      }
      items.push_back(std::move(item).value());
      if (peek().type == TokenType::kComma) {
        next();
      } else if (peek().type == TokenType::kEof) {
        return syntax_error(position, "list is not closed with ']'");
      } else if (peek().type != TokenType::kRightBracket) {
        return syntax_error(peek().position,
                            "expected ',' or ']' in list, found " + describe(peek()));
      }
    }
    next();
    return Value::make_list(std::move(items), position);
  }

  std::vector<Token> tokens_;
  std::size_t index_ = 0;
  // last_end_ is the end offset of the token consumed last: the end of the value just parsed.
  std::size_t last_end_ = 0;
  bool json_ = false;
  int depth_ = 0;
};

// == printer ==

bool is_bare_key(std::string_view key) {
  if (key.empty() || !is_ident_start(key.front())) {
    return false;
  }
  return std::all_of(key.begin(), key.end(), is_ident_char) && key != "true" && key != "false";
}

// quote escapes a string so that the lexer reads it back unchanged; `${...}` is written as is
// because the lexer copies it as is.
std::string quote(std::string_view text) {
  std::string out = "\"";
  int braces = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '$' && i + 1 < text.size() && text[i + 1] == '{') {
      ++braces;
      out += "${";
      ++i;
      continue;
    }
    if (braces > 0) {
      if (c == '}') {
        --braces;
      }
      out += c;
      continue;
    }
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
          char escape[8];
          std::snprintf(escape, sizeof escape, "\\u%04x", static_cast<unsigned char>(c));
          out += escape;
        } else {
          out += c;
        }
    }
  }
  out += '"';
  return out;
}

void print_value(std::string& out, const Value& value, int indent);

void print_members(std::string& out, const Object& members, int indent) {
  std::string pad(static_cast<std::size_t>(indent) * 2, ' ');
  for (std::size_t i = 0; i < members.size(); ++i) {
    const Member& member = members[i];
    if (i > 0) {
      out += "\n";
    }
    out += pad;
    out += is_bare_key(member.key) ? member.key : quote(member.key);
    out += " = ";
    print_value(out, member.value, indent);
    out += "\n";
  }
}

void print_value(std::string& out, const Value& value, int indent) {
  std::string pad(static_cast<std::size_t>(indent) * 2, ' ');
  switch (value.kind()) {
    case Kind::kString:
      out += quote(value.as_string());
      return;
    case Kind::kNumber:
      out += value.number_text();
      return;
    case Kind::kBool:
      out += value.as_bool() ? "true" : "false";
      return;
    case Kind::kList: {
      out += "[";
      for (std::size_t i = 0; i < value.as_list().size(); ++i) {
        out += i == 0 ? "" : ", ";
        print_value(out, value.as_list()[i], indent);
      }
      out += "]";
      return;
    }
    case Kind::kObject:
      out += "{\n";
      print_members(out, value.as_object(), indent + 1);
      out += pad;
      out += "}";
      return;
  }
}

}  // namespace

// == Value ==

std::string format_position(Position position) {
  return "line " + std::to_string(position.line) + ", column " + std::to_string(position.column);
}

std::string_view kind_name(Kind kind) noexcept {
  switch (kind) {
    case Kind::kString:
      return "string";
    case Kind::kNumber:
      return "number";
    case Kind::kBool:
      return "bool";
    case Kind::kList:
      return "list";
    case Kind::kObject:
      return "block";
  }
  return "value";
}

Value::Value() : data_(std::string()) {}

Value Value::make_string(std::string text, Position position) {
  Value value;
  value.data_.emplace<0>(std::move(text));
  value.position_ = position;
  return value;
}

Value Value::make_number(std::string text, Position position) {
  Value value;
  value.data_.emplace<1>(Number{std::move(text)});
  value.position_ = position;
  return value;
}

Value Value::make_bool(bool flag, Position position) {
  Value value;
  value.data_.emplace<2>(flag);
  value.position_ = position;
  return value;
}

Value Value::make_list(List items, Position position) {
  Value value;
  value.data_.emplace<3>(std::move(items));
  value.position_ = position;
  return value;
}

Value Value::make_object(Object members, Position position) {
  Value value;
  value.data_.emplace<4>(std::move(members));
  value.position_ = position;
  return value;
}

const std::string& Value::as_string() const {
  return std::get<0>(data_);
}
const std::string& Value::number_text() const {
  return std::get<1>(data_).text;
}
bool Value::as_bool() const {
  return std::get<2>(data_);
}
const List& Value::as_list() const {
  return std::get<3>(data_);
}
List& Value::as_list() {
  return std::get<3>(data_);
}
const Object& Value::as_object() const {
  return std::get<4>(data_);
}
Object& Value::as_object() {
  return std::get<4>(data_);
}

std::optional<std::int64_t> Value::as_integer() const {
  if (!is_number()) {
    return std::nullopt;
  }
  std::string_view text = number_text();
  bool negative = !text.empty() && text.front() == '-';
  std::string_view digits = negative ? text.substr(1) : text;
  int base = 10;
  if (digits.size() > 2 && digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X')) {
    base = 16;
    digits.remove_prefix(2);
  } else if (digits.find_first_of(".eE") != std::string_view::npos) {
    return std::nullopt;
  }
  std::uint64_t magnitude = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), magnitude, base);
  if (ec != std::errc() || end != digits.data() + digits.size()) {
    return std::nullopt;
  }
  constexpr auto kMax = static_cast<std::uint64_t>(INT64_MAX);
  if (negative) {
    if (magnitude > kMax + 1) {
      return std::nullopt;
    }
    return magnitude == kMax + 1 ? INT64_MIN : -static_cast<std::int64_t>(magnitude);
  }
  if (magnitude > kMax) {
    return std::nullopt;
  }
  return static_cast<std::int64_t>(magnitude);
}

std::optional<double> Value::as_double() const {
  if (!is_number()) {
    return std::nullopt;
  }
  if (auto integer = as_integer()) {
    return static_cast<double>(*integer);
  }
  const std::string& text = number_text();
  double result = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), result);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return std::nullopt;
  }
  return result;
}

const Value* Value::find(std::string_view key) const {
  if (!is_object()) {
    return nullptr;
  }
  for (const Member& member : as_object()) {
    if (member.key == key) {
      return &member.value;
    }
  }
  return nullptr;
}

// == public functions ==

Result<Value> parse(std::string_view text) {
  auto tokens = Lexer(text).run();
  if (!tokens.ok()) {
    return tokens.error();
  }
  return Parser(std::move(tokens).value()).parse_document();
}

std::string to_hcl(const Value& value) {
  std::string out;
  if (value.is_object()) {
    print_members(out, value.as_object(), 0);
  } else {
    print_value(out, value, 0);
    out += "\n";
  }
  return out;
}

std::vector<const Object*> objects_in(const Value& value) {
  std::vector<const Object*> objects;
  if (value.is_object()) {
    objects.push_back(&value.as_object());
  } else if (value.is_list()) {
    for (const Value& item : value.as_list()) {
      if (item.is_object()) {
        objects.push_back(&item.as_object());
      }
    }
  }
  return objects;
}

std::string safe_key_for_message(std::string_view key) {
  // An identifier-shaped key of modest length is echoed; a key mixing upper case and digits is
  // not, because that is what a pasted access key or token looks like.
  bool has_upper = std::any_of(key.begin(), key.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
  bool has_digit = std::any_of(key.begin(), key.end(), is_digit);
  if (key.empty() || key.size() > 48 || !is_ident_start(key.front()) ||
      !std::all_of(key.begin(), key.end(), is_ident_char) || (has_upper && has_digit)) {
    return "(not shown)";
  }
  std::string out = "\"";
  out += key;
  out += '"';
  return out;
}

Result<PluginData> find_plugin_data(std::string_view server_conf, std::string_view plugin_type,
                                    std::string_view plugin_name) {
  auto root = parse(server_conf);
  if (!root.ok()) {
    return root.error();
  }
  if (!root->is_object()) {
    return Error(ErrorCode::kInvalidArgument,
                 "server.conf must hold blocks such as `plugins { ... }`, not a lone value");
  }
  const Value* plugins = root->find("plugins");
  if (plugins == nullptr || objects_in(*plugins).empty()) {
    return Error(ErrorCode::kInvalidArgument, "server.conf has no `plugins { ... }` block");
  }

  std::string wanted = std::string(plugin_type) + " \"" + std::string(plugin_name) + "\"";
  std::vector<const Object*> found;
  for (const Object* plugin_block : objects_in(*plugins)) {
    for (const Member& by_type : *plugin_block) {
      if (by_type.key != plugin_type) {
        continue;
      }
      for (const Object* named : objects_in(by_type.value)) {
        for (const Member& by_name : *named) {
          if (by_name.key != plugin_name) {
            continue;
          }
          for (const Object* body : objects_in(by_name.value)) {
            found.push_back(body);
          }
        }
      }
    }
  }
  if (found.empty()) {
    return Error(ErrorCode::kInvalidArgument,
                 "server.conf has no " + wanted + " block inside `plugins { ... }`");
  }
  if (found.size() > 1) {
    return Error(ErrorCode::kInvalidArgument,
                 "server.conf has more than one " + wanted + " block; SPIRE loads only one");
  }

  PluginData result;
  const Object& body = *found.front();
  const Value* data = nullptr;
  const Value* data_file = nullptr;
  for (const Member& member : body) {
    if (member.key == "plugin_data") {
      data = &member.value;
    } else if (member.key == "plugin_data_file") {
      data_file = &member.value;
    }
  }
  // SPIRE refuses this combination with the same wording.
  if (data != nullptr && data_file != nullptr) {
    return Error(ErrorCode::kInvalidArgument,
                 wanted + ": only one of [plugin_data, plugin_data_file] can be used");
  }

  if (data != nullptr) {
    // HCL v1's JSON form may wrap a block in a one-element list.
    if (data->is_list() && data->as_list().size() == 1 && data->as_list().front().is_object()) {
      result.inline_value = data->as_list().front();
    } else if (is_object_list(*data)) {
      return Error(ErrorCode::kInvalidArgument,
                   wanted + ": plugin_data is given more than once; keep one block");
    } else {
      result.inline_value = *data;
    }
    return result;
  }

  if (data_file != nullptr) {
    if (!data_file->is_string() || data_file->as_string().empty()) {
      return Error(ErrorCode::kInvalidArgument,
                   wanted + ": plugin_data_file must be a non-empty string (a file path)");
    }
    result.file_path = data_file->as_string();
    std::ifstream file(result.file_path, std::ios::binary);
    if (!file) {
      int saved = errno;
      return Error(ErrorCode::kNotFound, wanted + ": cannot read plugin_data_file \"" +
                                             result.file_path + "\": " + std::strerror(saved) +
                                             " (a relative path is taken from the current "
                                             "directory, as SPIRE takes it from its own)");
    }
    result.file_content.assign(std::istreambuf_iterator<char>(file),
                               std::istreambuf_iterator<char>());
    if (file.bad()) {
      return Error(ErrorCode::kNotFound,
                   wanted + ": reading plugin_data_file \"" + result.file_path + "\" failed");
    }
  }
  return result;
}

}  // namespace akeyless_upstream::plugin::hcl
