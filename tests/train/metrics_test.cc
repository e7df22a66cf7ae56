// Metrics against scikit-learn 1.2.1 (Debian bookworm's python3-sklearn), 1e-9. Expected values were
// computed once with /usr/bin/python3 and the snippets in the comments; hand-checkable cases say why.
#include "train/metrics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace gyre::train {
namespace {

constexpr double kTol = 1e-9;

// y = np.array([0,1,0,1,1,0,0,1,0,0,1,1,0,0,0,1,0,1,0,0], dtype=float)
// s = np.array([0.1,0.4,0.35,0.8,0.4,0.4,0.1,0.9,0.2,0.35,0.65,0.4,0.8,0.05,0.5,0.5,0.5,1.0,0.0,0.3])
// Ties inside one class (0.1, 0.35) and across classes (0.4: 3 pos 1 neg; 0.5: 1 pos 2 neg; 0.8), scores on
// calibration bin edges, 0 and 1.
const std::vector<double> kY = {0, 1, 0, 1, 1, 0, 0, 1, 0, 0, 1, 1, 0, 0, 0, 1, 0, 1, 0, 0};
const std::vector<double> kS = {0.1, 0.4, 0.35, 0.8, 0.4, 0.4, 0.1, 0.9, 0.2, 0.35,
                                0.65, 0.4, 0.8, 0.05, 0.5, 0.5, 0.5, 1.0, 0.0, 0.3};

// i = np.arange(1000); sc = ((i*37)%50)/50.0; lab = ((((i*37)%50)+((i*13)%29))>40).astype(float)
// 50 distinct scores, each shared by 20 rows of both classes.
void ManyTies(std::vector<double>& labels, std::vector<double>& scores) {
  for (int i = 0; i < 1000; ++i) {
    scores.push_back(((i * 37) % 50) / 50.0);
    labels.push_back(((i * 37) % 50) + ((i * 13) % 29) > 40 ? 1.0 : 0.0);
  }
}

void ExpectVector(const std::vector<double>& got, const std::vector<double>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got[i], want[i], kTol) << "index " << i;
}

TEST(MetricsTest, SmallWithTiesMatchesSklearn) {
  // roc_auc_score(y,s), average_precision_score(y,s), log_loss(y,s), brier_score_loss(y,s)
  EXPECT_NEAR(RocAuc(kY, kS).value(), 0.8541666666666666, kTol);
  EXPECT_NEAR(AveragePrecision(kY, kS).value(), 0.771875, kTol);
  EXPECT_NEAR(LogLoss(kY, kS).value(), 0.4705631454853968, kTol);
  EXPECT_NEAR(BrierScore(kY, kS).value(), 0.15999999999999998, kTol);
  // f,t,_ = roc_curve(y,s,drop_intermediate=False); np.max(np.abs(t-f))
  EXPECT_NEAR(KsStatistic(kY, kS).value(), 0.6666666666666667, kTol);
}

TEST(MetricsTest, RocCurveMatchesSklearn) {
  // roc_curve(y, s, drop_intermediate=False)
  RocCurveResult c = RocCurve(kY, kS).value();
  ExpectVector(c.fpr, {0.0, 0.0, 0.0, 0.08333333333333333, 0.08333333333333333, 0.25, 0.3333333333333333, 0.5,
                       0.5833333333333334, 0.6666666666666666, 0.8333333333333334, 0.9166666666666666, 1.0});
  ExpectVector(c.tpr, {0.0, 0.125, 0.25, 0.375, 0.5, 0.625, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0});
  ExpectVector(c.thresholds, {2.0, 1.0, 0.9, 0.8, 0.65, 0.5, 0.4, 0.35, 0.3, 0.2, 0.1, 0.05, 0.0});
}

TEST(MetricsTest, PrecisionRecallCurveMatchesSklearn) {
  // precision_recall_curve(y, s)
  PrCurveResult c = PrecisionRecallCurve(kY, kS).value();
  ExpectVector(c.precision, {0.4, 0.42105263157894735, 0.4444444444444444, 0.5, 0.5333333333333333,
                             0.5714285714285714, 0.6666666666666666, 0.625, 0.8, 0.75, 1.0, 1.0, 1.0});
  ExpectVector(c.recall, {1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.625, 0.5, 0.375, 0.25, 0.125, 0.0});
  ExpectVector(c.thresholds, {0.0, 0.05, 0.1, 0.2, 0.3, 0.35, 0.4, 0.5, 0.65, 0.8, 0.9, 1.0});
}

