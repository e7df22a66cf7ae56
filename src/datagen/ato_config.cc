#include "datagen/ato_config.h"

#include <filesystem>

#include "core/time.h"

namespace gyre::datagen {

Result<AtoOptions> ReadAtoOptions(const ConfigDocument& doc, const std::string& base_dir, AtoOptions o) {
  ConfigObject root = doc.Root();
  int64_t seed = static_cast<int64_t>(o.seed);
  root.Optional("seed", &seed);
  if (seed < 0) root.Error("seed", "must not be negative");
  o.seed = static_cast<uint64_t>(seed);
  root.Optional("users", &o.users);
  root.Optional("days", &o.days);
  std::string start;
  root.Optional("start", &start);
  if (!start.empty()) {
    auto t = ParseTimestamp(start);
    if (t.ok()) {
      o.start = *t;
    } else {
      root.Error("start", t.status().message());
    }
  }
  root.Optional("drift_day", &o.drift_day);
  std::string out;
  root.Optional("out", &out);
  if (!out.empty()) {
    std::filesystem::path p(out);
    o.out_dir = p.is_absolute() ? out : (std::filesystem::path(base_dir) / p).lexically_normal().string();
  }
  root.Optional("fraud_rate", &o.fraud_rate);
  root.Optional("stuffing_share", &o.stuffing_share);
  root.Optional("spray_share", &o.spray_share);
  root.Optional("takeover_share", &o.takeover_share);
  root.Optional("promo_ring_share", &o.promo_ring_share);
  root.Optional("unlabeled_fraud_rate", &o.unlabeled_fraud_rate);
  root.Optional("label_noise", &o.label_noise);
  root.Optional("review_rate", &o.review_rate);
  root.Optional("new_market_share", &o.new_market_share);
  root.Optional("activity_scale", &o.activity_scale);
  root.Optional("threads", &o.threads);
  GYRE_RETURN_IF_ERROR(root.Finish());

  // Range errors point at the offending key too. A missing `out` is left to the caller (the CLI may
  // give --out).
  std::string option, message;
  AtoOptions check = o;
  if (check.out_dir.empty()) check.out_dir.assign(1, '.');  // not = ".": GCC 12 -Wrestrict false positive
  if (FindBadOption(check, &option, &message)) {
    root.Error(option == "out_dir" ? "out" : option, message);
    return root.Finish();
  }
  return o;
}

Result<AtoOptions> LoadAtoOptions(const std::string& path, AtoOptions defaults) {
  GYRE_ASSIGN_OR_RETURN(ConfigDocument doc, ConfigDocument::LoadFile(path));
  return ReadAtoOptions(doc, std::filesystem::path(path).parent_path().string(), std::move(defaults));
}

}  // namespace gyre::datagen
