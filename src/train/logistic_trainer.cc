#include "train/logistic_trainer.h"

#include <fmt/format.h>

#include <Eigen/Dense>
#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <system_error>
#include <thread>
#include <utility>

namespace gyre::train {
namespace {

using Eigen::MatrixXd;
using Eigen::VectorXd;
using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// The rows are cut into a number of blocks that depends only on n; each block is summed on its own and the
// block sums are added in block order. That makes every result independent of the thread count.
constexpr int64_t kMinBlockRows = 4096;
constexpr int kMaxBlocks = 64;
// Rows standardised at a time inside a block (a few hundred KB of doubles: stays in cache).
constexpr int64_t kChunkRows = 1024;

struct Blocks {
  int count = 1;
  int64_t rows_per_block = 0;
  int64_t n = 0;
  int64_t Begin(int b) const { return std::min(n, b * rows_per_block); }
  int64_t End(int b) const { return std::min(n, (b + 1) * rows_per_block); }
};

Blocks MakeBlocks(int64_t n) {
  Blocks blocks;
  blocks.n = n;
  blocks.count = static_cast<int>(std::clamp<int64_t>((n + kMinBlockRows - 1) / kMinBlockRows, 1, kMaxBlocks));
  blocks.rows_per_block = (n + blocks.count - 1) / blocks.count;
  return blocks;
}

// Runs fn(block) for every block on up to `threads` threads (the caller's thread included).
template <typename Fn>
void ForEachBlock(int blocks, int threads, const Fn& fn) {
  std::atomic<int> next{0};
  auto work = [&] {
    for (int b = next.fetch_add(1); b < blocks; b = next.fetch_add(1)) fn(b);
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < std::min(threads, blocks); ++t) {
    try {
      pool.emplace_back(work);
    } catch (const std::system_error&) {
      break;  // fewer threads: same result, only slower
    }
  }
  work();
  for (std::thread& t : pool) t.join();
}

double Softplus(double m) { return std::max(m, 0.0) + std::log1p(std::exp(-std::abs(m))); }

double Sigmoid(double m) {
  if (m >= 0) return 1.0 / (1.0 + std::exp(-m));
  double e = std::exp(m);
  return e / (1.0 + e);
}

struct Data {
  const float* x;
  int64_t n;
  int d;
  const float* labels;
  const float* weights;  // nullable
  double c;
  std::vector<double> mean;
  std::vector<double> scale;
};

double Weight(const Data& data, int64_t i) { return data.weights == nullptr ? 1.0 : data.weights[i]; }

// The objective's sums over rows (penalty not included) for one block.
struct Sums {
  double loss = 0;
  VectorXd grad;
  MatrixXd hess;  // lower triangle only
};

enum class Need { kGradient, kHessian };

// Standardised rows [begin, end) with a trailing 1 for the intercept; missing → 0.
void Standardise(const Data& data, int64_t begin, int64_t end, RowMatrix* z) {
  const int d = data.d;
  z->resize(end - begin, d + 1);
  for (int64_t i = begin; i < end; ++i) {
    const float* row = data.x + i * d;
    double* out = z->data() + (i - begin) * (d + 1);
    for (int j = 0; j < d; ++j) out[j] = std::isnan(row[j]) ? 0.0 : (row[j] - data.mean[j]) / data.scale[j];
    out[d] = 1.0;
  }
}

void SumBlock(const Data& data, const VectorXd& theta, int64_t begin, int64_t end, Need need, Sums* sums) {
  const int p = data.d + 1;
  sums->loss = 0;
  sums->grad = VectorXd::Zero(p);
  if (need == Need::kHessian) sums->hess = MatrixXd::Zero(p, p);
  RowMatrix z;
  VectorXd margin, residual, root;
  for (int64_t lo = begin; lo < end; lo += kChunkRows) {
    int64_t hi = std::min(end, lo + kChunkRows);
    Standardise(data, lo, hi, &z);
    margin.noalias() = z * theta;
    residual.resize(hi - lo);
    root.resize(hi - lo);
    for (int64_t k = 0; k < hi - lo; ++k) {
      int64_t i = lo + k;
      double cw = data.c * Weight(data, i);
      double y = data.labels[i];
      double m = margin[k];
      double prob = Sigmoid(m);
      sums->loss += cw * (Softplus(m) - y * m);
      residual[k] = cw * (prob - y);
      root[k] = std::sqrt(cw * prob * (1.0 - prob));
    }
    sums->grad.noalias() += z.transpose() * residual;
    if (need == Need::kHessian) {
      RowMatrix a = root.asDiagonal() * z;
      sums->hess.selfadjointView<Eigen::Lower>().rankUpdate(a.transpose());
    }
  }
}

struct Evaluation {
  double objective = 0;
  VectorXd grad;
  MatrixXd hess;  // full (symmetric), only with Need::kHessian
};

Evaluation Evaluate(const Data& data, const Blocks& blocks, int threads, const VectorXd& theta, Need need) {
  std::vector<Sums> partial(blocks.count);
  ForEachBlock(blocks.count, threads,
               [&](int b) { SumBlock(data, theta, blocks.Begin(b), blocks.End(b), need, &partial[b]); });
  const int d = data.d;
  Evaluation e;
  e.grad = VectorXd::Zero(d + 1);
  if (need == Need::kHessian) e.hess = MatrixXd::Zero(d + 1, d + 1);
  for (const Sums& s : partial) {  // block order: deterministic
    e.objective += s.loss;
    e.grad += s.grad;
    if (need == Need::kHessian) e.hess += s.hess;
  }
  // The L2 penalty on the coefficients; the intercept (last) is not penalised.
  e.objective += 0.5 * theta.head(d).squaredNorm();
  e.grad.head(d) += theta.head(d);
  if (need == Need::kHessian) {
    e.hess.diagonal().head(d).array() += 1.0;
    e.hess.triangularView<Eigen::StrictlyUpper>() = e.hess.transpose();
  }
  return e;
}

Status CheckInputs(const float* x, int64_t n, int d, const float* labels, const float* weights,
                   const std::vector<std::string>& names, const LogisticOptions& options, int64_t* rows_used) {
  if (!(options.c > 0) || !std::isfinite(options.c)) {
    return Status::InvalidArgument(Field("c", fmt::format("must be a finite number > 0, got {}", options.c)));
  }
  if (options.max_iter < 1) {
    return Status::InvalidArgument(Field("max_iter", fmt::format("must be >= 1, got {}", options.max_iter)));
  }
  if (!(options.tol >= 0)) return Status::InvalidArgument(Field("tol", fmt::format("must be >= 0, got {}", options.tol)));
  if (n <= 0) return Status::InvalidArgument("logistic regression: no training rows");
  if (d <= 0) return Status::InvalidArgument("logistic regression: no features");
  if (names.size() != static_cast<size_t>(d)) {
    return Status::InvalidArgument(
        fmt::format("logistic regression: {} feature names for {} feature columns", names.size(), d));
  }
  int64_t count[2] = {0, 0};
  for (int64_t i = 0; i < n; ++i) {
    if (labels[i] != 0.0f && labels[i] != 1.0f) {
      return Status::InvalidArgument(fmt::format("row {}: label {} is not 0 or 1", i, labels[i]));
    }
    double w = weights == nullptr ? 1.0 : weights[i];
    if (!(w >= 0) || !std::isfinite(w)) {
      return Status::InvalidArgument(fmt::format("row {}: weight {} is not a finite number >= 0", i, w));
    }
    if (w > 0) ++count[labels[i] == 1.0f ? 1 : 0];
    const float* row = x + i * d;
    for (int j = 0; j < d; ++j) {
      if (std::isinf(row[j])) {
        return Status::InvalidArgument(fmt::format("row {}, column '{}': infinite value", i, names[j]));
      }
    }
  }
  if (count[0] == 0 || count[1] == 0) {
    return Status::InvalidArgument(fmt::format(
        "logistic regression needs both classes; the rows with positive weight have {} negatives and {} positives",
        count[0], count[1]));
  }
  *rows_used = count[0] + count[1];
  return Status::OK();
}

// Weighted mean and population standard deviation of each column's non-missing values (two passes, summed
// per block in block order).
void Standardisation(Data* data, const Blocks& blocks, int threads) {
  const int d = data->d;
  struct ColumnSums {
    std::vector<double> w, wx, wdev2;
    std::vector<float> min, max;
  };
  std::vector<ColumnSums> partial(blocks.count);
  ForEachBlock(blocks.count, threads, [&](int b) {
    ColumnSums& s = partial[b];
    s.w.assign(d, 0.0);
    s.wx.assign(d, 0.0);
    s.min.assign(d, std::numeric_limits<float>::infinity());
    s.max.assign(d, -std::numeric_limits<float>::infinity());
    for (int64_t i = blocks.Begin(b); i < blocks.End(b); ++i) {
      double w = Weight(*data, i);
      if (w == 0) continue;
      const float* row = data->x + i * d;
      for (int j = 0; j < d; ++j) {
        if (std::isnan(row[j])) continue;
        s.w[j] += w;
        s.wx[j] += w * row[j];
        s.min[j] = std::min(s.min[j], row[j]);
        s.max[j] = std::max(s.max[j], row[j]);
      }
    }
  });
  std::vector<double> w(d, 0.0), wx(d, 0.0);
  std::vector<float> lo(d, std::numeric_limits<float>::infinity()), hi(d, -std::numeric_limits<float>::infinity());
  for (const ColumnSums& s : partial) {
    for (int j = 0; j < d; ++j) {
      w[j] += s.w[j];
      wx[j] += s.wx[j];
      lo[j] = std::min(lo[j], s.min[j]);
      hi[j] = std::max(hi[j], s.max[j]);
    }
  }
  data->mean.assign(d, 0.0);
  for (int j = 0; j < d; ++j) data->mean[j] = w[j] > 0 ? wx[j] / w[j] : 0.0;

  ForEachBlock(blocks.count, threads, [&](int b) {
    ColumnSums& s = partial[b];
    s.wdev2.assign(d, 0.0);
    for (int64_t i = blocks.Begin(b); i < blocks.End(b); ++i) {
      double weight = Weight(*data, i);
      if (weight == 0) continue;
      const float* row = data->x + i * d;
      for (int j = 0; j < d; ++j) {
        if (std::isnan(row[j])) continue;
        double dev = row[j] - data->mean[j];
        s.wdev2[j] += weight * dev * dev;
      }
    }
  });
  data->scale.assign(d, 1.0);
  for (int j = 0; j < d; ++j) {
    double wdev2 = 0;
    for (const ColumnSums& s : partial) wdev2 += s.wdev2[j];
    double sd = w[j] > 0 ? std::sqrt(wdev2 / w[j]) : 0.0;
    // A constant column carries no information; scale 1 keeps it (its coefficient ends at 0) instead of
    // dividing by zero or by rounding noise.
    data->scale[j] = (lo[j] < hi[j] && sd > 0 && std::isfinite(sd)) ? sd : 1.0;
  }
}

}  // namespace

Result<models::LogisticRegression> FitLogisticRegression(const float* x, int64_t n, int d, const float* labels,
                                                         const float* weights, const std::vector<std::string>& names,
                                                         const LogisticOptions& options, LogisticFitInfo* info) {
  int64_t rows_used = 0;
  GYRE_RETURN_IF_ERROR(CheckInputs(x, n, d, labels, weights, names, options, &rows_used));
  int threads = options.threads > 0 ? options.threads : static_cast<int>(std::thread::hardware_concurrency());
  threads = std::max(threads, 1);
  Data data{x, n, d, labels, weights, options.c, {}, {}};
  Blocks blocks = MakeBlocks(n);
  Standardisation(&data, blocks, threads);

  // Start from zero coefficients and the intercept that fits the weighted base rate: the first Newton steps
  // are then spent on the coefficients.
  double positive = 0, total = 0;
  for (int64_t i = 0; i < n; ++i) {
    positive += Weight(data, i) * labels[i];
    total += Weight(data, i);
  }
  VectorXd theta = VectorXd::Zero(d + 1);
  theta[d] = std::log(positive / (total - positive));

  Evaluation current = Evaluate(data, blocks, threads, theta, Need::kHessian);
  int iterations = 0;
  double grad_norm = current.grad.lpNorm<Eigen::Infinity>();
  while (grad_norm >= options.tol && iterations < options.max_iter) {
    Eigen::LDLT<MatrixXd> ldlt(current.hess);
    VectorXd step = -ldlt.solve(current.grad);
    double decrement = -current.grad.dot(step);  // > 0 for a descent direction
    if (ldlt.info() != Eigen::Success || !step.allFinite() || !(decrement > 0)) {
      step = -current.grad;  // a numerically singular Hessian: fall back to steepest descent
      decrement = current.grad.squaredNorm();
    }
    // Step halving. Near the optimum the objective's change drops below its rounding error, so a full step
    // that still shrinks the gradient is taken even when the objective does not measurably decrease.
    // The full step is almost always taken, so its trial also sums the Hessian the next iteration needs.
    bool accepted = false;
    double t = 1.0;
    VectorXd candidate;
    Evaluation trial;
    for (int halving = 0; halving < 40 && !accepted; ++halving, t *= 0.5) {
      candidate = theta + t * step;
      trial = Evaluate(data, blocks, threads, candidate, halving == 0 ? Need::kHessian : Need::kGradient);
      bool armijo = trial.objective <= current.objective - 1e-4 * t * decrement;
      bool gradient_shrinks = halving == 0 &&
                              trial.objective <= current.objective + 1e-12 * std::abs(current.objective) &&
                              trial.grad.lpNorm<Eigen::Infinity>() < grad_norm;
      accepted = armijo || gradient_shrinks;
    }
    if (!accepted) break;  // no representable improvement left
    theta = candidate;
    current = trial.hess.size() > 0 ? std::move(trial) : Evaluate(data, blocks, threads, theta, Need::kHessian);
    grad_norm = current.grad.lpNorm<Eigen::Infinity>();
    ++iterations;
  }

  std::vector<double> coefficients(theta.data(), theta.data() + d);
  std::vector<double> impute = data.mean;  // missing = the training mean = 0 after standardising
  GYRE_ASSIGN_OR_RETURN(models::LogisticRegression model,
                        models::LogisticRegression::Create(names, data.mean, data.scale, std::move(impute),
                                                           std::move(coefficients), theta[d]));
  if (info != nullptr) {
    info->iterations = iterations;
    info->loss = current.objective;
    info->grad_norm = grad_norm;
    info->converged = grad_norm < options.tol;
    info->rows_used = rows_used;
  }
  return model;
}

}  // namespace gyre::train
