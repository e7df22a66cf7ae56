// Feature definitions: the one description (YAML in the workspace) that the offline backfill, the online
// state and the consistency check all run from. See examples/ato/features.yaml and docs/features.md.
//
//   entities:      name → join keys, one column or several (user+device)
//   sources:       name → events: a CSV file with a timestamp column (or columns declared for push-only
//                  sources), allowed lateness for online pushes, an optional event id column (a repeat of
//                  an id counts once, offline and online: see OnlineStore's event index)
//   groups:        an entity over a source, with aggregations (count, sum, mean, min, max, stddev,
//                  count_distinct, approx_count_distinct, last, first_seen, time_since_last, is_new, ratio),
//                  each over windows (10m, 1h, 24h, 7d, lifetime), an optional filter and value expression
//   derived:       row-level features of an event: an expression over the event's columns and other features
//   feature_sets:  the features one model uses, the source of the events it scores, an optional label join
//
// Every feature has one global name: an aggregation `x` over windows [1h, 24h] yields `x_1h` and `x_24h`;
// without windows (or `lifetime`) it yields `x`. Names are unique across groups and derived features.
//
// Loading checks everything a run would trip on: unknown keys, bad durations, unknown entities/sources/
// columns/features, expressions that do not type-check, features used by a set whose keys the set's source
// lacks. Errors name file:line:column and the dotted key. A source's schema comes from its declared columns
// or, if none, from the header and a sample of its CSV file (types inferred as core/csv_reader.h does).
//
// A FeatureRegistry is immutable after Load(); share it freely between threads.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.h"
#include "core/csv_reader.h"
#include "core/status.h"
#include "core/table.h"
#include "features/expr.h"

namespace gyre::features {

// A window that never ends: the key's whole history (until the group's ttl drops idle state).
inline constexpr int64_t kLifetime = std::numeric_limits<int64_t>::max();
// How much longer than the allowed lateness the online store remembers an event id by default (µs): client
// retries and redeliveries come seconds to minutes after the first attempt.
inline constexpr int64_t kDefaultEventIdMargin = 3'600'000'000;

enum class AggKind : uint8_t {
  kCount,
  kSum,
  kMean,
  kMin,
  kMax,
  kStddev,  // sample standard deviation (n - 1); null below two values
  kCountDistinct,
  kApproxCountDistinct,
  kLast,           // value of the latest matching event before t
  kFirstSeen,      // seconds since the key's first matching event (its age)
  kTimeSinceLast,  // seconds since the latest matching event
  kIsNew,          // 1 if the query's value of `of` was not seen for this key within the horizon, else 0
  kRatio,          // matching events / all events in the window; null when the window is empty
};
std::string_view AggKindName(AggKind kind);

struct EntityDef {
  std::string name;
  std::vector<std::string> keys;  // join-key columns, in order
};

struct SourceDef {
  std::string name;
  std::string path;  // absolute; empty for push-only sources
  std::string timestamp_column;
  int64_t allowed_lateness = 0;
  Schema schema;  // includes the timestamp column (type timestamp)
  int timestamp_index = 0;
  std::vector<CsvColumn> declared;  // as declared in YAML (used when reading the file)
  // The column naming each event (`event_id:` in YAML; string or int64), or empty: then every row is a new
  // event, as before ids existed. Rows sharing a non-null id are one event delivered more than once: the
  // backfill keeps the earliest (file order among equal times), the online store counts the first pushed.
  std::string event_id_column;
  int event_id_index = -1;
  // How long (wall clock, µs) the online store remembers an id after its first push (`event_id_retention:`,
  // default allowed_lateness + 1h, at least allowed_lateness).
  int64_t event_id_retention = 0;
  // How far (µs) past the receiving server's clock an event's time may be when pushed online (`future_skew:`,
  // default 5m; `off`: no limit). Further ahead is refused: one event dated 9999-12-31 would otherwise make
  // every real event of its keys "too late" from then on.
  int64_t future_skew = kDefaultFutureSkew;
  static constexpr int64_t kDefaultFutureSkew = 5 * 60 * int64_t{1'000'000};
  static constexpr int64_t kNoFutureLimit = -1;
};

// One aggregation as written in YAML (it may expand to several windowed features).
struct AggregationDef {
  std::string name;
  AggKind kind = AggKind::kCount;
  // The value aggregated (a column name or any expression over the source's columns); absent for count,
  // ratio, first_seen and time_since_last. is_new also evaluates it on the query event, so its text and
  // location are kept to compile it against the query's schema.
  std::optional<Expr> of;
  std::string of_text;
  ExprSource of_where;
  std::optional<Expr> filter;  // events that count; all when absent
  std::vector<int64_t> windows;  // kLifetime for lifetime
  int precision = 10;            // approx_count_distinct
};

// One output feature: an aggregation at one window, or a derived expression.
struct FeatureDef {
  std::string name;
  ExprType type = ExprType::kNumber;  // the value's type (number for every aggregation except `last`)
  int group = -1;                     // aggregation features: index into groups(); -1 for derived
  int aggregation = -1;               // index into the group's aggregations
  int64_t window = kLifetime;         // window or is_new horizon
  int derived = -1;                   // derived features: index into derived()
};

struct GroupDef {
  std::string name;
  int entity = -1;
  int source = -1;
  int64_t max_age = kLifetime;  // online reads of a key idle longer than this are OUTSIDE_MAX_AGE
  int64_t ttl = kLifetime;      // a key idle this long restarts from nothing (event time); online, its state expires
  std::vector<AggregationDef> aggregations;
  std::vector<int> features;  // indices into FeatureRegistry::features()
  // The longest finite window (or is_new horizon) plus the source's allowed lateness: how much raw
  // history a key keeps (0 when every aggregation is lifetime).
  int64_t horizon = 0;
};

struct DerivedDef {
  std::string name;
  int source = -1;
  std::string text;
  ExprSource where;
  std::vector<int> inputs;  // features it reads (indices into features())
};

struct LabelDef {
  std::string path;  // absolute
  std::string key;   // column joined on (present in both the events and the label file)
  std::string column;
  std::optional<double> default_value;  // for events without a label; absent = null
};

struct FeatureSetDef {
  std::string name;
  std::string description;
  int source = -1;
  std::vector<int> features;
  std::optional<LabelDef> label;
};

class FeatureRegistry {
 public:
  // Reads `path` (a features.yaml). Relative source and label paths resolve against `base_dir`.
  static Result<FeatureRegistry> Load(const std::string& path, const std::string& base_dir);
  // The workspace's definitions: `definitions` if given (relative to the workspace), else
  // <workspace>/features.yaml. Paths inside resolve against the workspace root.
  static Result<FeatureRegistry> LoadForWorkspace(const std::string& workspace_root, const std::string& definitions);
  static Result<FeatureRegistry> Parse(const std::string& yaml, const std::string& file_name,
                                       const std::string& base_dir);

