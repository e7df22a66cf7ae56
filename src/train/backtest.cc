#include "train/backtest.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace gyre::train {
namespace {

void AppendRow(const TrainingData& data, int64_t i, float label, DenseMatrix* m) {
  const float* row = data.row(i);
  m->x.insert(m->x.end(), row, row + data.features());
  m->label.push_back(label);
  ++m->rows;
}

Status CheckClasses(const DenseMatrix& m, const std::string& what, const std::string& part) {
  int64_t positives = 0;
  for (float l : m.label) positives += l > 0;
  if (m.rows == 0) return Status::InvalidArgument(fmt::format("{}: no {} rows", what, part));
  if (positives == 0 || positives == m.rows) {
    return Status::InvalidArgument(fmt::format("{}: all {} {} rows have label {}: a model needs both classes", what,
                                               m.rows, part, positives == 0 ? 0 : 1));
  }
  return Status::OK();
}

}  // namespace

std::vector<float> ClassWeights(const std::vector<float>& labels, const ModelConfig& model) {
  if (model.class_weight == ClassWeight::kNone) return {};
  double positive_weight = model.positive_weight;
  if (model.class_weight == ClassWeight::kBalanced) {
    double pos = 0;
    for (float l : labels) pos += l > 0;
    double neg = static_cast<double>(labels.size()) - pos;
    positive_weight = pos > 0 ? neg / pos : 1.0;
  }
  std::vector<float> w(labels.size());
  for (size_t i = 0; i < labels.size(); ++i) w[i] = labels[i] > 0 ? static_cast<float>(positive_weight) : 1.0f;
  return w;
}

Result<std::vector<Fold>> MakeFolds(const BacktestConfig& config, TimestampMicros start, TimestampMicros end) {
  std::vector<Fold> folds;
  for (int k = 0; k < config.folds; ++k) {
    Fold f;
    f.index = k;
    f.test_start = end - static_cast<TimestampMicros>(config.folds - k) * config.test_window;
    f.test_end = f.test_start + config.test_window;
    f.train_end = f.test_start - config.gap;
    f.train_start = config.scheme == FoldScheme::kSliding ? std::max(start, f.train_end - config.train_window) : start;
    if (f.train_end <= f.train_start) {
      return Status::InvalidArgument(fmt::format(
          "backtest: fold {} of {} would train on [{}, {}), which is empty: the data spans [{}, {}) and {} test "
          "windows of {} plus a gap of {} do not leave room — use fewer folds, a shorter test_window or gap",
          k + 1, config.folds, FormatTimestamp(f.train_start), FormatTimestamp(f.train_end), FormatTimestamp(start),
          FormatTimestamp(end), config.folds, FormatDuration(config.test_window), FormatDuration(config.gap)));
    }
    folds.push_back(f);
  }
  return folds;
}

Result<FoldData> BuildFoldData(const TrainingData& data, const ExperimentConfig& config, TimestampMicros train_start,
                               TimestampMicros train_end, TimestampMicros cutoff, TimestampMicros test_start,
                               TimestampMicros test_end, const std::string& what) {
  FoldData fold;
  fold.fit.cols = fold.validation.cols = fold.test.cols = data.features();
  // Training rows that survive the label policy, in time order.
  std::vector<std::pair<int64_t, float>> train;
  const TimestampMicros mature_before = cutoff - config.labels.maturity;
  for (int64_t i = data.LowerBound(train_start), e = data.LowerBound(train_end); i < e; ++i) {
    if (config.labels.maturity > 0 && data.time[i] >= mature_before) {
      ++fold.dropped_unlabeled;
      continue;
    }
    std::optional<float> label = data.LabelAsOf(i, cutoff, config.labels.unlabeled);
    if (!label) {
      ++fold.dropped_unlabeled;
      continue;
    }
    train.emplace_back(i, *label);
  }
  const bool validate = config.model.type == ModelType::kXGBoost && config.model.early_stopping_rounds > 0;
  auto n_valid = validate ? static_cast<int64_t>(std::floor(static_cast<double>(train.size()) *
                                                            config.model.validation_fraction))
                          : int64_t{0};
  auto n_fit = static_cast<int64_t>(train.size()) - n_valid;
  fold.fit.x.reserve(static_cast<size_t>(n_fit) * data.features());
  fold.validation.x.reserve(static_cast<size_t>(n_valid) * data.features());
  for (int64_t j = 0; j < static_cast<int64_t>(train.size()); ++j) {
    AppendRow(data, train[j].first, train[j].second, j < n_fit ? &fold.fit : &fold.validation);
  }
  GYRE_RETURN_IF_ERROR(CheckClasses(fold.fit, what, "training"));
  if (validate) GYRE_RETURN_IF_ERROR(CheckClasses(fold.validation, what, "validation (early stopping)"));
  fold.fit.weight = ClassWeights(fold.fit.label, config.model);
  fold.validation.weight = ClassWeights(fold.validation.label, config.model);

  if (test_start < test_end) {
    for (int64_t i = data.LowerBound(test_start), e = data.LowerBound(test_end); i < e; ++i) {
      if (data.labeled_at[i] == kNeverLabeled && !data.has_default) continue;
      AppendRow(data, i, data.final_label[i], &fold.test);
      fold.test_time.push_back(data.time[i]);
      fold.test_rows.push_back(i);
    }
    GYRE_RETURN_IF_ERROR(CheckClasses(fold.test, what, "test"));
  }
  return fold;
}

}  // namespace gyre::train
