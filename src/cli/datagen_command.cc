// gyre datagen ato: synthetic ATO and promo-abuse events with ground truth (datagen/ato.h).
#include <fmt/format.h>

#include <cstdio>
#include <functional>
#include <memory>
#include <vector>

#include "cli/command.h"
#include "core/time.h"
#include "datagen/ato.h"
#include "datagen/ato_config.h"

namespace gyre::cli {
namespace {

struct AtoFlags {
  datagen::AtoOptions options;
  std::string start = "2026-01-01";
  std::string config;
  bool quiet = false;
  std::vector<std::function<void(datagen::AtoOptions&)>> overrides;
};

void PrintSummary(const datagen::AtoSummary& s) {
  auto file = [](const char* name, const datagen::AtoFileSummary& f) {
    fmt::print("  {:<24} {:>12} rows {:>10.1f} MB\n", name, f.rows, static_cast<double>(f.bytes) / 1e6);
  };
  fmt::print("Wrote {} events in {:.2f} s: {:.2f} M events/s, {:.0f} MB/s\n", s.events, s.elapsed_seconds,
             s.events_per_second / 1e6, s.bytes_per_second / 1e6);
  fmt::print("  setup {:.2f} s, generate {:.2f} s, write {:.2f} s (overlapping)\n", s.setup_seconds, s.generate_seconds,
             s.write_seconds);
  file("logins.csv", s.logins);
  file("account_events.csv", s.account_events);
  file("promo_redemptions.csv", s.promo_redemptions);
  file("labels.csv", s.labels);
  file("campaigns.csv", s.campaigns);
  file("ground_truth.csv", s.ground_truth);
  fmt::print("  manifest: {}\n", s.manifest_path);
  fmt::print("Users: {} initial, {} new-market, {} ring accounts\n", s.initial_users, s.new_market_users,
             s.ring_accounts);
  fmt::print("Fraud: {} of {} events ({:.2f}%), {} recovery events\n", s.fraud_events, s.events, 100.0 * s.fraud_rate,
             s.recovery_events);
  for (const auto& [type, n] : s.fraud_events_by_type) {
    fmt::print("  {:<22} {:>4} campaigns {:>10} events\n", type, s.campaigns_by_type.at(type), n);
  }
  fmt::print("Labels: {} fraud, {} legit; {} fraud events never labeled; {} labeled after the window\n", s.fraud_labels,
             s.legit_labels, s.fraud_never_labeled, s.labels_after_window);
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
      "ato",
      "Login, account-change and promo events with takeover / stuffing / spray / promo-ring campaigns, "
      "late labels, ground truth and a planted drift");
  auto flags = std::make_shared<AtoFlags>();
  // Each flag writes into flags->options; with --config, only the flags given on the command line
  // override the file's values.
  auto flag = [&](const char* name, auto datagen::AtoOptions::*field, const char* help) {
    CLI::Option* opt = ato->add_option(name, flags->options.*field, help)->capture_default_str();
    flags->overrides.push_back([opt, field, f = flags.get()](datagen::AtoOptions& o) {
      if (opt->count() > 0) o.*field = f->options.*field;
    });
  };
  ato->add_option("--config", flags->config,
                  "YAML file with the same settings (e.g. examples/ato/datagen.yaml); "
                  "flags given here override it");
  flag("--out", &datagen::AtoOptions::out_dir,
       "Output folder (created if missing); required unless the config has out");
  flag("--seed", &datagen::AtoOptions::seed, "Random seed: same seed and options, same bytes");
  flag("--users", &datagen::AtoOptions::users, "Initial customers");
  flag("--days", &datagen::AtoOptions::days, "Days of events");
  CLI::Option* start = ato->add_option("--start", flags->start, "First day, YYYY-MM-DD (UTC)")->capture_default_str();
  flag("--drift-day", &datagen::AtoOptions::drift_day, "Day index of the planted drift, 0..days (-1: days*2/3)");
  flag("--fraud-rate", &datagen::AtoOptions::fraud_rate, "Share of events made by attackers");
  flag("--stuffing-share", &datagen::AtoOptions::stuffing_share, "Fraud budget share: credential stuffing");
  flag("--spray-share", &datagen::AtoOptions::spray_share, "Fraud budget share: password spray");
  flag("--takeover-share", &datagen::AtoOptions::takeover_share, "Fraud budget share: account takeover");
  flag("--promo-ring-share", &datagen::AtoOptions::promo_ring_share, "Fraud budget share: promo-abuse rings");
  flag("--unlabeled-rate", &datagen::AtoOptions::unlabeled_fraud_rate, "Share of fraud events never labeled");
  flag("--label-noise", &datagen::AtoOptions::label_noise, "Share of analyst verdicts that are wrong");
  flag("--review-rate", &datagen::AtoOptions::review_rate, "Share of ordinary legit events an analyst reviews");
  flag("--new-market-share", &datagen::AtoOptions::new_market_share,
       "New-market signups after the drift, per initial user");
  flag("--activity-scale", &datagen::AtoOptions::activity_scale, "Multiplies every user's session rate");
  flag("--threads", &datagen::AtoOptions::threads,
       "Generator threads (0: all cores); the output does not depend on it");
  ato->add_flag("--quiet", flags->quiet, "No progress line");

  SetAction(ato, [flags, start]() -> Status {
    datagen::AtoOptions options = flags->options;
    if (!flags->config.empty()) {
      GYRE_ASSIGN_OR_RETURN(options, datagen::LoadAtoOptions(flags->config));
      for (const auto& apply : flags->overrides) apply(options);
    }
    if (flags->config.empty() || start->count() > 0) {
      auto t = ParseDate(flags->start);
      if (!t.ok()) return Status::InvalidArgument(fmt::format("option 'start': {}", t.status().message()));
      options.start = *t;
    }
    if (options.out_dir.empty())
      return Status::InvalidArgument("option 'out': --out (or 'out' in --config) is required");
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
    auto summary = datagen::GenerateAto(options, progress);
    if (!flags->quiet) fmt::print(stderr, "\n");
    if (!summary.ok()) return summary.status();
    PrintSummary(*summary);
    return Status::OK();
  });
}

}  // namespace gyre::cli
