// Tracking API benchmark: the same MLflow REST workload against gyre and, when given, a reference server
// (e.g. MLflow's own), one sequential keep-alive client, medians per operation, and the speed-up ratio.
//
//   tracking_bench --url http://127.0.0.1:8080 [--reference-url http://127.0.0.1:5000]
//                  [--reps 50] [--large-runs 100000] [--reference-large]
//
// Operations (MLflow 2.12 server medians measured here with SQLite on 2 cores, from the issue, are printed
// for comparison when no reference is given): create_run 3.5 ms, log_batch 20 metrics + 10 params 7 ms,
// log_batch 1000 metrics 40 ms, search_runs over 100 runs 37 ms, get_history of 5000 points 158 ms.
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "tests/http/test_client.h"

using nlohmann::json;

namespace {

struct Target {
  std::string name;
  int port = 0;
};

class Client {
 public:
  explicit Client(int port) : port_(port) { client_.Connect(port); }

  // Sends one request and returns (status, parsed body); aborts the benchmark on transport failure.
  std::pair<int, json> Call(const std::string& method, const std::string& path, const json& body = nullptr) {
    std::string payload = body.is_null() ? "" : body.dump();
    std::string request = fmt::format("{} {} HTTP/1.1\r\nHost: 127.0.0.1\r\n", method, path);
    if (method != "GET") request += fmt::format("Content-Type: application/json\r\nContent-Length: {}\r\n", payload.size());
    request += "\r\n" + payload;
    for (int attempt = 0; attempt < 2; ++attempt) {
      if (!client_.connected()) client_.Connect(port_);
      if (client_.Send(request)) {
        auto response = client_.Read(120000);
        if (response) {
          if (response->Header("connection") == "close") client_.Close();
          return {response->status, json::parse(response->body, nullptr, false)};
        }
      }
      client_.Close();
    }
    fmt::print(stderr, "request failed: {} {}\n", method, path);
    std::exit(1);
  }

 private:
  int port_;
  gyre::http::testing::RawClient client_;
};

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

template <typename F>
double TimeMs(F&& f) {
  auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

int PortOf(const std::string& url) {
  size_t colon = url.rfind(':');
  if (colon == std::string::npos) return 80;
  return std::atoi(url.c_str() + colon + 1);
}

const std::string kApi = "/api/2.0/mlflow";

std::string CreateExperiment(Client& c, const std::string& name) {
  auto [status, body] = c.Call("POST", kApi + "/experiments/create", {{"name", name}});
  if (status != 200) {
    fmt::print(stderr, "experiments/create failed: {}\n", body.dump());
    std::exit(1);
  }
  return body["experiment_id"];
}

std::string CreateRun(Client& c, const std::string& exp) {
  auto [status, body] = c.Call("POST", kApi + "/runs/create",
                               {{"experiment_id", exp}, {"start_time", 1700000000000}, {"tags", {{{"key", "mlflow.user"}, {"value", "bench"}}}}});
  if (status != 200) {
    fmt::print(stderr, "runs/create failed: {}\n", body.dump());
    std::exit(1);
  }
  return body["run"]["info"]["run_id"];
}

json Metrics(int n, const std::string& key_prefix, bool same_key, int64_t step0 = 0) {
  json m = json::array();
  for (int i = 0; i < n; ++i) {
    m.push_back({{"key", same_key ? key_prefix : key_prefix + std::to_string(i)},
                 {"value", 0.5 + i * 1e-4},
                 {"timestamp", 1700000000000 + i},
                 {"step", step0 + i}});
  }
  return m;
}

// Seeds `n` runs with metric auc (uniform), param model (xgb/lr), and returns nothing; prints progress.
void SeedRuns(Client& c, const std::string& exp, int n) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> auc(0.5, 1.0);
  for (int i = 0; i < n; ++i) {
    std::string run = CreateRun(c, exp);
    c.Call("POST", kApi + "/runs/log-batch",
           {{"run_id", run},
            {"metrics", {{{"key", "auc"}, {"value", auc(rng)}, {"timestamp", 1}, {"step", 0}}}},
            {"params", {{{"key", "model"}, {"value", i % 2 ? "lr" : "xgb"}}}}});
    if (n >= 10000 && (i + 1) % 10000 == 0) fmt::print(stderr, "  seeded {}/{} runs\n", i + 1, n);
  }
}

std::map<std::string, double> RunWorkload(const Target& t, int reps, int large_runs) {
  Client c(t.port);
  std::map<std::string, double> medians;
  std::string tag = std::to_string(std::chrono::system_clock::now().time_since_epoch().count());
  std::string exp = CreateExperiment(c, "bench-" + tag);

  std::vector<double> times;
  for (int i = 0; i < reps; ++i) times.push_back(TimeMs([&] { CreateRun(c, exp); }));
  medians["create_run"] = Median(times);

  times.clear();
  json params = json::array();
  for (int i = 0; i < 10; ++i) params.push_back({{"key", "p" + std::to_string(i)}, {"value", std::to_string(i)}});
  for (int i = 0; i < reps; ++i) {
    std::string run = CreateRun(c, exp);
    json body = {{"run_id", run}, {"metrics", Metrics(20, "m", false)}, {"params", params}};
    times.push_back(TimeMs([&] { c.Call("POST", kApi + "/runs/log-batch", body); }));
  }
  medians["log_batch 20m+10p"] = Median(times);

  times.clear();
  for (int i = 0; i < reps; ++i) {
    std::string run = CreateRun(c, exp);
    json body = {{"run_id", run}, {"metrics", Metrics(1000, "m", false)}};
    times.push_back(TimeMs([&] { c.Call("POST", kApi + "/runs/log-batch", body); }));
  }
  medians["log_batch 1000m"] = Median(times);

  auto search = [&](const std::string& experiment, const std::string& label) {
    json body = {{"experiment_ids", {experiment}},
                 {"filter", "metrics.auc > 0.75 AND params.model = 'xgb'"},
                 {"order_by", {"metrics.auc DESC"}},
                 {"max_results", 100}};
    std::vector<double> t;
    for (int i = 0; i < reps; ++i) {
      t.push_back(TimeMs([&] {
        auto [status, reply] = c.Call("POST", kApi + "/runs/search", body);
        if (status != 200 || !reply.contains("runs")) {
          fmt::print(stderr, "runs/search failed: {}\n", reply.dump().substr(0, 300));
          std::exit(1);
        }
      }));
    }
    medians[label] = Median(t);
  };
  std::string small = CreateExperiment(c, "bench-search100-" + tag);
  SeedRuns(c, small, 100);
  search(small, "search_runs 100 runs");

  std::string history_run = CreateRun(c, exp);
  for (int b = 0; b < 5; ++b) {
    c.Call("POST", kApi + "/runs/log-batch", {{"run_id", history_run}, {"metrics", Metrics(1000, "loss", true, b * 1000)}});
  }
  times.clear();
  for (int i = 0; i < reps; ++i) {
    times.push_back(TimeMs([&] {
      auto [status, reply] = c.Call("GET", kApi + "/metrics/get-history?run_id=" + history_run +
                                               "&metric_key=loss&max_results=25000");
      if (status != 200 || reply["metrics"].size() != 5000) {
        fmt::print(stderr, "get-history returned {} points\n", reply["metrics"].size());
        std::exit(1);
      }
    }));
  }
  medians["get_history 5000 points"] = Median(times);

  if (large_runs > 0) {
    fmt::print(stderr, "[{}] seeding {} runs for the large search...\n", t.name, large_runs);
    std::string large = CreateExperiment(c, "bench-search-large-" + tag);
    SeedRuns(c, large, large_runs);
    search(large, fmt::format("search_runs {} runs", large_runs));
  }
  return medians;
}

}  // namespace

