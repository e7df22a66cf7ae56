// Synthetic account-takeover (ATO) and promotion-abuse event data with exact ground truth.
//
// GenerateAto writes, into options.out_dir (created if missing; existing files of the same names are
// replaced), six CSV files and a manifest:
//
//   logins.csv             event_id,time,user_id,device_id,ip,asn,country,lat,lon,user_agent,success,mfa
//   account_events.csv     event_id,time,user_id,device_id,ip,asn,country,event_type,new_value_hash
//   promo_redemptions.csv  event_id,time,user_id,device_id,ip,asn,country,promo_code,amount,order_amount
//   labels.csv             event_id,event_kind,event_time,label,label_source,labeled_at
//   campaigns.csv          campaign_id,type,start,end,after_drift,target_users,fraud_events,successful_logins,
//                          takeovers,recovery_events,devices,ips,asns,countries,user_agents,description
//                          (one row per attack campaign, numbered by start; the families are in campaigns.h)
//   ground_truth.csv       event_id,event_kind,time,user_id,campaign_id,campaign_type,role,is_fraud
//   manifest.json          options, seed, counts, drift, file sizes: enough to audit and reproduce a run
//
// Conventions: timestamps are RFC 3339 UTC, whole milliseconds, written with the shortest exact fraction
// ("...:05.250Z", "...:05Z": compare them as times, not as strings); every file is sorted by its time
// column (labels by labeled_at). event_id is an integer unique across the three event files and increasing
// with (time, generation order), so it also orders events that share a millisecond. Amounts are in
// currency units with 2 decimals. new_value_hash is empty for changes that carry no value
// (password_change, mfa_enabled).
//
// Ground truth: ground_truth.csv lists every event an attacker made (role=attack, is_fraud=1), labeled
// or not, plus the victims' own recovery events after a takeover (role=recovery, is_fraud=0). Every
// event absent from it is legit background activity.
//
// Labels are what a risk team would know, and when: analyst verdicts (on fraud and on reviewed legit
// events, 1 hour to 7 days after the event, wrong with probability label_noise), customer reports
// (takeover victims, within hours of their recovery, at most 21 days), chargebacks (payees and promo
// redemptions, 30 to 90 days later). labeled_at is always after the event and may lie after the window;
// a training set takes "labels as known at a cutoff" by filtering on it. A share of fraud is never labeled.
//
// Planted drift from drift_day: takeovers move to residential proxies in the victim's own country and
// city (the geo signal weakens), a new app version's user agent spreads over the app users, and a new
// market (BR) opens with new users. None of the three exists before the drift time.
//
// Determinism: the same options (except out_dir and threads) give byte-identical files, whatever the
// thread count (across machines too, given the same libm: a few draws go through log/exp/cos). Thread-safety: GenerateAto may run concurrently with itself for different out_dirs.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "core/status.h"
#include "core/time.h"

namespace gyre::datagen {

struct AtoOptions {
  uint64_t seed = 42;
  int users = 10000;                                        // initial customers, >= 1
  int days = 30;                                            // length of the window, >= 1
  TimestampMicros start = 1767225600LL * kMicrosPerSecond;  // 2026-01-01T00:00:00Z
  int drift_day = -1;                                       // day index from start in [0, days]; -1: days*2/3
  std::string out_dir;                                      // required

  // Fraction of all events (rows of the three event files) made by attackers, in [0, 0.5]. The planner
  // sizes campaigns against the expected background volume, so the realised rate is close but not exact.
  double fraud_rate = 0.03;
  // Shares of the fraud budget (in events) by campaign family; normalised, each >= 0, sum > 0.
  // Takeover's share is split by time: before the drift all classic; after it 30% classic, 70% proxy.
  double stuffing_share = 0.40;
  double spray_share = 0.10;
  double takeover_share = 0.25;
  double promo_ring_share = 0.25;

  double unlabeled_fraud_rate = 0.20;  // fraud events never labeled, in [0, 1]
  double label_noise = 0.01;           // analyst verdicts that are wrong, in [0, 0.5]
  double review_rate = 0.002;          // ordinary legit events an analyst reviews (suspicious ones: 50x)
  double new_market_share = 0.08;      // new-market users opening accounts after the drift, per initial user
  double activity_scale = 1.0;         // multiplies every user's session rate, in (0, 100]

  int threads = 0;  // 0: all cores (at most 8); does not change the output
};

struct AtoFileSummary {
  std::string path;
  int64_t rows = 0;  // without the header
  int64_t bytes = 0;
};

struct LabelDelayStats {
  int64_t count = 0;
  double min_hours = 0, median_hours = 0, max_hours = 0;
};

struct AtoSummary {
  AtoFileSummary logins, account_events, promo_redemptions, labels, campaigns, ground_truth;
  std::string manifest_path;

  int64_t initial_users = 0, new_market_users = 0, ring_accounts = 0;
  int64_t events = 0;        // rows of logins + account_events + promo_redemptions
  int64_t fraud_events = 0;  // ground truth is_fraud=1
  double fraud_rate = 0;     // fraud_events / events
  int64_t recovery_events = 0;
  std::map<std::string, int64_t> campaigns_by_type;
  std::map<std::string, int64_t> fraud_events_by_type;

  std::map<std::string, int64_t> labels_by_source;
  std::map<std::string, LabelDelayStats> label_delays;  // by source
  int64_t fraud_labels = 0, legit_labels = 0;           // by label value (noise included)
  int64_t fraud_never_labeled = 0;                      // fraud events with no label row
  int64_t labels_after_window = 0;                      // labeled_at >= start + days

  int drift_day = 0;
  TimestampMicros drift_time = 0;
  double elapsed_seconds = 0, events_per_second = 0, bytes_per_second = 0;
  // Where the time went: population and campaign planning; background generation and merging (wall
  // time of the generating threads); the writer thread's busy time (formatting and writing the files).
  double setup_seconds = 0, generate_seconds = 0, write_seconds = 0;
};

// Generates the data set. `progress`, if set, is called from the calling thread with a fraction in
// [0, 1] as days are written. Errors: InvalidArgument naming the option ("option 'users': ...") for bad
// options; IOError naming the file when the output cannot be written.
Result<AtoSummary> GenerateAto(const AtoOptions& options, std::function<void(double fraction)> progress = {});

// Checks options without generating anything; GenerateAto calls it first.
Status ValidateAtoOptions(const AtoOptions& options);

}  // namespace gyre::datagen
