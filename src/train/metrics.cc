#include "train/metrics.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>

namespace gyre::train {
namespace {

double Ratio(double num, double den) { return den > 0 ? num / den : 0.0; }

Status CheckLengths(size_t labels, size_t scores) {
  if (labels == 0 && scores == 0) return Status::InvalidArgument("no rows: labels and scores are empty");
  if (labels != scores) {
    return Status::InvalidArgument(fmt::format("{} labels but {} scores: they must have one per row", labels, scores));
  }
  return Status::OK();
}

Status CheckProbabilities(std::span<const double> scores, std::string_view metric) {
  for (size_t i = 0; i < scores.size(); ++i) {
    if (!(scores[i] >= 0.0 && scores[i] <= 1.0)) {
      return Status::InvalidArgument(
          fmt::format("row {}: score {} is not a probability in [0, 1], which {} needs", i + 1, scores[i], metric));
    }
  }
  return Status::OK();
}

// The highest score + 1: the threshold that flags nothing (sklearn 1.2 roc_curve's first threshold).
double NothingThreshold(const ScoreRanking& r) { return r.thresholds().front() + 1; }

ConfusionMatrix MakeConfusion(double threshold, int64_t tp, int64_t fp, int64_t positives, int64_t negatives) {
  ConfusionMatrix m;
  m.threshold = threshold;
  m.tp = tp;
  m.fp = fp;
  m.fn = positives - tp;
  m.tn = negatives - fp;
  m.precision = Ratio(static_cast<double>(tp), static_cast<double>(tp + fp));
  m.recall = Ratio(static_cast<double>(tp), static_cast<double>(positives));
  m.fpr = Ratio(static_cast<double>(fp), static_cast<double>(negatives));
  m.f1 = Ratio(2.0 * tp, static_cast<double>(2 * tp + fp + m.fn));
  return m;
}

// Floor division: days before 1970 start at the right midnight too.
TimestampMicros DayStart(TimestampMicros t) {
  constexpr int64_t kDay = int64_t{86'400} * 1'000'000;
  int64_t d = t / kDay;
  if (t % kDay < 0) --d;
  return d * kDay;
}

}  // namespace

Status CheckBinaryInputs(std::span<const double> labels, std::span<const double> scores) {
  GYRE_RETURN_IF_ERROR(CheckLengths(labels.size(), scores.size()));
  for (size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] != 0.0 && labels[i] != 1.0) {
      return Status::InvalidArgument(fmt::format("row {}: label {} is not 0 or 1", i + 1, labels[i]));
    }
    if (std::isnan(scores[i])) return Status::InvalidArgument(fmt::format("row {}: score is NaN", i + 1));
    if (std::isinf(scores[i])) return Status::InvalidArgument(fmt::format("row {}: score is infinite", i + 1));
  }
  return Status::OK();
}

Result<ScoreRanking> ScoreRanking::Build(std::span<const double> labels, std::span<const double> scores) {
  GYRE_RETURN_IF_ERROR(CheckBinaryInputs(labels, scores));
  if (labels.size() > std::numeric_limits<uint32_t>::max()) {
    return Status::ResourceExhausted(fmt::format("{} rows: at most 4294967295 can be ranked", labels.size()));
  }
  const size_t n = labels.size();
  // Sorting (score, row) pairs keeps the comparisons in cache; the row breaks ties so the order is total.
  std::vector<std::pair<double, uint32_t>> keyed(n);
  for (size_t i = 0; i < n; ++i) keyed[i] = {scores[i], static_cast<uint32_t>(i)};
  std::sort(keyed.begin(), keyed.end(), [](const auto& a, const auto& b) {
    return a.first > b.first || (a.first == b.first && a.second < b.second);
  });
  ScoreRanking r;
  r.order_.resize(n);
  int64_t tp = 0, fp = 0;
  for (size_t i = 0; i < n; ++i) {
    const uint32_t row = keyed[i].second;
    r.order_[i] = row;
    if (labels[row] == 1.0) {
      ++tp;
    } else {
      ++fp;
    }
    if (i + 1 == n || keyed[i + 1].first != keyed[i].first) {
      r.thresholds_.push_back(keyed[i].first);
      r.tp_.push_back(tp);
      r.fp_.push_back(fp);
    }
  }
  r.positives_ = tp;
  return r;
}

