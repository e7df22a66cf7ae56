#include "train/dataset.h"

#include <fmt/format.h>
#define XXH_INLINE_ALL
#include <xxhash.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <unordered_map>

#include "core/csv_reader.h"
#include "core/model_input.h"
#include "features/backfill.h"

namespace gyre::train {
namespace {

struct KnownLabel {
  float value;
  TimestampMicros labeled_at;
};

// The label file, by key: value and the moment it became known.
Result<std::unordered_map<std::string, KnownLabel>> ReadLabels(const features::LabelDef& label,
                                                               const std::string& labeled_at_column) {
  CsvReadOptions options;
  options.select = {label.key, label.column};
  if (!labeled_at_column.empty()) options.select.push_back(labeled_at_column);
  auto read = ReadCsv(label.path, options);
  if (!read.ok()) return read.status();
  const Table& t = read->table;
  for (const std::string& name : options.select) {
    if (t.schema().IndexOf(name) < 0) {
      return Status::InvalidArgument(fmt::format("{}: the label file has no column '{}' (columns: {})", label.path,
                                                 name, t.schema().NameList()));
    }
  }
  const Column& keys = **t.ColumnByName(label.key);
  const Column& values = **t.ColumnByName(label.column);
  if (values.type() != ColumnType::kInt64 && values.type() != ColumnType::kFloat64 &&
      values.type() != ColumnType::kBool) {
    return Status::InvalidArgument(fmt::format("{}: label column '{}' holds {} values; expected 0/1", label.path,
                                               label.column, ColumnTypeName(values.type())));
  }
  const Column* labeled_at = nullptr;
  if (!labeled_at_column.empty()) {
    labeled_at = *t.ColumnByName(labeled_at_column);
    if (labeled_at->type() != ColumnType::kTimestamp) {
      return Status::InvalidArgument(fmt::format("{}: column '{}' holds {} values; expected timestamps", label.path,
                                                 labeled_at_column, ColumnTypeName(labeled_at->type())));
    }
  }
  std::unordered_map<std::string, KnownLabel> by_key;
  by_key.reserve(static_cast<size_t>(t.num_rows()));
  for (int64_t r = 0; r < t.num_rows(); ++r) {
    if (keys.IsNull(r) || values.IsNull(r)) continue;
    double v = values.type() == ColumnType::kBool    ? (values.Bool(r) ? 1.0 : 0.0)
               : values.type() == ColumnType::kInt64 ? static_cast<double>(values.Int64(r))
                                                     : values.Float64(r);
    if (v != 0 && v != 1) {
      return Status::InvalidArgument(fmt::format("{}:{}: label '{}' is {}; a binary model needs 0 or 1", label.path,
                                                 r + 2, label.column, v));
    }
    // A label without a known time counts as known from the start (nothing to wait for).
    TimestampMicros at = labeled_at == nullptr || labeled_at->IsNull(r) ? std::numeric_limits<TimestampMicros>::min()
                                                                        : labeled_at->Timestamp(r);
    by_key[keys.ValueToString(r)] = {static_cast<float>(v), at};
  }
  return by_key;
}

}  // namespace

std::optional<float> TrainingData::LabelAsOf(int64_t i, TimestampMicros cutoff, UnlabeledPolicy policy) const {
  if (labeled_at[i] <= cutoff) return final_label[i];
  if (policy == UnlabeledPolicy::kDrop || !has_default) return std::nullopt;
  return default_label;
}

int64_t TrainingData::LowerBound(TimestampMicros t) const {
  return std::lower_bound(time.begin(), time.end(), t) - time.begin();
}

Result<TrainingData> LoadTrainingData(const features::FeatureRegistry& registry, const ExperimentConfig& config,
                                      const std::string& workspace_root, int threads) {
  GYRE_ASSIGN_OR_RETURN(int set_index, registry.FindFeatureSet(config.feature_set));
  const features::FeatureSetDef& set = registry.feature_sets()[set_index];
  if (!set.label) {
    return Status::InvalidArgument(fmt::format(
        "feature set '{}' has no label: add `label: {{path, key, column}}` to it in features.yaml", set.name));
  }
  const features::LabelDef& label = *set.label;
  const features::SourceDef& source = registry.sources()[set.source];
  TrainingData data;
  for (int f : set.features) data.feature_names.push_back(registry.features()[f].name);

  Table table;
  std::string time_column = source.timestamp_column;
  if (!config.training_set.empty()) {
    std::string path = config.training_set.starts_with("/") ? config.training_set
                                                             : workspace_root + "/" + config.training_set;
    CsvReadOptions options;
    options.select = data.feature_names;
    options.select.push_back(time_column);
    options.select.push_back(label.key);
    auto read = ReadCsv(path, options);
    if (!read.ok()) return read.status();
    for (const std::string& name : options.select) {
      if (read->table.schema().IndexOf(name) < 0) {
        return Status::InvalidArgument(fmt::format(
            "{}: the training set has no column '{}' of feature set '{}' (columns: {})", path, name, set.name,
            read->table.schema().NameList()));
      }
    }
    table = std::move(read->table);
    data.source = path;
  } else {
    features::BackfillOptions options;
    options.feature_set = set.name;
    options.keep_columns = {label.key, time_column};
    options.join_label = false;
    options.threads = threads;
    GYRE_ASSIGN_OR_RETURN(table, features::Backfill(registry, options));
    data.source = fmt::format("backfill of feature set '{}' over {}", set.name, source.path);
  }

  GYRE_ASSIGN_OR_RETURN(const Column* times, table.ColumnByName(time_column));
  if (times->type() != ColumnType::kTimestamp) {
    return Status::InvalidArgument(fmt::format("{}: column '{}' holds {} values; expected timestamps", data.source,
                                               time_column, ColumnTypeName(times->type())));
  }
  std::vector<const Column*> feature_columns;
  for (const std::string& name : data.feature_names) {
    const Column* c = *table.ColumnByName(name);
    if (c->type() == ColumnType::kString || c->type() == ColumnType::kTimestamp) {
      return Status::InvalidArgument(fmt::format("{}: feature '{}' holds {} values; models take numbers and booleans",
                                                 data.source, name, ColumnTypeName(c->type())));
    }
    feature_columns.push_back(c);
  }

  // Rows in [start, end), in time order (stable: file order among equal times).
  std::vector<int64_t> order;
  order.reserve(static_cast<size_t>(table.num_rows()));
  for (int64_t r = 0; r < table.num_rows(); ++r) {
    if (times->IsNull(r)) continue;
    TimestampMicros t = times->Timestamp(r);
    if ((config.start && t < *config.start) || (config.end && t >= *config.end)) continue;
    order.push_back(r);
  }
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t a, int64_t b) { return times->Timestamp(a) < times->Timestamp(b); });
  if (order.empty()) {
    return Status::InvalidArgument(fmt::format(
        "{}: no rows in the time range [{}, {}) ({} rows in all)", data.source,
        config.start ? FormatTimestamp(*config.start) : "-inf", config.end ? FormatTimestamp(*config.end) : "+inf",
        table.num_rows()));
  }

  GYRE_ASSIGN_OR_RETURN(auto labels, ReadLabels(label, config.labels.labeled_at_column));
  data.has_default = label.default_value.has_value();
  data.default_label = static_cast<float>(label.default_value.value_or(0));
  const Column& keys = **table.ColumnByName(label.key);
  const int d = data.features();
  data.rows = static_cast<int64_t>(order.size());
  data.x.resize(static_cast<size_t>(data.rows) * d);
  data.time.resize(data.rows);
  data.final_label.resize(data.rows);
  data.labeled_at.resize(data.rows);
  data.keys.resize(data.rows);
  int64_t positives = 0, unlabeled_dropped = 0;
  for (int64_t i = 0; i < data.rows; ++i) {
    int64_t r = order[i];
    float* row = data.x.data() + i * d;
    for (int f = 0; f < d; ++f) {
      const Column& c = *feature_columns[f];
      row[f] = ModelInput(c, r);
    }
    data.time[i] = times->Timestamp(r);
    data.keys[i] = keys.IsNull(r) ? std::string() : keys.ValueToString(r);
    auto it = labels.find(data.keys[i]);
    if (it != labels.end()) {
      data.final_label[i] = it->second.value;
      data.labeled_at[i] = it->second.labeled_at;
    } else {
      data.final_label[i] = data.default_label;
      data.labeled_at[i] = kNeverLabeled;
      unlabeled_dropped += !data.has_default;
    }
    positives += data.final_label[i] > 0;
  }
  int64_t usable = data.rows - unlabeled_dropped;
  if (positives == 0 || positives == usable) {
    return Status::InvalidArgument(fmt::format(
        "{}: label '{}' is {} on all {} rows in the time range: a model needs both classes", label.path, label.column,
        positives == 0 ? 0 : 1, usable));
  }

  XXH3_state_t* state = XXH3_createState();
  XXH3_64bits_reset(state);
  for (const std::string& name : data.feature_names) XXH3_64bits_update(state, name.data(), name.size() + 1);
  XXH3_64bits_update(state, data.x.data(), data.x.size() * sizeof(float));
  XXH3_64bits_update(state, data.time.data(), data.time.size() * sizeof(TimestampMicros));
  XXH3_64bits_update(state, data.final_label.data(), data.final_label.size() * sizeof(float));
  XXH3_64bits_update(state, data.labeled_at.data(), data.labeled_at.size() * sizeof(TimestampMicros));
  data.fingerprint = fmt::format("{:016x}", XXH3_64bits_digest(state));
  XXH3_freeState(state);
  return data;
}

}  // namespace gyre::train
