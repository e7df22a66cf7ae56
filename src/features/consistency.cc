#include "features/consistency.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <numeric>
#include <set>
#include <tuple>

#include "features/backfill.h"
#include "features/online_store.h"
#include "features/row_values.h"
#include "store/kv_store.h"

namespace gyre::features {
namespace {

// The first `limit` events in time of `table` (all when limit <= 0), in time order.
std::vector<int64_t> FirstInTime(const Table& table, int ts_column, int64_t limit) {
  std::span<const int64_t> ts = table.column(ts_column).int64_values();
  std::vector<int64_t> order(ts.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return ts[a] < ts[b]; });
  if (limit > 0 && static_cast<int64_t>(order.size()) > limit) order.resize(static_cast<size_t>(limit));
  std::sort(order.begin(), order.end());  // back to file order, which keeps ties as the file has them
  return order;
}

bool SameValue(const FeatureValue& a, const FeatureValue& b) {
  if (a.null != b.null) return false;
  if (a.null) return true;
  if (a.text != b.text) return false;
  return a.number == b.number || (std::isnan(a.number) && std::isnan(b.number));
}

std::string Show(const FeatureValue& v) {
  if (v.null) return "null";
  return v.text.empty() ? fmt::format("{}", v.number) : "'" + v.text + "'";
}

}  // namespace

Result<CheckReport> CheckConsistency(const FeatureRegistry& registry, const CheckOptions& options) {
  auto start = std::chrono::steady_clock::now();
  GYRE_ASSIGN_OR_RETURN(int set_index, registry.FindFeatureSet(options.feature_set));
  const FeatureSetDef& set = registry.feature_sets()[set_index];

  // Every source a group of the registry reads is replayed, so online state sees what the backfill sees.
  std::set<int> used{set.source};
  for (const GroupDef& g : registry.groups()) used.insert(g.source);
  std::vector<Table> sources(registry.sources().size());
  for (int s : used) {
    if (registry.sources()[s].path.empty()) continue;
    GYRE_ASSIGN_OR_RETURN(sources[s], ReadSource(registry.sources()[s]));
  }
  const SourceDef& query_def = registry.sources()[set.source];
  sources[set.source] = TakeRows(sources[set.source], FirstInTime(sources[set.source], query_def.timestamp_index, options.limit));
  const Table& queries = sources[set.source];
  int64_t last_query_ts = INT64_MIN;
  for (int64_t t : queries.column(query_def.timestamp_index).int64_values()) last_query_ts = std::max(last_query_ts, t);
  for (int s : used) {
    if (s == set.source || sources[s].num_columns() == 0) continue;
    const SourceDef& def = registry.sources()[s];
    std::vector<int64_t> keep;
    std::span<const int64_t> ts = sources[s].column(def.timestamp_index).int64_values();
    for (int64_t r = 0; r < static_cast<int64_t>(ts.size()); ++r) {
      if (ts[r] <= last_query_ts) keep.push_back(r);
    }
    sources[s] = TakeRows(sources[s], keep);
  }

  // Offline.
  BackfillStats offline_stats;
  GYRE_ASSIGN_OR_RETURN(Table offline, BackfillTables(registry, set.features, queries, query_def.timestamp_column,
                                                      sources, {}, options.threads, &offline_stats));

  // Online: a fresh store.
  if (options.online_store == "rocksdb") {
    std::error_code ec;
    std::filesystem::remove_all(options.state_dir + "/online", ec);
  }
  GYRE_ASSIGN_OR_RETURN(std::unique_ptr<store::KvStore> kv, store::KvStore::Open(options.online_store, options.state_dir));
  for (const GroupDef& g : registry.groups()) GYRE_RETURN_IF_ERROR(kv->DeletePrefix(g.name + '\x1f'));
  for (const SourceDef& s : registry.sources()) {
    if (s.event_id_index >= 0) GYRE_RETURN_IF_ERROR(kv->DeletePrefix(EventIndexPrefix(s.name)));
  }
  OnlineStoreOptions replay;
  replay.refuse_future_events = false;  // history replayed into its own store, whatever the clock says
  GYRE_ASSIGN_OR_RETURN(std::unique_ptr<OnlineStore> online, OnlineStore::Open(&registry, std::move(kv), replay));

  // Replay every event in time order (file order within a source among ties; sources in registry order).
  std::vector<std::tuple<int64_t, int, int64_t>> events;
  for (int s : used) {
    if (sources[s].num_columns() == 0) continue;
    std::span<const int64_t> ts = sources[s].column(registry.sources()[s].timestamp_index).int64_values();
    for (int64_t r = 0; r < static_cast<int64_t>(ts.size()); ++r) events.emplace_back(ts[r], s, r);
  }
  std::stable_sort(events.begin(), events.end());

  CheckReport report;
  report.offline_duplicates = offline_stats.duplicates;
  report.features.resize(set.features.size());
  for (size_t i = 0; i < set.features.size(); ++i) {
    report.features[i].name = registry.features()[set.features[i]].name;
    report.features[i].bound_text = "exact";
  }
  for (const auto& [t, s, r] : events) {
    Table row = sources[s].Slice(r, 1);
    if (s == set.source) {
      int64_t time = t;
      GYRE_ASSIGN_OR_RETURN(OnlineValues got, online->Get(set.features, row, std::span<const int64_t>(&time, 1)));
      ++report.reads;
      for (size_t i = 0; i < set.features.size(); ++i) {
        FeatureValue want = FromExprValue(ColumnValue(offline.column(static_cast<int>(i)), r));
        const FeatureValue& have = got.values[i][0];
        FeatureCheck& check = report.features[i];
        ++check.compared;
        if (SameValue(want, have)) continue;
        ++check.mismatches;
        ++report.total_mismatches;
        if (!want.null && !have.null) check.max_abs_diff = std::max(check.max_abs_diff, std::abs(want.number - have.number));
        if (report.first_mismatch.empty()) {
          report.first_mismatch = fmt::format("feature '{}' at row {} of source '{}' ({}): offline {} online {}",
                                              check.name, r, query_def.name, FormatTimestamp(t), Show(want), Show(have));
        }
      }
    }
    GYRE_ASSIGN_OR_RETURN(PushResult pushed, online->Push(s, row));
    report.too_late += pushed.too_late;
    report.duplicates += pushed.duplicates;
    ++report.events;
  }
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

}  // namespace gyre::features