Status ScoreRanking::RequireBothClasses(std::string_view metric) const {
  if (positives_ > 0 && negatives() > 0) return Status::OK();
  return Status::InvalidArgument(fmt::format("{} needs both classes: all {} labels are {}", metric, rows(),
                                             positives_ > 0 ? 1 : 0));
}

// ---- Ranking metrics -------------------------------------------------------------------------------------

Result<double> RocAuc(const ScoreRanking& r) {
  GYRE_RETURN_IF_ERROR(r.RequireBothClasses("ROC AUC"));
  // Trapezoids in integer counts: exact up to the final division, ties across classes count one half.
  const auto& tp = r.tp();
  const auto& fp = r.fp();
  double area = 0;
  int64_t prev_tp = 0, prev_fp = 0;
  for (size_t i = 0; i < tp.size(); ++i) {
    area += static_cast<double>(fp[i] - prev_fp) * static_cast<double>(tp[i] + prev_tp);
    prev_tp = tp[i];
    prev_fp = fp[i];
  }
  return area / 2.0 / (static_cast<double>(r.positives()) * static_cast<double>(r.negatives()));
}

Result<double> RocAuc(std::span<const double> labels, std::span<const double> scores) {
  GYRE_ASSIGN_OR_RETURN(ScoreRanking r, ScoreRanking::Build(labels, scores));
  return RocAuc(r);
}

Result<RocCurveResult> RocCurve(const ScoreRanking& r) {
  GYRE_RETURN_IF_ERROR(r.RequireBothClasses("the ROC curve"));
  const size_t m = r.thresholds().size();
  RocCurveResult c;
  c.fpr.reserve(m + 1);
  c.tpr.reserve(m + 1);
  c.thresholds.reserve(m + 1);
  c.fpr.push_back(0);
  c.tpr.push_back(0);
  c.thresholds.push_back(NothingThreshold(r));
  const double p = static_cast<double>(r.positives()), n = static_cast<double>(r.negatives());
  for (size_t i = 0; i < m; ++i) {
    c.fpr.push_back(static_cast<double>(r.fp()[i]) / n);
    c.tpr.push_back(static_cast<double>(r.tp()[i]) / p);
    c.thresholds.push_back(r.thresholds()[i]);
  }
  return c;
}

Result<RocCurveResult> RocCurve(std::span<const double> labels, std::span<const double> scores) {
  GYRE_ASSIGN_OR_RETURN(ScoreRanking r, ScoreRanking::Build(labels, scores));
  return RocCurve(r);
}

Result<PrCurveResult> PrecisionRecallCurve(const ScoreRanking& r) {
  GYRE_RETURN_IF_ERROR(r.RequireBothClasses("the precision-recall curve"));
  const size_t m = r.thresholds().size();
  PrCurveResult c;
  c.precision.resize(m + 1);
  c.recall.resize(m + 1);
  c.thresholds.resize(m);
  const double p = static_cast<double>(r.positives());
  for (size_t i = 0; i < m; ++i) {
    // sklearn reverses its descending arrays, so index i (descending) lands at m - 1 - i.
    const size_t j = m - 1 - i;
    c.precision[j] = static_cast<double>(r.tp()[i]) / static_cast<double>(r.tp()[i] + r.fp()[i]);
    c.recall[j] = static_cast<double>(r.tp()[i]) / p;
    c.thresholds[j] = r.thresholds()[i];
  }
  c.precision[m] = 1;
  c.recall[m] = 0;
  return c;
}

Result<PrCurveResult> PrecisionRecallCurve(std::span<const double> labels, std::span<const double> scores) {
  GYRE_ASSIGN_OR_RETURN(ScoreRanking r, ScoreRanking::Build(labels, scores));
  return PrecisionRecallCurve(r);
}

Result<double> AveragePrecision(const ScoreRanking& r) {
  GYRE_RETURN_IF_ERROR(r.RequireBothClasses("average precision"));
  const double p = static_cast<double>(r.positives());
  double ap = 0;
  int64_t prev_tp = 0;
  for (size_t i = 0; i < r.thresholds().size(); ++i) {
    const int64_t tp = r.tp()[i];
    if (tp != prev_tp) {
      ap += (static_cast<double>(tp - prev_tp) / p) * (static_cast<double>(tp) / static_cast<double>(tp + r.fp()[i]));
    }
    prev_tp = tp;
  }
  return ap;
}

