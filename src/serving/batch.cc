#include "serving/batch.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <limits>
#include <thread>

#include "core/model_input.h"
#include "features/backfill.h"
#include "serving/prediction_log.h"

namespace gyre::serving {
namespace {

using Clock = std::chrono::steady_clock;

double Since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Runs fn(begin, end) over [0, n) split into `threads` contiguous ranges.
template <typename Fn>
void ParallelRanges(int64_t n, int threads, Fn fn) {
  threads = static_cast<int>(std::clamp<int64_t>(threads, 1, std::max<int64_t>(1, n / 4096)));
  if (threads == 1) {
    fn(int64_t{0}, n);
    return;
  }
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    int64_t begin = n * t / threads, end = n * (t + 1) / threads;
    pool.emplace_back([=] { fn(begin, end); });
  }
  for (auto& th : pool) th.join();
}

int Threads(int requested) {
  return requested > 0 ? requested : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

// Appends one prediction line per row to options.log_path; returns how many.
Result<int64_t> LogBatch(const Servable& model, const Table& table, const std::vector<float>& rows,
                         const std::vector<float>& outputs, const Decision& decision, const std::vector<int>& actions,
                         const BatchOptions& options) {
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(options.log_path).parent_path(), ec);
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(options.log_path.c_str(), "ab"), &std::fclose);
  if (file == nullptr) {
    return Status::IOError(fmt::format("{}: cannot open the prediction log: {}", options.log_path, std::strerror(errno)));
  }
  // Unbuffered: each write() below is whole lines, so a server appending to the same log meanwhile (O_APPEND)
  // cannot split one of them.
  std::setvbuf(file.get(), nullptr, _IONBF, 0);
  const Column* event_id = nullptr;
  const Column* time = nullptr;
  if (!options.event_id_column.empty()) {
    GYRE_ASSIGN_OR_RETURN(event_id, table.ColumnByName(options.event_id_column));
  }
  if (!options.time_column.empty()) {
    GYRE_ASSIGN_OR_RETURN(time, table.ColumnByName(options.time_column));
  }
  const int64_t n = table.num_rows();
  const int d = model.num_features(), width = model.num_outputs();
  const int64_t scored_at = std::chrono::duration_cast<std::chrono::microseconds>(
                                std::chrono::system_clock::now().time_since_epoch()).count();
  PredictionLineFormatter formatter;
  std::string text;
  PredictionRecord record;
  record.scored_at_us = scored_at;
  record.request_id = fmt::format("batch-{}", scored_at);
  record.path = kScorePathNames[static_cast<size_t>(ScorePath::kBatch)];
  record.caller = options.caller;
  record.deployment = options.deployment;
  record.model = model.name();
  record.version = model.version();
  record.feature_names = model.feature_names();
  for (int64_t r = 0; r < n; ++r) {
    record.time_us = time != nullptr && time->IsValid(r) && time->type() == ColumnType::kTimestamp ? time->Timestamp(r)
                                                                                                  : scored_at;
    record.event_id = event_id != nullptr && event_id->IsValid(r) ? event_id->ValueToString(r) : std::string();
    record.score = decision.output >= 0 ? outputs[r * width + decision.output]
                   : width == 1         ? outputs[r]
                                        : std::numeric_limits<float>::quiet_NaN();
    record.action = decision.output >= 0 ? std::string(models::DecisionPolicy::kActions[actions[r]]) : std::string();
    if (width > 1) record.outputs.assign(&outputs[r * width], &outputs[(r + 1) * width]);
    record.features.assign(&rows[r * d], &rows[(r + 1) * d]);
    formatter.Append(record, text);
    text += '\n';
    if (text.size() >= (1 << 20) || r + 1 == n) {
      if (std::fwrite(text.data(), 1, text.size(), file.get()) != text.size()) {
        return Status::IOError(fmt::format("{}: cannot write the prediction log: {}", options.log_path,
                                           std::strerror(errno)));
      }
      text.clear();
    }
  }
  return n;
}

}  // namespace

Result<std::vector<float>> FeatureMatrix(const Table& table, const std::vector<std::string>& features, int threads,
                                         const std::string& what) {
  std::vector<const Column*> columns;
  for (const std::string& name : features) {
    int index = table.schema().IndexOf(name);
    if (index < 0) {
      return Status::InvalidArgument(fmt::format("{}: no column '{}', which the model reads (columns: {})", what, name,
                                                 table.schema().NameList()));
    }
    const Column& c = table.column(index);
    if (c.type() == ColumnType::kString || c.type() == ColumnType::kTimestamp) {
      return Status::InvalidArgument(fmt::format("{}: column '{}' holds {} values; the model reads numbers", what, name,
                                                 ColumnTypeName(c.type())));
    }
    columns.push_back(&c);
  }
  const int64_t n = table.num_rows();
  const size_t d = columns.size();
  std::vector<float> rows(static_cast<size_t>(n) * d);
  ParallelRanges(n, Threads(threads), [&](int64_t begin, int64_t end) {
    for (size_t f = 0; f < d; ++f) {
      const Column& c = *columns[f];
      for (int64_t r = begin; r < end; ++r) {
        rows[r * d + f] = ModelInput(c, r);
      }
    }
  });
  return rows;
}

