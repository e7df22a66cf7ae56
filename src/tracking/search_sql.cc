#include "tracking/search_sql.h"

#include <fmt/format.h>

namespace gyre::tracking {

Result<std::string> StringComparisonSql(const std::string& column, const Comparison& c,
                                        std::vector<store::Value>& params, const std::string& what, bool allow_in) {
  if (c.is_number) {
    return Status::InvalidArgument(
        fmt::format("{}: expected a quoted string, got {} (quote the value: '{}')", what, c.text, c.text));
  }
  switch (c.op) {
    case CompareOp::kEq:
    case CompareOp::kNe:
      params.emplace_back(c.text);
      return fmt::format("{} {} ?", column, c.op == CompareOp::kEq ? "=" : "<>");
    case CompareOp::kLike:
      params.emplace_back(c.text);
      return fmt::format("{} LIKE ?", column);
    case CompareOp::kILike:
      params.emplace_back(c.text);
      return fmt::format("LOWER({}) LIKE LOWER(?)", column);
    case CompareOp::kIn:
    case CompareOp::kNotIn:
      if (allow_in) {
        if (c.list.empty()) return Status::InvalidArgument(fmt::format("{}: the IN list is empty", what));
        for (const auto& v : c.list) params.emplace_back(v);
        return fmt::format("{} {} ({})", column, c.op == CompareOp::kIn ? "IN" : "NOT IN",
                           store::Placeholders(c.list.size()));
      }
      [[fallthrough]];
    default:
      return Status::InvalidArgument(
          fmt::format("{} does not support the comparator '{}' (use {})", what, CompareOpName(c.op),
                      allow_in ? "=, !=, LIKE, ILIKE, IN or NOT IN" : "=, !=, LIKE or ILIKE"));
  }
}

Result<std::string> NumericComparisonSql(const std::string& column, const Comparison& c,
                                         std::vector<store::Value>& params, const std::string& what) {
  if (!c.is_number) {
    return Status::InvalidArgument(fmt::format("{}: expected a number, got '{}'", what, c.text));
  }
  const char* op = nullptr;
  switch (c.op) {
    case CompareOp::kEq:
      op = "=";
      break;
    case CompareOp::kNe:
      op = "<>";
      break;
    case CompareOp::kGt:
      op = ">";
      break;
    case CompareOp::kGe:
      op = ">=";
      break;
    case CompareOp::kLt:
      op = "<";
      break;
    case CompareOp::kLe:
      op = "<=";
      break;
    default:
      return Status::InvalidArgument(
          fmt::format("{} does not support the comparator '{}' (use =, !=, >, >=, <, <=)", what, CompareOpName(c.op)));
  }
  params.emplace_back(c.number);
  // The column is an integer; the literal may not be ("version_number > 2.5"): compare as doubles, which
  // PostgreSQL would otherwise refuse to bind to a BIGINT parameter.
  return fmt::format("{} {} CAST(? AS DOUBLE PRECISION)", column, op);
}

}  // namespace gyre::tracking
