// Tests of gyre datagen ato: the files' contract (ato.h) read back from disk.
#include "datagen/ato.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/config.h"
#include "core/time.h"
#include "datagen/ato_config.h"
#include "datagen/output.h"
#include "datagen/rng.h"

namespace gyre::datagen {
namespace {

namespace fs = std::filesystem;

const char* const kFiles[] = {"logins.csv",    "account_events.csv", "promo_redemptions.csv", "labels.csv",
                              "campaigns.csv", "ground_truth.csv",   "manifest.json"};

std::string Slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

uint64_t Fnv1a(const std::string& bytes) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : bytes) h = (h ^ c) * 1099511628211ULL;
  return h;
}

// A small RFC 4180 reader for the tests (the generator quotes user agents, which hold commas).
struct Csv {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;

  int Col(const std::string& name) const {
    auto it = std::find(header.begin(), header.end(), name);
    EXPECT_NE(it, header.end()) << "no column " << name;
    return static_cast<int>(it - header.begin());
  }
};

Csv ReadCsv(const fs::path& path) {
  std::string text = Slurp(path);
  Csv csv;
  std::vector<std::string> row;
  std::string field;
  bool quoted = false, any = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      row.push_back(std::move(field));
      field.clear();
    } else if (c == '\n') {
      row.push_back(std::move(field));
      field.clear();
      if (!any) {
        csv.header = std::move(row);
        any = true;
      } else {
        csv.rows.push_back(std::move(row));
      }
      row.clear();
    } else {
      field += c;
    }
  }
  EXPECT_TRUE(row.empty() && field.empty()) << path << " does not end with a newline";
  for (const auto& r : csv.rows) EXPECT_EQ(r.size(), csv.header.size()) << path;
  return csv;
}

TimestampMicros Ts(const std::string& text) {
  auto t = ParseTimestamp(text);
  EXPECT_TRUE(t.ok()) << text;
  return t.ok() ? *t : 0;
}

fs::path TempDir(const std::string& name) {
  fs::path dir = fs::temp_directory_path() / ("gyre_datagen_" + std::to_string(::getpid()) + "_" + name);
  fs::remove_all(dir);
  return dir;
}

AtoOptions Small(const std::string& name) {
  AtoOptions o;
  o.users = 1000;
  o.days = 14;
  o.drift_day = 9;
  o.out_dir = TempDir(name).string();
  return o;
}

std::map<std::string, uint64_t> HashFiles(const std::string& dir) {
  std::map<std::string, uint64_t> hashes;
  for (const char* f : kFiles) hashes[f] = Fnv1a(Slurp(fs::path(dir) / f));
  return hashes;
}

// One data set shared by the read-only checks below: generating it once keeps the suite fast.
class AtoDataTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    options_ = new AtoOptions(Small("shared"));
    options_->fraud_rate = 0.05;
    auto summary = GenerateAto(*options_);
    ASSERT_TRUE(summary.ok()) << summary.status().ToString();
    summary_ = new AtoSummary(*summary);
    fs::path dir = options_->out_dir;
    logins_ = new Csv(ReadCsv(dir / "logins.csv"));
    accounts_ = new Csv(ReadCsv(dir / "account_events.csv"));
    promos_ = new Csv(ReadCsv(dir / "promo_redemptions.csv"));
    labels_ = new Csv(ReadCsv(dir / "labels.csv"));
    campaigns_ = new Csv(ReadCsv(dir / "campaigns.csv"));
    truth_ = new Csv(ReadCsv(dir / "ground_truth.csv"));
  }
  static void TearDownTestSuite() {
    fs::remove_all(options_->out_dir);
    for (Csv* c : {logins_, accounts_, promos_, labels_, campaigns_, truth_}) delete c;
    delete summary_;
    delete options_;
  }

  // event_id -> (kind, time, user) over the three event files.
  struct EventRef {
    std::string kind;
    TimestampMicros time;
    std::string user;
  };
  static std::unordered_map<std::string, EventRef> AllEvents() {
    std::unordered_map<std::string, EventRef> all;
    for (auto [csv, kind] :
         {std::pair{logins_, "login"}, {accounts_, "account_event"}, {promos_, "promo_redemption"}}) {
      int id = csv->Col("event_id"), time = csv->Col("time"), user = csv->Col("user_id");
      for (const auto& r : csv->rows) {
        bool inserted = all.emplace(r[id], EventRef{kind, Ts(r[time]), r[user]}).second;
        EXPECT_TRUE(inserted) << "duplicate event_id " << r[id];
      }
    }
    return all;
  }

  static AtoOptions* options_;
  static AtoSummary* summary_;
  static Csv *logins_, *accounts_, *promos_, *labels_, *campaigns_, *truth_;
};
AtoOptions* AtoDataTest::options_ = nullptr;
AtoSummary* AtoDataTest::summary_ = nullptr;
Csv *AtoDataTest::logins_, *AtoDataTest::accounts_, *AtoDataTest::promos_, *AtoDataTest::labels_,
    *AtoDataTest::campaigns_, *AtoDataTest::truth_;

