#include "demo/demo.h"

#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "core/config.h"
#include "core/workspace.h"
#include "datagen/ato.h"
#include "demo/embedded_files.h"

namespace fs = std::filesystem;

namespace gyre::demo {
namespace {

// Stage header and timing, so every stage reads the same way.
class Stages {
 public:
  Stages(std::FILE* out, int total) : out_(out), total_(total) {}

  void Begin(const std::string& title) {
    ++index_;
    started_ = std::chrono::steady_clock::now();
    fmt::print(out_, "\n[{}/{}] {}\n", index_, total_, title);
    std::fflush(out_);
  }
  void End() {
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    fmt::print(out_, "      done in {:.2f}s\n", s);
    std::fflush(out_);
  }
  // A progress bar redrawn in place; a no-op when the fraction has not moved a visible step.
  void Progress(double fraction) {
    int percent = static_cast<int>(fraction * 100);
    if (percent == last_percent_) return;
    last_percent_ = percent;
    int filled = percent * 30 / 100;
    fmt::print(out_, "\r      [{:<30}] {:3d}%", std::string(filled, '#'), percent);
    if (percent >= 100) fmt::print(out_, "\n");
    std::fflush(out_);
  }

 private:
  std::FILE* out_;
  int total_;
  int index_ = 0;
  int last_percent_ = -1;
  std::chrono::steady_clock::time_point started_;
};

// The demo's data settings: examples/ato/datagen.yaml, read strictly like every workspace file.
Result<datagen::AtoOptions> LoadDatagenOptions(const std::string& path, const std::string& workspace) {
  GYRE_ASSIGN_OR_RETURN(ConfigDocument doc, ConfigDocument::LoadFile(path));
  datagen::AtoOptions options;
  ConfigObject root = doc.Root();
  int64_t seed = static_cast<int64_t>(options.seed);
  std::string start = "2026-01-01", out = "data";
  root.Optional("seed", &seed);
  root.Optional("users", &options.users);
  root.Optional("days", &options.days);
  root.Optional("start", &start);
  root.Optional("drift_day", &options.drift_day);
  root.Optional("out", &out);
  GYRE_RETURN_IF_ERROR(root.Finish());
  options.seed = static_cast<uint64_t>(seed);
  Result<TimestampMicros> start_ts = ParseDate(start);
  if (!start_ts.ok()) return start_ts.status().WithContext(path + ": 'start'");
  options.start = *start_ts;
  options.out_dir = (fs::path(workspace) / out).string();
  return options;
}

std::string Thousands(int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

void PrintDataSummary(std::FILE* out, const datagen::AtoSummary& s) {
  fmt::print(out, "      {:<22} {:>12}\n", "file", "rows");
  for (const datagen::AtoFileSummary* f : {&s.logins, &s.account_events, &s.promo_redemptions, &s.labels,
                                           &s.campaigns, &s.ground_truth}) {
    fmt::print(out, "      {:<22} {:>12}\n", fs::path(f->path).filename().string(), Thousands(f->rows));
  }
  fmt::print(out, "      users: {} initial + {} new-market; {} events ({:.0f} events/s)\n",
             Thousands(s.initial_users), Thousands(s.new_market_users), Thousands(s.events), s.events_per_second);
  fmt::print(out, "      fraud: {} events ({:.2f}%), of which never labeled: {}\n", Thousands(s.fraud_events),
             100.0 * s.fraud_rate, Thousands(s.fraud_never_labeled));
  for (const auto& [type, n] : s.fraud_events_by_type) {
    fmt::print(out, "        {:<24} {:>10} events in {} campaigns\n", type, Thousands(n),
               s.campaigns_by_type.count(type) ? s.campaigns_by_type.at(type) : 0);
  }
  for (const auto& [source, d] : s.label_delays) {
    fmt::print(out, "      labels from {:<16} {:>8}  delay median {:.1f}h (min {:.1f}h, max {:.1f}h)\n", source,
               Thousands(d.count), d.median_hours, d.min_hours, d.max_hours);
  }
  fmt::print(out, "      drift planted from day {} ({})\n", s.drift_day, FormatTimestamp(s.drift_time));
}

}  // namespace

Result<int> LayOutAtoExample(const std::string& dir) {
  int written = 0;
  for (const EmbeddedFile& file : AtoExampleFiles()) {
    fs::path path = fs::path(dir) / std::string(file.path);
    std::error_code ec;
    if (fs::exists(path, ec)) continue;
    fs::create_directories(path.parent_path(), ec);
    std::ofstream out(path, std::ios::binary);
    out.write(file.content.data(), static_cast<std::streamsize>(file.content.size()));
    out.close();
    if (!out) return Status::IOError(fmt::format("{}: cannot write", path.string()));
    ++written;
  }
  return written;
}

Status RunDemo(const DemoOptions& options) {
  std::FILE* out = options.out;
  Stages stages(out, 2);
  auto started = std::chrono::steady_clock::now();

  stages.Begin("Workspace: lay out the examples/ato project");
  std::error_code ec;
  bool fresh = !fs::exists(options.workspace, ec) || fs::is_empty(options.workspace, ec);
  if (!fresh && !fs::exists(fs::path(options.workspace) / Workspace::kConfigFile, ec)) {
    return Status::FailedPrecondition(fmt::format(
        "{}: not empty and not a gyre workspace; pass --workspace with a new folder", options.workspace));
  }
  GYRE_ASSIGN_OR_RETURN(int written, LayOutAtoExample(options.workspace));
  GYRE_ASSIGN_OR_RETURN(Workspace ws, Workspace::Open(options.workspace));
  fmt::print(out, "      workspace '{}' at {} ({} example files written{})\n", ws.config().name, ws.root(), written,
             fresh ? "" : ", existing files kept");
  stages.End();

  stages.Begin("Data: generate synthetic logins, account changes, promo redemptions and late labels");
  GYRE_ASSIGN_OR_RETURN(datagen::AtoOptions data_options,
                        LoadDatagenOptions((fs::path(ws.root()) / "datagen.yaml").string(), ws.root()));
  if (options.users > 0) data_options.users = options.users;
  if (options.days > 0) {
    data_options.days = options.days;
    if (data_options.drift_day > options.days) data_options.drift_day = -1;
  }
  fmt::print(out, "      seed {}, {} users, {} days from {}\n", data_options.seed, Thousands(data_options.users),
             data_options.days, FormatTimestamp(data_options.start).substr(0, 10));
  GYRE_ASSIGN_OR_RETURN(datagen::AtoSummary data,
                        datagen::GenerateAto(data_options, [&](double f) { stages.Progress(f); }));
  stages.Progress(1.0);
  PrintDataSummary(out, data);
  stages.End();

  double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  fmt::print(out, "\nDemo finished in {:.1f}s. Outputs:\n", total);
  fmt::print(out, "  workspace      {}\n", ws.root());
  fmt::print(out, "  events, labels {}/\n", data_options.out_dir);
  fmt::print(out, "  ground truth   {}, {}\n", data.campaigns.path, data.manifest_path);
  fmt::print(out, "Next: gyre data profile {}\n", data.logins.path);
  return Status::OK();
}

}  // namespace gyre::demo
