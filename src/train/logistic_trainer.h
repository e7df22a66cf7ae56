// FitLogisticRegression: L2-regularised logistic regression on standardised inputs, the same model as
// scikit-learn's
//   make_pipeline(StandardScaler(), SimpleImputer(fill_value=0 after scaling),
//                 LogisticRegression(penalty='l2', C=c, fit_intercept=True))
// fitted with `sample_weight` passed to both the scaler and the regression.
//
// Standardisation: per feature, the WEIGHTED mean and population standard deviation (ddof = 0) of the
// non-missing values (weights = 1 when none are given, which is exactly StandardScaler's default). Weighted,
// so that a weight of k on a row is the same as k copies of it. A column whose non-missing values are all
// equal (or that has none) gets scale 1. Missing values (NaN) become 0 after standardising, i.e. the mean.
//
// Objective: minimise  c * sum_i w_i * logloss_i + 1/2 * ||beta||^2  (the intercept is not penalised).
// Solver: Newton's method (IRLS) from zero, with step halving until the objective decreases enough (Armijo);
// the gradient and Hessian are summed over fixed blocks of rows on `threads` threads and the blocks are then
// added in a fixed order, so the result is bit-for-bit the same for any thread count. Each Newton system is
// solved with Eigen's LDLT. Stops when ||gradient||_inf < tol, when the objective can no longer decrease in
// double precision, or after max_iter iterations.
//
// Errors (InvalidArgument, naming the row or the column): n == 0, d == 0, names.size() != d, a label that is
// not 0 or 1, a weight that is negative or not finite, an infinite feature value, a single class (among rows
// of positive weight), bad options. Memory: O(d^2 * blocks) beyond the inputs; the inputs are not copied.
// Thread-safe (no shared state); the caller's arrays must stay alive and unchanged during the call.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "models/logistic_regression.h"

namespace gyre::train {

struct LogisticOptions {
  double c = 1.0;      // scikit-learn's C: inverse strength of the L2 penalty; > 0
  int max_iter = 100;  // Newton iterations; >= 1
  double tol = 1e-8;   // stop when the largest absolute gradient component is below this; >= 0
  int threads = 0;     // 0: std::thread::hardware_concurrency()
};

// What the solver did (filled when the fit succeeds).
struct LogisticFitInfo {
  int iterations = 0;        // Newton steps taken
  double loss = 0;           // the objective above at the returned coefficients
  double grad_norm = 0;      // ||gradient||_inf there
  bool converged = false;    // grad_norm < tol
  int64_t rows_used = 0;     // rows with positive weight
};

// x: row-major n x d (NaN = missing); labels: 0/1; weights: n non-negative values, or nullptr for all 1.
Result<models::LogisticRegression> FitLogisticRegression(const float* x, int64_t n, int d, const float* labels,
                                                         const float* weights, const std::vector<std::string>& names,
                                                         const LogisticOptions& options,
                                                         LogisticFitInfo* info = nullptr);

}  // namespace gyre::train