TEST_F(AtoDataTest, HeadersAreTheDocumentedOnes) {
  EXPECT_EQ(logins_->header, (std::vector<std::string>{"event_id", "time", "user_id", "device_id", "ip", "asn",
                                                       "country", "lat", "lon", "user_agent", "success", "mfa"}));
  EXPECT_EQ(accounts_->header, (std::vector<std::string>{"event_id", "time", "user_id", "device_id", "ip", "asn",
                                                         "country", "event_type", "new_value_hash"}));
  EXPECT_EQ(promos_->header, (std::vector<std::string>{"event_id", "time", "user_id", "device_id", "ip", "asn",
                                                       "country", "promo_code", "amount", "order_amount"}));
  EXPECT_EQ(labels_->header,
            (std::vector<std::string>{"event_id", "event_kind", "event_time", "label", "label_source", "labeled_at"}));
  EXPECT_EQ(truth_->header, (std::vector<std::string>{"event_id", "event_kind", "time", "user_id", "campaign_id",
                                                      "campaign_type", "role", "is_fraud"}));
}

TEST_F(AtoDataTest, SummaryMatchesFiles) {
  EXPECT_EQ(summary_->logins.rows, static_cast<int64_t>(logins_->rows.size()));
  EXPECT_EQ(summary_->account_events.rows, static_cast<int64_t>(accounts_->rows.size()));
  EXPECT_EQ(summary_->promo_redemptions.rows, static_cast<int64_t>(promos_->rows.size()));
  EXPECT_EQ(summary_->labels.rows, static_cast<int64_t>(labels_->rows.size()));
  EXPECT_EQ(summary_->campaigns.rows, static_cast<int64_t>(campaigns_->rows.size()));
  EXPECT_EQ(summary_->ground_truth.rows, static_cast<int64_t>(truth_->rows.size()));
  EXPECT_EQ(summary_->events, summary_->logins.rows + summary_->account_events.rows + summary_->promo_redemptions.rows);
  EXPECT_GT(summary_->logins.rows, 5000);  // 1000 users x 14 days, ~0.8 sessions a day
  EXPECT_GT(summary_->account_events.rows, 50);
  EXPECT_GT(summary_->promo_redemptions.rows, 50);

  auto manifest = nlohmann::json::parse(Slurp(fs::path(options_->out_dir) / "manifest.json"));
  EXPECT_EQ(manifest["options"]["seed"], 42);
  EXPECT_EQ(manifest["options"]["users"], 1000);
  EXPECT_EQ(manifest["drift"]["day"], 9);
  EXPECT_EQ(manifest["drift"]["time"], "2026-01-10T00:00:00Z");
  EXPECT_EQ(manifest["events"]["total"], summary_->events);
  EXPECT_EQ(manifest["events"]["fraud"], summary_->fraud_events);
  EXPECT_EQ(manifest["files"][0]["rows"], summary_->logins.rows);
  EXPECT_EQ(manifest["files"][0]["bytes"], static_cast<int64_t>(fs::file_size(summary_->logins.path)));
}

