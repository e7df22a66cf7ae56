// The registry's audit log: appended inside each mutation's transaction, read newest first with keyset
// paging. There is deliberately no statement here (or anywhere) that updates or deletes an entry.
#include <fmt/format.h>

#include "core/base64.h"
#include "registry/registry_schema.h"
#include "registry/registry_store.h"

namespace gyre::registry {

using store::QueryResult;
using store::Value;

namespace internal {

Status AppendAudit(store::Connection& conn, std::string_view action, std::string_view actor, int64_t model_id,
                   const std::string& model_name, std::optional<int64_t> version, std::optional<std::string> alias,
                   const nlohmann::json& before, const nlohmann::json& after) {
  std::vector<Value> row{NowMillis(),
                         std::string(actor.empty() ? "unknown" : actor),
                         std::string(action),
                         model_id,
                         model_name,
                         version ? Value(*version) : Value(std::monostate{}),
                         alias ? Value(*alias) : Value(std::monostate{}),
                         before.is_null() ? std::string() : before.dump(),
                         after.is_null() ? std::string() : after.dump()};
  return conn.Execute(
      "INSERT INTO registry_audit (timestamp, actor, action, model_id, model_name, version, alias, before_json, "
      "after_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
      row);
}

}  // namespace internal

namespace {

// Audit page tokens: base64 of {"before_id": N}, the id of the last entry returned.
std::string EncodeAuditToken(int64_t before_id) {
  return Base64Encode(nlohmann::json{{"before_id", before_id}}.dump());
}

Result<std::optional<int64_t>> DecodeAuditToken(const std::string& token) {
  if (token.empty()) return std::optional<int64_t>();
  Result<std::string> raw = Base64Decode(token);
  if (raw.ok()) {
    nlohmann::json j = nlohmann::json::parse(*raw, nullptr, /*allow_exceptions=*/false);
    if (j.is_object() && j.contains("before_id") && j["before_id"].is_number_integer()) {
      return std::optional<int64_t>(j["before_id"].get<int64_t>());
    }
  }
  return Status::InvalidArgument(fmt::format("Invalid page token '{}'", token));
}

}  // namespace

Result<Page<AuditEntry>> RegistryStore::QueryAudit(const AuditQuery& query) {
  if (query.max_results <= 0 || query.max_results > kMaxAuditResults) {
    return Status::InvalidArgument(fmt::format(
        "Invalid value {} for parameter 'max_results' supplied: it must be between 1 and {}", query.max_results,
        kMaxAuditResults));
  }
  GYRE_ASSIGN_OR_RETURN(std::optional<int64_t> before_id, DecodeAuditToken(query.page_token));
  // Conditions besides the model, with their parameters.
  std::string rest = "1 = 1";
  std::vector<Value> rest_params;
  if (query.action) {
    rest += " AND action = ?";
    rest_params.emplace_back(*query.action);
  }
  if (query.since) {
    rest += " AND timestamp >= ?";
    rest_params.emplace_back(*query.since);
  }
  if (query.until) {
    rest += " AND timestamp < ?";
    rest_params.emplace_back(*query.until);
  }
  if (before_id) {
    rest += " AND id < ?";
    rest_params.emplace_back(*before_id);
  }
  const int64_t limit = query.max_results + 1;
  constexpr const char* kColumns =
      "SELECT id, timestamp, actor, action, model_name, version, alias, before_json, after_json FROM registry_audit";
  std::string sql;
  std::vector<Value> params;
  if (query.model_name) {
    // The entries recorded under the name, and those of the model that has the name now (from before a
    // rename). Each branch takes its newest `limit` ids from its own index, so a page costs O(page) however
    // long the model's history; a single OR would sort the whole history.
    sql = fmt::format(
        "{0} WHERE id IN (SELECT id FROM (SELECT id FROM registry_audit WHERE model_name = ? AND {1} ORDER BY id DESC "
        "LIMIT ?) by_name UNION ALL SELECT id FROM (SELECT id FROM registry_audit WHERE model_id = (SELECT model_id "
        "FROM registered_models WHERE name = ?) AND {1} ORDER BY id DESC LIMIT ?) by_model) ORDER BY id DESC LIMIT ?",
        kColumns, rest);
    for (int branch = 0; branch < 2; ++branch) {
      params.emplace_back(*query.model_name);
      params.insert(params.end(), rest_params.begin(), rest_params.end());
      params.emplace_back(limit);
    }
    params.emplace_back(limit);
  } else {
    sql = fmt::format("{} WHERE {} ORDER BY id DESC LIMIT ?", kColumns, rest);
    params = std::move(rest_params);
    params.emplace_back(limit);
  }
  GYRE_ASSIGN_OR_RETURN(QueryResult r, db_->Query(sql, params));
  Page<AuditEntry> page;
  size_t n = std::min<size_t>(r.size(), static_cast<size_t>(query.max_results));
  page.items.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    AuditEntry e;
    e.id = r.Int(i, 0);
    e.timestamp = r.Int(i, 1);
    e.actor = r.Text(i, 2);
    e.action = r.Text(i, 3);
    e.model_name = r.Text(i, 4);
    if (!r.Null(i, 5)) e.version = std::to_string(r.Int(i, 5));
    if (!r.Null(i, 6)) e.alias = r.Text(i, 6);
    e.before = r.Text(i, 7);
    e.after = r.Text(i, 8);
    page.items.push_back(std::move(e));
  }
  if (r.size() > n) page.next_page_token = EncodeAuditToken(page.items.back().id);
  return page;
}

}  // namespace gyre::registry
