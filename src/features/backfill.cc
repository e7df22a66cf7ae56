#include "features/backfill.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>
#include <optional>
#include <set>
#include <thread>
#include <limits>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

#include "core/csv_reader.h"
#include "features/key_state.h"
#include "features/row_values.h"

namespace gyre::features {
namespace {

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// One output feature column, written by many threads at disjoint rows. Numbers hold null as a NaN (feature
// values are never NaN: NaN inputs are null), so a write touches one array.
struct OutputColumn {
  ExprType type = ExprType::kNumber;
  std::vector<double> numbers;
  std::vector<std::string> texts;  // string features only
  std::vector<uint8_t> text_valid;

  void Resize(size_t rows) {
    numbers.assign(rows, std::numeric_limits<double>::quiet_NaN());
    if (type == ExprType::kString) {
      texts.assign(rows, {});
      text_valid.assign(rows, 0);
    }
  }
  void Set(size_t row, const FeatureValue& v) {
    if (type == ExprType::kString) {
      text_valid[row] = v.null ? 0 : 1;
      texts[row] = v.text;
      return;
    }
    numbers[row] = v.null ? std::numeric_limits<double>::quiet_NaN() : v.number;
  }
  bool Valid(size_t row) const { return type == ExprType::kString ? text_valid[row] != 0 : !std::isnan(numbers[row]); }
  FeatureValue Get(size_t row) const {
    FeatureValue v;
    v.null = !Valid(row);
    if (v.null) return v;
    if (type == ExprType::kString) {
      v.text = texts[row];
    } else {
      v.number = numbers[row];
    }
    return v;
  }
  // Moves the numbers into a column (float64 features), or copies (other types).
  Column TakeColumn() {
    if (type == ExprType::kNumber) return Column::Float64FromNanNulls(std::move(numbers));
    return ToColumn();
  }
  Column ToColumn() const {
    ColumnType ctype = type == ExprType::kString      ? ColumnType::kString
                       : type == ExprType::kBool      ? ColumnType::kBool
                       : type == ExprType::kTimestamp ? ColumnType::kTimestamp
                                                      : ColumnType::kFloat64;
    Column column(ctype);
    column.Reserve(static_cast<int64_t>(numbers.size()));
    for (size_t r = 0; r < numbers.size(); ++r) {
      if (!Valid(r)) {
        column.AppendNull();
      } else if (ctype == ColumnType::kString) {
        column.AppendString(texts[r]);
      } else if (ctype == ColumnType::kBool) {
        column.AppendBool(numbers[r] != 0);
      } else if (ctype == ColumnType::kTimestamp) {
        column.AppendTimestamp(static_cast<int64_t>(numbers[r]));
      } else {
        column.AppendFloat64(numbers[r]);
      }
    }
    return column;
  }
};

struct KeyTimeRow {
  uint64_t hash;
  int64_t ts;
  uint32_t row;
  bool operator<(const KeyTimeRow& o) const { return std::tie(hash, ts, row) < std::tie(o.hash, o.ts, o.row); }
};

// Sorts by (hash, time, row): a stable counting sort on the hash's top 16 bits, then each (small) bucket
// sorted on its own. Hashes are uniform, so buckets hold ~n/65536 entries and the whole is close to linear.
void SortByKeyTime(std::vector<KeyTimeRow>& entries) {
  constexpr int kBucketBits = 16;
  constexpr size_t kBuckets = size_t{1} << kBucketBits;
  if (entries.size() < 4 * kBuckets) {
    std::sort(entries.begin(), entries.end());
    return;
  }
  std::vector<uint32_t> start(kBuckets + 1, 0);
  for (const KeyTimeRow& e : entries) ++start[(e.hash >> (64 - kBucketBits)) + 1];
  for (size_t b = 0; b < kBuckets; ++b) start[b + 1] += start[b];
  std::vector<KeyTimeRow> sorted(entries.size());
  std::vector<uint32_t> next(start.begin(), start.end() - 1);
  for (const KeyTimeRow& e : entries) sorted[next[e.hash >> (64 - kBucketBits)]++] = e;
  for (size_t b = 0; b < kBuckets; ++b) std::sort(sorted.begin() + start[b], sorted.begin() + start[b + 1]);
  entries.swap(sorted);
}

Result<std::vector<int>> KeyColumns(const Schema& schema, const EntityDef& entity, std::string_view what) {
  std::vector<int> columns;
  for (const std::string& key : entity.keys) {
    int index = schema.IndexOf(key);
    if (index < 0) {
      return Status::InvalidArgument(fmt::format("{} has no column '{}' (key of entity '{}'; columns: {})", what, key,
                                                 entity.name, schema.NameList()));
    }
    columns.push_back(index);
  }
  return columns;
}

// Computes one group's features for every spine row. Work is split by key hash across `threads`.
Status RunGroup(const FeatureRegistry& registry, int group_index, const Table& source, const Table& spine,
                std::span<const int64_t> spine_ts,
                const std::string& spine_name, int threads, std::unordered_map<int, OutputColumn>& outputs,
                BackfillStats* stats) {
  GYRE_ASSIGN_OR_RETURN(std::shared_ptr<const GroupProgram> program, GroupProgram::Make(registry, group_index));
  const GroupDef& group = program->def();
  const SourceDef& source_def = program->source();
  const EntityDef& entity = registry.entities()[group.entity];
  GYRE_ASSIGN_OR_RETURN(std::vector<int> source_keys,
                        KeyColumns(source.schema(), entity, "source '" + source_def.name + "'"));
  GYRE_ASSIGN_OR_RETURN(std::vector<int> spine_keys, KeyColumns(spine.schema(), entity, spine_name));
  const auto& accumulators = program->accumulators();

  // is_new reads the spine row's own value of `of`.
  GYRE_ASSIGN_OR_RETURN(IsNewQueries is_new,
                        IsNewQueries::Compile(registry, *program, spine.schema(), spine_name,
                                              [&](int feature) { return outputs.count(feature) != 0; }));

  const Column& source_ts_column = source.column(source_def.timestamp_index);
  std::span<const int64_t> source_ts = source_ts_column.int64_values();
  std::vector<uint64_t> source_hash = KeyHasher::HashRows(source, source_keys, threads);
  std::vector<uint64_t> spine_hash = KeyHasher::HashRows(spine, spine_keys, threads);

  std::vector<OutputColumn*> out(accumulators.size(), nullptr);
  for (size_t i = 0; i < accumulators.size(); ++i) {
    auto it = outputs.find(accumulators[i].feature);
    if (it != outputs.end()) out[i] = &it->second;
  }

  // Key-major order: each key's events and spine rows are processed together, so its state stays in cache and
  // only one key's state per thread is alive at a time. Within a key: time, then file order.
  std::vector<KeyTimeRow> events, queries;
  events.reserve(source_hash.size());
  for (uint32_t r = 0; r < source_hash.size(); ++r) {
    if (source_hash[r] != KeyHasher::kNullKey) events.push_back({source_hash[r], source_ts[r], r});
  }
  queries.reserve(spine_hash.size());
  for (uint32_t q = 0; q < spine_hash.size(); ++q) queries.push_back({spine_hash[q], spine_ts[q], q});
  {
    std::thread sorter([&] { SortByKeyTime(events); });
    SortByKeyTime(queries);
    sorter.join();
  }
  using Entry = KeyTimeRow;

  std::vector<int64_t> keys_per_thread(threads, 0);
  auto worker = [&](int w) {
    // This thread's share of the hash space: [lo, hi], contiguous in both sorted lists.
    uint64_t width = std::numeric_limits<uint64_t>::max() / static_cast<uint64_t>(threads);
    uint64_t lo = w == 0 ? 0 : width * static_cast<uint64_t>(w) + 1;
    uint64_t hi = w == threads - 1 ? std::numeric_limits<uint64_t>::max() : width * static_cast<uint64_t>(w + 1);
    auto first_at = [](const std::vector<Entry>& v, uint64_t h) {
      return std::lower_bound(v.begin(), v.end(), h, [](const Entry& e, uint64_t x) { return e.hash < x; });
    };
    auto e = first_at(events, lo);
    auto e_end = events.cend();
    auto q = first_at(queries, lo);
    auto q_end = queries.cend();
    RowValues source_row(source, program->used_columns());
    RowValues spine_row(spine, is_new.columns());
    std::vector<ExprValue> source_slots(source.num_columns());
    std::vector<ExprValue> spine_slots(spine.num_columns());
    GroupEvent event;
    std::vector<FeatureValue> values(accumulators.size());
    std::vector<std::optional<uint64_t>> is_new_bits(accumulators.size());
    int64_t keys = 0;
    while (q != q_end && q->hash <= hi) {
      uint64_t h = q->hash;
      // Keys with events but no spine rows cost nothing but the skip.
      for (; e != e_end && e->hash < h; ++e) {
        if (e == events.cbegin() || std::prev(e)->hash != e->hash) ++keys;
      }
      if (h != KeyHasher::kNullKey && e != e_end && e->hash == h) ++keys;
      KeyState state(program.get());
      for (; q != q_end && q->hash == h; ++q) {
        for (; e != e_end && e->hash == h && e->ts < q->ts; ++e) {
          if (h == KeyHasher::kNullKey) continue;
          source_row.Fill(e->row, source_slots);
          EncodeEvent(*program, source_slots, e->ts, &event);
          state.Append(event);
        }
        spine_row.Fill(q->row, spine_slots);
        is_new.Evaluate(spine_slots, is_new_bits);
        state.Read(q->ts, is_new_bits, values);
        for (size_t i = 0; i < accumulators.size(); ++i) {
          if (out[i] != nullptr) out[i]->Set(q->row, values[i]);
        }
      }
    }
    for (; e != e_end && e->hash <= hi; ++e) {
      if (e == events.cbegin() || std::prev(e)->hash != e->hash) ++keys;
    }
    keys_per_thread[w] = keys;
  };
  std::vector<std::thread> pool;
  for (int w = 1; w < threads; ++w) pool.emplace_back(worker, w);
  worker(0);
  for (auto& th : pool) th.join();
  if (stats != nullptr) {
    stats->events += source.num_rows();
    for (int64_t k : keys_per_thread) stats->keys += k;
  }
  return Status::OK();
}

}  // namespace

Result<Table> ReadSource(const SourceDef& source) {
  if (source.path.empty()) {
    return Status::InvalidArgument("source '" + source.name + "' has no file (it is push-only)");
  }
  // Read with the schema the definitions were compiled against (declared, or inferred from the file's
  // first records when loading): a later value that does not fit is an error naming its line.
  CsvReadOptions options;
  for (const ColumnSchema& column : source.schema.columns()) options.columns.push_back(CsvColumn{column.name, column.type});
  for (const CsvColumn& declared : source.declared) {
    for (CsvColumn& column : options.columns) {
      if (column.name == declared.name) column = declared;
    }
  }
  GYRE_ASSIGN_OR_RETURN(CsvReadResult read, ReadCsv(source.path, options));
  int ts = read.table.schema().IndexOf(source.timestamp_column);
  if (ts < 0 || read.table.schema().column(ts).type != ColumnType::kTimestamp) {
    return Status::InvalidArgument(fmt::format("{}: column '{}' must hold timestamps (columns: {})", source.path,
                                               source.timestamp_column, read.table.schema().ToString()));
  }
  if (read.table.column(ts).null_count() != 0) {
    return Status::InvalidArgument(fmt::format("{}: column '{}' has {} empty timestamps", source.path,
                                               source.timestamp_column, read.table.column(ts).null_count()));
  }
  return std::move(read.table);
}

std::vector<int64_t> FirstDeliveries(const SourceDef& source, const Table& events, int64_t* duplicates) {
  const int64_t n = events.num_rows();
  std::vector<int64_t> kept;
  const int id_column = source.event_id_column.empty() ? -1 : events.schema().IndexOf(source.event_id_column);
  const int ts_column = events.schema().IndexOf(source.timestamp_column);
  if (id_column < 0 || ts_column < 0) {
    kept.resize(static_cast<size_t>(n));
    std::iota(kept.begin(), kept.end(), 0);
    if (duplicates != nullptr) *duplicates = 0;
    return kept;
  }
  std::span<const int64_t> ts = events.column(ts_column).int64_values();
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return ts[a] < ts[b]; });
  const Column& ids = events.column(id_column);
  std::vector<char> keep(static_cast<size_t>(n), 1);
  int64_t dropped = 0;
  // Ids compare as values of their column (strings by text, integers by value), as the online index compares
  // their text: one column has one type, so the two agree.
  std::unordered_set<std::string_view> seen_text;
  std::unordered_set<int64_t> seen_number;
  for (int64_t r : order) {
    if (ids.IsNull(r)) continue;
    const bool first = ids.type() == ColumnType::kString ? seen_text.insert(ids.String(r)).second
                                                         : seen_number.insert(ids.Int64(r)).second;
    if (!first) {
      keep[static_cast<size_t>(r)] = 0;
      ++dropped;
    }
  }
  kept.reserve(static_cast<size_t>(n - dropped));
  for (int64_t r = 0; r < n; ++r) {
    if (keep[static_cast<size_t>(r)]) kept.push_back(r);
  }
  if (duplicates != nullptr) *duplicates = dropped;
  return kept;
}