TEST_F(AtoDataTest, TimesInsideWindowAndSortedWithIncreasingIds) {
  const TimestampMicros start = options_->start, end = start + options_->days * kMicrosPerDay;
  for (const Csv* csv : {logins_, accounts_, promos_, truth_}) {
    int time = csv->Col("time"), id = csv->Col("event_id");
    TimestampMicros last = start;
    int64_t last_id = 0;
    for (const auto& r : csv->rows) {
      TimestampMicros t = Ts(r[time]);
      ASSERT_GE(t, start) << r[time];
      ASSERT_LT(t, end) << r[time];
      ASSERT_GE(t, last) << "not sorted by time at event " << r[id];
      ASSERT_EQ(t % 1000, 0) << "not whole milliseconds: " << r[time];
      int64_t n = std::stoll(r[id]);
      ASSERT_GT(n, last_id) << "event_id not increasing";
      last = t;
      last_id = n;
    }
  }
  // Ids are unique across the three files and dense from 1.
  auto all = AllEvents();
  EXPECT_EQ(static_cast<int64_t>(all.size()), summary_->events);
  EXPECT_EQ(all.count("1"), 1u);
  EXPECT_EQ(all.count(std::to_string(summary_->events)), 1u);

  int labeled_at = labels_->Col("labeled_at");
  TimestampMicros last = 0;
  for (const auto& r : labels_->rows) {
    TimestampMicros t = Ts(r[labeled_at]);
    ASSERT_GE(t, last) << "labels not sorted by labeled_at";
    last = t;
  }
}

TEST_F(AtoDataTest, FieldsAreWellFormed) {
  int user = logins_->Col("user_id"), device = logins_->Col("device_id"), ip = logins_->Col("ip"),
      lat = logins_->Col("lat"), lon = logins_->Col("lon"), success = logins_->Col("success"),
      country = logins_->Col("country");
  for (const auto& r : logins_->rows) {
    ASSERT_EQ(r[user].size(), 11u) << r[user];
    ASSERT_EQ(r[user][0], 'u');
    ASSERT_EQ(r[device].size(), 16u);
    ASSERT_EQ(std::count(r[ip].begin(), r[ip].end(), '.'), 3) << r[ip];
    double la = std::stod(r[lat]), lo = std::stod(r[lon]);
    ASSERT_TRUE(la >= -90 && la <= 90 && lo >= -180 && lo <= 180) << r[lat] << "," << r[lon];
    ASSERT_TRUE(r[success] == "true" || r[success] == "false");
    ASSERT_EQ(r[country].size(), 2u);
  }
  std::set<std::string> types;
  int type = accounts_->Col("event_type"), value = accounts_->Col("new_value_hash");
  for (const auto& r : accounts_->rows) {
    types.insert(r[type]);
    bool valueless = r[type] == "password_change" || r[type] == "mfa_enabled";
    EXPECT_EQ(r[value].empty(), valueless) << r[type];
  }
  for (const char* t : {"signup", "password_change", "email_change", "phone_change", "payee_added"}) {
    EXPECT_TRUE(types.count(t)) << t;
  }
  int amount = promos_->Col("amount"), order = promos_->Col("order_amount");
  for (const auto& r : promos_->rows) {
    ASSERT_EQ(r[amount].size() - r[amount].find('.'), 3u) << r[amount];
    EXPECT_GT(std::stod(r[order]), std::stod(r[amount]));
  }
}

TEST_F(AtoDataTest, FraudRateAsConfigured) {
  // Stated tolerance: within 15% of the configured rate at this size (1000 users x 14 days); the
  // planner sizes campaigns against the expected background, so only its Poisson noise remains.
  EXPECT_NEAR(summary_->fraud_rate, options_->fraud_rate, 0.15 * options_->fraud_rate);
  int64_t fraud = 0;
  int is_fraud = truth_->Col("is_fraud");
  for (const auto& r : truth_->rows) fraud += r[is_fraud] == "1";
  EXPECT_EQ(fraud, summary_->fraud_events);
  EXPECT_NEAR(static_cast<double>(fraud) / static_cast<double>(summary_->events), options_->fraud_rate,
              0.15 * options_->fraud_rate);
  // Every family shows up.
  for (const char* type :
       {"credential_stuffing", "password_spray", "account_takeover", "takeover_proxy", "promo_abuse_ring"}) {
    EXPECT_GT(summary_->fraud_events_by_type[type], 0) << type;
  }
}

