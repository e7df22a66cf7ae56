// The MLflow search grammar: filters ("metrics.auc > 0.9 AND params.model = 'xgb'") and order-by clauses
// ("metrics.auc DESC"), parsed into a small AST that the stores turn into SQL.
//
// Grammar (MLflow 2.x search_runs / search_experiments / search_model_versions):
//   filter     := comparison ( AND comparison )*          (AND is case-insensitive; no OR, no parentheses)
//   comparison := identifier op value
//   identifier := [entity '.'] key     entity: metric(s), param(s), tag(s), attribute(s)/attr/run,
//                                      dataset(s); a key may be quoted with "", '' or `` when it holds
//                                      special characters (tags."user-name"). No entity means attribute.
//   op         := = | != | > | >= | < | <= | LIKE | ILIKE | IN | NOT IN
//   value      := 'string' | "string" | number | ( 'a', 'b', ... )
// Which ops each entity allows is checked by the caller (it knows which attributes exist); the parser
// checks the shape. Errors say what was expected and at which character: "invalid filter at 12: ...".
#pragma once

#include <string>
#include <vector>

#include "core/status.h"

namespace gyre::tracking {

enum class EntityType { kMetric, kParam, kTag, kAttribute, kDataset };

enum class CompareOp { kEq, kNe, kGt, kGe, kLt, kLe, kLike, kILike, kIn, kNotIn };

struct Comparison {
  EntityType entity = EntityType::kAttribute;
  std::string key;
  CompareOp op = CompareOp::kEq;
  // Exactly one of these is meaningful: a number (numeric literal), a string, or a list (IN / NOT IN).
  bool is_number = false;
  double number = 0;
  std::string text;  // string literal, or the numeric literal's spelling
  std::vector<std::string> list;
};

struct OrderBy {
  EntityType entity = EntityType::kAttribute;
  std::string key;
  bool ascending = true;
};

// Limits that keep every filter within what the SQL stores can plan (SQLite allows 64 tables in a join and
// crashes on an ORDER BY of 64 terms; each comparison or order-by key may add a join and up to three terms),
// and LIKE patterns within SQLite's 50,000 bytes. A longer value than kMaxFilterValueLength could not match
// anything stored anyway: MLflow's longest stored value, a param's, is 6,000 characters.
inline constexpr size_t kMaxFilterComparisons = 40;
inline constexpr size_t kMaxOrderByTerms = 16;
inline constexpr size_t kMaxFilterValueLength = 6000;
inline constexpr size_t kMaxFilterListValues = 1000;  // IN ('a', 'b', ...)

// InvalidArgument (a 400) past any of the limits above, naming it.
Result<std::vector<Comparison>> ParseFilter(const std::string& filter);
Result<OrderBy> ParseOrderBy(const std::string& clause);
// Every clause of a request's order_by, at most kMaxOrderByTerms.
Result<std::vector<OrderBy>> ParseOrderByList(const std::vector<std::string>& clauses);

std::string_view CompareOpName(CompareOp op);
std::string_view EntityTypeName(EntityType type);

}  // namespace gyre::tracking