Table DropRepeatedDeliveries(const SourceDef& source, Table events, int64_t* duplicates) {
  int64_t dropped = 0;
  std::vector<int64_t> kept = FirstDeliveries(source, events, &dropped);
  if (duplicates != nullptr) *duplicates = dropped;
  if (dropped == 0) return events;
  return TakeRows(events, kept);
}

Result<Table> BackfillTables(const FeatureRegistry& registry, const std::vector<int>& features, const Table& spine,
                             const std::string& spine_timestamp, const std::vector<Table>& sources,
                             const std::vector<std::string>& keep_columns, int threads, BackfillStats* stats) {
  auto start = std::chrono::steady_clock::now();
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::string spine_name = "the spine";
  int spine_ts_index = spine.schema().IndexOf(spine_timestamp);
  if (spine_ts_index < 0) {
    return Status::InvalidArgument(fmt::format("{} has no timestamp column '{}' (columns: {})", spine_name,
                                               spine_timestamp, spine.schema().NameList()));
  }
  const Column& spine_ts_column = spine.column(spine_ts_index);
  if (spine_ts_column.type() != ColumnType::kTimestamp) {
    return Status::InvalidArgument(fmt::format("{}: column '{}' holds {} values, not timestamps", spine_name,
                                               spine_timestamp, ColumnTypeName(spine_ts_column.type())));
  }
  if (spine_ts_column.null_count() != 0) {
    return Status::InvalidArgument(fmt::format("{}: column '{}' has {} empty timestamps", spine_name, spine_timestamp,
                                               spine_ts_column.null_count()));
  }

  if (std::set<int>(features.begin(), features.end()).size() != features.size()) {
    return Status::InvalidArgument("a feature is listed twice; each output column must be unique");
  }
  // Aggregated features needed: those asked for and the inputs of derived ones.
  std::set<int> needed;
  for (int f : features) {
    const FeatureDef& def = registry.features()[f];
    if (def.derived >= 0) {
      for (int input : registry.derived()[def.derived].inputs) needed.insert(input);
    } else {
      needed.insert(f);
    }
  }
  std::unordered_map<int, OutputColumn> outputs;
  std::set<int> groups;
  for (int f : needed) {
    outputs[f].type = registry.features()[f].type;
    outputs[f].Resize(static_cast<size_t>(spine.num_rows()));
    groups.insert(registry.features()[f].group);
  }

  // Each event counts once, whoever built the tables: a source's repeated deliveries are dropped here (a
  // table already without them passes through untouched).
  std::vector<std::optional<Table>> deduped(sources.size());
  int64_t duplicates = 0;
  for (int g : groups) {
    const int s = registry.groups()[g].source;
    if (deduped[s] || registry.sources()[s].event_id_index < 0) continue;
    int64_t dropped = 0;
    std::vector<int64_t> kept = FirstDeliveries(registry.sources()[s], sources[s], &dropped);
    duplicates += dropped;
    if (dropped > 0) deduped[s] = TakeRows(sources[s], kept);
  }
  for (int g : groups) {
    const int s = registry.groups()[g].source;
    const Table& source = deduped[s] ? *deduped[s] : sources[s];
    GYRE_RETURN_IF_ERROR(RunGroup(registry, g, source, spine, spine_ts_column.int64_values(),
                                  spine_name, threads, outputs, stats));
  }

  // Derived features, row by row.
  std::vector<std::pair<int, Expr>> derived;
  std::set<int> derived_inputs;
  std::set<int> spine_columns;
  for (int f : features) {
    const FeatureDef& def = registry.features()[f];
    if (def.derived < 0) continue;
    GYRE_ASSIGN_OR_RETURN(Expr expr, registry.CompileDerived(def.derived, spine.schema(), spine_name));
    derived.emplace_back(f, std::move(expr));
    for (int input : registry.derived()[def.derived].inputs) derived_inputs.insert(input);
    outputs[f].type = def.type;
    outputs[f].Resize(static_cast<size_t>(spine.num_rows()));
  }
  if (!derived.empty()) {
    for (int c = 0; c < spine.num_columns(); ++c) spine_columns.insert(c);
    int64_t rows = spine.num_rows();
    const std::vector<int> row_columns(spine_columns.begin(), spine_columns.end());
    auto work = [&](int64_t begin, int64_t end) {
      RowValues row(spine, row_columns);
      std::vector<ExprValue> slots(spine.num_columns() + registry.features().size());
      std::vector<FeatureValue> held(registry.features().size());
      for (int64_t r = begin; r < end; ++r) {
        row.Fill(r, slots);
        for (int f : derived_inputs) {
          held[f] = outputs.at(f).Get(static_cast<size_t>(r));
          slots[spine.num_columns() + f] = FeatureExprValue(held[f], registry.features()[f].type);
        }
        for (auto& [f, expr] : derived) {
          outputs.at(f).Set(static_cast<size_t>(r), FromExprValue(expr.Evaluate(slots)));
        }
      }
    };
    std::vector<std::thread> pool;
    int64_t chunk = (rows + threads - 1) / threads;
    for (int t = 1; t < threads; ++t) pool.emplace_back(work, std::min(rows, t * chunk), std::min(rows, (t + 1) * chunk));
    work(0, std::min(rows, chunk));
    for (auto& th : pool) th.join();
  }

  GYRE_ASSIGN_OR_RETURN(Table kept, spine.SelectColumns(keep_columns));
  std::vector<ColumnSchema> schema = kept.schema().columns();
  std::vector<Column> columns;
  for (int c = 0; c < kept.num_columns(); ++c) columns.push_back(kept.column(c));
  for (int f : features) {
    const FeatureDef& def = registry.features()[f];
    if (kept.schema().IndexOf(def.name) >= 0) {
      return Status::InvalidArgument("feature '" + def.name + "' has the name of a kept spine column; rename one");
    }
    Column column = outputs.at(f).TakeColumn();
    schema.push_back({def.name, column.type()});
    columns.push_back(std::move(column));
  }
  if (stats != nullptr) {
    stats->duplicates += duplicates;
    stats->rows = spine.num_rows();
    stats->compute_seconds = SecondsSince(start);
  }
  return Table::Make(Schema(std::move(schema)), std::move(columns));
}