TEST_F(AtoDataTest, GroundTruthCoversEveryFraudEventAndMatchesCampaigns) {
  auto all = AllEvents();
  std::map<std::string, int64_t> fraud_per_campaign;
  std::map<std::string, std::string> type_of;
  int id = truth_->Col("event_id"), kind = truth_->Col("event_kind"), time = truth_->Col("time"),
      user = truth_->Col("user_id"), campaign = truth_->Col("campaign_id"), type = truth_->Col("campaign_type"),
      role = truth_->Col("role"), is_fraud = truth_->Col("is_fraud");
  for (const auto& r : truth_->rows) {
    auto it = all.find(r[id]);
    ASSERT_NE(it, all.end()) << "ground truth for unknown event " << r[id];
    EXPECT_EQ(it->second.kind, r[kind]);
    EXPECT_EQ(it->second.time, Ts(r[time]));
    EXPECT_EQ(it->second.user, r[user]);
    EXPECT_EQ(r[is_fraud], r[role] == "attack" ? "1" : "0");
    if (r[is_fraud] == "1") ++fraud_per_campaign[r[campaign]];
    type_of[r[campaign]] = r[type];
  }
  int cid = campaigns_->Col("campaign_id"), ctype = campaigns_->Col("type"), cfraud = campaigns_->Col("fraud_events"),
      cstart = campaigns_->Col("start"), cend = campaigns_->Col("end");
  int64_t total = 0;
  TimestampMicros last_start = 0;
  for (const auto& r : campaigns_->rows) {
    EXPECT_EQ(fraud_per_campaign[r[cid]], std::stoll(r[cfraud])) << "campaign " << r[cid];
    EXPECT_EQ(type_of[r[cid]], r[ctype]);
    EXPECT_LE(Ts(r[cstart]), Ts(r[cend]));
    EXPECT_GE(Ts(r[cstart]), last_start) << "campaigns.csv not sorted by start";
    last_start = Ts(r[cstart]);
    total += std::stoll(r[cfraud]);
  }
  EXPECT_EQ(total, summary_->fraud_events);
  EXPECT_EQ(fraud_per_campaign.size(), campaigns_->rows.size());
}

TEST_F(AtoDataTest, LabelsArriveLateWithinEachSourcesDelay) {
  auto all = AllEvents();
  std::unordered_set<std::string> fraud;
  int gid = truth_->Col("event_id"), gfraud = truth_->Col("is_fraud");
  for (const auto& r : truth_->rows) {
    if (r[gfraud] == "1") fraud.insert(r[gid]);
  }
  int id = labels_->Col("event_id"), kind = labels_->Col("event_kind"), event_time = labels_->Col("event_time"),
      label = labels_->Col("label"), source = labels_->Col("label_source"), at = labels_->Col("labeled_at");
  std::map<std::string, int64_t> per_source;
  int64_t agree = 0;
  std::unordered_set<std::string> labeled;
  for (const auto& r : labels_->rows) {
    auto it = all.find(r[id]);
    ASSERT_NE(it, all.end()) << "label for unknown event " << r[id];
    EXPECT_EQ(it->second.kind, r[kind]);
    EXPECT_EQ(it->second.time, Ts(r[event_time]));
    TimestampMicros delay = Ts(r[at]) - Ts(r[event_time]);
    ASSERT_GT(delay, 0) << "labeled_at not after the event " << r[id];
    if (r[source] == "analyst") {
      EXPECT_GE(delay, kMicrosPerHour);
      EXPECT_LE(delay, 7 * kMicrosPerDay);
    } else if (r[source] == "chargeback") {
      EXPECT_GE(delay, 30 * kMicrosPerDay);
      EXPECT_LE(delay, 90 * kMicrosPerDay);
      EXPECT_EQ(r[label], "1");
    } else if (r[source] == "customer_report") {
      EXPECT_GE(delay, kMicrosPerHour);
      EXPECT_LE(delay, 21 * kMicrosPerDay);
      EXPECT_EQ(r[label], "1");
    } else {
      ADD_FAILURE() << "unknown label source " << r[source];
    }
    ++per_source[r[source]];
    agree += (r[label] == "1") == (fraud.count(r[id]) > 0);
    EXPECT_TRUE(labeled.insert(r[id]).second) << "two labels for event " << r[id];
  }
  EXPECT_GT(per_source["analyst"], 0);
  EXPECT_GT(per_source["chargeback"], 0);
  EXPECT_GT(per_source["customer_report"], 0);
  // Labels are noisy (label_noise = 1% of analyst verdicts) but mostly right.
  EXPECT_GT(static_cast<double>(agree) / static_cast<double>(labels_->rows.size()), 0.97);

  int64_t never = 0;
  for (const auto& f : fraud) never += labeled.count(f) == 0;
  EXPECT_EQ(never, summary_->fraud_never_labeled);
  EXPECT_NEAR(static_cast<double>(never) / static_cast<double>(fraud.size()), options_->unlabeled_fraud_rate, 0.05);
  // Some legit events are reviewed, so 0 labels exist.
  EXPECT_GT(summary_->legit_labels, 0);
}

