#include "store/database.h"

#include <fmt/format.h>

#include <charconv>

#include "store/sqlite_database.h"

namespace gyre::store {

Result<std::unique_ptr<Database>> Database::Open(const std::string& url, const std::string& state_dir,
                                                 Options options) {
  if (url.empty() || url == "sqlite") return OpenSqlite("", state_dir, options);
  if (url == "sqlite::memory:") return OpenSqlite(":memory:", state_dir, options);
  if (url.starts_with("sqlite://")) return OpenSqlite(url.substr(9), state_dir, options);
  if (url.starts_with("postgresql://") || url.starts_with("postgres://")) return OpenPostgres(url, options);
  return Status::InvalidArgument(
      fmt::format("metadata store '{}': expected sqlite, sqlite://PATH or postgresql://USER@HOST:PORT/DB", url));
}

int64_t QueryResult::Int(size_t row, size_t col, int64_t fallback) const {
  const Value& v = rows[row][col];
  if (auto* i = std::get_if<int64_t>(&v)) return *i;
  if (auto* d = std::get_if<double>(&v)) return static_cast<int64_t>(*d);
  if (auto* s = std::get_if<std::string>(&v)) {
    int64_t x = fallback;
    std::from_chars(s->data(), s->data() + s->size(), x);
    return x;
  }
  return fallback;
}

double QueryResult::Double(size_t row, size_t col, double fallback) const {
  const Value& v = rows[row][col];
  if (auto* d = std::get_if<double>(&v)) return *d;
  if (auto* i = std::get_if<int64_t>(&v)) return static_cast<double>(*i);
  if (auto* s = std::get_if<std::string>(&v)) {
    double x = fallback;
    std::from_chars(s->data(), s->data() + s->size(), x);
    return x;
  }
  return fallback;
}

std::string QueryResult::Text(size_t row, size_t col, std::string fallback) const {
  const Value& v = rows[row][col];
  if (auto* s = std::get_if<std::string>(&v)) return *s;
  if (auto* i = std::get_if<int64_t>(&v)) return std::to_string(*i);
  if (auto* d = std::get_if<double>(&v)) return fmt::format("{}", *d);
  return fallback;
}

std::string Placeholders(size_t n) {
  std::string s;
  s.reserve(n * 3);
  for (size_t i = 0; i < n; ++i) s += i == 0 ? "?" : ", ?";
  return s;
}

std::string AbbreviateSql(std::string_view sql) {
  std::string s(sql.substr(0, 120));
  for (char& c : s) {
    if (c == '\n') c = ' ';
  }
  return sql.size() > 120 ? s + "..." : s;
}

std::string PlaceholderList(size_t n) {
  std::string s = "(";
  s += Placeholders(n);
  s += ')';
  return s;
}

std::string ToPostgresPlaceholders(std::string_view sql) {
  std::string out;
  out.reserve(sql.size() + 16);
  int n = 0;
  for (size_t i = 0; i < sql.size(); ++i) {
    char c = sql[i];
    if (c == '\'' || c == '"') {  // copy a quoted literal or identifier verbatim ('' and "" escape)
      size_t end = i + 1;
      while (end < sql.size()) {
        if (sql[end] == c) {
          if (end + 1 < sql.size() && sql[end + 1] == c) {
            end += 2;
            continue;
          }
          break;
        }
        ++end;
      }
      out.append(sql.substr(i, end - i + 1));
      i = end;
    } else if (c == '-' && i + 1 < sql.size() && sql[i + 1] == '-') {
      size_t end = sql.find('\n', i);
      if (end == std::string_view::npos) end = sql.size();
      out.append(sql.substr(i, end - i));
      i = end - 1;
    } else if (c == '?') {
      out += fmt::format("${}", ++n);
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace gyre::store