Result<double> AveragePrecision(std::span<const double> labels, std::span<const double> scores) {
  GYRE_ASSIGN_OR_RETURN(ScoreRanking r, ScoreRanking::Build(labels, scores));
  return AveragePrecision(r);
}

Result<double> KsStatistic(const ScoreRanking& r) {
  GYRE_RETURN_IF_ERROR(r.RequireBothClasses("the KS statistic"));
  const double p = static_cast<double>(r.positives()), n = static_cast<double>(r.negatives());
  double ks = 0;
  for (size_t i = 0; i < r.thresholds().size(); ++i) {
    ks = std::max(ks, std::abs(static_cast<double>(r.tp()[i]) / p - static_cast<double>(r.fp()[i]) / n));
  }
  return ks;
}

Result<double> KsStatistic(std::span<const double> labels, std::span<const double> scores) {
  GYRE_ASSIGN_OR_RETURN(ScoreRanking r, ScoreRanking::Build(labels, scores));
  return KsStatistic(r);
}

Result<RecallAtFprResult> RecallAtFpr(const ScoreRanking& r, double target_fpr) {
  if (!(target_fpr >= 0.0 && target_fpr <= 1.0)) {
    return Status::InvalidArgument(fmt::format("target false-positive rate {} is not in [0, 1]", target_fpr));
  }
  GYRE_RETURN_IF_ERROR(r.RequireBothClasses("recall at a false-positive rate"));
  const double p = static_cast<double>(r.positives()), n = static_cast<double>(r.negatives());
  RecallAtFprResult out;
  out.target_fpr = target_fpr;
  out.threshold = NothingThreshold(r);
  int64_t best_tp = 0;
  // fp and tp grow as the threshold falls: the last point within budget has the highest recall; the first
  // point reaching that recall has the highest threshold and fewest false positives.
  for (size_t i = 0; i < r.thresholds().size(); ++i) {
    const double fpr = static_cast<double>(r.fp()[i]) / n;
    if (fpr > target_fpr) break;
    if (r.tp()[i] > best_tp) {
      best_tp = r.tp()[i];
      out.threshold = r.thresholds()[i];
      out.fpr = fpr;
    }
  }
  out.recall = static_cast<double>(best_tp) / p;
  return out;
}

Result<RecallAtFprResult> RecallAtFpr(std::span<const double> labels, std::span<const double> scores,
                                      double target_fpr) {
  GYRE_ASSIGN_OR_RETURN(ScoreRanking r, ScoreRanking::Build(labels, scores));
  return RecallAtFpr(r, target_fpr);
}

// ---- Alert budget ----------------------------------------------------------------------------------------

Result<PrecisionAtKResult> PrecisionAtKPerDay(const ScoreRanking& r, std::span<const double> labels,
                                              std::span<const TimestampMicros> times, int64_t k) {
  if (k < 1) return Status::InvalidArgument(fmt::format("k = {}: precision@k needs k >= 1", k));
  if (times.size() != static_cast<size_t>(r.rows()) || labels.size() != times.size()) {
    return Status::InvalidArgument(
        fmt::format("{} times but {} labels: they must have one per row", times.size(), labels.size()));
  }
  // Days present, ascending; each row's day as an index into them.
  std::vector<TimestampMicros> days(times.size());
  for (size_t i = 0; i < times.size(); ++i) days[i] = DayStart(times[i]);
  std::vector<TimestampMicros> distinct = days;
  std::sort(distinct.begin(), distinct.end());
  distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());

  PrecisionAtKResult out;
  out.k = k;
  out.days.resize(distinct.size());
  for (size_t d = 0; d < distinct.size(); ++d) out.days[d].day_start = distinct[d];
  auto day_index = [&](TimestampMicros day) {
    return static_cast<size_t>(std::lower_bound(distinct.begin(), distinct.end(), day) - distinct.begin());
  };
  // Walking the global ranking visits each day's rows by score descending, ties in row order.
  for (uint32_t row : r.order()) {
    DayPrecision& day = out.days[day_index(days[row])];
    ++day.rows;
    if (day.alerts < k) {
      ++day.alerts;
      if (labels[row] == 1.0) ++day.true_positives;
    }
  }
  double sum = 0;
  for (DayPrecision& day : out.days) {
    day.precision = Ratio(static_cast<double>(day.true_positives), static_cast<double>(day.alerts));
    sum += day.precision;
  }
  out.mean = out.days.empty() ? 0.0 : sum / static_cast<double>(out.days.size());
  return out;
}

