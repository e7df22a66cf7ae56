#include "serving/batch.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <limits>
#include <thread>

#include "core/model_input.h"

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
  std::vector<double> scores(n);
  auto scored = Clock::now();
  ParallelRanges(n, threads, [&](int64_t begin, int64_t end) {
    std::vector<float> out(4096);
    for (int64_t r = begin; r < end; r += 4096) {
      int64_t m = std::min<int64_t>(4096, end - r);
      model.Score(rows.data() + r * d, m, out.data());
      for (int64_t i = 0; i < m; ++i) scores[r + i] = out[i];
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
  schema.push_back({"score", ColumnType::kFloat64});
  schema.push_back({"action", ColumnType::kString});
  Column action(ColumnType::kString);
  action.Reserve(n);
  std::map<std::string, int64_t> counts;
  for (int64_t r = 0; r < n; ++r) {
    std::string a = options.decision.Action(static_cast<float>(scores[r]));
    action.AppendString(a);
    ++counts[a];
  }
  columns.push_back(Column::Float64FromNanNulls(std::move(scores)));
  columns.push_back(std::move(action));
  if (stats != nullptr) {
    stats->rows = n;
    stats->prepare_seconds = prepare;
    stats->score_seconds = score_seconds;
    stats->actions = std::move(counts);
  }
  return Table::Make(Schema(std::move(schema)), std::move(columns));
}

}  // namespace gyre::serving