TEST_F(AtoDataTest, DriftAppearsOnlyFromTheDriftDay) {
  const TimestampMicros drift = options_->start + options_->drift_day * kMicrosPerDay;
  int time = logins_->Col("time"), ua = logins_->Col("user_agent"), country = logins_->Col("country");
  int64_t before = 0, after = 0, new_ua_before = 0, new_ua_after = 0, br_before = 0, br_after = 0;
  for (const auto& r : logins_->rows) {
    bool is_after = Ts(r[time]) >= drift;
    bool new_ua = r[ua].rfind("GyreBank/5.", 0) == 0;
    bool br = r[country] == "BR";
    (is_after ? after : before) += 1;
    (is_after ? new_ua_after : new_ua_before) += new_ua;
    (is_after ? br_after : br_before) += br;
  }
  EXPECT_EQ(new_ua_before, 0);
  EXPECT_EQ(br_before, 0);
  EXPECT_GT(static_cast<double>(new_ua_after) / static_cast<double>(after), 0.05);
  EXPECT_GT(static_cast<double>(br_after) / static_cast<double>(after), 0.001);

  int type = campaigns_->Col("type"), start = campaigns_->Col("start"), after_drift = campaigns_->Col("after_drift");
  int proxies = 0;
  for (const auto& r : campaigns_->rows) {
    if (r[type] != "takeover_proxy") continue;
    ++proxies;
    EXPECT_GE(Ts(r[start]), drift);
    EXPECT_EQ(r[after_drift], "true");
  }
  EXPECT_GT(proxies, 0);
  EXPECT_EQ(summary_->drift_time, drift);
}

// A takeover is a successful login from a device new to the account, then a profile change within
// minutes, and (in the window) the victim's recovery later.
TEST_F(AtoDataTest, TakeoverLoginsAreFollowedByProfileChangesWithinMinutes) {
  std::unordered_map<std::string, std::string> attack_type;
  int gid = truth_->Col("event_id"), gtype = truth_->Col("campaign_type"), grole = truth_->Col("role");
  for (const auto& r : truth_->rows) {
    if (r[grole] == "attack") attack_type[r[gid]] = r[gtype];
  }
  // Attack account changes by user.
  std::unordered_map<std::string, std::vector<TimestampMicros>> changes;
  int aid = accounts_->Col("event_id"), atime = accounts_->Col("time"), auser = accounts_->Col("user_id");
  for (const auto& r : accounts_->rows) {
    if (attack_type.count(r[aid])) changes[r[auser]].push_back(Ts(r[atime]));
  }
  int id = logins_->Col("event_id"), time = logins_->Col("time"), user = logins_->Col("user_id"),
      device = logins_->Col("device_id"), success = logins_->Col("success");
  std::unordered_map<std::string, std::unordered_set<std::string>> devices;
  int takeovers = 0, followed = 0, new_device = 0;
  for (const auto& r : logins_->rows) {
    auto it = attack_type.find(r[id]);
    bool known = devices[r[user]].count(r[device]) > 0;
    devices[r[user]].insert(r[device]);
    if (it == attack_type.end() || r[success] != "true") continue;
    if (it->second != "account_takeover" && it->second != "takeover_proxy") continue;
    ++takeovers;
    new_device += !known;
    TimestampMicros t = Ts(r[time]);
    for (TimestampMicros c : changes[r[user]]) {
      if (c > t && c <= t + 15 * kMicrosPerMinute) {
        ++followed;
        break;
      }
    }
  }
  ASSERT_GT(takeovers, 5);
  EXPECT_EQ(followed, takeovers);             // each within 15 minutes (the planner uses 1 to 10)
  EXPECT_GT(new_device, takeovers * 8 / 10);  // crews reuse devices across victims, never the victim's own
  EXPECT_GT(summary_->recovery_events, 0);
}

