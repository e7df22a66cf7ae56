#include "tracking/tracking_store.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <thread>

#include "tests/store/store_backends.h"
#include "tracking/search_filter.h"

namespace gyre::tracking {
namespace {

class TrackingStoreTest : public store::testing::BackendTest {
 protected:
  void SetUp() override {
    BackendTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    auto s = TrackingStore::Open(db_.get(), "mlflow-artifacts:");
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
  }

  std::string NewRun(const std::string& exp = "0", int64_t start = 0, const std::string& name = "") {
    CreateRunRequest req;
    req.experiment_id = exp;
    req.start_time = start;
    req.run_name = name;
    req.user_id = "ann";
    auto run = store_->CreateRun(req);
    EXPECT_TRUE(run.ok()) << run.status().ToString();
    return run.ok() ? run->info.run_id : "";
  }

  std::unique_ptr<TrackingStore> store_;
};

TEST_P(TrackingStoreTest, DefaultExperimentExists) {
  auto e = store_->GetExperiment("0");
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->name, "Default");
  EXPECT_EQ(e->artifact_location, "mlflow-artifacts:/0");
  // Opening again is idempotent.
  ASSERT_TRUE(TrackingStore::Open(db_.get(), "mlflow-artifacts:").ok());
}

TEST_P(TrackingStoreTest, ExperimentLifecycle) {
  auto id = store_->CreateExperiment("ato", "", {{"team", "risk"}});
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_NE(*id, "0");
  auto dup = store_->CreateExperiment("ato", "", {});
  EXPECT_EQ(dup.status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(dup.status().message(), "Experiment(name=ato) already exists.");

  auto e = store_->GetExperimentByName("ato");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->experiment_id, *id);
  EXPECT_EQ(e->artifact_location, "mlflow-artifacts:/" + *id);
  EXPECT_EQ(e->tags, (std::vector<Tag>{{"team", "risk"}}));
  EXPECT_TRUE(store_->GetExperimentByName("nope").status().IsNotFound());
  EXPECT_TRUE(store_->GetExperiment("999").status().IsNotFound());
  EXPECT_TRUE(store_->GetExperiment("abc").status().IsInvalidArgument());

  ASSERT_TRUE(store_->RenameExperiment(*id, "ato-v2").ok());
  ASSERT_TRUE(store_->SetExperimentTag(*id, {"team", "fraud"}).ok());
  e = store_->GetExperiment(*id);
  EXPECT_EQ(e->name, "ato-v2");
  EXPECT_EQ(e->tags[0].value, "fraud");

  std::string run = NewRun(*id);
  ASSERT_TRUE(store_->DeleteExperiment(*id).ok());
  EXPECT_EQ(store_->GetExperiment(*id)->lifecycle_stage, LifecycleStage::kDeleted);
  EXPECT_EQ(store_->GetRun(run)->info.lifecycle_stage, LifecycleStage::kDeleted);
  CreateRunRequest req;
  req.experiment_id = *id;
  EXPECT_TRUE(store_->CreateRun(req).status().IsInvalidArgument());
  ASSERT_TRUE(store_->RestoreExperiment(*id).ok());
  EXPECT_EQ(store_->GetRun(run)->info.lifecycle_stage, LifecycleStage::kActive);
  EXPECT_TRUE(store_->DeleteExperiment("0").IsInvalidArgument());
}

TEST_P(TrackingStoreTest, RunCreateUpdateAndData) {
  std::string run_id = NewRun("0", 1700000000000, "first");
  auto run = store_->GetRun(run_id);
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run_id.size(), 32u);
  EXPECT_EQ(run->info.run_name, "first");
  EXPECT_EQ(run->info.user_id, "ann");
  EXPECT_EQ(run->info.status, RunStatus::kRunning);
  EXPECT_EQ(run->info.start_time, 1700000000000);
  EXPECT_EQ(run->info.artifact_uri, "mlflow-artifacts:/0/" + run_id + "/artifacts");
  EXPECT_EQ(run->tags, (std::vector<Tag>{{"mlflow.runName", "first"}}));

