#include "features/rebuild.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <numeric>
#include <vector>

#include "features/backfill.h"
#include "features/row_values.h"

namespace gyre::features {

Result<RebuildReport> RebuildGroup(OnlineStore& online, std::string_view group_name, int64_t since) {
  const auto start = std::chrono::steady_clock::now();
  const FeatureRegistry& registry = online.registry();
  GYRE_ASSIGN_OR_RETURN(const int group, registry.FindGroup(group_name));
  if (since < 0) return Status::InvalidArgument("the time to replay must not be negative");
  const GroupDef& def = registry.groups()[group];
  const SourceDef& source = registry.sources()[def.source];
  GYRE_ASSIGN_OR_RETURN(Table file, ReadSource(source));
  RebuildReport report;
  // A push to some groups skips the event index (its ids are recorded already), so the file's repeated
  // deliveries are dropped here, as the backfill drops them.
  Table events = DropRepeatedDeliveries(source, std::move(file), &report.duplicates);

  std::span<const int64_t> ts = events.column(source.timestamp_index).int64_values();
  if (ts.empty()) return report;
  report.to = *std::max_element(ts.begin(), ts.end());
  report.from = since > 0 ? report.to - since : *std::min_element(ts.begin(), ts.end());
  std::vector<int64_t> rows;
  for (int64_t r = 0; r < static_cast<int64_t>(ts.size()); ++r) {
    if (ts[static_cast<size_t>(r)] >= report.from) rows.push_back(r);
  }
  std::stable_sort(rows.begin(), rows.end(), [&](int64_t a, int64_t b) {
    return ts[static_cast<size_t>(a)] < ts[static_cast<size_t>(b)];
  });

  GYRE_RETURN_IF_ERROR(online.ClearGroup(group));
  // In slices, so the copy of the replayed rows stays small whatever the file.
  constexpr size_t kRowsPerPush = 8192;
  const int only[] = {group};
  for (size_t at = 0; at < rows.size(); at += kRowsPerPush) {
    const size_t n = std::min(kRowsPerPush, rows.size() - at);
    Table slice = TakeRows(events, std::span<const int64_t>(rows).subspan(at, n));
    GYRE_ASSIGN_OR_RETURN(PushResult pushed, online.Push(def.source, slice, only));
    report.events += pushed.rows;
    report.too_late += pushed.too_late;
  }
  GYRE_RETURN_IF_ERROR(online.Flush());
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

}  // namespace gyre::features