TEST(MetricsTest, ManyEqualScoresMatchSklearn) {
  std::vector<double> y, s;
  ManyTies(y, s);
  // roc_auc_score(lab,sc), average_precision_score(lab,sc), log_loss(lab,sc), brier_score_loss(lab,sc)
  EXPECT_NEAR(RocAuc(y, s).value(), 0.9438808373590982, kTol);
  EXPECT_NEAR(AveragePrecision(y, s).value(), 0.9342305504206274, kTol);
  EXPECT_NEAR(LogLoss(y, s).value(), 0.36662885746250357, kTol);  // score 0 rows: eps clipping
  EXPECT_NEAR(BrierScore(y, s).value(), 0.11208000000000001, kTol);
  EXPECT_NEAR(KsStatistic(y, s).value(), 0.713365539452496, kTol);
  EXPECT_EQ(RocCurve(y, s).value().fpr.size(), 51u);
  ScoreRanking r = ScoreRanking::Build(y, s).value();
  EXPECT_EQ(r.positives(), 460);
  EXPECT_EQ(r.thresholds().size(), 50u);
}

TEST(MetricsTest, TinyInputs) {
  // roc_auc_score([1,0],[0.5,0.5]), average_precision_score(...), log_loss(...)
  std::vector<double> y = {1, 0}, s = {0.5, 0.5};
  EXPECT_NEAR(RocAuc(y, s).value(), 0.5, kTol);
  EXPECT_NEAR(AveragePrecision(y, s).value(), 0.5, kTol);
  EXPECT_NEAR(LogLoss(y, s).value(), 0.6931471805599453, kTol);
  EXPECT_NEAR(RocAuc(std::vector<double>{0, 1}, std::vector<double>{0.2, 0.8}).value(), 1.0, kTol);
  EXPECT_NEAR(RocAuc(std::vector<double>{1, 0}, std::vector<double>{0.2, 0.8}).value(), 0.0, kTol);
  // log_loss([1,0,1],[1.0,0.0,0.0],labels=[0,1]): a confident miss costs -log(eps) = 36.04
  EXPECT_NEAR(LogLoss(std::vector<double>{1, 0, 1}, std::vector<double>{1.0, 0.0, 0.0}).value(), 12.014551129705717,
              kTol);
  // One row, one class: log loss and Brier are defined.
  EXPECT_NEAR(BrierScore(std::vector<double>{1}, std::vector<double>{0.25}).value(), 0.5625, kTol);
}