  ASSERT_TRUE(store_
                  ->LogBatch(run_id,
                             {{"auc", 0.8, 10, 0}, {"auc", 0.9, 20, 1}, {"auc", 0.85, 30, 0}, {"loss", 0.3, 5, 0}},
                             {{"model", "xgb"}, {"depth", "6"}}, {{"stage", "dev"}})
                  .ok());
  auto info = store_->UpdateRun({run_id, RunStatus::kFinished, 1700000001000, "renamed"});
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  run = store_->GetRun(run_id);
  EXPECT_EQ(run->info.status, RunStatus::kFinished);
  EXPECT_EQ(run->info.end_time, 1700000001000);
  EXPECT_EQ(run->info.run_name, "renamed");
  // Latest per key = greatest (step, timestamp, value): step 1 wins over a later timestamp at step 0.
  EXPECT_EQ(run->metrics, (std::vector<Metric>{{"auc", 0.9, 20, 1}, {"loss", 0.3, 5, 0}}));
  EXPECT_EQ(run->params, (std::vector<Param>{{"depth", "6"}, {"model", "xgb"}}));
  EXPECT_EQ(run->tags, (std::vector<Tag>{{"mlflow.runName", "renamed"}, {"stage", "dev"}}));

  ASSERT_TRUE(store_->DeleteTag(run_id, "stage").ok());
  EXPECT_TRUE(store_->DeleteTag(run_id, "stage").IsNotFound());
  EXPECT_TRUE(store_->GetRun("0123456789abcdef0123456789abcdef").status().IsNotFound());
}

TEST_P(TrackingStoreTest, RunByIdOrUniquePrefix) {
  std::string a = NewRun(), b = NewRun();
  EXPECT_EQ(store_->GetRunByIdOrPrefix(a)->info.run_id, a);
  // The shortest prefix that tells a from b finds a; a shared prefix is ambiguous.
  size_t common = 0;
  while (a[common] == b[common]) ++common;
  EXPECT_EQ(store_->GetRunByIdOrPrefix(a.substr(0, common + 1))->info.run_id, a);
  if (common > 0) {
    EXPECT_TRUE(store_->GetRunByIdOrPrefix(a.substr(0, common)).status().IsInvalidArgument());
  }
  // A one-digit prefix neither id starts with (16 digits, 2 runs: one always exists).
  std::string absent;
  for (char d : std::string("0123456789abcdef")) {
    if (a[0] != d && b[0] != d) {
      absent = std::string(1, d);
      break;
    }
  }
  EXPECT_TRUE(store_->GetRunByIdOrPrefix(absent).status().IsNotFound());
  EXPECT_TRUE(store_->GetRunByIdOrPrefix("%").status().IsInvalidArgument());
  EXPECT_TRUE(store_->GetRunByIdOrPrefix("").status().IsInvalidArgument());
}

TEST_P(TrackingStoreTest, ParamsAreImmutable) {
  std::string run_id = NewRun();
  ASSERT_TRUE(store_->LogParam(run_id, {"lr", "0.1"}).ok());
  EXPECT_TRUE(store_->LogParam(run_id, {"lr", "0.1"}).ok());  // same value: fine
  Status s = store_->LogParam(run_id, {"lr", "0.2"});
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_NE(s.message().find("Changing param values is not allowed"), std::string::npos) << s.message();
  // A rejected batch writes nothing, not even its valid parts.
  s = store_->LogBatch(run_id, {{"m", 1, 1, 0}}, {{"lr", "0.3"}, {"new", "x"}}, {});
  EXPECT_TRUE(s.IsInvalidArgument());
  auto run = store_->GetRun(run_id);
  EXPECT_EQ(run->params.size(), 1u);
  EXPECT_TRUE(run->metrics.empty());
}