namespace {

// Adds the label column: the label file's value for the row's key, else the default (or null).
Result<Table> JoinLabel(const Table& table, const Table& spine, const LabelDef& label, BackfillStats* stats) {
  CsvReadOptions options;
  options.select = {label.key, label.column};
  GYRE_ASSIGN_OR_RETURN(CsvReadResult read, ReadCsv(label.path, options));
  GYRE_ASSIGN_OR_RETURN(const Column* keys, read.table.ColumnByName(label.key));
  GYRE_ASSIGN_OR_RETURN(const Column* values, read.table.ColumnByName(label.column));
  if (values->type() != ColumnType::kInt64 && values->type() != ColumnType::kFloat64 &&
      values->type() != ColumnType::kBool) {
    return Status::InvalidArgument(fmt::format("{}: label column '{}' holds {} values; expected numbers", label.path,
                                               label.column, ColumnTypeName(values->type())));
  }
  std::unordered_map<std::string, double> by_key;
  for (int64_t r = 0; r < read.table.num_rows(); ++r) {
    if (keys->IsNull(r) || values->IsNull(r)) continue;
    ExprValue v = ColumnValue(*values, r);
    by_key[keys->ValueToString(r)] = v.kind == ExprValue::Kind::kBool ? (v.boolean ? 1.0 : 0.0) : v.number;
  }
  int key_index = spine.schema().IndexOf(label.key);
  if (key_index < 0) {
    return Status::InvalidArgument(fmt::format("the label join needs column '{}' in the events (columns: {})",
                                               label.key, spine.schema().NameList()));
  }
  const Column& spine_keys = spine.column(key_index);
  Column out(ColumnType::kFloat64);
  out.Reserve(spine.num_rows());
  int64_t labeled = 0, positive = 0;
  for (int64_t r = 0; r < spine.num_rows(); ++r) {
    auto it = spine_keys.IsNull(r) ? by_key.end() : by_key.find(spine_keys.ValueToString(r));
    std::optional<double> v = it != by_key.end() ? std::optional<double>(it->second) : label.default_value;
    labeled += it != by_key.end();
    if (!v) {
      out.AppendNull();
      continue;
    }
    positive += *v > 0;
    out.AppendFloat64(*v);
  }
  if (stats != nullptr) {
    stats->labeled_rows = labeled;
    stats->positive_labels = positive;
  }
  std::vector<ColumnSchema> schema = table.schema().columns();
  if (table.schema().IndexOf(label.column) >= 0) {
    return Status::InvalidArgument("label column '" + label.column + "' collides with a feature or kept column");
  }
  std::vector<Column> columns;
  for (int c = 0; c < table.num_columns(); ++c) columns.push_back(table.column(c));
  schema.push_back({label.column, ColumnType::kFloat64});
  columns.push_back(std::move(out));
  return Table::Make(Schema(std::move(schema)), std::move(columns));
}

}  // namespace

