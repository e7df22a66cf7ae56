#include "api/score_body.h"

#include <charconv>
#include <cstdint>
#include <vector>

#include "core/time.h"

namespace gyre::api {
namespace {

// A cursor over the body; every method returns false on anything the fast path does not take.
class Reader {
 public:
  explicit Reader(std::string_view text) : text_(text) {}

  void SkipSpace() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\n' || text_[pos_] == '\r' ||
                                   text_[pos_] == '\t')) {
      ++pos_;
    }
  }
  bool At(char c) {
    SkipSpace();
    return pos_ < text_.size() && text_[pos_] == c;
  }
  bool Consume(char c) {
    if (!At(c)) return false;
    ++pos_;
    return true;
  }
  bool AtEnd() {
    SkipSpace();
    return pos_ == text_.size();
  }
  // A string of printable ASCII without escapes (its bytes are its value).
  bool String(std::string_view* out) {
    if (!Consume('"')) return false;
    size_t start = pos_;
    for (; pos_ < text_.size(); ++pos_) {
      auto c = static_cast<unsigned char>(text_[pos_]);
      if (c == '"') {
        *out = text_.substr(start, pos_ - start);
        ++pos_;
        return true;
      }
      if (c == '\\' || c < 0x20 || c >= 0x80) return false;
    }
    return false;
  }
  // The text of a JSON number token (validated by the caller's conversion).
  bool NumberToken(std::string_view* out) {
    SkipSpace();
    size_t start = pos_;
    while (pos_ < text_.size()) {
      char c = text_[pos_];
      if ((c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E') {
        ++pos_;
      } else {
        break;
      }
    }
    *out = text_.substr(start, pos_ - start);
    return !out->empty();
  }
  bool Literal(std::string_view word) {
    SkipSpace();
    if (text_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    // A literal must end there (no "truex").
    return pos_ == text_.size() || !((text_[pos_] >= 'a' && text_[pos_] <= 'z') || (text_[pos_] >= '0' && text_[pos_] <= '9'));
  }
  char Peek() {
    SkipSpace();
    return pos_ < text_.size() ? text_[pos_] : '\0';
  }

 private:
  std::string_view text_;
  size_t pos_ = 0;
};

// A JSON integer token as the general path reads it: digits with an optional '-', no leading zeros, in int64.
bool PlainInteger(std::string_view token, int64_t* out) {
  std::string_view digits = token.substr(!token.empty() && token[0] == '-' ? 1 : 0);
  if (digits.empty() || (digits.size() > 1 && digits[0] == '0')) return false;
  for (char c : digits) {
    if (c < '0' || c > '9') return false;
  }
  auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), *out);
  return ec == std::errc() && end == token.data() + token.size();
}

// A JSON number token (integer or with fraction/exponent) as a double, correctly rounded like the general path.
bool PlainNumber(std::string_view token, double* out) {
  // JSON grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
  size_t i = 0;
  if (i < token.size() && token[i] == '-') ++i;
  if (i >= token.size()) return false;
  if (token[i] == '0') {
    ++i;
  } else if (token[i] >= '1' && token[i] <= '9') {
    while (i < token.size() && token[i] >= '0' && token[i] <= '9') ++i;
  } else {
    return false;
  }
  if (i < token.size() && token[i] == '.') {
    ++i;
    size_t start = i;
    while (i < token.size() && token[i] >= '0' && token[i] <= '9') ++i;
    if (i == start) return false;
  }
  if (i < token.size() && (token[i] == 'e' || token[i] == 'E')) {
    ++i;
    if (i < token.size() && (token[i] == '+' || token[i] == '-')) ++i;
    size_t start = i;
    while (i < token.size() && token[i] >= '0' && token[i] <= '9') ++i;
    if (i == start) return false;
  }
  if (i != token.size()) return false;
  auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), *out);
  return ec == std::errc() && end == token.data() + token.size();
}

// Reads one value into `column` (a row of the event), exactly as AppendJson would convert it.
bool ReadValue(Reader& in, Column& column) {
  char c = in.Peek();
  if (c == 'n') {
    if (!in.Literal("null")) return false;
    column.AppendNull();
    return true;
  }
  switch (column.type()) {
    case ColumnType::kString: {
      std::string_view s;
      if (!in.String(&s)) return false;
      column.AppendString(s);
      return true;
    }
    case ColumnType::kInt64: {
      std::string_view token;
      int64_t v = 0;
      if (!in.NumberToken(&token) || !PlainInteger(token, &v)) return false;
      column.AppendInt64(v);
      return true;
    }
    case ColumnType::kFloat64: {
      std::string_view token;
      double v = 0;
      if (!in.NumberToken(&token)) return false;
      int64_t i = 0;
      if (PlainInteger(token, &i)) {
        column.AppendFloat64(static_cast<double>(i));  // the general path holds integers as int64 first
        return true;
      }
      if (token.find_first_of(".eE") == std::string_view::npos || !PlainNumber(token, &v)) return false;
      column.AppendFloat64(v);
      return true;
    }
    case ColumnType::kBool:
      if (in.Literal("true")) {
        column.AppendBool(true);
        return true;
      }
      if (in.Literal("false")) {
        column.AppendBool(false);
        return true;
      }
      return false;
    case ColumnType::kTimestamp: {
      std::string_view s;
      if (c != '"' || !in.String(&s) || s.empty()) return false;
      Result<TimestampMicros> ts = ParseTimestamp(s);
      if (!ts.ok()) return false;
      column.AppendTimestamp(*ts);
      return true;
    }
  }
  return false;
}

}  // namespace

std::optional<SingleEventBody> TryParseSingleEvent(std::string_view body, const Schema& schema) {
  Reader in(body);
  if (!in.Consume('{')) return std::nullopt;
  SingleEventBody out;
  bool have_event = false, have_request_id = false, have_return_features = false;
  std::optional<TableBuilder> builder;
  do {
    std::string_view key;
    if (!in.String(&key) || !in.Consume(':')) return std::nullopt;
    if (key == "event" && !have_event) {
      have_event = true;
      builder.emplace(schema);
      std::vector<bool> seen(static_cast<size_t>(schema.size()), false);
      if (!in.Consume('{')) return std::nullopt;
      if (!in.Consume('}')) {
        do {
          std::string_view name;
          if (!in.String(&name) || !in.Consume(':')) return std::nullopt;
          int c = schema.IndexOf(name);
          if (c < 0 || seen[static_cast<size_t>(c)]) return std::nullopt;
          seen[static_cast<size_t>(c)] = true;
          if (!ReadValue(in, builder->column(c))) return std::nullopt;
        } while (in.Consume(','));
        if (!in.Consume('}')) return std::nullopt;
      }
      for (int c = 0; c < schema.size(); ++c) {
        if (!seen[static_cast<size_t>(c)]) builder->column(c).AppendNull();
      }
    } else if (key == "request_id" && !have_request_id) {
      have_request_id = true;
      std::string_view id;
      if (!in.String(&id)) return std::nullopt;
      out.request_id = std::string(id);
    } else if (key == "return_features" && !have_return_features) {
      have_return_features = true;
      if (in.Literal("true")) {
        out.return_features = true;
      } else if (!in.Literal("false")) {
        return std::nullopt;
      }
    } else {
      return std::nullopt;
    }
  } while (in.Consume(','));
  if (!in.Consume('}') || !in.AtEnd() || !have_event) return std::nullopt;
  Result<Table> table = builder->Finish();
  if (!table.ok()) return std::nullopt;
  out.event = std::move(*table);
  return out;
}

}  // namespace gyre::api