  const std::vector<EntityDef>& entities() const { return entities_; }
  const std::vector<SourceDef>& sources() const { return sources_; }
  const std::vector<GroupDef>& groups() const { return groups_; }
  const std::vector<FeatureDef>& features() const { return features_; }
  const std::vector<DerivedDef>& derived() const { return derived_; }
  const std::vector<FeatureSetDef>& feature_sets() const { return feature_sets_; }

  // Lookups; NotFound names what was asked for and lists what exists.
  Result<int> FindSource(std::string_view name) const;
  Result<int> FindGroup(std::string_view name) const;
  Result<int> FindFeatureSet(std::string_view name) const;
  // Accepts "name" and Feast's "group:name".
  Result<int> FindFeature(std::string_view name) const;

  // Derived feature `derived` compiled for events with `schema` (a source's or a spine's). Slots: the
  // schema's columns first (index = column index), then every feature (index = schema.size() + feature).
  Result<Expr> CompileDerived(int derived, const Schema& schema, std::string_view schema_name) const;

 private:
  static Result<FeatureRegistry> FromDocument(const ConfigDocument& doc, const std::string& base_dir);

  std::vector<EntityDef> entities_;
  std::vector<SourceDef> sources_;
  std::vector<GroupDef> groups_;
  std::vector<FeatureDef> features_;
  std::vector<DerivedDef> derived_;
  std::vector<FeatureSetDef> feature_sets_;
  std::map<std::string, int, std::less<>> feature_index_;
};

// Expression slots for an event of `schema`: identifier = column name → ExprSlot{column index, type}.
ExprSlot SlotForColumn(const Schema& schema, int column);
ExprType ExprTypeForColumn(ColumnType type);
// "file:line:col" of a config value → where its expression text starts.
ExprSource ExprSourceOf(const ConfigLocation& location);

}  // namespace gyre::features
