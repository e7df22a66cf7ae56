#include "train/experiment.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "core/config.h"
#include "core/files.h"
#include "core/value_parse.h"

namespace gyre::train {
namespace {

// The hyperparameters gyre passes on, with the values each model accepts. Anything else is refused at
// parse time, so a typo ("max_dept") never silently trains with the default.
struct ParamRule {
  const char* name;
  enum { kInt, kReal, kWord } type;
  double min, max;
  bool min_exclusive;
  std::vector<std::string> words;
};

const std::vector<ParamRule>& XGBoostRules() {
  static const std::vector<ParamRule> rules = {
      {"max_depth", ParamRule::kInt, 1, 30, false, {}},
      {"eta", ParamRule::kReal, 0, 1, true, {}},
      {"min_child_weight", ParamRule::kReal, 0, 1e9, false, {}},
      {"subsample", ParamRule::kReal, 0, 1, true, {}},
      {"colsample_bytree", ParamRule::kReal, 0, 1, true, {}},
      {"colsample_bylevel", ParamRule::kReal, 0, 1, true, {}},
      {"gamma", ParamRule::kReal, 0, 1e9, false, {}},
      {"lambda", ParamRule::kReal, 0, 1e9, false, {}},
      {"alpha", ParamRule::kReal, 0, 1e9, false, {}},
      {"max_delta_step", ParamRule::kReal, 0, 1e9, false, {}},
      {"max_bin", ParamRule::kInt, 2, 65536, false, {}},
      {"max_leaves", ParamRule::kInt, 0, 1 << 20, false, {}},
      {"tree_method", ParamRule::kWord, 0, 0, false, {"hist", "approx", "exact"}},
      {"grow_policy", ParamRule::kWord, 0, 0, false, {"depthwise", "lossguide"}},
  };
  return rules;
}

const std::vector<ParamRule>& LogisticRules() {
  static const std::vector<ParamRule> rules = {
      {"c", ParamRule::kReal, 0, 1e12, true, {}},
      {"max_iter", ParamRule::kInt, 1, 10000, false, {}},
  };
  return rules;
}

const std::vector<ParamRule>& RulesFor(ModelType type) {
  return type == ModelType::kXGBoost ? XGBoostRules() : LogisticRules();
}

// Empty when `value` is acceptable for `rule`, else why not.
std::string CheckValue(const ParamRule& rule, const std::string& value) {
  if (rule.type == ParamRule::kWord) {
    if (std::find(rule.words.begin(), rule.words.end(), value) != rule.words.end()) return "";
    return fmt::format("'{}' is not one of: {}", value, fmt::join(rule.words, ", "));
  }
  double v = 0;
  if (!ParseFloat64(value, &v) || !std::isfinite(v)) return fmt::format("'{}' is not a number", value);
  if (rule.type == ParamRule::kInt && v != std::floor(v)) return fmt::format("'{}' is not an integer", value);
  bool below = rule.min_exclusive ? v <= rule.min : v < rule.min;
  if (below || v > rule.max) {
    return fmt::format("{} is outside {}{:g}, {:g}]", value, rule.min_exclusive ? "(" : "[", rule.min, rule.max);
  }
  return "";
}

void ReadDuration(ConfigObject& object, const std::string& key, TimestampMicros* out) {
  std::string text;
  object.Optional(key, &text);
  if (text.empty()) return;
  auto d = ParseDuration(text);
  if (!d.ok() || *d <= 0) {
    object.Error(key, fmt::format("expected a positive duration such as 3d, 12h or 30m, got '{}'", text));
    return;
  }
  *out = *d;
}

void ReadTime(ConfigObject& object, const std::string& key, std::optional<TimestampMicros>* out) {
  std::string text;
  object.Optional(key, &text);
  if (text.empty()) return;
  auto t = ParseTimestamp(text);
  if (!t.ok()) {
    object.Error(key, fmt::format("expected a date or timestamp such as 2026-01-01 or 2026-01-01T06:00:00Z, got '{}'",
                                  text));
    return;
  }
  *out = *t;
}

void ReadParams(ConfigObject& params, ModelType type, std::vector<std::pair<std::string, std::string>>* out) {
  for (const ParamRule& rule : RulesFor(type)) {
    std::string value;
    params.Optional(rule.name, &value);  // also declares the key, so a typo's error lists the real names
    if (!params.Has(rule.name)) continue;
    std::string problem = CheckValue(rule, value);
    if (!problem.empty()) {
      params.Error(rule.name, problem);
      continue;
    }
    out->emplace_back(rule.name, value);
  }
}

void ReadSpace(ConfigObject& space, ModelType type, std::vector<std::pair<std::string, ParamSpace>>* out) {
  for (const ParamRule& rule : RulesFor(type)) {
    if (!space.Has(rule.name)) {
      std::string absent;
      space.Optional(rule.name, &absent);  // declares the key, so a typo's error lists the real names
      continue;
    }
    ParamSpace p;
    if (space.HasMapping(rule.name)) {
      space.Object(rule.name, [&](ConfigObject& range) {
        std::vector<std::string> bounds;
        int kinds = 0;
        for (auto [key, kind] : {std::pair{"uniform", ParamSpace::Kind::kUniform},
                                 std::pair{"log_uniform", ParamSpace::Kind::kLogUniform},
                                 std::pair{"int_uniform", ParamSpace::Kind::kIntUniform}}) {
          if (!range.Has(key)) continue;
          ++kinds;
          p.kind = kind;
          range.Required(key, &bounds);
          if (bounds.size() != 2 || !ParseFloat64(bounds[0], &p.low) || !ParseFloat64(bounds[1], &p.high) ||
              !(p.low < p.high)) {
            range.Error(key, "expected [low, high] with low < high");
            return;
          }
          for (const std::string& b : bounds) {
            std::string problem = CheckValue(rule, b);
            if (!problem.empty()) range.Error(key, problem);
          }
          if (kind == ParamSpace::Kind::kLogUniform && p.low <= 0) range.Error(key, "a log-uniform range must be > 0");
          if (rule.type == ParamRule::kWord) range.Error(key, "takes a list of values, not a range");
        }
        if (kinds != 1) range.Error("", "expected exactly one of: uniform, log_uniform, int_uniform, or a list of values");
      });
    } else {
      space.Required(rule.name, &p.choices);
      if (p.choices.empty()) space.Error(rule.name, "an empty list of values");
      for (const std::string& v : p.choices) {
        std::string problem = CheckValue(rule, v);
        if (!problem.empty()) {
          space.Error(rule.name, problem);
          break;
        }
      }
    }
    out->emplace_back(rule.name, std::move(p));
  }
}

}  // namespace

std::string_view ModelTypeName(ModelType type) {
  return type == ModelType::kXGBoost ? "xgboost" : "logistic_regression";
}

bool LowerIsBetter(std::string_view metric) {
  return metric == "log_loss" || metric == "brier" || metric == "ece" || metric.starts_with("cost");
}

Result<ExperimentConfig> ParseExperiment(const std::string& yaml, const std::string& file_name) {
  GYRE_ASSIGN_OR_RETURN(ConfigDocument doc, ConfigDocument::LoadString(yaml, file_name));
  ExperimentConfig c;
  c.file = file_name;
  c.yaml = yaml;
  ConfigObject root = doc.Root();
  root.Required("name", &c.name);
  root.Optional("description", &c.description);
  root.Required("feature_set", &c.feature_set);
  root.Optional("training_set", &c.training_set);
  root.Object("time_range", [&](ConfigObject& range) {
    ReadTime(range, "start", &c.start);
    ReadTime(range, "end", &c.end);
    if (c.start && c.end && *c.start >= *c.end) range.Error("end", "the end must come after the start");
  });
  root.Object("labels", [&](ConfigObject& labels) {
    labels.Optional("labeled_at", &c.labels.labeled_at_column);
    std::string unlabeled = "default";
    labels.Optional("unlabeled", &unlabeled);
    if (unlabeled == "drop") {
      c.labels.unlabeled = UnlabeledPolicy::kDrop;
    } else if (unlabeled != "default") {
      labels.Error("unlabeled", fmt::format("expected 'default' or 'drop', got '{}'", unlabeled));
    }
    ReadDuration(labels, "maturity", &c.labels.maturity);
  });

  std::string model_type = "xgboost";
  root.Object("model", [&](ConfigObject& model) {
    model.Optional("type", &model_type);
    if (model_type == "logistic_regression") {
      c.model.type = ModelType::kLogisticRegression;
    } else if (model_type != "xgboost") {
      model.Error("type", fmt::format("expected 'xgboost' or 'logistic_regression', got '{}'", model_type));
      return;
    }
    model.Object("params", [&](ConfigObject& params) {
      ReadParams(params, c.model.type, &c.model.params);
    });
    int64_t rounds = c.model.num_boost_round, early = c.model.early_stopping_rounds;
    model.OptionalInRange("num_boost_round", &rounds, 1, 100000);
    model.OptionalInRange("early_stopping_rounds", &early, 0, 100000);
    c.model.num_boost_round = static_cast<int>(rounds);
    c.model.early_stopping_rounds = static_cast<int>(early);
    model.Optional("validation_fraction", &c.model.validation_fraction);
    if (!(c.model.validation_fraction > 0 && c.model.validation_fraction < 0.9)) {
      model.Error("validation_fraction", "expected a fraction in (0, 0.9)");
    }
    std::string weight = "none";
    model.Optional("class_weight", &weight);
    if (weight == "balanced") {
      c.model.class_weight = ClassWeight::kBalanced;
    } else if (weight != "none") {
      if (!ParseFloat64(weight, &c.model.positive_weight) || !(c.model.positive_weight > 0) ||
          !std::isfinite(c.model.positive_weight)) {
        model.Error("class_weight", fmt::format("expected none, balanced or a positive weight for label 1, got '{}'", weight));
      }
      c.model.class_weight = ClassWeight::kFixed;
    }
  });

  root.Object("search", [&](ConfigObject& search) {
    std::string method = "grid";
    search.Optional("method", &method);
    if (method == "grid") {
      c.search.method = SearchConfig::Method::kGrid;
    } else if (method == "random") {
      c.search.method = SearchConfig::Method::kRandom;
    } else {
      search.Error("method", fmt::format("expected 'grid' or 'random', got '{}'", method));
    }
    int64_t trials = c.search.trials, seed = static_cast<int64_t>(c.search.seed);
    search.OptionalInRange("trials", &trials, 1, 10000);
    search.OptionalInRange("seed", &seed, 0, INT64_MAX);
    c.search.trials = static_cast<int>(trials);
    c.search.seed = static_cast<uint64_t>(seed);
    if (!search.Has("space")) search.Error("", "missing required key 'search.space'");
    search.Object("space", [&](ConfigObject& space) {
      ReadSpace(space, c.model.type, &c.search.space);
    });
    if (c.search.method == SearchConfig::Method::kGrid) {
      for (const auto& [name, p] : c.search.space) {
        if (p.kind != ParamSpace::Kind::kChoice) {
          search.Error("method", fmt::format("grid search needs a list of values for '{}', not a range", name));
        }
      }
    }
  });

  root.Object("backtest", [&](ConfigObject& b) {
    int64_t folds = 0;
    b.OptionalInRange("folds", &folds, 1, 100);
    c.backtest.folds = static_cast<int>(folds);
    if (!b.Has("folds")) b.Error("", "missing required key 'backtest.folds'");
    std::string scheme = "expanding";
    b.Optional("scheme", &scheme);
    if (scheme == "sliding") {
      c.backtest.scheme = FoldScheme::kSliding;
    } else if (scheme != "expanding") {
      b.Error("scheme", fmt::format("expected 'expanding' or 'sliding', got '{}'", scheme));
    }
    if (!b.Has("test_window")) b.Error("", "missing required key 'backtest.test_window'");
    ReadDuration(b, "test_window", &c.backtest.test_window);
    std::string gap;
    b.Optional("gap", &gap);
    if (!gap.empty()) {
      auto d = ParseDuration(gap);
      if (!d.ok() || *d < 0) {
        b.Error("gap", fmt::format("expected a duration such as 1d or 0s, got '{}'", gap));
      } else {
        c.backtest.gap = *d;
      }
    }
    ReadDuration(b, "train_window", &c.backtest.train_window);
    if (c.backtest.scheme == FoldScheme::kSliding && c.backtest.train_window == 0) {
      b.Error("", "a sliding backtest needs 'backtest.train_window'");
    }
  });

  root.Optional("metric", &c.metric);
  root.Object("evaluation", [&](ConfigObject& e) {
    e.Optional("fpr", &c.evaluation.fpr);
    if (!(c.evaluation.fpr > 0 && c.evaluation.fpr < 1)) e.Error("fpr", "expected a rate in (0, 1)");
    int64_t k = c.evaluation.alerts_per_day, bins = c.evaluation.calibration_bins, top = c.evaluation.importance_top;
    e.OptionalInRange("alerts_per_day", &k, 1, 100000000);
    e.OptionalInRange("calibration_bins", &bins, 2, 1000);
    e.OptionalInRange("importance_top", &top, 1, 10000);
    c.evaluation.alerts_per_day = static_cast<int>(k);
    c.evaluation.calibration_bins = static_cast<int>(bins);
    c.evaluation.importance_top = static_cast<int>(top);
    e.Object("cost", [&](ConfigObject& cost) {
      cost.Optional("false_negative", &c.evaluation.cost_false_negative);
      cost.Optional("false_positive", &c.evaluation.cost_false_positive);
      if (!(c.evaluation.cost_false_negative > 0)) cost.Error("false_negative", "expected a positive cost");
      if (!(c.evaluation.cost_false_positive > 0)) cost.Error("false_positive", "expected a positive cost");
    });
  });
  root.Object("decision", [&](ConfigObject& d) {
    double v = 0;
    // Both model types score probabilities: a band outside [0, 1] would either never fire or always fire.
    for (auto [key, band] : {std::pair<const char*, std::optional<double>*>{"challenge_threshold", &c.decision.challenge_threshold},
                             {"block_threshold", &c.decision.block_threshold}}) {
      if (!d.Has(key)) continue;
      d.Optional(key, &v);
      if (!(v >= 0 && v <= 1)) d.Error(key, "expected a score in [0, 1] (both model types score probabilities)");
      *band = v;
    }
    d.Optional("block_fpr", &c.decision.block_fpr);
    if (!(c.decision.block_fpr > 0 && c.decision.block_fpr < 1)) d.Error("block_fpr", "expected a rate in (0, 1)");
    if (c.decision.challenge_threshold && c.decision.block_threshold &&
        *c.decision.block_threshold < *c.decision.challenge_threshold) {
      d.Error("block_threshold", "the block threshold must not be below the challenge threshold");
    }
  });
  int64_t threads = 0, seed = static_cast<int64_t>(c.seed);
  root.OptionalInRange("threads", &threads, 0, 256);
  root.OptionalInRange("seed", &seed, 0, INT64_MAX);
  c.threads = static_cast<int>(threads);
  c.seed = static_cast<uint64_t>(seed);
  GYRE_RETURN_IF_ERROR(root.Finish());

  static const std::vector<std::string> kMetrics = {"roc_auc", "average_precision", "log_loss", "brier", "ks",
                                                    "ece", "recall_at_fpr", "precision_at_k_per_day", "cost"};
  if (std::find(kMetrics.begin(), kMetrics.end(), c.metric) == kMetrics.end()) {
    return Status::InvalidArgument(fmt::format("{}: 'metric': '{}' is not a selection metric (expected one of: {})",
                                               file_name, c.metric, fmt::join(kMetrics, ", ")));
  }
  if (c.search.method != SearchConfig::Method::kNone && c.backtest.folds == 0) {
    return Status::InvalidArgument(fmt::format(
        "{}: a hyperparameter search compares trials on backtest folds: add a 'backtest' section", file_name));
  }
  return c;
}

Result<ExperimentConfig> LoadExperiment(const std::string& path) {
  GYRE_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  return ParseExperiment(text, path);
}

std::vector<ParamSet> ExpandSearch(const ModelConfig& model, const SearchConfig& search) {
  auto with = [&](const ParamSet& draw) {
    ParamSet set = model.params;
    for (const auto& [k, v] : draw) {
      auto it = std::find_if(set.begin(), set.end(), [&](const auto& p) { return p.first == k; });
      if (it != set.end()) {
        it->second = v;
      } else {
        set.emplace_back(k, v);
      }
    }
    return set;
  };
  std::vector<ParamSet> out;
  if (search.method == SearchConfig::Method::kGrid) {
    std::vector<ParamSet> partial = {{}};
    for (const auto& [name, space] : search.space) {
      std::vector<ParamSet> next;
      for (const ParamSet& p : partial) {
        for (const std::string& v : space.choices) {
          ParamSet q = p;
          q.emplace_back(name, v);
          next.push_back(std::move(q));
        }
      }
      partial = std::move(next);
    }
    for (const ParamSet& p : partial) out.push_back(with(p));
    return out;
  }
  if (search.method == SearchConfig::Method::kRandom) {
    std::mt19937_64 rng(search.seed);
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    for (int t = 0; t < search.trials; ++t) {
      ParamSet draw;
      for (const auto& [name, space] : search.space) {
        double u = unit(rng);
        switch (space.kind) {
          case ParamSpace::Kind::kChoice:
            draw.emplace_back(name, space.choices[std::min(space.choices.size() - 1,
                                                           static_cast<size_t>(u * space.choices.size()))]);
            break;
          case ParamSpace::Kind::kUniform:
            draw.emplace_back(name, fmt::format("{:.6g}", space.low + u * (space.high - space.low)));
            break;
          case ParamSpace::Kind::kLogUniform:
            draw.emplace_back(name, fmt::format("{:.6g}", std::exp(std::log(space.low) +
                                                                   u * (std::log(space.high) - std::log(space.low)))));
            break;
          case ParamSpace::Kind::kIntUniform: {
            auto lo = static_cast<int64_t>(std::ceil(space.low)), hi = static_cast<int64_t>(std::floor(space.high));
            draw.emplace_back(name, std::to_string(lo + std::min<int64_t>(hi - lo, static_cast<int64_t>(u * (hi - lo + 1)))));
            break;
          }
        }
      }
      out.push_back(with(draw));
    }
    return out;
  }
  out.push_back(model.params);
  return out;
}

}  // namespace gyre::train
