#include "features/online_store.h"

#include <fmt/format.h>

#include <set>

#include "core/time.h"
#include "features/row_values.h"

namespace gyre::features {
namespace {

constexpr char kKeySeparator = '\x1f';  // ends the group name (group names are identifiers)

int64_t ExpiryFor(const GroupDef& group) {
  if (group.ttl == kLifetime) return 0;
  return NowMillis() * 1000 + group.ttl;
}

}  // namespace

OnlineStore::OnlineStore(const FeatureRegistry* registry, std::unique_ptr<store::KvStore> kv)
    : registry_(registry), kv_(std::move(kv)), stripes_(new std::mutex[kStripes]) {}

OnlineStore::~OnlineStore() = default;

Result<std::unique_ptr<OnlineStore>> OnlineStore::Open(const FeatureRegistry* registry,
                                                       std::unique_ptr<store::KvStore> kv) {
  std::unique_ptr<OnlineStore> store(new OnlineStore(registry, std::move(kv)));
  store->groups_of_source_.resize(registry->sources().size());
  for (size_t g = 0; g < registry->groups().size(); ++g) {
    GYRE_ASSIGN_OR_RETURN(std::shared_ptr<const GroupProgram> program,
                          GroupProgram::Make(*registry, static_cast<int>(g)));
    store->programs_.push_back(std::move(program));
    store->groups_of_source_[registry->groups()[g].source].push_back(static_cast<int>(g));
  }
  return store;
}

std::string OnlineStore::KeyOf(int group, const Table& rows, const std::vector<int>& key_columns, int64_t row) const {
  // group name, separator, then each part as <length>:<bytes>, so no part's content can fake a boundary.
  std::string key = registry_->groups()[group].name;
  key += kKeySeparator;
  for (int c : key_columns) {
    if (rows.column(c).IsNull(row)) return {};
    std::string part = rows.column(c).ValueToString(row);
    key += std::to_string(part.size());
    key += ':';
    key += part;
  }
  return key;
}

std::mutex& OnlineStore::StripeFor(const std::string& key) {
  return stripes_[std::hash<std::string>{}(key) % kStripes];
}

Result<PushResult> OnlineStore::Push(int source, const Table& rows) {
  const SourceDef& def = registry_->sources()[source];
  if (!(rows.schema() == def.schema)) {
    return Status::InvalidArgument(fmt::format("rows pushed to source '{}' must have its columns ({}), got ({})",
                                               def.name, def.schema.ToString(), rows.schema().ToString()));
  }
  const Column& ts = rows.column(def.timestamp_index);
  for (int64_t r = 0; r < rows.num_rows(); ++r) {
    if (ts.IsNull(r)) {
      return Status::InvalidArgument(fmt::format("row {}: '{}' (the event time) is missing", r, def.timestamp_column));
    }
  }
  PushResult result;
  result.rows = rows.num_rows();
  std::vector<ExprValue> slots(rows.num_columns());
  GroupEvent event;
  for (int g : groups_of_source_[source]) {
    const GroupProgram& program = *programs_[g];
    const GroupDef& group = program.def();
    std::vector<int> key_columns;
    for (const std::string& k : registry_->entities()[group.entity].keys) key_columns.push_back(def.schema.IndexOf(k));
    RowValues values(rows, program.used_columns());
    for (int64_t r = 0; r < rows.num_rows(); ++r) {
      std::string key = KeyOf(g, rows, key_columns, r);
      if (key.empty()) continue;  // a null entity key updates no state
      values.Fill(r, slots);
      EncodeEvent(program, slots, ts.Timestamp(r), &event);
      std::lock_guard<std::mutex> lock(StripeFor(key));
      GYRE_ASSIGN_OR_RETURN(std::optional<std::string> bytes, kv_->Get(key));
      KeyState state(&program);
      if (bytes) {
        GYRE_ASSIGN_OR_RETURN(state, KeyState::Deserialize(&program, *bytes));
      }
      KeyState::AppendResult appended = state.Append(event);
      if (appended == KeyState::AppendResult::kTooLate) {
        ++result.too_late;
        continue;
      }
      result.late += appended == KeyState::AppendResult::kLate;
      std::string out;
      state.Serialize(&out);
      GYRE_RETURN_IF_ERROR(kv_->Put(key, out, ExpiryFor(group)));
    }
  }
  pushed_ += result.rows;
  too_late_ += result.too_late;
  return result;
}

Result<OnlineValues> OnlineStore::Get(const std::vector<int>& features, const Table& rows,
                                      std::span<const int64_t> times) {
  if (static_cast<int64_t>(times.size()) != rows.num_rows()) {
    return Status::InvalidArgument(fmt::format("{} rows but {} timestamps", rows.num_rows(), times.size()));
  }
  const Schema& schema = rows.schema();
  const int64_t n = rows.num_rows();
  OnlineValues out;
  out.features = features;
  out.values.assign(features.size(), std::vector<FeatureValue>(static_cast<size_t>(n)));
  out.statuses.assign(features.size(), std::vector<ReadStatus>(static_cast<size_t>(n), ReadStatus::kPresent));

  // Aggregated features to read: those asked for and the inputs of derived ones; grouped by group.
  std::set<int> needed;
  for (int f : features) {
    const FeatureDef& def = registry_->features()[f];
    if (def.derived >= 0) {
      for (int input : registry_->derived()[def.derived].inputs) needed.insert(input);
    } else {
      needed.insert(f);
    }
  }
  std::set<int> groups;
  for (int f : needed) groups.insert(registry_->features()[f].group);
  std::vector<std::vector<FeatureValue>> held(registry_->features().size());
  std::vector<std::vector<ReadStatus>> held_status(registry_->features().size());

  std::vector<ExprValue> slots(schema.size() + registry_->features().size());
  // First every group's keys, so that all states come in one MultiGet (one round trip on Redis).
  struct GroupRead {
    int group;
    IsNewQueries is_new;
    std::vector<std::string> keys;  // per row; empty for a null key
    size_t first_blob = 0;
  };
  std::vector<GroupRead> reads;
  std::vector<std::string> present;
  for (int g : groups) {
    const GroupProgram& program = *programs_[g];
    const GroupDef& group = program.def();
    const EntityDef& entity = registry_->entities()[group.entity];
    GroupRead read;
    read.group = g;
    std::vector<int> key_columns;
    for (const std::string& k : entity.keys) {
      int c = schema.IndexOf(k);
      if (c < 0) {
        return Status::InvalidArgument(fmt::format("entity '{}' needs '{}' (for group '{}'); the request has: {}",
                                                   entity.name, k, group.name, schema.NameList()));
      }
      key_columns.push_back(c);
    }
    GYRE_ASSIGN_OR_RETURN(read.is_new, IsNewQueries::Compile(*registry_, program, schema, "the request",
                                                             [&](int feature) { return needed.count(feature) != 0; }));
    read.first_blob = present.size();
    read.keys.resize(static_cast<size_t>(n));
    for (int64_t r = 0; r < n; ++r) {
      read.keys[r] = KeyOf(g, rows, key_columns, r);
      if (!read.keys[r].empty()) present.push_back(read.keys[r]);
    }
    reads.push_back(std::move(read));
  }
  GYRE_ASSIGN_OR_RETURN(std::vector<std::optional<std::string>> blobs, kv_->MultiGet(present));

  for (const GroupRead& read : reads) {
    const GroupProgram& program = *programs_[read.group];
    const auto& accumulators = program.accumulators();
    RowValues row_values(rows, read.is_new.columns());
    std::vector<FeatureValue> values(accumulators.size());
    std::vector<std::optional<uint64_t>> is_new_bits(accumulators.size());
    for (size_t i = 0; i < accumulators.size(); ++i) {
      held[accumulators[i].feature].resize(static_cast<size_t>(n));
      held_status[accumulators[i].feature].resize(static_cast<size_t>(n));
    }
    size_t next_blob = read.first_blob;
    for (int64_t r = 0; r < n; ++r) {
      KeyState state(&program);
      if (!read.keys[r].empty()) {
        const std::optional<std::string>& blob = blobs[next_blob++];
        if (blob) {
          GYRE_ASSIGN_OR_RETURN(state, KeyState::Deserialize(&program, *blob));
        }
      }
      row_values.Fill(r, slots);
      read.is_new.Evaluate(slots, is_new_bits);
      ReadStatus status = state.Read(times[r], is_new_bits, values);
      for (size_t i = 0; i < accumulators.size(); ++i) {
        held[accumulators[i].feature][r] = std::move(values[i]);
        held_status[accumulators[i].feature][r] = status;
      }
    }
  }

  for (size_t i = 0; i < features.size(); ++i) {
    int f = features[i];
    const FeatureDef& def = registry_->features()[f];
    if (def.derived < 0) {
      out.values[i] = held[f];
      out.statuses[i] = held_status[f];
      continue;
    }
    Result<Expr> expr = registry_->CompileDerived(def.derived, schema, "the request");
    if (!expr.ok()) return Status::InvalidArgument(expr.status().message());
    std::vector<int> all_columns(schema.size());
    for (int c = 0; c < schema.size(); ++c) all_columns[c] = c;
    RowValues row_values(rows, all_columns);
    for (int64_t r = 0; r < n; ++r) {
      row_values.Fill(r, slots);
      ReadStatus status = ReadStatus::kPresent;
      for (int input : registry_->derived()[def.derived].inputs) {
        slots[schema.size() + input] = FeatureExprValue(held[input][r], registry_->features()[input].type);
        if (held_status[input][r] != ReadStatus::kPresent && status == ReadStatus::kPresent) status = held_status[input][r];
      }
      FeatureValue value = FromExprValue(expr->Evaluate(slots));
      out.values[i][r] = std::move(value);
      // A derived feature is as fresh as its inputs; NOT_FOUND inputs still give a value (e.g. no history).
      out.statuses[i][r] = status == ReadStatus::kOutsideMaxAge ? status : ReadStatus::kPresent;
    }
  }
  return out;
}

}  // namespace gyre::features