Result<Table> ScoreTable(const Servable& model, const Table& table, const BatchOptions& options, BatchStats* stats) {
  auto started = Clock::now();
  const int threads = Threads(options.threads);
  GYRE_ASSIGN_OR_RETURN(std::vector<float> rows,
                        FeatureMatrix(table, model.descriptor().feature_names, threads, "the table to score"));
  double prepare = Since(started);
  const int64_t n = table.num_rows();
  const int d = model.num_features();
  const int width = model.num_outputs();
  std::vector<float> outputs(static_cast<size_t>(n) * width);
  auto scored = Clock::now();
  ParallelRanges(n, threads, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; r += 4096) {
      int64_t m = std::min<int64_t>(4096, end - r);
      model.Score(rows.data() + r * d, m, outputs.data() + r * width);
    }
  });
  double score_seconds = Since(scored);

  std::vector<ColumnSchema> schema;
  std::vector<Column> columns;
  for (const std::string& name : options.keep_columns) {
    GYRE_ASSIGN_OR_RETURN(const Column* c, table.ColumnByName(name));
    schema.push_back({name, c->type()});
    columns.push_back(*c);
  }
  auto output_column = [&](int k) {
    std::vector<double> values(n);
    for (int64_t r = 0; r < n; ++r) values[r] = outputs[r * width + k];
    return Column::Float64FromNanNulls(std::move(values));
  };
  const OutputKind kind = model.output_kind();
  if (kind == OutputKind::kProbability || kind == OutputKind::kValue) {
    schema.push_back({"score", ColumnType::kFloat64});
    columns.push_back(output_column(0));
  } else if (kind == OutputKind::kClassProbabilities) {
    for (int k = 0; k < width; ++k) {
      schema.push_back({fmt::format("score_{}", k), ColumnType::kFloat64});
      columns.push_back(output_column(k));
    }
  }
  if (kind == OutputKind::kClassProbabilities || kind == OutputKind::kClass) {
    Column classes(ColumnType::kInt64);
    classes.Reserve(n);
    for (int64_t r = 0; r < n; ++r) {
      const float* p = &outputs[r * width];
      classes.AppendInt64(width > 1 ? std::max_element(p, p + width) - p : static_cast<int64_t>(p[0]));
    }
    schema.push_back({"class", ColumnType::kInt64});
    columns.push_back(std::move(classes));
  }
  std::map<std::string, int64_t> counts;
  const Decision& decision = options.decision;
  std::vector<int> actions;
  if (decision.output >= 0) {
    schema.push_back({"action", ColumnType::kString});
    Column action(ColumnType::kString);
    action.Reserve(n);
    actions.resize(n);
    for (int64_t r = 0; r < n; ++r) {
      actions[r] = decision.policy.ActionIndex(outputs[r * width + decision.output]);
      std::string_view a = models::DecisionPolicy::kActions[actions[r]];
      action.AppendString(a);
      ++counts[std::string(a)];
    }
    columns.push_back(std::move(action));
  }
  int64_t logged = 0;
  if (!options.log_path.empty()) {
    GYRE_ASSIGN_OR_RETURN(logged, LogBatch(model, table, rows, outputs, decision, actions, options));
  }
  if (stats != nullptr) {
    stats->rows = n;
    stats->prepare_seconds = prepare;
    stats->score_seconds = score_seconds;
    stats->actions = std::move(counts);
    stats->logged = logged;
  }
  return Table::Make(Schema(std::move(schema)), std::move(columns));
}

Result<Table> RowsInTimeRange(const Table& table, const std::string& time_column, std::optional<TimestampMicros> start,
                              std::optional<TimestampMicros> end) {
  GYRE_ASSIGN_OR_RETURN(const Column* time, table.ColumnByName(time_column));
  if (time->type() != ColumnType::kTimestamp) {
    return Status::InvalidArgument(fmt::format("column '{}' holds {} values, not timestamps", time_column,
                                               ColumnTypeName(time->type())));
  }
  TableBuilder builder(table.schema());
  for (int64_t r = 0; r < table.num_rows(); ++r) {
    if (time->IsNull(r)) continue;
    if ((start && time->Timestamp(r) < *start) || (end && time->Timestamp(r) >= *end)) continue;
    for (int c = 0; c < table.num_columns(); ++c) builder.column(c).AppendFrom(table.column(c), r);
  }
  return builder.Finish();
}

Result<Table> SourceFeatures(const features::FeatureRegistry& registry, const std::string& source,
                             const std::vector<std::string>& features, std::vector<std::string> keep_columns,
                             std::optional<TimestampMicros> start, std::optional<TimestampMicros> end, int threads) {
  GYRE_ASSIGN_OR_RETURN(int index, registry.FindSource(source));
  const features::SourceDef& def = registry.sources()[index];
  features::BackfillOptions options;
  options.source = source;
  options.features = features;
  options.keep_columns = std::move(keep_columns);
  if (std::find(options.keep_columns.begin(), options.keep_columns.end(), def.timestamp_column) ==
      options.keep_columns.end()) {
    options.keep_columns.push_back(def.timestamp_column);
  }
  options.join_label = false;
  options.threads = threads;
  GYRE_ASSIGN_OR_RETURN(Table all, features::Backfill(registry, options));
  if (!start && !end) return all;
  return RowsInTimeRange(all, def.timestamp_column, start, end);
}

}  // namespace gyre::serving