TEST_P(TrackingStoreTest, DeletedRunRefusesWrites) {
  std::string run_id = NewRun();
  ASSERT_TRUE(store_->DeleteRun(run_id).ok());
  Status s = store_->LogMetric(run_id, {"m", 1, 1, 0});
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_NE(s.message().find("must be in the 'active' state"), std::string::npos);
  ASSERT_TRUE(store_->RestoreRun(run_id).ok());
  EXPECT_TRUE(store_->LogMetric(run_id, {"m", 1, 1, 0}).ok());
  EXPECT_TRUE(store_->DeleteRun("ffffffffffffffffffffffffffffffff").IsNotFound());
}

TEST_P(TrackingStoreTest, ValidatesKeysValuesAndBatchLimits) {
  std::string run_id = NewRun();
  for (const char* bad : {"", "a$b", "../etc", "a/../b", "/abs", "x/.."}) {
    EXPECT_TRUE(store_->LogMetric(run_id, {bad, 1, 1, 0}).IsInvalidArgument()) << bad;
  }
  EXPECT_TRUE(store_->LogMetric(run_id, {"ok key/with-dash_and.dot", 1, 1, 0}).ok());
  EXPECT_TRUE(store_->LogParam(run_id, {std::string(251, 'k'), "v"}).IsInvalidArgument());
  EXPECT_TRUE(store_->LogParam(run_id, {"p", std::string(6001, 'v')}).IsInvalidArgument());
  EXPECT_TRUE(store_->LogParam(run_id, {"p", std::string(6000, 'v')}).ok());
  EXPECT_TRUE(store_->SetTag(run_id, {"t", std::string(8001, 'v')}).IsInvalidArgument());
  std::vector<Metric> many(1001, Metric{"m", 1, 1, 0});
  Status s = store_->LogBatch(run_id, many, {}, {});
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_NE(s.message().find("at most 1000 metrics"), std::string::npos);
  std::vector<Param> params(101);
  for (size_t i = 0; i < params.size(); ++i) params[i] = {"p" + std::to_string(i), "v"};
  EXPECT_TRUE(store_->LogBatch(run_id, {}, params, {}).IsInvalidArgument());
}