// The signals the feature layer is meant to find are there, with legit noise around them.
TEST_F(AtoDataTest, AttacksCarrySignalThatLegitTrafficMostlyLacks) {
  const std::set<std::string> hosting = {"16509", "14061", "24940", "16276", "20473", "45102", "49505", "51167"};
  std::unordered_map<std::string, std::string> attack_type;
  int gid = truth_->Col("event_id"), gtype = truth_->Col("campaign_type"), grole = truth_->Col("role");
  for (const auto& r : truth_->rows) {
    if (r[grole] == "attack") attack_type[r[gid]] = r[gtype];
  }
  int id = logins_->Col("event_id"), asn = logins_->Col("asn"), success = logins_->Col("success");
  int64_t stuffing = 0, stuffing_hosted = 0, stuffing_ok = 0, legit = 0, legit_hosted = 0, legit_ok = 0;
  for (const auto& r : logins_->rows) {
    auto it = attack_type.find(r[id]);
    bool hosted = hosting.count(r[asn]) > 0;
    if (it == attack_type.end()) {
      ++legit;
      legit_hosted += hosted;
      legit_ok += r[success] == "true";
    } else if (it->second == "credential_stuffing") {
      ++stuffing;
      stuffing_hosted += hosted;
      stuffing_ok += r[success] == "true";
    }
  }
  ASSERT_GT(stuffing, 50);
  EXPECT_EQ(stuffing_hosted, stuffing);
  EXPECT_LT(static_cast<double>(legit_hosted) / legit, 0.02);
  EXPECT_LT(static_cast<double>(stuffing_ok) / stuffing, 0.15);
  EXPECT_GT(static_cast<double>(legit_ok) / legit, 0.9);
}

TEST(AtoTest, SameSeedSameBytesWhateverTheThreads) {
  AtoOptions a = Small("same_a");
  a.users = 300;
  a.days = 7;
  a.drift_day = 4;
  a.threads = 1;
  AtoOptions b = a;
  b.out_dir = TempDir("same_b").string();
  b.threads = 3;
  ASSERT_TRUE(GenerateAto(a).ok());
  ASSERT_TRUE(GenerateAto(b).ok());
  EXPECT_EQ(HashFiles(a.out_dir), HashFiles(b.out_dir));
  EXPECT_GT(fs::file_size(fs::path(a.out_dir) / "logins.csv"), 10000u);

  AtoOptions c = a;
  c.out_dir = TempDir("other_seed").string();
  c.seed = 43;
  ASSERT_TRUE(GenerateAto(c).ok());
  auto ha = HashFiles(a.out_dir), hc = HashFiles(c.out_dir);
  for (const char* f : {"logins.csv", "account_events.csv", "labels.csv", "ground_truth.csv"}) {
    EXPECT_NE(ha[f], hc[f]) << f;
  }
  for (const auto& o : {a, b, c}) fs::remove_all(o.out_dir);
}

