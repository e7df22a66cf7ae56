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
  std::string where = "1 = 1";
  std::vector<Value> params;
  if (query.model_name) {
    // By name at the time, or by the model that has the name now (its entries from before a rename).
    where += " AND (model_name = ? OR model_id = (SELECT model_id FROM registered_models WHERE name = ?))";
    params.emplace_back(*query.model_name);
    params.emplace_back(*query.model_name);
  }
  if (query.action) {
    where += " AND action = ?";
    params.emplace_back(*query.action);
  }
  if (query.since) {
    where += " AND timestamp >= ?";
    params.emplace_back(*query.since);
  }
  if (query.until) {
    where += " AND timestamp < ?";
    params.emplace_back(*query.until);
  }
  if (before_id) {
    where += " AND id < ?";
    params.emplace_back(*before_id);
  }
  params.emplace_back(query.max_results + 1);
  GYRE_ASSIGN_OR_RETURN(QueryResult r,
                        db_->Query("SELECT id, timestamp, actor, action, model_name, version, alias, before_json, "
                                   "after_json FROM registry_audit WHERE " + where + " ORDER BY id DESC LIMIT ?",
                                   params));
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