TEST(MetricsTest, CalibrationMatchesSklearnIncludingEdgesAndEmptyBins) {
  // calibration_curve(y, s, n_bins=10, strategy='uniform'); counts from np.bincount(np.searchsorted(...))
  CalibrationResult c = Calibration(kY, kS, 10).value();
  std::vector<double> frac, pred, lower;
  std::vector<int64_t> count;
  for (const CalibrationBin& b : c.curve) {
    frac.push_back(b.fraction_positive);
    pred.push_back(b.mean_predicted);
    count.push_back(b.count);
    lower.push_back(b.lower);
  }
  ExpectVector(frac, {0.0, 0.0, 0.0, 0.5, 0.3333333333333333, 1.0, 0.5, 1.0, 1.0});
  ExpectVector(pred, {0.0625, 0.2, 0.3, 0.3833333333333333, 0.5, 0.65, 0.8, 0.9, 1.0});
  EXPECT_EQ(count, (std::vector<int64_t>{4, 1, 1, 6, 3, 1, 2, 1, 1}));
  // 0.2 sits on an edge and falls in the lower bin [0.1, 0.2]; bin [0.5, 0.6] is empty.
  ExpectVector(lower, {0.0, 0.1, 0.2, 0.3, 0.4, 0.6, 0.7, 0.8, 0.9});
  // np.sum(cnt/len(s) * np.abs(pt - pp))
  EXPECT_NEAR(c.ece, 0.15000000000000002, kTol);

  // y2=[0,0,1,1,0,1]; s2=[0.05,0.12,0.15,0.91,0.88,0.99]; calibration_curve(y2,s2,n_bins=5): 3 empty bins
  CalibrationResult c2 = Calibration(std::vector<double>{0, 0, 1, 1, 0, 1},
                                     std::vector<double>{0.05, 0.12, 0.15, 0.91, 0.88, 0.99}, 5)
                             .value();
  ASSERT_EQ(c2.curve.size(), 2u);
  EXPECT_NEAR(c2.curve[0].fraction_positive, 0.3333333333333333, kTol);
  EXPECT_NEAR(c2.curve[0].mean_predicted, 0.10666666666666665, kTol);
  EXPECT_NEAR(c2.curve[1].fraction_positive, 0.6666666666666666, kTol);
  EXPECT_NEAR(c2.curve[1].mean_predicted, 0.9266666666666667, kTol);
  EXPECT_NEAR(c2.ece, 0.5 * (0.3333333333333333 - 0.10666666666666665) + 0.5 * (0.9266666666666667 - 0.6666666666666666),
              kTol);

  // Seven bins over the tied scores: calibration_curve(lab, sc, n_bins=7)
  std::vector<double> y, s;
  ManyTies(y, s);
  CalibrationResult c7 = Calibration(y, s, 7).value();
  ASSERT_EQ(c7.curve.size(), 7u);
  const std::vector<double> want_frac = {0.0, 0.014285714285714285, 0.2, 0.45714285714285713, 0.6857142857142857,
                                         0.9285714285714286, 1.0};
  const std::vector<double> want_pred = {0.06999999999999991, 0.21999999999999992, 0.3600000000000002, 0.5, 0.64,
                                         0.7799999999999997, 0.9199999999999999};
  for (size_t b = 0; b < 7; ++b) {
    EXPECT_NEAR(c7.curve[b].fraction_positive, want_frac[b], kTol);
    EXPECT_NEAR(c7.curve[b].mean_predicted, want_pred[b], kTol);
    EXPECT_EQ(c7.curve[b].count, b == 0 ? 160 : 140);
  }
  EXPECT_NEAR(c7.ece, 0.10680000000000009, kTol);
}

TEST(MetricsTest, RecallAtFixedFpr) {
  // From the ROC curve above (12 negatives, 8 positives).
  RecallAtFprResult r = RecallAtFpr(kY, kS, 0.1).value();
  EXPECT_NEAR(r.recall, 0.5, kTol);  // fpr 1/12 at 0.8 and at 0.65; 0.65 reaches recall 0.5
  EXPECT_EQ(r.threshold, 0.65);
  EXPECT_NEAR(r.fpr, 1.0 / 12, kTol);
  r = RecallAtFpr(kY, kS, 0.0).value();
  EXPECT_NEAR(r.recall, 0.25, kTol);
  EXPECT_EQ(r.threshold, 0.9);
  r = RecallAtFpr(kY, kS, 0.3).value();  // 0.4 would make fpr 1/3
  EXPECT_NEAR(r.recall, 0.625, kTol);
  EXPECT_EQ(r.threshold, 0.5);
  r = RecallAtFpr(kY, kS, 4.0 / 12).value();  // the budget is inclusive
  EXPECT_NEAR(r.recall, 1.0, kTol);
  EXPECT_EQ(r.threshold, 0.4);
  // Nothing fits: the top score is a negative.
  r = RecallAtFpr(std::vector<double>{0, 1}, std::vector<double>{0.9, 0.1}, 0.0).value();
  EXPECT_EQ(r.recall, 0.0);
  EXPECT_EQ(r.threshold, 1.9);
  EXPECT_FALSE(RecallAtFpr(kY, kS, 1.5).ok());
}

