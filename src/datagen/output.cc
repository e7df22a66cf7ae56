#include "datagen/output.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "datagen/label_policy.h"

namespace gyre::datagen {
namespace {

namespace fs = std::filesystem;

// Allocation-free formatting of the fields CsvWriter has no typed call for; each returns the length.
int FormatIp(uint32_t ip, char* out) {
  char* p = out;
  for (int shift = 24; shift >= 0; shift -= 8) {
    unsigned octet = (ip >> shift) & 0xff;
    if (octet >= 100) *p++ = static_cast<char>('0' + octet / 100);
    if (octet >= 10) *p++ = static_cast<char>('0' + octet / 10 % 10);
    *p++ = static_cast<char>('0' + octet % 10);
    if (shift > 0) *p++ = '.';
  }
  return static_cast<int>(p - out);
}

// "u" and 10 digits, as UserProfile spells it. Formatting from the code carried in the event costs less
// than looking the id up: the profiles are far bigger than the caches and rows visit them at random.
int FormatUserId(uint32_t code, char* out) {
  out[0] = 'u';
  for (int i = 10; i >= 1; --i, code /= 10) out[i] = static_cast<char>('0' + code % 10);
  return 11;
}

int FormatHex16(uint64_t v, char* out) {
  static constexpr char kDigits[] = "0123456789abcdef";
  for (int i = 15; i >= 0; --i, v >>= 4) out[i] = kDigits[v & 0xf];
  return 16;
}

// value / 10^D with exactly D digits after the point: "40.7128", "-0.0500", "12.00".
template <int D>
int FormatFixed(int64_t value, char* out) {
  constexpr int64_t kScale = D == 2 ? 100 : 10000;
  static_assert(D == 2 || D == 4);
  char* p = out;
  if (value < 0) {
    *p++ = '-';
    value = -value;
  }
  p = std::to_chars(p, p + 20, value / kScale).ptr;
  *p++ = '.';
  int64_t frac = value % kScale;
  for (int i = D - 1; i >= 0; --i, frac /= 10) p[i] = static_cast<char>('0' + frac % 10);
  return static_cast<int>(p + D - out);
}

// FormatTimestamp's exact output for whole-millisecond times, cheaper: the date part is formatted once
// per day per thread, and only the time of day per event.
int FormatEventTime(TimestampMicros t, char* out) {
  if (t < 0 || t % 1000 != 0) return FormatTimestamp(t, out);
  thread_local int64_t cached_day = -1;
  thread_local char date[11];  // "YYYY-MM-DDT"
  const int64_t day = t / kMicrosPerDay;
  if (day != cached_day) {
    char full[kMaxTimestampChars];
    if (FormatTimestamp(day * kMicrosPerDay, full) != 20) return FormatTimestamp(t, out);  // not a 4-digit year
    std::memcpy(date, full, sizeof(date));
    cached_day = day;
  }
  std::memcpy(out, date, sizeof(date));
  const auto ms = static_cast<int>((t - day * kMicrosPerDay) / 1000);
  auto put2 = [](char* p, int v) {
    p[0] = static_cast<char>('0' + v / 10);
    p[1] = static_cast<char>('0' + v % 10);
  };
  char* p = out + sizeof(date);
  put2(p, ms / 3'600'000);
  p[2] = ':';
  put2(p + 3, ms / 60'000 % 60);
  p[5] = ':';
  put2(p + 6, ms / 1000 % 60);
  p += 8;
  if (int frac = ms % 1000; frac != 0) {  // milliseconds, or nothing on a whole second, like FormatTimestamp
    p[0] = '.';
    p[1] = static_cast<char>('0' + frac / 100);
    p[2] = static_cast<char>('0' + frac / 10 % 10);
    p[3] = static_cast<char>('0' + frac % 10);
    p += 4;
  }
  *p++ = 'Z';
  return static_cast<int>(p - out);
}

Result<CsvWriter> OpenCsv(const std::string& dir, std::string_view name, const std::vector<std::string>& header) {
  GYRE_ASSIGN_OR_RETURN(CsvWriter w, CsvWriter::Open((fs::path(dir) / name).string()));
  w.Row(header);
  return w;
}

Result<AtoFileSummary> CloseCsv(CsvWriter& w) {
  AtoFileSummary s;
  s.path = w.path();
  s.rows = w.rows_written() - 1;
  GYRE_RETURN_IF_ERROR(w.Close());
  std::error_code ec;
  s.bytes = static_cast<int64_t>(fs::file_size(s.path, ec));
  if (ec) return Status::IOError(fmt::format("{}: cannot read its size: {}", s.path, ec.message()));
  return s;
}

}  // namespace

Result<std::unique_ptr<AtoWriter>> AtoWriter::Open(const std::string& dir, const Population& population,
                                                   const CampaignPlan& plan) {
  GYRE_ASSIGN_OR_RETURN(CsvWriter logins, OpenCsv(dir, "logins.csv",
                                                  {"event_id", "time", "user_id", "device_id", "ip", "asn", "country",
                                                   "lat", "lon", "user_agent", "success", "mfa"}));
  GYRE_ASSIGN_OR_RETURN(CsvWriter accounts, OpenCsv(dir, "account_events.csv",
                                                    {"event_id", "time", "user_id", "device_id", "ip", "asn", "country",
                                                     "event_type", "new_value_hash"}));
  GYRE_ASSIGN_OR_RETURN(CsvWriter promos, OpenCsv(dir, "promo_redemptions.csv",
                                                  {"event_id", "time", "user_id", "device_id", "ip", "asn", "country",
                                                   "promo_code", "amount", "order_amount"}));
  GYRE_ASSIGN_OR_RETURN(CsvWriter truth, OpenCsv(dir, "ground_truth.csv",
                                                 {"event_id", "event_kind", "time", "user_id", "campaign_id",
                                                  "campaign_type", "role", "is_fraud"}));
  return std::unique_ptr<AtoWriter>(new AtoWriter(dir, population, plan, std::move(logins), std::move(accounts),
                                                  std::move(promos), std::move(truth)));
}

AtoWriter::AtoWriter(std::string dir, const Population& population, const CampaignPlan& plan, CsvWriter logins,
                     CsvWriter accounts, CsvWriter promos, CsvWriter ground_truth)
    : dir_(std::move(dir)),
      pop_(population),
      plan_(plan),
      logins_(std::move(logins)),
      accounts_(std::move(accounts)),
      promos_(std::move(promos)),
      ground_truth_(std::move(ground_truth)),
      fraud_by_campaign_(plan.campaigns.size() + 1, 0) {}

void AtoWriter::Render(const Event& e, Rendered* r) {
  r->time_len = static_cast<uint8_t>(FormatEventTime(e.time, r->time));
  FormatUserId(e.user_code, r->user);
  FormatHex16(e.device, r->device);
  r->ip_len = static_cast<uint8_t>(FormatIp(e.ip, r->ip));
  if (e.kind == EventKind::kLogin) {
    r->lat_len = static_cast<uint8_t>(FormatFixed<4>(e.lat_e4, r->lat));
    r->lon_len = static_cast<uint8_t>(FormatFixed<4>(e.lon_e4, r->lon));
  } else {
    r->lat_len = r->lon_len = 0;
  }
}

void AtoWriter::WriteCommon(CsvWriter& w, int64_t id, const Event& e, const Rendered& r, bool geo) {
  w.Field(id);
  w.Field(std::string_view(r.time, r.time_len));
  w.Field(std::string_view(r.user, sizeof(r.user)));
  w.Field(std::string_view(r.device, sizeof(r.device)));
  w.Field(std::string_view(r.ip, r.ip_len));
  w.Field(static_cast<int64_t>(e.asn));
  w.Field(World().countries[e.country].code);
  if (geo) {
    w.Field(std::string_view(r.lat, r.lat_len));
    w.Field(std::string_view(r.lon, r.lon_len));
  }
}

void AtoWriter::Write(const Event& e, const Rendered& r) {
  const auto& world = World();
  const int64_t id = next_id_++;
  char buf[32];
  switch (e.kind) {
    case EventKind::kLogin:
      WriteCommon(logins_, id, e, r, true);
      logins_.Field(world.user_agents[e.ua].text);
      logins_.Field(e.Has(kSuccess));
      logins_.Field(e.Has(kMfa));
      logins_.EndRow();
      break;
    case EventKind::kAccount:
      WriteCommon(accounts_, id, e, r, false);
      accounts_.Field(AccountEventTypeName(static_cast<AccountEventType>(e.subtype)));
      if (e.value != 0) {
        accounts_.Field(std::string_view(buf, FormatHex16(e.value, buf)));
      } else {
        accounts_.NullField();
      }
      accounts_.EndRow();
      break;
    case EventKind::kPromo: {
      const Promo& promo = world.promos[e.subtype];
      WriteCommon(promos_, id, e, r, false);
      promos_.Field(promo.code);
      promos_.Field(std::string_view(buf, FormatFixed<2>(promo.discount_cents, buf)));
      promos_.Field(std::string_view(buf, FormatFixed<2>(static_cast<int64_t>(e.value), buf)));
      promos_.EndRow();
      break;
    }
  }
  if ((e.flags & (kFraud | kRecovery)) && e.campaign >= 1 && e.campaign <= plan_.campaigns.size()) {
    bool fraud = e.Has(kFraud);
    (fraud ? fraud_ : recovery_) += 1;
    if (fraud) ++fraud_by_campaign_[e.campaign];
    const Campaign& c = plan_.campaigns[e.campaign - 1];
    ground_truth_.Field(id);
    ground_truth_.Field(EventKindName(e.kind));
    ground_truth_.Field(std::string_view(r.time, r.time_len));
    ground_truth_.Field(std::string_view(r.user, sizeof(r.user)));
    ground_truth_.Field(static_cast<int64_t>(e.campaign));
    ground_truth_.Field(CampaignTypeName(c.type));
    ground_truth_.Field(fraud ? "attack" : "recovery");
    ground_truth_.Field(int64_t{fraud ? 1 : 0});
    ground_truth_.EndRow();
  }
  if (e.label_source != LabelSource::kNone) {
    labels_.push_back({e.labeled_at, e.time, id, e.kind, e.label_source, e.Has(kLabelValue)});
  }
  if (e.Has(kFraud) && e.label_source == LabelSource::kNone) ++never_labeled_;
}

Status AtoWriter::WriteLabels(AtoSummary* summary) {
  std::sort(labels_.begin(), labels_.end(), [](const LabelRecord& a, const LabelRecord& b) {
    return a.labeled_at != b.labeled_at ? a.labeled_at < b.labeled_at : a.event_id < b.event_id;
  });
  GYRE_ASSIGN_OR_RETURN(
      CsvWriter w,
      OpenCsv(dir_, "labels.csv", {"event_id", "event_kind", "event_time", "label", "label_source", "labeled_at"}));
  std::vector<std::vector<double>> delays(kLabelSources);
  for (const auto& l : labels_) {
    w.Field(l.event_id);
    w.Field(EventKindName(l.kind));
    w.TimestampField(l.event_time);
    w.Field(int64_t{l.value ? 1 : 0});
    w.Field(LabelSourceName(l.source));
    w.TimestampField(l.labeled_at);
    w.EndRow();
    (l.value ? summary->fraud_labels : summary->legit_labels) += 1;
    summary->labels_by_source[std::string(LabelSourceName(l.source))] += 1;
    delays[static_cast<int>(l.source)].push_back(static_cast<double>(l.labeled_at - l.event_time) / kMicrosPerHour);
    if (l.labeled_at >= pop_.end) ++summary->labels_after_window;
  }
  for (int s = 1; s < kLabelSources; ++s) {
    auto& d = delays[s];
    if (d.empty()) continue;
    std::sort(d.begin(), d.end());
    summary->label_delays[std::string(LabelSourceName(static_cast<LabelSource>(s)))] =
        LabelDelayStats{static_cast<int64_t>(d.size()), d.front(), d[d.size() / 2], d.back()};
  }
  GYRE_ASSIGN_OR_RETURN(summary->labels, CloseCsv(w));
  return Status::OK();
}

Status AtoWriter::WriteCampaigns(AtoSummary* summary) {
  const auto& world = World();
  GYRE_ASSIGN_OR_RETURN(CsvWriter w, OpenCsv(dir_, "campaigns.csv",
                                             {"campaign_id", "type", "start", "end", "after_drift", "target_users",
                                              "fraud_events", "successful_logins", "takeovers", "recovery_events",
                                              "devices", "ips", "asns", "countries", "user_agents", "description"}));
  for (const auto& c : plan_.campaigns) {
    std::string asns, countries, uas;
    for (uint32_t a : c.asns) asns += fmt::format("{}{}", asns.empty() ? "" : ";", a);
    for (uint8_t k : c.countries)
      countries += fmt::format("{}{}", countries.empty() ? "" : ";", world.countries[k].code);
    for (uint16_t u : c.user_agents) uas += fmt::format("{}{}", uas.empty() ? "" : " | ", world.user_agents[u].text);
    w.Field(static_cast<int64_t>(c.id));
    w.Field(CampaignTypeName(c.type));
    w.TimestampField(c.start);
    w.TimestampField(c.end);
    w.Field(c.after_drift);
    w.Field(c.target_users);
    w.Field(c.fraud_events);
    w.Field(c.successful_logins);
    w.Field(c.takeovers);
    w.Field(c.recovery_events);
    w.Field(c.devices);
    w.Field(c.ips);
    w.Field(asns);
    w.Field(countries);
    w.Field(uas);
    w.Field(c.description);
    w.EndRow();
    summary->campaigns_by_type[std::string(CampaignTypeName(c.type))] += 1;
    summary->fraud_events_by_type[std::string(CampaignTypeName(c.type))] += fraud_by_campaign_[c.id];
  }
  GYRE_ASSIGN_OR_RETURN(summary->campaigns, CloseCsv(w));
  return Status::OK();
}

Status AtoWriter::WriteManifest(const AtoOptions& options, const AtoSummary& s) {
  using Json = nlohmann::ordered_json;
  const auto& world = World();
  auto file = [](const AtoFileSummary& f) {
    return Json{{"file", fs::path(f.path).filename().string()}, {"rows", f.rows}, {"bytes", f.bytes}};
  };
  Json m;
  m["generator"] = "gyre datagen ato";
  m["format_version"] = 1;
  m["world_version"] = kWorldVersion;
  m["options"] = {{"seed", options.seed},
                  {"users", options.users},
                  {"days", options.days},
                  {"start", FormatTimestamp(options.start)},
                  {"drift_day", s.drift_day},
                  {"fraud_rate", options.fraud_rate},
                  {"stuffing_share", options.stuffing_share},
                  {"spray_share", options.spray_share},
                  {"takeover_share", options.takeover_share},
                  {"promo_ring_share", options.promo_ring_share},
                  {"unlabeled_fraud_rate", options.unlabeled_fraud_rate},
                  {"label_noise", options.label_noise},
                  {"review_rate", options.review_rate},
                  {"new_market_share", options.new_market_share},
                  {"activity_scale", options.activity_scale}};
  m["window"] = {{"start", FormatTimestamp(pop_.start)}, {"end", FormatTimestamp(pop_.end)}};
  Json changes = Json::array();
  if (s.drift_time < pop_.end) {
    changes.push_back({{"kind", "attack_pattern"},
                       {"campaign_type", "takeover_proxy"},
                       {"what", "takeovers through residential proxies in the victim's own country and city"}});
    changes.push_back(
        {{"kind", "user_agent"},
         {"values", {world.user_agents[world.new_ios_app_ua].text, world.user_agents[world.new_android_app_ua].text}},
         {"what", "a new app version rolls out to about 80% of app users"}});
    changes.push_back({{"kind", "new_market"},
                       {"country", world.countries[world.new_market].code},
                       {"users", s.new_market_users},
                       {"what", "a new market opens; its customers sign up at a growing pace"}});
  }
  m["drift"] = {{"day", s.drift_day}, {"time", FormatTimestamp(s.drift_time)}, {"changes", changes}};
  m["population"] = {
      {"initial_users", s.initial_users}, {"new_market_users", s.new_market_users}, {"ring_accounts", s.ring_accounts}};
  m["files"] = Json::array({file(s.logins), file(s.account_events), file(s.promo_redemptions), file(s.labels),
                            file(s.campaigns), file(s.ground_truth)});
  m["events"] = {{"total", s.events},
                 {"fraud", s.fraud_events},
                 {"fraud_rate", s.fraud_rate},
                 {"fraud_budget", plan_.fraud_budget},
                 {"recovery", s.recovery_events},
                 {"fraud_by_campaign_type", s.fraud_events_by_type},
                 {"campaigns_by_type", s.campaigns_by_type}};
  Json delays = Json::object();
  for (const auto& [source, d] : s.label_delays) {
    delays[source] = {
        {"count", d.count}, {"min_hours", d.min_hours}, {"median_hours", d.median_hours}, {"max_hours", d.max_hours}};
  }
  m["labels"] = {{"by_source", s.labels_by_source},
                 {"fraud", s.fraud_labels},
                 {"legit", s.legit_labels},
                 {"fraud_never_labeled", s.fraud_never_labeled},
                 {"after_window", s.labels_after_window},
                 {"delays", delays}};

  std::string path = (fs::path(dir_) / "manifest.json").string();
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << m.dump(2) << "\n";
  out.close();
  if (!out) return Status::IOError(fmt::format("{}: cannot write", path));
  return Status::OK();
}

Status AtoWriter::Finish(const AtoOptions& options, AtoSummary* s) {
  GYRE_ASSIGN_OR_RETURN(s->logins, CloseCsv(logins_));
  GYRE_ASSIGN_OR_RETURN(s->account_events, CloseCsv(accounts_));
  GYRE_ASSIGN_OR_RETURN(s->promo_redemptions, CloseCsv(promos_));
  GYRE_ASSIGN_OR_RETURN(s->ground_truth, CloseCsv(ground_truth_));
  s->events = s->logins.rows + s->account_events.rows + s->promo_redemptions.rows;
  s->fraud_events = fraud_;
  s->recovery_events = recovery_;
  s->fraud_rate = s->events > 0 ? static_cast<double>(fraud_) / static_cast<double>(s->events) : 0;
  s->fraud_never_labeled = never_labeled_;
  GYRE_RETURN_IF_ERROR(WriteLabels(s));
  GYRE_RETURN_IF_ERROR(WriteCampaigns(s));
  s->manifest_path = (fs::path(dir_) / "manifest.json").string();
  return WriteManifest(options, *s);
}

}  // namespace gyre::datagen