int main(int argc, char** argv) {
  std::string url, reference;
  int reps = 50, large_runs = 100000;
  bool reference_large = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--url") url = next();
    else if (a == "--reference-url") reference = next();
    else if (a == "--reps") reps = std::atoi(next().c_str());
    else if (a == "--large-runs") large_runs = std::atoi(next().c_str());
    else if (a == "--reference-large") reference_large = true;
    else {
      fmt::print(stderr, "usage: tracking_bench --url URL [--reference-url URL] [--reps N] [--large-runs N] [--reference-large]\n");
      return 2;
    }
  }
  if (url.empty()) {
    fmt::print(stderr, "tracking_bench: --url is required\n");
    return 2;
  }
  auto gyre = RunWorkload({"gyre", PortOf(url)}, reps, large_runs);
  std::optional<std::map<std::string, double>> ref;
  if (!reference.empty()) ref = RunWorkload({"reference", PortOf(reference)}, reps, reference_large ? large_runs : 0);

  // MLflow 2.12.2 (SQLite, 2 cores) medians measured on this kind of machine, from the issue.
  const std::map<std::string, double> kMlflowRecorded = {{"create_run", 3.5},
                                                         {"log_batch 20m+10p", 7},
                                                         {"log_batch 1000m", 40},
                                                         {"search_runs 100 runs", 37},
                                                         {"get_history 5000 points", 158}};
  fmt::print("\n{:<28} {:>12} {:>14} {:>10}\n", "operation (median ms)", "gyre", ref ? "reference" : "mlflow(rec.)",
             "speed-up");
  for (const auto& [op, ms] : gyre) {
    std::optional<double> other;
    if (ref && ref->count(op)) other = ref->at(op);
    else if (!ref && kMlflowRecorded.count(op)) other = kMlflowRecorded.at(op);
    fmt::print("{:<28} {:>12.3f} {:>14} {:>10}\n", op, ms, other ? fmt::format("{:.3f}", *other) : "-",
               other ? fmt::format("{:.1f}x", *other / ms) : "-");
  }
  fmt::print("(reps {}; speed-up = other / gyre; 'mlflow(rec.)' = MLflow 2.12 medians recorded in the issue, not this run)\n",
             reps);
  return 0;
}