// Regression (issue 20): an order_by of 21 metric keys (or 31 params) made SQLite 3.40 crash the whole
// process; 64 metric comparisons failed with SQL text in a 500; a 50 KB LIKE pattern too. Each is now a
// refusal naming the limit, and the largest allowed search runs.
TEST_P(TrackingStoreTest, SearchesPastTheGrammarsLimitsAreRefusedAndTheLimitsWork) {
  std::string run_id = NewRun();
  std::vector<Metric> metrics;
  for (size_t i = 0; i < kMaxFilterComparisons; ++i) metrics.push_back({"m" + std::to_string(i), 1.0, 1, 0});
  ASSERT_TRUE(store_->LogBatch(run_id, metrics, {}, {}).ok());
  SearchRunsRequest request;
  request.experiment_ids = {"0"};
  // Keys no filter joins already: each adds a join and three ORDER BY terms.
  for (size_t i = 0; i <= kMaxOrderByTerms; ++i) request.order_by.push_back(fmt::format("metrics.z{} DESC", i));
  auto too_many_orders = store_->SearchRuns(request);
  ASSERT_TRUE(too_many_orders.status().IsInvalidArgument()) << too_many_orders.status().ToString();
  EXPECT_NE(too_many_orders.status().message().find("at most 16"), std::string::npos);
  request.order_by.pop_back();
  for (size_t i = 0; i < kMaxFilterComparisons; ++i) {
    request.filter += fmt::format("{}metrics.m{} > 0", i == 0 ? "" : " AND ", i);
  }
  auto largest = store_->SearchRuns(request);  // 40 filter joins + 16 ordering joins
  ASSERT_TRUE(largest.ok()) << largest.status().ToString();
  ASSERT_EQ(largest->items.size(), 1u);
  EXPECT_EQ(largest->items[0].info.run_id, run_id);

  request.order_by.clear();
  request.filter += " AND metrics.m0 > 0";
  auto too_many_clauses = store_->SearchRuns(request);
  ASSERT_TRUE(too_many_clauses.status().IsInvalidArgument()) << too_many_clauses.status().ToString();
  EXPECT_NE(too_many_clauses.status().message().find("at most 40"), std::string::npos);
  request.filter = "params.p LIKE '" + std::string(50'000, '%') + "'";
  auto long_pattern = store_->SearchRuns(request);
  ASSERT_TRUE(long_pattern.status().IsInvalidArgument()) << long_pattern.status().ToString();
  EXPECT_NE(long_pattern.status().message().find("at most 6000"), std::string::npos);
  request.filter = "params.p LIKE '" + std::string(kMaxFilterValueLength, '%') + "'";
  EXPECT_TRUE(store_->SearchRuns(request).ok());
}

TEST_P(TrackingStoreTest, RunNamesUsersAndLocationsAreBounded) {
  CreateRunRequest req;
  req.experiment_id = "0";
  req.run_name = std::string(10 << 20, 'n');
  auto huge = store_->CreateRun(req);
  ASSERT_TRUE(huge.status().IsInvalidArgument());
  EXPECT_NE(huge.status().message().find("run name has 10485760 characters; the limit is 250"), std::string::npos)
      << huge.status().message();
  req.run_name = std::string(250, 'n');
  EXPECT_TRUE(store_->CreateRun(req).ok());
  req.run_name.clear();
  req.tags = {{"mlflow.runName", std::string(251, 'n')}};  // the name may come from its tag too
  EXPECT_TRUE(store_->CreateRun(req).status().IsInvalidArgument());
  req.tags.clear();
  req.user_id = std::string(257, 'u');
  EXPECT_TRUE(store_->CreateRun(req).status().IsInvalidArgument());
  EXPECT_TRUE(store_->CreateExperiment("far", std::string(1001, 'a'), {}).status().IsInvalidArgument());
}

TEST_P(TrackingStoreTest, MetricHistoryPagesInOrderAndKeepsNaN) {
  std::string run_id = NewRun();
  std::vector<Metric> batch;
  for (int i = 0; i < 250; ++i) batch.push_back({"loss", 1.0 / (i + 1), 1000 + i, i});
  batch[7].value = std::nan("");
  ASSERT_TRUE(store_->LogBatch(run_id, batch, {}, {}).ok());
  ASSERT_TRUE(store_->LogBatch(run_id, {batch[0]}, {}, {}).ok());  // duplicate point: stored once
  std::vector<Metric> all;
  std::string token;
  int pages = 0;
  do {
    auto page = store_->GetMetricHistory(run_id, "loss", 100, token);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    all.insert(all.end(), page->items.begin(), page->items.end());
    token = page->next_page_token;
    ++pages;
  } while (!token.empty());
  EXPECT_EQ(pages, 3);
  ASSERT_EQ(all.size(), 250u);
  for (int i = 0; i < 250; ++i) {
    EXPECT_EQ(all[i].step, i);
    if (i == 7) {
      EXPECT_TRUE(std::isnan(all[i].value));
    } else {
      EXPECT_EQ(all[i].value, 1.0 / (i + 1));
    }
  }
  EXPECT_TRUE(store_->GetMetricHistory(run_id, "loss", 100, "garbage!").status().IsInvalidArgument());
  EXPECT_TRUE(store_->GetMetricHistory("nope", "loss", 100, "").status().IsNotFound());
  EXPECT_TRUE(store_->GetMetricHistory(run_id, "loss", 50001, "").status().IsInvalidArgument());
}

TEST_P(TrackingStoreTest, SearchRunsFiltersOrdersAndPages) {
  auto exp = store_->CreateExperiment("search", "", {});
  ASSERT_TRUE(exp.ok());
  // 30 runs: auc = i/30, model alternates, run 29 has no auc, tag owner on even runs.
  std::vector<std::string> ids;
  for (int i = 0; i < 30; ++i) {
    std::string id = NewRun(*exp, 1000 + i, "run-" + std::to_string(i));
    ids.push_back(id);
    std::vector<Metric> metrics;
    if (i != 29) metrics.push_back({"auc", i / 30.0, 1, 0});
    std::vector<Tag> tags;
    if (i % 2 == 0) tags.push_back({"owner", i % 4 == 0 ? "Ann" : "bob"});
    ASSERT_TRUE(store_->LogBatch(id, metrics, {{"model", i % 2 ? "lr" : "xgb"}}, tags).ok());
  }
  ASSERT_TRUE(store_->UpdateRun({ids[3], RunStatus::kFailed, 5000, std::nullopt}).ok());
  ASSERT_TRUE(store_->DeleteRun(ids[4]).ok());

  auto search = [&](const std::string& filter, std::vector<std::string> order = {}, int64_t max = 1000,
                    ViewType view = ViewType::kActiveOnly) {
    SearchRunsRequest req;
    req.experiment_ids = {*exp};
    req.filter = filter;
    req.order_by = std::move(order);
    req.max_results = max;
    req.view_type = view;
    auto page = store_->SearchRuns(req);
    EXPECT_TRUE(page.ok()) << filter << ": " << page.status().ToString();
    return page.ok() ? page.value() : Page<tracking::Run>{};
  };

  // Default order: start_time DESC; the deleted run is hidden.
  auto all = search("");
  ASSERT_EQ(all.items.size(), 29u);
  EXPECT_EQ(all.items[0].info.run_id, ids[29]);
  EXPECT_EQ(search("", {}, 1000, ViewType::kAll).items.size(), 30u);
  EXPECT_EQ(search("", {}, 1000, ViewType::kDeletedOnly).items.size(), 1u);

  EXPECT_EQ(search("metrics.auc >= 0.5").items.size(), 14u);                         // i = 15..28
  EXPECT_EQ(search("metrics.auc > 0.5 AND params.model = 'xgb'").items.size(), 7u);  // 16, 18, ..., 28
  EXPECT_EQ(search("params.model != 'xgb'").items.size(), 15u);
  EXPECT_EQ(search("tags.owner = 'Ann'").items.size(), 7u);    // 0, 4, ..., 28 less the deleted 4
  EXPECT_EQ(search("tags.owner LIKE 'a%'").items.size(), 0u);  // LIKE is case-sensitive
  EXPECT_EQ(search("tags.owner ILIKE 'a%'").items.size(), 7u);
  EXPECT_EQ(search("attributes.status = 'FAILED'").items.size(), 1u);
  EXPECT_EQ(search("status IN ('FAILED', 'FINISHED')").items.size(), 1u);
  EXPECT_EQ(search("run_name = 'run-7'").items[0].info.run_id, ids[7]);
  EXPECT_EQ(search("attributes.start_time >= 1020").items.size(), 10u);

  // Order by metric, missing values last in both directions.
  auto desc = search("", {"metrics.auc DESC"});
  ASSERT_EQ(desc.items.size(), 29u);
  EXPECT_EQ(desc.items[0].info.run_id, ids[28]);
  EXPECT_EQ(desc.items.back().info.run_id, ids[29]);
  auto asc = search("", {"metrics.auc ASC"});
  EXPECT_EQ(asc.items[0].info.run_id, ids[0]);
  EXPECT_EQ(asc.items.back().info.run_id, ids[29]);
  auto by_name = search("", {"attributes.run_name ASC"});
  EXPECT_EQ(by_name.items[0].info.run_name, "run-0");

  // Pages cover every run exactly once.
  std::set<std::string> seen;
  std::string token;
  int pages = 0;
  do {
    SearchRunsRequest req;
    req.experiment_ids = {*exp};
    req.max_results = 7;
    req.order_by = {"metrics.auc DESC"};
    req.page_token = token;
    auto page = store_->SearchRuns(req);
    ASSERT_TRUE(page.ok());
    for (const auto& r : page->items) EXPECT_TRUE(seen.insert(r.info.run_id).second);
    token = page->next_page_token;
    ++pages;
  } while (!token.empty());
  EXPECT_EQ(seen.size(), 29u);
  EXPECT_EQ(pages, 5);

  // Runs carry their data.
  auto one = search("run_name = 'run-2'");
  ASSERT_EQ(one.items.size(), 1u);
  EXPECT_EQ(one.items[0].params, (std::vector<Param>{{"model", "xgb"}}));
  EXPECT_EQ(one.items[0].metrics.size(), 1u);
}

TEST_P(TrackingStoreTest, SearchRunsRejectsBadRequests) {
  SearchRunsRequest req;
  req.experiment_ids = {"0"};
  req.max_results = 50001;
  EXPECT_TRUE(store_->SearchRuns(req).status().IsInvalidArgument());
  req.max_results = 10;
  req.filter = "metrics.auc > 'high'";
  EXPECT_NE(store_->SearchRuns(req).status().message().find("expected a number"), std::string::npos);
  req.filter = "params.model > 'a'";
  EXPECT_NE(store_->SearchRuns(req).status().message().find("does not support the comparator '>'"), std::string::npos);
  req.filter = "attributes.color = 'red'";
  EXPECT_NE(store_->SearchRuns(req).status().message().find("Invalid attribute key 'color'"), std::string::npos);
  req.filter = "";
  req.order_by = {"attributes.color"};
  EXPECT_TRUE(store_->SearchRuns(req).status().IsInvalidArgument());
}

TEST_P(TrackingStoreTest, SearchExperiments) {
  for (const char* name : {"ato-a", "ato-b", "promo"})
    ASSERT_TRUE(store_->CreateExperiment(name, "", {{"k", name}}).ok());
  SearchExperimentsRequest req;
  req.filter = "name LIKE 'ato%'";
  req.order_by = {"name DESC"};
  auto page = store_->SearchExperiments(req);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ(page->items.size(), 2u);
  EXPECT_EQ(page->items[0].name, "ato-b");
  req.filter = "tags.k = 'promo'";
  req.order_by = {};
  EXPECT_EQ(store_->SearchExperiments(req)->items.size(), 1u);
  req.filter = "";
  req.max_results = 2;
  page = store_->SearchExperiments(req);
  EXPECT_EQ(page->items.size(), 2u);
  EXPECT_FALSE(page->next_page_token.empty());
  req.page_token = page->next_page_token;
  EXPECT_EQ(store_->SearchExperiments(req)->items.size(), 2u);  // 4 experiments with Default
}

TEST_P(TrackingStoreTest, ConcurrentLoggersLoseNothing) {
  constexpr int kThreads = 4, kBatches = 20;
  std::vector<std::string> runs;
  for (int t = 0; t < kThreads; ++t) runs.push_back(NewRun());
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int b = 0; b < kBatches; ++b) {
        std::vector<Metric> metrics;
        for (int i = 0; i < 10; ++i) metrics.push_back({"m", double(i), b * 10 + i, b * 10 + i});
        if (!store_->LogBatch(runs[t], metrics, {{"p" + std::to_string(b), "v"}}, {}).ok()) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  for (const auto& run : runs) {
    auto history = store_->GetMetricHistory(run, "m", 1000, "");
    ASSERT_TRUE(history.ok());
    EXPECT_EQ(history->items.size(), size_t(kBatches * 10));
    EXPECT_EQ(store_->GetRun(run)->params.size(), size_t(kBatches));
  }
}

TEST_P(TrackingStoreTest, LogInputs) {
  std::string run_id = NewRun();
  DatasetInput in;
  in.dataset = {"logins", "abc123", "local", "data/logins.csv", "{}", "{\"rows\": 10}"};
  in.tags = {{"mlflow.data.context", "training"}};
  ASSERT_TRUE(store_->LogInputs(run_id, {in}).ok());
  auto run = store_->GetRun(run_id);
  ASSERT_EQ(run->inputs.size(), 1u);
  EXPECT_EQ(run->inputs[0].dataset.digest, "abc123");
  EXPECT_EQ(run->inputs[0].tags[0].value, "training");
  SearchRunsRequest req;
  req.experiment_ids = {"0"};
  req.filter = "datasets.name = 'logins'";
  EXPECT_EQ(store_->SearchRuns(req)->items.size(), 1u);
}

INSTANTIATE_TEST_SUITE_P(Backends, TrackingStoreTest, ::testing::ValuesIn(store::testing::Backends()),
                         store::testing::BackendName);

}  // namespace
}  // namespace gyre::tracking