TEST(AtoTest, RowCountsScaleWithUsersAndDays) {
  auto run = [](int users, int days) {
    AtoOptions o = Small("scale");
    o.users = users;
    o.days = days;
    o.drift_day = days;  // no drift: the new market would add users
    auto s = GenerateAto(o);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    fs::remove_all(o.out_dir);
    return s.ok() ? static_cast<double>(s->events) : 0.0;
  };
  double base = run(300, 6);
  EXPECT_GT(base, 800);
  EXPECT_NEAR(run(600, 6) / base, 2.0, 0.4);
  EXPECT_NEAR(run(300, 12) / base, 2.0, 0.4);
}

TEST(AtoTest, ZeroFraudRateMeansNoAttacks) {
  AtoOptions o = Small("no_fraud");
  o.users = 200;
  o.days = 3;
  o.drift_day = 2;
  o.fraud_rate = 0;
  auto s = GenerateAto(o);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->fraud_events, 0);
  EXPECT_EQ(s->campaigns.rows, 0);
  EXPECT_EQ(s->ground_truth.rows, 0);
  EXPECT_GT(s->events, 0);
  fs::remove_all(o.out_dir);
}

TEST(AtoTest, BadOptionsNameTheOption) {
  auto expect_bad = [](AtoOptions o, const std::string& option) {
    Status s = ValidateAtoOptions(o);
    EXPECT_TRUE(s.IsInvalidArgument()) << option;
    EXPECT_NE(s.message().find("option '" + option + "'"), std::string::npos) << s.message();
    auto r = GenerateAto(o);
    EXPECT_FALSE(r.ok());
  };
  AtoOptions ok = Small("bad");
  EXPECT_TRUE(ValidateAtoOptions(ok).ok());
  AtoOptions o = ok;
  o.users = 0;
  expect_bad(o, "users");
  o = ok;
  o.days = 0;
  expect_bad(o, "days");
  o = ok;
  o.drift_day = 15;  // days = 14
  expect_bad(o, "drift_day");
  o = ok;
  o.drift_day = -2;
  expect_bad(o, "drift_day");
  o = ok;
  o.fraud_rate = 0.9;
  expect_bad(o, "fraud_rate");
  o = ok;
  o.label_noise = std::nan("");
  expect_bad(o, "label_noise");
  o = ok;
  o.unlabeled_fraud_rate = 1.5;
  expect_bad(o, "unlabeled_fraud_rate");
  o = ok;
  o.out_dir.clear();
  expect_bad(o, "out_dir");
  o = ok;
  o.stuffing_share = o.spray_share = o.takeover_share = o.promo_ring_share = 0;
  expect_bad(o, "stuffing_share");
  o = ok;
  o.start = -kMicrosPerDay;
  expect_bad(o, "start");
  EXPECT_FALSE(fs::exists(ok.out_dir));  // nothing written for bad options
}

TEST(AtoTest, UnwritableOutputIsAnIoErrorNamingThePath) {
  AtoOptions o = Small("unwritable");
  o.users = 10;
  o.days = 1;
  o.drift_day = -1;
  fs::create_directories(o.out_dir);
  std::ofstream(fs::path(o.out_dir) / "file") << "x";
  o.out_dir = (fs::path(o.out_dir) / "file").string();  // a file where a folder should be
  auto s = GenerateAto(o);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kIOError);
  EXPECT_NE(s.status().message().find(o.out_dir), std::string::npos) << s.status().message();
  fs::remove_all(fs::path(o.out_dir).parent_path());
}

TEST(AtoTest, DriftAtTheEndMeansNoDrift) {
  AtoOptions o = Small("drift_end");
  o.users = 200;
  o.days = 4;
  o.drift_day = 4;
  auto s = GenerateAto(o);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->new_market_users, 0);
  EXPECT_EQ(s->fraud_events_by_type.count("takeover_proxy"), 0u);
  Csv logins = ReadCsv(fs::path(o.out_dir) / "logins.csv");
  int ua = logins.Col("user_agent");
  for (const auto& r : logins.rows) ASSERT_EQ(r[ua].rfind("GyreBank/5.", 0), std::string::npos);
  fs::remove_all(o.out_dir);
}