TEST(MetricsTest, ConfusionAtThreshold) {
  // score >= 0.5: 1.0 0.9 0.8 0.8 0.65 0.5 0.5 0.5 → tp 5, fp 3.
  for (double t : {0.5, 0.45}) {
    ConfusionMatrix m = ConfusionAt(kY, kS, t).value();
    EXPECT_EQ(m.tp, 5);
    EXPECT_EQ(m.fp, 3);
    EXPECT_EQ(m.tn, 9);
    EXPECT_EQ(m.fn, 3);
    EXPECT_NEAR(m.precision, 0.625, kTol);
    EXPECT_NEAR(m.recall, 0.625, kTol);
    EXPECT_NEAR(m.fpr, 0.25, kTol);
    EXPECT_NEAR(m.f1, 0.625, kTol);
  }
  ConfusionMatrix none = ConfusionAt(kY, kS, 1.01).value();
  EXPECT_EQ(none.tp + none.fp, 0);
  EXPECT_EQ(none.precision, 0.0);  // zero_division = 0
  EXPECT_EQ(none.f1, 0.0);
  ConfusionMatrix all = ConfusionAt(kY, kS, 0.0).value();
  EXPECT_EQ(all.tp, 8);
  EXPECT_EQ(all.fp, 12);
}

TEST(MetricsTest, CostThresholdHandChecked) {
  // cost = 10·fn + 1·fp: nothing 80; ≥1.0 70; ≥0.9 60; ≥0.8 51; ≥0.65 41; ≥0.5 33; ≥0.4 4; ≥0.35 6; lower more.
  CostThresholdResult c = CostThreshold(kY, kS, 10, 1).value();
  EXPECT_EQ(c.threshold, 0.4);
  EXPECT_NEAR(c.total_cost, 4, kTol);
  EXPECT_NEAR(c.cost_per_event, 0.2, kTol);
  EXPECT_FALSE(c.flags_nothing);
  EXPECT_EQ(c.confusion.tp, 8);
  EXPECT_EQ(c.confusion.fp, 4);
  // 1·fn + 10·fp: nothing 8; ≥1.0 7; ≥0.9 6; ≥0.8 15 ...
  c = CostThreshold(kY, kS, 1, 10).value();
  EXPECT_EQ(c.threshold, 0.9);
  EXPECT_NEAR(c.total_cost, 6, kTol);
  // Missing a positive is free: flagging nothing and flagging ≥1.0 both cost 0; the higher threshold wins.
  c = CostThreshold(kY, kS, 0, 1).value();
  EXPECT_TRUE(c.flags_nothing);
  EXPECT_EQ(c.threshold, 2.0);
  EXPECT_EQ(c.total_cost, 0.0);
  EXPECT_EQ(c.confusion.fn, 8);
  EXPECT_FALSE(CostThreshold(kY, kS, -1, 1).ok());
}