Result<Table> Backfill(const FeatureRegistry& registry, const BackfillOptions& options, BackfillStats* stats) {
  auto start = std::chrono::steady_clock::now();
  // What to compute, and over which events.
  std::vector<int> features;
  const FeatureSetDef* set = nullptr;
  if (!options.feature_set.empty()) {
    GYRE_ASSIGN_OR_RETURN(int index, registry.FindFeatureSet(options.feature_set));
    set = &registry.feature_sets()[index];
    features = set->features;
  }
  for (const std::string& name : options.features) {
    GYRE_ASSIGN_OR_RETURN(int f, registry.FindFeature(name));
    features.push_back(f);
  }
  if (features.empty()) return Status::InvalidArgument("nothing to compute: name a feature set or features");
  int query_source = set != nullptr ? set->source : -1;
  if (!options.source.empty()) {
    GYRE_ASSIGN_OR_RETURN(query_source, registry.FindSource(options.source));
  }
  if (options.spine_path.empty() && query_source < 0) {
    return Status::InvalidArgument("no spine: give a spine file, a feature set or a source whose events to use");
  }

  // Load every source the groups read (and the query source), once each.
  std::set<int> wanted;
  if (options.spine_path.empty()) wanted.insert(query_source);
  for (int f : features) {
    const FeatureDef& def = registry.features()[f];
    if (def.group >= 0) wanted.insert(registry.groups()[def.group].source);
    if (def.derived >= 0) {
      for (int input : registry.derived()[def.derived].inputs) wanted.insert(registry.groups()[registry.features()[input].group].source);
    }
  }
  std::vector<Table> sources(registry.sources().size());
  int64_t duplicates = 0;
  for (int s : wanted) {
    GYRE_ASSIGN_OR_RETURN(Table events, ReadSource(registry.sources()[s]));
    int64_t dropped = 0;
    sources[s] = DropRepeatedDeliveries(registry.sources()[s], std::move(events), &dropped);
    duplicates += dropped;
  }
  Table spine;
  std::string spine_ts = options.spine_timestamp;
  if (options.spine_path.empty()) {
    spine = sources[query_source];
    if (spine_ts.empty()) spine_ts = registry.sources()[query_source].timestamp_column;
  } else {
    CsvReadOptions csv;
    GYRE_ASSIGN_OR_RETURN(CsvReadResult read, ReadCsv(options.spine_path, csv));
    spine = std::move(read.table);
    if (spine_ts.empty()) {
      spine_ts = query_source >= 0 ? registry.sources()[query_source].timestamp_column : "time";
    }
  }

  std::vector<std::string> keep = options.keep_columns;
  if (keep.empty()) {
    std::vector<std::string> candidates;
    if (set != nullptr && set->label) candidates.push_back(set->label->key);
    candidates.push_back(spine_ts);
    for (int f : features) {
      const FeatureDef& def = registry.features()[f];
      if (def.group < 0) continue;
      for (const std::string& key : registry.entities()[registry.groups()[def.group].entity].keys) candidates.push_back(key);
    }
    for (const std::string& c : candidates) {
      if (std::find(keep.begin(), keep.end(), c) == keep.end() && spine.schema().IndexOf(c) >= 0) keep.push_back(c);
    }
  }
  double load_seconds = SecondsSince(start);
  GYRE_ASSIGN_OR_RETURN(Table table, BackfillTables(registry, features, spine, spine_ts, sources, keep, options.threads, stats));
  if (set != nullptr && set->label && options.join_label) {
    GYRE_ASSIGN_OR_RETURN(table, JoinLabel(table, spine, *set->label, stats));
  }
  if (stats != nullptr) {
    stats->load_seconds = load_seconds;
    stats->duplicates += duplicates;
  }
  return table;
}

}  // namespace gyre::features