// The writer formats event times itself (the date once per day); it must match core's formatting exactly.
TEST(AtoOutputTest, RenderedTimesMatchCoreFormatting) {
  Rng rng(1, 2);
  const TimestampMicros base = *ParseDate("2026-01-01");
  for (int i = 0; i < 20000; ++i) {
    Event e;
    TimestampMicros ms = rng.Between(0, 400LL * 86'400'000);
    switch (i % 4) {  // whole seconds drop the fraction; tenths and hundredths keep three digits
      case 0: ms -= ms % 1000; break;
      case 1: ms -= ms % 100; break;
      case 2: ms -= ms % 10; break;
    }
    e.time = base + ms * 1000;
    AtoWriter::Rendered r;
    AtoWriter::Render(e, &r);
    ASSERT_EQ(std::string(r.time, r.time_len), FormatTimestamp(e.time));
  }
  Event e;
  e.time = *ParseDate("2026-01-01") + 1;  // not whole milliseconds: falls back to the core formatter
  AtoWriter::Rendered r;
  AtoWriter::Render(e, &r);
  EXPECT_EQ(std::string(r.time, r.time_len), "2026-01-01T00:00:00.000001Z");
}

TEST(AtoConfigTest, ReadsEveryKeyAndResolvesOutAgainstTheFile) {
  auto doc = ConfigDocument::LoadString(
      "seed: 7\nusers: 123\ndays: 9\nstart: 2025-06-01\ndrift_day: 4\nout: data\nfraud_rate: 0.1\n"
      "stuffing_share: 1\nspray_share: 0\ntakeover_share: 2\npromo_ring_share: 0.5\nunlabeled_fraud_rate: 0.3\n"
      "label_noise: 0\nreview_rate: 0.01\nnew_market_share: 0.2\nactivity_scale: 2\nthreads: 1\n",
      "datagen.yaml");
  ASSERT_TRUE(doc.ok());
  auto o = ReadAtoOptions(*doc, "/ws");
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->seed, 7u);
  EXPECT_EQ(o->users, 123);
  EXPECT_EQ(o->days, 9);
  EXPECT_EQ(o->start, *ParseDate("2025-06-01"));
  EXPECT_EQ(o->drift_day, 4);
  EXPECT_EQ(o->out_dir, "/ws/data");
  EXPECT_DOUBLE_EQ(o->fraud_rate, 0.1);
  EXPECT_DOUBLE_EQ(o->takeover_share, 2);
  EXPECT_DOUBLE_EQ(o->unlabeled_fraud_rate, 0.3);
  EXPECT_DOUBLE_EQ(o->activity_scale, 2);
  EXPECT_EQ(o->threads, 1);
}

TEST(AtoConfigTest, ErrorsNameFileLineAndKey) {
  auto check = [](const std::string& yaml, const std::string& where, const std::string& what) {
    auto doc = ConfigDocument::LoadString(yaml, "datagen.yaml");
    ASSERT_TRUE(doc.ok());
    auto o = ReadAtoOptions(*doc, "/ws");
    ASSERT_FALSE(o.ok()) << yaml;
    EXPECT_TRUE(o.status().IsInvalidArgument());
    EXPECT_NE(o.status().message().find(where), std::string::npos) << o.status().message();
    EXPECT_NE(o.status().message().find(what), std::string::npos) << o.status().message();
  };
  check("users: 10\nusrs: 3\n", "datagen.yaml:2:1", "unknown key 'usrs'");
  check("users: ten\n", "datagen.yaml:1:8", "users");
  check("days: 10\ndrift_day: 11\n", "datagen.yaml:2:12", "'drift_day': must be in [0, days=10]");
  check("start: yesterday\n", "datagen.yaml:1:8", "'start'");
  check("fraud_rate: 0.7\n", "datagen.yaml:1:13", "'fraud_rate'");
}

TEST(AtoConfigTest, TheExampleWorkspaceConfigLoads) {
  auto o = LoadAtoOptions(std::string(GYRE_SOURCE_DIR) + "/examples/ato/datagen.yaml");
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_GE(o->users, 1);
  EXPECT_FALSE(o->out_dir.empty());
  EXPECT_TRUE(ValidateAtoOptions(*o).ok());
}

}  // namespace
}  // namespace gyre::datagen