Result<PrecisionAtKResult> PrecisionAtKPerDay(std::span<const double> labels, std::span<const double> scores,
                                              std::span<const TimestampMicros> times, int64_t k) {
  GYRE_ASSIGN_OR_RETURN(ScoreRanking r, ScoreRanking::Build(labels, scores));
  return PrecisionAtKPerDay(r, labels, times, k);
}

// ---- Probability metrics ---------------------------------------------------------------------------------

Result<double> LogLoss(std::span<const double> labels, std::span<const double> scores) {
  GYRE_RETURN_IF_ERROR(CheckBinaryInputs(labels, scores));
  GYRE_RETURN_IF_ERROR(CheckProbabilities(scores, "log loss"));
  constexpr double kEps = std::numeric_limits<double>::epsilon();
  double sum = 0;
  for (size_t i = 0; i < labels.size(); ++i) {
    // As sklearn: clip, form the two-column [1 - p, p] row and renormalise it (its sum may be 1 ± 1 ulp).
    const double p = std::clamp(scores[i], kEps, 1 - kEps);
    const double q = 1 - p;
    const double total = q + p;
    sum += -std::log((labels[i] == 1.0 ? p : q) / total);
  }
  return sum / static_cast<double>(labels.size());
}

Result<double> BrierScore(std::span<const double> labels, std::span<const double> scores) {
  GYRE_RETURN_IF_ERROR(CheckBinaryInputs(labels, scores));
  GYRE_RETURN_IF_ERROR(CheckProbabilities(scores, "the Brier score"));
  double sum = 0;
  for (size_t i = 0; i < labels.size(); ++i) sum += (labels[i] - scores[i]) * (labels[i] - scores[i]);
  return sum / static_cast<double>(labels.size());
}

Result<CalibrationResult> Calibration(std::span<const double> labels, std::span<const double> scores, int bins) {
  if (bins < 1) return Status::InvalidArgument(fmt::format("{} calibration bins: need at least 1", bins));
  GYRE_RETURN_IF_ERROR(CheckBinaryInputs(labels, scores));
  GYRE_RETURN_IF_ERROR(CheckProbabilities(scores, "calibration"));
  // Edges as numpy.linspace(0, 1, bins + 1) computes them: i * (1 / bins), the last exactly 1.
  const double step = 1.0 / bins;
  std::vector<double> edges(bins + 1);
  for (int i = 0; i <= bins; ++i) edges[i] = i * step;
  edges[bins] = 1.0;
  std::vector<double> sum_pred(bins, 0.0), sum_true(bins, 0.0);
  std::vector<int64_t> count(bins, 0);
  for (size_t i = 0; i < scores.size(); ++i) {
    // searchsorted(edges[1:-1], p, side='left'): the number of inner edges strictly below p. The guess
    // floor(p * bins) is off by at most one; the edges settle it.
    int b = std::clamp(static_cast<int>(scores[i] * bins), 0, bins - 1);
    while (b > 0 && !(edges[b] < scores[i])) --b;
    while (b < bins - 1 && edges[b + 1] < scores[i]) ++b;
    sum_pred[b] += scores[i];
    sum_true[b] += labels[i];
    ++count[b];
  }
  CalibrationResult out;
  out.bins = bins;
  const double n = static_cast<double>(scores.size());
  for (int b = 0; b < bins; ++b) {
    if (count[b] == 0) continue;
    CalibrationBin bin;
    bin.lower = edges[b];
    bin.upper = edges[b + 1];
    bin.count = count[b];
    bin.mean_predicted = sum_pred[b] / static_cast<double>(count[b]);
    bin.fraction_positive = sum_true[b] / static_cast<double>(count[b]);
    out.ece += static_cast<double>(count[b]) / n * std::abs(bin.fraction_positive - bin.mean_predicted);
    out.curve.push_back(bin);
  }
  return out;
}

// ---- Decisions -------------------------------------------------------------------------------------------

