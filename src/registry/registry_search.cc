// Registry searches: MLflow's filter grammar (parsed by tracking/search_filter) turned into SQL over the
// registry tables, with offset paging over a total order.
#include <fmt/format.h>

#include <map>
#include <set>

#include "registry/registry_schema.h"
#include "registry/registry_store.h"
#include "tracking/search_filter.h"
#include "tracking/search_sql.h"
#include "tracking/tracking_store.h"

namespace gyre::registry {

using internal::Reader;
using store::QueryResult;
using store::Value;
using tracking::CompareOp;
using tracking::Comparison;
using tracking::EntityType;
using tracking::OrderBy;

namespace {

Status CheckMaxResults(int64_t max_results, int64_t limit) {
  if (max_results <= 0) {
    return Status::InvalidArgument(fmt::format(
        "Invalid value for request parameter max_results. It must be a positive integer, but got {}", max_results));
  }
  if (max_results > limit) {
    return Status::InvalidArgument(
        fmt::format("Invalid value for request parameter max_results. It must be at most {}, but got value {}", limit,
                    max_results));
  }
  return Status::OK();
}

// Turns order_by clauses into SQL through `columns` (order-by key → SQL expression), rejecting unknown and
// repeated keys, then appends the tie-breaks not already used. `valid` lists the keys for messages.
Result<std::string> OrderClause(const std::vector<std::string>& order_by,
                                const std::map<std::string, std::string>& columns, const std::string& valid,
                                const std::vector<std::pair<std::string, bool>>& tie_breaks) {
  std::string order;
  std::set<std::string> used;
  GYRE_ASSIGN_OR_RETURN(std::vector<OrderBy> orders, tracking::ParseOrderByList(order_by));
  for (size_t i = 0; i < orders.size(); ++i) {
    const OrderBy& o = orders[i];
    const std::string& clause = order_by[i];
    auto it = o.entity == EntityType::kAttribute ? columns.find(o.key) : columns.end();
    if (it == columns.end()) {
      return Status::InvalidArgument(
          fmt::format("Invalid order by key '{}' in order_by clause '{}'. Valid keys are {}", o.key, clause, valid));
    }
    if (!used.insert(it->second).second) {
      return Status::InvalidArgument(fmt::format("order_by contains the field '{}' twice", o.key));
    }
    order += fmt::format("{} {}, ", it->second, o.ascending ? "ASC" : "DESC");
  }
  for (const auto& [expr, ascending] : tie_breaks) {
    if (used.insert(expr).second) order += fmt::format("{} {}, ", expr, ascending ? "ASC" : "DESC");
  }
  order.resize(order.size() - 2);
  return order;
}

}  // namespace

Result<Page<RegisteredModel>> RegistryStore::SearchRegisteredModels(const SearchRegisteredModelsRequest& request) {
  GYRE_RETURN_IF_ERROR(CheckMaxResults(request.max_results, kMaxSearchModelsResults));
  GYRE_ASSIGN_OR_RETURN(int64_t offset, tracking::DecodeOffsetToken(request.page_token));
  GYRE_ASSIGN_OR_RETURN(std::vector<Comparison> filter, tracking::ParseFilter(request.filter));
  // Joins carry their own parameters, which precede the WHERE clause's in the SQL text.
  std::string joins, where = "1 = 1";
  std::vector<Value> join_params, where_params;
  size_t n_join = 0;
  for (const Comparison& c : filter) {
    std::string clause;
    if (c.entity == EntityType::kAttribute && c.key == "name") {
      GYRE_ASSIGN_OR_RETURN(
          clause, tracking::StringComparisonSql("m.name", c, where_params, "attribute 'name'", /*allow_in=*/true));
    } else if (c.entity == EntityType::kTag) {
      std::string a = fmt::format("t{}", n_join++);
      joins += fmt::format(" JOIN registered_model_tags {0} ON {0}.model_id = m.model_id AND {0}.key = ?", a);
      join_params.emplace_back(c.key);
      GYRE_ASSIGN_OR_RETURN(clause,
                            tracking::StringComparisonSql(a + ".value", c, where_params, "tag '" + c.key + "'", false));
    } else {
      return Status::InvalidArgument(fmt::format(
          "Invalid filter key '{}{}' for registered model search: use name or tags.<key>",
          c.entity == EntityType::kAttribute ? "" : std::string(tracking::EntityTypeName(c.entity)) + ".", c.key));
    }
    where += " AND " + clause;
  }
  static const std::map<std::string, std::string> kColumns = {{"name", "m.name"},
                                                              {"timestamp", "m.last_updated_timestamp"},
                                                              {"last_updated_timestamp", "m.last_updated_timestamp"},
                                                              {"creation_timestamp", "m.creation_timestamp"}};
  GYRE_ASSIGN_OR_RETURN(
      std::string order,
      OrderClause(request.order_by, kColumns, "name, last_updated_timestamp, creation_timestamp", {{"m.name", true}}));
  std::vector<Value> params = std::move(join_params);
  for (auto& v : where_params) params.push_back(std::move(v));
  params.emplace_back(request.max_results + 1);
  params.emplace_back(offset);
  GYRE_ASSIGN_OR_RETURN(QueryResult r, db_->Query("SELECT m.model_id FROM registered_models m" + joins + " WHERE " +
                                                      where + " ORDER BY " + order + " LIMIT ? OFFSET ?",
                                                  params));
  size_t n = std::min<size_t>(r.size(), static_cast<size_t>(request.max_results));
  std::vector<int64_t> ids;
  ids.reserve(n);
  for (size_t i = 0; i < n; ++i) ids.push_back(r.Int(i, 0));
  Reader reader(*db_);
  Page<RegisteredModel> page;
  GYRE_ASSIGN_OR_RETURN(page.items, internal::LoadModels(reader, ids));
  if (r.size() > n) page.next_page_token = tracking::EncodeOffsetToken(offset + static_cast<int64_t>(n));
  return page;
}

Result<Page<ModelVersion>> RegistryStore::SearchModelVersions(const SearchModelVersionsRequest& request) {
  GYRE_RETURN_IF_ERROR(CheckMaxResults(request.max_results, kMaxSearchVersionsResults));
  GYRE_ASSIGN_OR_RETURN(int64_t offset, tracking::DecodeOffsetToken(request.page_token));
  GYRE_ASSIGN_OR_RETURN(std::vector<Comparison> filter, tracking::ParseFilter(request.filter));
  static const std::map<std::string, std::string> kStringAttrs = {
      {"name", "m.name"},
      {"run_id", "v.run_id"},
      {"source_path", "v.source"},
      {"training_data_fingerprint", "v.training_data_fingerprint"},
      {"feature_set", "v.feature_set"},
      {"code_version", "v.code_version"}};
  static const std::map<std::string, std::string> kNumericAttrs = {
      {"version_number", "v.version"},
      {"creation_timestamp", "v.creation_timestamp"},
      {"last_updated_timestamp", "v.last_updated_timestamp"}};
  std::string joins, where = "1 = 1";
  std::vector<Value> join_params, where_params;
  size_t n_join = 0;
  for (const Comparison& c : filter) {
    std::string clause;
    if (c.entity == EntityType::kAttribute) {
      if (auto it = kStringAttrs.find(c.key); it != kStringAttrs.end()) {
        GYRE_ASSIGN_OR_RETURN(
            clause, tracking::StringComparisonSql(it->second, c, where_params, "attribute '" + c.key + "'", true));
      } else if (auto nit = kNumericAttrs.find(c.key); nit != kNumericAttrs.end()) {
        GYRE_ASSIGN_OR_RETURN(
            clause, tracking::NumericComparisonSql(nit->second, c, where_params, "attribute '" + c.key + "'"));
      } else {
        return Status::InvalidArgument(fmt::format(
            "Invalid attribute key '{}' for model version search. Valid keys are name, run_id, source_path, "
            "version_number, creation_timestamp, last_updated_timestamp, training_data_fingerprint, feature_set, "
            "code_version",
            c.key));
      }
    } else if (c.entity == EntityType::kTag) {
      std::string a = fmt::format("t{}", n_join++);
      joins += fmt::format(
          " JOIN model_version_tags {0} ON {0}.model_id = v.model_id AND {0}.version = v.version AND {0}.key = ?", a);
      join_params.emplace_back(c.key);
      GYRE_ASSIGN_OR_RETURN(clause,
                            tracking::StringComparisonSql(a + ".value", c, where_params, "tag '" + c.key + "'", false));
    } else {
      return Status::InvalidArgument(
          fmt::format("Invalid filter key '{}.{}' for model version search: use attributes or tags.<key>",
                      tracking::EntityTypeName(c.entity), c.key));
    }
    where += " AND " + clause;
  }
  static const std::map<std::string, std::string> kColumns = {{"name", "m.name"},
                                                              {"version_number", "v.version"},
                                                              {"creation_timestamp", "v.creation_timestamp"},
                                                              {"last_updated_timestamp", "v.last_updated_timestamp"}};
  std::vector<std::string> order_by = request.order_by;
  if (order_by.empty()) order_by = {"last_updated_timestamp DESC"};
  GYRE_ASSIGN_OR_RETURN(
      std::string order,
      OrderClause(order_by, kColumns, "name, version_number, creation_timestamp, last_updated_timestamp",
                  {{"m.name", true}, {"v.version", false}}));
  std::vector<Value> params = std::move(join_params);
  for (auto& v : where_params) params.push_back(std::move(v));
  params.emplace_back(request.max_results + 1);
  params.emplace_back(offset);
  GYRE_ASSIGN_OR_RETURN(QueryResult r, db_->Query(std::string(internal::kVersionSelect) + joins + " WHERE " + where +
                                                      " ORDER BY " + order + " LIMIT ? OFFSET ?",
                                                  params));
  bool more = r.size() > static_cast<size_t>(request.max_results);
  if (more) r.rows.resize(static_cast<size_t>(request.max_results));
  Reader reader(*db_);
  Page<ModelVersion> page;
  GYRE_ASSIGN_OR_RETURN(page.items, internal::VersionsFromQuery(reader, r));
  if (more) page.next_page_token = tracking::EncodeOffsetToken(offset + request.max_results);
  return page;
}

}  // namespace gyre::registry