TEST(MetricsTest, PrecisionAtKPerDayWithTiesAndShortDays) {
  const TimestampMicros jan5 = ParseTimestamp("2026-01-05T00:00:00Z").value();
  const TimestampMicros jan6 = jan5 + int64_t{86'400} * 1'000'000;
  const TimestampMicros hour = int64_t{3'600} * 1'000'000;
  // Rows of three days, interleaved. k = 3.
  //   jan 5: scores 0.9(1) 0.8(0) 0.7(1) 0.6(1) 0.95(0) → top 3: 0.95(0) 0.9(1) 0.8(0) → 1/3
  //   1969-12-31 (before the epoch): 0.2(1) 0.1(0) → 2 rows only, both reviewed → 1/2
  //   jan 6: 0.5(0) 0.5(1) 0.5(1) 0.5(0) 0.1(1) → four-way tie cut by row order: 0,1,1 → 2/3
  std::vector<double> s = {0.9, 0.5, 0.8, 0.2, 0.5, 0.7, 0.5, 0.6, 0.1, 0.5, 0.95, 0.1};
  std::vector<double> y = {1, 0, 0, 1, 1, 1, 1, 1, 0, 0, 0, 1};
  std::vector<TimestampMicros> t = {jan5 + hour,  jan6,          jan5 + 2 * hour, -1,
                                    jan6 + hour,  jan5 + 3 * hour, jan6 + 2 * hour, jan6 - 1,
                                    -int64_t{86'400} * 1'000'000, jan6 + 3 * hour, jan5, jan6 + 23 * hour};
  PrecisionAtKResult r = PrecisionAtKPerDay(y, s, t, 3).value();
  ASSERT_EQ(r.days.size(), 3u);
  EXPECT_EQ(r.days[0].day_start, -int64_t{86'400} * 1'000'000);
  EXPECT_EQ(r.days[0].rows, 2);
  EXPECT_EQ(r.days[0].alerts, 2);
  EXPECT_NEAR(r.days[0].precision, 0.5, kTol);
  EXPECT_EQ(r.days[1].day_start, jan5);
  EXPECT_EQ(r.days[1].rows, 5);
  EXPECT_EQ(r.days[1].true_positives, 1);
  EXPECT_NEAR(r.days[1].precision, 1.0 / 3, kTol);
  EXPECT_EQ(r.days[2].day_start, jan6);
  EXPECT_EQ(r.days[2].alerts, 3);
  EXPECT_NEAR(r.days[2].precision, 2.0 / 3, kTol);
  EXPECT_NEAR(r.mean, 0.5, kTol);
  // k larger than every day: precision is each day's positive rate.
  r = PrecisionAtKPerDay(y, s, t, 100).value();
  EXPECT_NEAR(r.days[1].precision, 3.0 / 5, kTol);
  EXPECT_FALSE(PrecisionAtKPerDay(y, s, t, 0).ok());
  EXPECT_FALSE(PrecisionAtKPerDay(y, s, std::vector<TimestampMicros>{1, 2}, 3).ok());
}

TEST(MetricsTest, ErrorsNameTheProblem) {
  Status s = RocAuc(std::vector<double>{}, std::vector<double>{}).status();
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_NE(s.message().find("empty"), std::string::npos) << s.message();
  s = RocAuc(std::vector<double>{0, 1}, std::vector<double>{0.1}).status();
  EXPECT_NE(s.message().find("2 labels but 1 scores"), std::string::npos) << s.message();
  s = RocAuc(std::vector<double>{0, 1, 2}, std::vector<double>{0.1, 0.2, 0.3}).status();
  EXPECT_NE(s.message().find("row 3: label 2 is not 0 or 1"), std::string::npos) << s.message();
  s = AveragePrecision(std::vector<double>{0, 1}, std::vector<double>{0.1, std::nan("")}).status();
  EXPECT_NE(s.message().find("row 2: score is NaN"), std::string::npos) << s.message();
  s = RocAuc(std::vector<double>(1234, 0.0), std::vector<double>(1234, 0.5)).status();
  EXPECT_NE(s.message().find("all 1234 labels are 0"), std::string::npos) << s.message();
  s = AveragePrecision(std::vector<double>{1, 1}, std::vector<double>{0.1, 0.2}).status();
  EXPECT_NE(s.message().find("all 2 labels are 1"), std::string::npos) << s.message();
  s = LogLoss(std::vector<double>{0, 1}, std::vector<double>{0.1, 1.5}).status();
  EXPECT_NE(s.message().find("row 2: score 1.5 is not a probability"), std::string::npos) << s.message();
  EXPECT_FALSE(BrierScore(std::vector<double>{0, 1}, std::vector<double>{-0.1, 0.5}).ok());
  EXPECT_FALSE(Calibration(kY, kS, 0).ok());
}

TEST(MetricsTest, ThinCurveKeepsEndsAndBound) {
  std::vector<double> x, y;
  for (int i = 0; i <= 1000; ++i) {
    x.push_back(i / 1000.0);
    y.push_back(std::sqrt(i / 1000.0));
  }
  auto thin = ThinCurve(x, y, 50);
  ASSERT_LE(thin.size(), 50u);
  EXPECT_GE(thin.size(), 45u);
  EXPECT_EQ(thin.front(), std::make_pair(0.0, 0.0));
  EXPECT_EQ(thin.back(), std::make_pair(1.0, 1.0));
  for (size_t i = 1; i < thin.size(); ++i) EXPECT_GT(thin[i].first, thin[i - 1].first);
  EXPECT_EQ(ThinCurve(std::vector<double>{0, 1}, std::vector<double>{0, 1}, 50).size(), 2u);
  EXPECT_EQ(RecallAtFprKey(0.01), "recall_at_fpr_0.01");
  EXPECT_EQ(PrecisionAtKKey(100), "precision_at_100_per_day");
}

}  // namespace
}  // namespace gyre::train
