// gyre datagen ato: synthetic ATO and promo-abuse events with ground truth (datagen/ato.h).
#include <fmt/format.h>

#include <cstdio>
#include <memory>

#include "cli/command.h"
#include "core/time.h"
#include "datagen/ato.h"

namespace gyre::cli {
namespace {

struct AtoFlags {
  datagen::AtoOptions options;
  std::string start = "2026-01-01";
  bool quiet = false;
};

void PrintSummary(const datagen::AtoSummary& s) {
  auto file = [](const char* name, const datagen::AtoFileSummary& f) {
    fmt::print("  {:<24} {:>12} rows {:>10.1f} MB\n", name, f.rows, static_cast<double>(f.bytes) / 1e6);
  };
  fmt::print("Wrote {} events in {:.2f} s: {:.2f} M events/s, {:.0f} MB/s\n", s.events, s.elapsed_seconds,
             s.events_per_second / 1e6, s.bytes_per_second / 1e6);
  fmt::print("  setup {:.2f} s, generate {:.2f} s, write {:.2f} s (overlapping)\n", s.setup_seconds,
             s.generate_seconds, s.write_seconds);
  file("logins.csv", s.logins);
  file("account_events.csv", s.account_events);
  file("promo_redemptions.csv", s.promo_redemptions);
  file("labels.csv", s.labels);
  file("campaigns.csv", s.campaigns);
  file("ground_truth.csv", s.ground_truth);
  fmt::print("  manifest: {}\n", s.manifest_path);
  fmt::print("Users: {} initial, {} new-market, {} ring accounts\n", s.initial_users, s.new_market_users,
             s.ring_accounts);
  fmt::print("Fraud: {} of {} events ({:.2f}%), {} recovery events\n", s.fraud_events, s.events,
             100.0 * s.fraud_rate, s.recovery_events);
  for (const auto& [type, n] : s.fraud_events_by_type) {
    fmt::print("  {:<22} {:>4} campaigns {:>10} events\n", type, s.campaigns_by_type.at(type), n);
  }
  fmt::print("Labels: {} fraud, {} legit; {} fraud events never labeled; {} labeled after the window\n",
             s.fraud_labels, s.legit_labels, s.fraud_never_labeled, s.labels_after_window);
  for (const auto& [source, d] : s.label_delays) {
    fmt::print("  {:<16} {:>9} labels, delay min {:.1f} h, median {:.1f} h, max {:.1f} h\n", source, d.count,
               d.min_hours, d.median_hours, d.max_hours);
  }
  fmt::print("Drift: day {} ({})\n", s.drift_day, FormatTimestamp(s.drift_time));
}

}  // namespace

void AddDatagenCommand(CLI::App& root) {
  auto* datagen = root.add_subcommand("datagen", "Generate synthetic event data");
  datagen->require_subcommand(1);

  auto* ato = datagen->add_subcommand(
      "ato", "Login, account-change and promo events with takeover / stuffing / spray / promo-ring campaigns, "
             "late labels, ground truth and a planted drift");
  auto flags = std::make_shared<AtoFlags>();
  auto& o = flags->options;
  ato->add_option("--out", o.out_dir, "Output folder (created if missing)")->required();
  ato->add_option("--seed", o.seed, "Random seed: same seed and options, same bytes")->capture_default_str();
  ato->add_option("--users", o.users, "Initial customers")->capture_default_str();
  ato->add_option("--days", o.days, "Days of events")->capture_default_str();
  ato->add_option("--start", flags->start, "First day, YYYY-MM-DD (UTC)")->capture_default_str();
  ato->add_option("--drift-day", o.drift_day, "Day index of the planted drift, 0..days (-1: days*2/3)")
      ->capture_default_str();
  ato->add_option("--fraud-rate", o.fraud_rate, "Share of events made by attackers")->capture_default_str();
  ato->add_option("--stuffing-share", o.stuffing_share, "Fraud budget share: credential stuffing")->capture_default_str();
  ato->add_option("--spray-share", o.spray_share, "Fraud budget share: password spray")->capture_default_str();
  ato->add_option("--takeover-share", o.takeover_share, "Fraud budget share: account takeover")->capture_default_str();
  ato->add_option("--promo-ring-share", o.promo_ring_share, "Fraud budget share: promo-abuse rings")
      ->capture_default_str();
  ato->add_option("--unlabeled-rate", o.unlabeled_fraud_rate, "Share of fraud events never labeled")
      ->capture_default_str();
  ato->add_option("--label-noise", o.label_noise, "Share of analyst verdicts that are wrong")->capture_default_str();
  ato->add_option("--review-rate", o.review_rate, "Share of ordinary legit events an analyst reviews")
      ->capture_default_str();
  ato->add_option("--new-market-share", o.new_market_share, "New-market signups after the drift, per initial user")
      ->capture_default_str();
  ato->add_option("--activity-scale", o.activity_scale, "Multiplies every user's session rate")->capture_default_str();
  ato->add_option("--threads", o.threads, "Generator threads (0: all cores); the output does not depend on it")
      ->capture_default_str();
  ato->add_flag("--quiet", flags->quiet, "No progress line");

  SetAction(ato, [flags]() -> Status {
    auto start = ParseDate(flags->start);
    if (!start.ok()) return Status::InvalidArgument(fmt::format("option 'start': {}", start.status().message()));
    flags->options.start = *start;
    std::function<void(double)> progress;
    int last = -1;
    if (!flags->quiet) {
      progress = [&last](double fraction) {
        int percent = static_cast<int>(fraction * 100);
        if (percent == last) return;
        last = percent;
        fmt::print(stderr, "\rdatagen ato: {:3d}%", percent);
        std::fflush(stderr);
      };
    }
    auto summary = datagen::GenerateAto(flags->options, progress);
    if (!flags->quiet) fmt::print(stderr, "\n");
    if (!summary.ok()) return summary.status();
    PrintSummary(*summary);
    return Status::OK();
  });
}

}  // namespace gyre::cli