ConfusionMatrix ConfusionAt(const ScoreRanking& r, double threshold) {
  // thresholds() is descending: count the distinct scores >= threshold.
  const auto& t = r.thresholds();
  const size_t flagged_groups =
      static_cast<size_t>(std::upper_bound(t.begin(), t.end(), threshold, std::greater<double>()) - t.begin());
  const int64_t tp = flagged_groups == 0 ? 0 : r.tp()[flagged_groups - 1];
  const int64_t fp = flagged_groups == 0 ? 0 : r.fp()[flagged_groups - 1];
  return MakeConfusion(threshold, tp, fp, r.positives(), r.negatives());
}

Result<ConfusionMatrix> ConfusionAt(std::span<const double> labels, std::span<const double> scores,
                                    double threshold) {
  if (std::isnan(threshold)) return Status::InvalidArgument("threshold is NaN");
  GYRE_ASSIGN_OR_RETURN(ScoreRanking r, ScoreRanking::Build(labels, scores));
  return ConfusionAt(r, threshold);
}

Result<CostThresholdResult> CostThreshold(const ScoreRanking& r, double cost_false_negative,
                                          double cost_false_positive) {
  for (auto [name, v] : {std::pair<const char*, double>{"cost of a false negative", cost_false_negative},
                         {"cost of a false positive", cost_false_positive}}) {
    if (!std::isfinite(v) || v < 0) return Status::InvalidArgument(fmt::format("{} is {}: need a finite cost >= 0", name, v));
  }
  // Start from "flag nothing"; a lower threshold must be strictly cheaper to win.
  size_t best = 0;  // groups flagged
  double best_cost = cost_false_negative * static_cast<double>(r.positives());
  for (size_t i = 0; i < r.thresholds().size(); ++i) {
    const double cost = cost_false_negative * static_cast<double>(r.positives() - r.tp()[i]) +
                        cost_false_positive * static_cast<double>(r.fp()[i]);
    if (cost < best_cost) {
      best_cost = cost;
      best = i + 1;
    }
  }
  CostThresholdResult out;
  out.flags_nothing = best == 0;
  out.threshold = best == 0 ? NothingThreshold(r) : r.thresholds()[best - 1];
  out.total_cost = best_cost;
  out.cost_per_event = best_cost / static_cast<double>(r.rows());
  out.confusion = MakeConfusion(out.threshold, best == 0 ? 0 : r.tp()[best - 1], best == 0 ? 0 : r.fp()[best - 1],
                                r.positives(), r.negatives());
  return out;
}

Result<CostThresholdResult> CostThreshold(std::span<const double> labels, std::span<const double> scores,
                                          double cost_false_negative, double cost_false_positive) {
  GYRE_ASSIGN_OR_RETURN(ScoreRanking r, ScoreRanking::Build(labels, scores));
  return CostThreshold(r, cost_false_negative, cost_false_positive);
}

// ---- Helpers ---------------------------------------------------------------------------------------------

std::vector<std::pair<double, double>> ThinCurve(std::span<const double> x, std::span<const double> y,
                                                 size_t max_points) {
  const size_t n = std::min(x.size(), y.size());
  std::vector<std::pair<double, double>> out;
  if (n == 0) return out;
  max_points = std::max<size_t>(max_points, 2);
  if (n <= max_points) {
    for (size_t i = 0; i < n; ++i) out.emplace_back(x[i], y[i]);
    return out;
  }
  std::vector<double> length(n, 0.0);
  for (size_t i = 1; i < n; ++i) length[i] = length[i - 1] + std::hypot(x[i] - x[i - 1], y[i] - y[i - 1]);
  const double total = length[n - 1];
  out.emplace_back(x[0], y[0]);
  size_t i = 1;
  for (size_t j = 1; j + 1 < max_points && i + 1 < n; ++j) {
    const double target = total * static_cast<double>(j) / static_cast<double>(max_points - 1);
    while (i + 1 < n && length[i] < target) ++i;
    if (i + 1 < n) {
      out.emplace_back(x[i], y[i]);
      ++i;
    }
  }
  out.emplace_back(x[n - 1], y[n - 1]);
  return out;
}

std::string RecallAtFprKey(double fpr) { return fmt::format("recall_at_fpr_{}", fpr); }
std::string PrecisionAtKKey(int64_t k) { return fmt::format("precision_at_{}_per_day", k); }

}  // namespace gyre::train
