// Property tests of the offline backfill: for random small event sets, every cell of BackfillTables() must
// equal what a brute-force reading of the semantics (docs/features.md, features/key_state.h) gives.
//
// The brute force below shares no code with src/features beyond the public API: for each spine row and
// feature it loops over all events, keeps those of the same key strictly before t (after the group's ttl
// gaps), applies the window and the filter, and aggregates in the plainest way (two-pass stddev in long
// double, equality scans for distinct values). The registry's YAML is generated from the same specs the brute force
// reads, so the two cannot drift apart; feature names are spelled here independently of definitions.cc.
//
// Data shape: 3-6 string keys, times on a 5 s grid (so many exact ties, spine rows at event times and events
// exactly at t - w for windows of 10 s, 30 s, 2 m), ~15% nulls in the int, float, bool and string columns.
// Two spines per seed: every event of the source, and random rows at times between grid points with keys
// never seen and null keys. Each case runs with 1 and 3 threads, which must agree byte for byte.

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "core/table.h"
#include "core/time.h"
#include "features/backfill.h"
#include "features/definitions.h"
#include "tests/features/testing_util.h"

namespace gyre::features {
namespace {

using testing::kT0;
using testing::Seconds;

constexpr int64_t kGrid = Seconds(5);

// ---------------------------------------------------------------------------------------------------------
// Events and spine rows: one schema for both (time, user, device, n, x, ok, s).

using testing::kSourceColumnsYaml;
using testing::Row;
using testing::RowSchema;
using testing::ToCsv;
using testing::ToTable;

std::string Describe(const Row& r) {
  auto opt = [](const auto& v) -> std::string {
    if (!v) return "null";
    return fmt::format("{}", *v);
  };
  return fmt::format("t=+{}s user={} device={} n={} x={} ok={} s={}", static_cast<double>(r.ts - kT0) / 1e6,
                     opt(r.user), opt(r.device), opt(r.n), opt(r.x), opt(r.ok), opt(r.s));
}

// Deterministic randomness (the raw mt19937_64 stream is specified by the standard; the distributions are
// not, so they are written out).
class Rng {
 public:
  explicit Rng(uint64_t seed) : engine_(seed) {}
  int64_t Below(int64_t n) { return static_cast<int64_t>(engine_() % static_cast<uint64_t>(n)); }
  int64_t Between(int64_t lo, int64_t hi) { return lo + Below(hi - lo + 1); }  // inclusive
  bool Chance(double p) { return static_cast<double>(engine_() >> 11) * 0x1p-53 < p; }
  template <typename T>
  const T& Pick(const std::vector<T>& v) {
    return v[static_cast<size_t>(Below(static_cast<int64_t>(v.size())))];
  }

 private:
  std::mt19937_64 engine_;
};

const std::vector<std::string> kStrings = {"a", "b", "c", "d", "fg", "h\xc3\xa9llo"};  // "héllo": 5 code points

void FillValues(Rng& rng, Row& r) {
  if (!rng.Chance(0.15)) r.n = rng.Between(-3, 5);
  // Tenths are not exact in binary: sums exercise the fixed-point tolerance.
  if (!rng.Chance(0.15)) r.x = static_cast<double>(rng.Between(-20, 30)) * 0.1;
  if (!rng.Chance(0.12)) r.ok = rng.Chance(0.6);
  if (!rng.Chance(0.15)) r.s = rng.Pick(kStrings);
}

struct DataShape {
  std::vector<std::string> users;    // keys to draw from (a random 3-6 of them when `pick_keys`)
  std::vector<std::string> devices;  // second key column
  bool pick_keys = true;
  int64_t min_events = 30;
  int64_t max_events = 180;
  int64_t slots = 72;  // grid points the events fall on: 6 minutes of 5 s
};

std::vector<Row> GenerateEvents(Rng& rng, const DataShape& shape) {
  std::vector<std::string> users = shape.users;
  if (shape.pick_keys) users.resize(static_cast<size_t>(rng.Between(3, std::min<int64_t>(6, users.size()))));
  int64_t count = rng.Between(shape.min_events, shape.max_events);
  int64_t slots = shape.slots;
  std::vector<Row> events;
  for (int64_t i = 0; i < count; ++i) {
    Row r;
    // Skewed towards the first keys, so the last ones are sparse (long gaps: ttl and max_age matter).
    size_t k = static_cast<size_t>(
        std::min(rng.Below(static_cast<int64_t>(users.size())), rng.Below(static_cast<int64_t>(users.size()))));
    r.user = users[k];
    r.device = rng.Pick(shape.devices);
    r.ts = kT0 + rng.Below(slots) * kGrid;
    FillValues(rng, r);
    events.push_back(std::move(r));
  }
  // Half the files are in time order (ties in random order); the others are not sorted at all.
  if (rng.Chance(0.5)) {
    std::stable_sort(events.begin(), events.end(), [](const Row& a, const Row& b) { return a.ts < b.ts; });
  }
  return events;
}

// Rows at times between grid points (never equal to an event's), before, among and well after the events,
// with known keys, keys never seen and null keys, in no particular order.
std::vector<Row> GenerateSpine(Rng& rng, const DataShape& shape) {
  std::vector<Row> spine;
  int64_t count = rng.Between(40, 80);
  for (int64_t i = 0; i < count; ++i) {
    Row r;
    r.ts = kT0 + rng.Between(-4, 90) * kGrid + rng.Between(1, kGrid - 1);
    double p = static_cast<double>(rng.Below(100)) / 100;
    if (p < 0.75) {
      r.user = rng.Pick(shape.users);
    } else if (p < 0.92) {
      r.user = rng.Chance(0.5) ? "ghost" : "u_never";
    }  // else null
    if (!rng.Chance(0.05)) r.device = rng.Chance(0.9) ? rng.Pick(shape.devices) : "d_never";
    FillValues(rng, r);
    spine.push_back(std::move(r));
  }
  return spine;
}

// ---------------------------------------------------------------------------------------------------------
// Feature specs: what the YAML says, and what the brute force computes.

enum class Kind {
  kCount,
  kSum,
  kMean,
  kMin,
  kMax,
  kStddev,
  kCountDistinct,
  kApprox,
  kLast,
  kTimeSinceLast,
  kFirstSeen,
  kIsNew,
  kRatio
};
enum class Of { kNone, kX, kN, kS, kOk, kXTimesN };
enum class Filter { kNone, kOk, kNotOk, kXPositive };

constexpr int64_t kLife = kLifetime;

struct AggSpec {
  std::string name;
  Kind kind;
  Of of = Of::kNone;
  Filter filter = Filter::kNone;
  std::vector<int64_t> windows;  // empty: no `windows` key (lifetime)
  int64_t horizon = 0;           // is_new
  int precision = 0;             // approx_count_distinct; 0: default
};

enum class Entity { kUser, kUserDevice, kUserN };

struct GroupSpec {
  std::string name;
  Entity entity = Entity::kUser;
  int64_t ttl = kLife;
  int64_t max_age = kLife;
  std::vector<AggSpec> aggs;
};

// Derived features are checked with hand-written formulas (see Derive()).
struct DerivedSpec {
  std::string name;
  std::string expr;
};

std::string_view KindName(Kind k) {
  switch (k) {
    case Kind::kCount:
      return "count";
    case Kind::kSum:
      return "sum";
    case Kind::kMean:
      return "mean";
    case Kind::kMin:
      return "min";
    case Kind::kMax:
      return "max";
    case Kind::kStddev:
      return "stddev";
    case Kind::kCountDistinct:
      return "count_distinct";
    case Kind::kApprox:
      return "approx_count_distinct";
    case Kind::kLast:
      return "last";
    case Kind::kTimeSinceLast:
      return "time_since_last";
    case Kind::kFirstSeen:
      return "first_seen";
    case Kind::kIsNew:
      return "is_new";
    case Kind::kRatio:
      return "ratio";
  }
  return "?";
}

std::string_view OfText(Of of) {
  switch (of) {
    case Of::kNone:
      return "";
    case Of::kX:
      return "x";
    case Of::kN:
      return "n";
    case Of::kS:
      return "s";
    case Of::kOk:
      return "ok";
    case Of::kXTimesN:
      return "x * n";
  }
  return "";
}

std::string_view FilterText(Filter f) {
  switch (f) {
    case Filter::kNone:
      return "";
    case Filter::kOk:
      return "ok";
    case Filter::kNotOk:
      return "not ok";
    case Filter::kXPositive:
      return "x > 0";
  }
  return "";
}

// "10s", "2m", "lifetime": as written in YAML and as the suffix of a windowed feature's name.
std::string DurationText(int64_t d) {
  if (d == kLife) return "lifetime";
  if (d % Seconds(60) == 0) return fmt::format("{}m", d / Seconds(60));
  return fmt::format("{}s", d / Seconds(1));
}

std::string FeatureName(const AggSpec& a, int64_t window) {
  if (a.kind == Kind::kIsNew || window == kLife) return a.name;
  return a.name + "_" + DurationText(window);
}

// The windows an aggregation yields features for (is_new: one, at its horizon).
std::vector<int64_t> WindowsOf(const AggSpec& a) {
  if (a.kind == Kind::kIsNew) return {a.horizon};
  if (a.windows.empty()) return {kLife};
  return a.windows;
}

std::string DefinitionsYaml(const std::vector<GroupSpec>& groups, const std::vector<DerivedSpec>& derived,
                            const std::string& source_path) {
  std::string y = "entities:\n  user: {keys: [user]}\n  ud: {keys: [user, device]}\n  un: {keys: [user, n]}\n";
  y += "sources:\n  events:\n";
  if (!source_path.empty()) y += "    path: " + source_path + "\n";
  y += "    timestamp: time\n";
  y += std::string("    columns: ") + kSourceColumnsYaml + "\n";
  y += "groups:\n";
  for (const GroupSpec& g : groups) {
    y += "  " + g.name + ":\n";
    y += std::string("    entity: ") +
         (g.entity == Entity::kUser         ? "user"
          : g.entity == Entity::kUserDevice ? "ud"
                                            : "un") +
         "\n";
    y += "    source: events\n";
    if (g.ttl != kLife) y += "    ttl: " + DurationText(g.ttl) + "\n";
    if (g.max_age != kLife) y += "    max_age: " + DurationText(g.max_age) + "\n";
    y += "    features:\n";
    for (const AggSpec& a : g.aggs) {
      y += fmt::format("      {}: {{agg: {}", a.name, KindName(a.kind));
      if (a.of != Of::kNone) y += fmt::format(", of: \"{}\"", OfText(a.of));
      if (a.filter != Filter::kNone) y += fmt::format(", filter: \"{}\"", FilterText(a.filter));
      if (!a.windows.empty()) {
        std::vector<std::string> w;
        for (int64_t d : a.windows) w.push_back(DurationText(d));
        y += fmt::format(", windows: [{}]", fmt::join(w, ", "));
      }
      if (a.kind == Kind::kIsNew) y += ", horizon: " + DurationText(a.horizon);
      if (a.precision != 0) y += fmt::format(", precision: {}", a.precision);
      y += "}\n";
    }
  }
  if (!derived.empty()) {
    y += "derived:\n";
    for (const DerivedSpec& d : derived) y += fmt::format("  {}: {{source: events, expr: \"{}\"}}\n", d.name, d.expr);
  }
  return y;
}

const int64_t k10s = Seconds(10), k30s = Seconds(30), k2m = Seconds(120);

// The main group: every aggregation kind, several windows, filters and value expressions.
GroupSpec MainGroup() {
  GroupSpec g;
  g.name = "per_user";
  g.aggs = {
      {"cnt", Kind::kCount, Of::kNone, Filter::kNone, {k10s, k30s, k2m, kLife}},
      {"cnt_ok", Kind::kCount, Of::kNone, Filter::kOk, {k10s, k2m}},
      {"cnt_notok", Kind::kCount, Of::kNone, Filter::kNotOk, {}},
      {"sum_x", Kind::kSum, Of::kX, Filter::kNone, {k10s, k30s, k2m, kLife}},
      {"sum_n_ok", Kind::kSum, Of::kN, Filter::kOk, {k30s, kLife}},
      {"sum_xn", Kind::kSum, Of::kXTimesN, Filter::kNone, {k2m}},
      {"mean_x", Kind::kMean, Of::kX, Filter::kNone, {k10s, k2m, kLife}},
      {"mean_n", Kind::kMean, Of::kN, Filter::kXPositive, {k30s}},
      {"min_x", Kind::kMin, Of::kX, Filter::kNone, {k10s, k2m, kLife}},
      {"max_x", Kind::kMax, Of::kX, Filter::kNone, {k10s, k2m, kLife}},
      {"min_n", Kind::kMin, Of::kN, Filter::kNone, {k30s}},
      {"max_n", Kind::kMax, Of::kN, Filter::kNotOk, {}},
      {"std_x", Kind::kStddev, Of::kX, Filter::kNone, {k30s, k2m, kLife}},
      {"std_n", Kind::kStddev, Of::kN, Filter::kOk, {k2m}},
      {"cd_s", Kind::kCountDistinct, Of::kS, Filter::kNone, {k10s, k2m, kLife}},
      {"cd_n", Kind::kCountDistinct, Of::kN, Filter::kOk, {k30s, kLife}},
      {"cd_xn", Kind::kCountDistinct, Of::kXTimesN, Filter::kNone, {k2m}},
      {"acd_s", Kind::kApprox, Of::kS, Filter::kNone, {k2m, kLife}},
      {"acd_n", Kind::kApprox, Of::kN, Filter::kNone, {k30s}, 0, 12},
      {"last_x", Kind::kLast, Of::kX, Filter::kNone, {k30s, kLife}},
      {"last_s", Kind::kLast, Of::kS, Filter::kNone, {k30s, kLife}},
      {"last_n_ok", Kind::kLast, Of::kN, Filter::kOk, {k2m}},
      {"last_ok", Kind::kLast, Of::kOk, Filter::kNone, {}},
      {"tsl", Kind::kTimeSinceLast, Of::kNone, Filter::kNone, {k10s, kLife}},
      {"tsl_ok", Kind::kTimeSinceLast, Of::kNone, Filter::kOk, {}},
      {"fs", Kind::kFirstSeen, Of::kNone, Filter::kNone, {}},
      {"fs_notok", Kind::kFirstSeen, Of::kNone, Filter::kNotOk, {}},
      {"new_s", Kind::kIsNew, Of::kS, Filter::kNone, {}, k30s},
      {"new_n_ok", Kind::kIsNew, Of::kN, Filter::kOk, {}, k2m},
      {"ratio_ok", Kind::kRatio, Of::kNone, Filter::kOk, {k10s, k2m, kLife}},
      {"ratio_xpos", Kind::kRatio, Of::kNone, Filter::kXPositive, {k30s}},
  };
  return g;
}

// Small ttl and max_age (3 and 2 grid steps), alone and together.
std::vector<GroupSpec> IdleGroups() {
  GroupSpec ttl;
  ttl.name = "per_user_ttl";
  ttl.ttl = Seconds(15);
  ttl.aggs = {
      {"t_cnt", Kind::kCount, Of::kNone, Filter::kNone, {k2m, kLife}},
      {"t_sum_x", Kind::kSum, Of::kX, Filter::kNone, {}},
      {"t_min_x", Kind::kMin, Of::kX, Filter::kNone, {}},
      {"t_std_x", Kind::kStddev, Of::kX, Filter::kNone, {}},
      {"t_cd_s", Kind::kCountDistinct, Of::kS, Filter::kNone, {}},
      {"t_last_x", Kind::kLast, Of::kX, Filter::kNone, {}},
      {"t_tsl", Kind::kTimeSinceLast, Of::kNone, Filter::kNone, {}},
      {"t_fs", Kind::kFirstSeen, Of::kNone, Filter::kNone, {}},
      {"t_new_s", Kind::kIsNew, Of::kS, Filter::kNone, {}, k2m},
      {"t_ratio_ok", Kind::kRatio, Of::kNone, Filter::kOk, {}},
  };
  GroupSpec age;
  age.name = "per_user_max_age";
  age.max_age = Seconds(10);
  age.aggs = {
      {"a_cnt", Kind::kCount, Of::kNone, Filter::kNone, {k30s, kLife}},
      {"a_mean_x", Kind::kMean, Of::kX, Filter::kNone, {k30s}},
      {"a_last_s", Kind::kLast, Of::kS, Filter::kNone, {}},
      {"a_fs", Kind::kFirstSeen, Of::kNone, Filter::kNone, {}},
      {"a_new_s", Kind::kIsNew, Of::kS, Filter::kNone, {}, k30s},
  };
  GroupSpec both;
  both.name = "per_user_both";
  both.ttl = Seconds(40);
  both.max_age = Seconds(10);
  both.aggs = {
      {"b_cnt", Kind::kCount, Of::kNone, Filter::kNone, {}},
      {"b_sum_x", Kind::kSum, Of::kX, Filter::kNone, {k2m}},
      {"b_tsl", Kind::kTimeSinceLast, Of::kNone, Filter::kNone, {}},
  };
  return {ttl, age, both};
}

std::vector<DerivedSpec> MainDerived() {
  return {
      {"d_mean_plus_n", "coalesce(mean_x_2m, 0) + n"},
      {"d_busy_ok", "cnt > 3 and ok"},
      {"d_tsl_min", "tsl_ok / 60"},
      {"d_len", "length(last_s)"},
  };
}

// ---------------------------------------------------------------------------------------------------------
// Brute force.

struct Cell {
  bool null = true;
  double number = 0;
  std::string text;

  static Cell Number(double v) {
    Cell c;
    c.null = false;
    c.number = v;
    return c;
  }
  static Cell Text(std::string v) {
    Cell c;
    c.null = false;
    c.text = std::move(v);
    return c;
  }
  std::string ToString() const {
    if (null) return "null";
    if (!text.empty()) return "'" + text + "'";
    return fmt::format("{:.17g}", number);
  }
};

// A value of an `of` expression: null, a number (bools as 0/1) or a string.
struct Value {
  bool null = true;
  double number = 0;
  std::string text;
  bool is_text = false;

  bool operator==(const Value& o) const {
    return null == o.null && (null || (is_text ? text == o.text : number == o.number));  // -0 == 0
  }
};

Value Evaluate(Of of, const Row& r) {
  Value v;
  switch (of) {
    case Of::kNone:
      break;
    case Of::kX:
      if (r.x) v = {false, *r.x, "", false};
      break;
    case Of::kN:
      if (r.n) v = {false, static_cast<double>(*r.n), "", false};
      break;
    case Of::kS:
      if (r.s) v = {false, 0, *r.s, true};
      break;
    case Of::kOk:
      if (r.ok) v = {false, *r.ok ? 1.0 : 0.0, "", false};
      break;
    case Of::kXTimesN:
      if (r.x && r.n) v = {false, *r.x * static_cast<double>(*r.n), "", false};
      break;
  }
  return v;
}

// Filters follow SQL: a null operand makes the filter null, which does not match.
bool Passes(Filter f, const Row& r) {
  switch (f) {
    case Filter::kNone:
      return true;
    case Filter::kOk:
      return r.ok.has_value() && *r.ok;
    case Filter::kNotOk:
      return r.ok.has_value() && !*r.ok;
    case Filter::kXPositive:
      return r.x.has_value() && *r.x > 0;
  }
  return false;
}

// A null key column matches nothing: such events belong to no key, and such spine rows see an empty state.
bool SameKey(const GroupSpec& g, const Row& a, const Row& b) {
  if (!a.user || !b.user || *a.user != *b.user) return false;
  if (g.entity == Entity::kUserDevice && (!a.device || !b.device || *a.device != *b.device)) return false;
  if (g.entity == Entity::kUserN && (!a.n || !b.n || *a.n != *b.n)) return false;
  return true;
}

// What a key of a group holds as of time t: the events the state has (same key, before t, after the last
// gap of ttl or more), and whether the read is past max_age. When both could apply the ttl wins: a key idle
// for its ttl has no state any more, so it reads like a key never seen (counts 0), not as null.
struct KeyView {
  std::vector<size_t> events;  // in (time, file position) order
  bool outside_max_age = false;
};

KeyView ViewAt(const GroupSpec& g, const std::vector<Row>& events, const Row& q) {
  KeyView view;
  std::vector<size_t> before;
  for (size_t i = 0; i < events.size(); ++i) {
    if (events[i].ts < q.ts && SameKey(g, events[i], q)) before.push_back(i);
  }
  std::stable_sort(before.begin(), before.end(), [&](size_t a, size_t b) { return events[a].ts < events[b].ts; });
  if (before.empty()) return view;  // never seen: an empty state
  int64_t latest = events[before.back()].ts;
  if (q.ts - latest >= g.ttl) return view;  // idle for the ttl: the state was dropped
  size_t start = 0;
  for (size_t i = before.size() - 1; i > 0; --i) {
    if (events[before[i]].ts - events[before[i - 1]].ts >= g.ttl) {
      start = i;  // the state restarted at this event
      break;
    }
  }
  view.events.assign(before.begin() + static_cast<std::ptrdiff_t>(start), before.end());
  view.outside_max_age = q.ts - latest > g.max_age;
  return view;
}

Cell Aggregate(const AggSpec& a, int64_t window, const std::vector<Row>& events, const KeyView& view, const Row& q) {
  const int64_t t = q.ts;
  auto in_window = [&](const Row& e) { return window == kLife || e.ts >= t - window; };
  std::vector<const Row*> all;      // in the window
  std::vector<const Row*> matched;  // in the window and passing the filter
  for (size_t i : view.events) {
    const Row& e = events[i];
    if (a.kind != Kind::kFirstSeen && !in_window(e)) continue;
    all.push_back(&e);
    if (Passes(a.filter, e)) matched.push_back(&e);
  }
  std::vector<Value> values;  // non-null values of the matched events, in order
  for (const Row* e : matched) {
    Value v = Evaluate(a.of, *e);
    if (!v.null) values.push_back(v);
  }
  auto distinct = [&]() {
    std::vector<Value> seen;
    for (const Value& v : values) {
      if (std::find(seen.begin(), seen.end(), v) == seen.end()) seen.push_back(v);
    }
    return seen.size();
  };
  switch (a.kind) {
    case Kind::kCount:
      return Cell::Number(static_cast<double>(matched.size()));
    case Kind::kSum: {
      long double sum = 0;
      for (const Value& v : values) sum += v.number;
      return Cell::Number(static_cast<double>(sum));
    }
    case Kind::kMean: {
      if (values.empty()) return Cell();
      long double sum = 0;
      for (const Value& v : values) sum += v.number;
      return Cell::Number(static_cast<double>(sum / values.size()));
    }
    case Kind::kMin:
    case Kind::kMax: {
      if (values.empty()) return Cell();
      double best = values[0].number;
      for (const Value& v : values) best = a.kind == Kind::kMin ? std::min(best, v.number) : std::max(best, v.number);
      return Cell::Number(best);
    }
    case Kind::kStddev: {
      if (values.size() < 2) return Cell();
      long double sum = 0;
      for (const Value& v : values) sum += v.number;
      long double mean = sum / values.size();
      long double ss = 0;
      for (const Value& v : values) ss += (v.number - mean) * (v.number - mean);
      return Cell::Number(static_cast<double>(std::sqrt(ss / (values.size() - 1))));
    }
    case Kind::kCountDistinct:
    case Kind::kApprox:
      return Cell::Number(static_cast<double>(distinct()));
    case Kind::kLast: {
      if (matched.empty() || values.empty()) return Cell();
      // The latest matching event with a value: events are in (time, file position) order.
      for (auto it = matched.rbegin(); it != matched.rend(); ++it) {
        Value v = Evaluate(a.of, **it);
        if (v.null) continue;
        return v.is_text ? Cell::Text(v.text) : Cell::Number(v.number);
      }
      return Cell();
    }
    case Kind::kTimeSinceLast:
      if (matched.empty()) return Cell();
      return Cell::Number(static_cast<double>(t - matched.back()->ts) / 1e6);
    case Kind::kFirstSeen:
      if (matched.empty()) return Cell();
      return Cell::Number(static_cast<double>(t - matched.front()->ts) / 1e6);
    case Kind::kIsNew: {
      Value mine = Evaluate(a.of, q);
      if (mine.null) return Cell();
      bool seen = std::find(values.begin(), values.end(), mine) != values.end();
      return Cell::Number(seen ? 0.0 : 1.0);
    }
    case Kind::kRatio:
      if (all.empty()) return Cell();
      return Cell::Number(static_cast<double>(matched.size()) / static_cast<double>(all.size()));
  }
  return Cell();
}

size_t CodePoints(const std::string& s) {
  return static_cast<size_t>(std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

// The derived features of MainDerived(), by hand, from the row and the expected aggregated values.
Cell Derive(const std::string& name, const Row& q, const std::map<std::string, Cell>& f) {
  if (name == "d_mean_plus_n") {
    if (!q.n) return Cell();
    const Cell& mean = f.at("mean_x_2m");
    return Cell::Number((mean.null ? 0.0 : mean.number) + static_cast<double>(*q.n));
  }
  if (name == "d_busy_ok") {
    const Cell& cnt = f.at("cnt");
    bool busy = !cnt.null && cnt.number > 3;
    if (cnt.null) return q.ok && !*q.ok ? Cell::Number(0) : Cell();
    if (!busy) return Cell::Number(0);  // false and anything = false
    if (!q.ok) return Cell();
    return Cell::Number(*q.ok ? 1 : 0);
  }
  if (name == "d_tsl_min") {
    const Cell& tsl = f.at("tsl_ok");
    return tsl.null ? Cell() : Cell::Number(tsl.number / 60);
  }
  if (name == "d_len") {
    const Cell& last = f.at("last_s");
    return last.null ? Cell() : Cell::Number(static_cast<double>(CodePoints(last.text)));
  }
  ADD_FAILURE() << "no brute force for derived feature " << name;
  return Cell();
}

// How a feature's cells are compared.
enum class Tolerance { kExact, kFixedPoint, kApprox };

// ---------------------------------------------------------------------------------------------------------
// The check: every cell of the backfill against the brute force.

struct Expected {
  std::string feature;
  Tolerance tolerance = Tolerance::kExact;
  int precision = 10;
  ColumnType type = ColumnType::kFloat64;
  std::vector<Cell> cells;  // per spine row
};

ColumnType OutputType(const AggSpec& a) {
  if (a.kind != Kind::kLast) return ColumnType::kFloat64;
  if (a.of == Of::kS) return ColumnType::kString;
  if (a.of == Of::kOk) return ColumnType::kBool;
  return ColumnType::kFloat64;
}

Tolerance ToleranceOf(Kind kind) {
  switch (kind) {
    case Kind::kSum:
    case Kind::kMean:
    case Kind::kStddev:
      return Tolerance::kFixedPoint;
    case Kind::kApprox:
      return Tolerance::kApprox;
    default:
      return Tolerance::kExact;
  }
}

std::vector<Expected> BruteForce(const std::vector<GroupSpec>& groups, const std::vector<DerivedSpec>& derived,
                                 const std::vector<Row>& events, const std::vector<Row>& spine) {
  std::vector<Expected> out;
  std::map<std::string, size_t> index;
  for (const GroupSpec& g : groups) {
    for (const AggSpec& a : g.aggs) {
      for (int64_t w : WindowsOf(a)) {
        Expected e;
        e.feature = FeatureName(a, w);
        e.tolerance = ToleranceOf(a.kind);
        e.precision = a.precision != 0 ? a.precision : 10;
        e.type = OutputType(a);
        index[e.feature] = out.size();
        out.push_back(std::move(e));
      }
    }
  }
  for (const Row& q : spine) {
    for (const GroupSpec& g : groups) {
      KeyView view = ViewAt(g, events, q);
      for (const AggSpec& a : g.aggs) {
        for (int64_t w : WindowsOf(a)) {
          Cell c = view.outside_max_age ? Cell() : Aggregate(a, w, events, view, q);
          out[index[FeatureName(a, w)]].cells.push_back(std::move(c));
        }
      }
    }
  }
  for (const DerivedSpec& d : derived) {
    Expected e;
    e.feature = d.name;
    e.tolerance = d.name == "d_mean_plus_n" ? Tolerance::kFixedPoint : Tolerance::kExact;
    e.type = d.name == "d_busy_ok" ? ColumnType::kBool : ColumnType::kFloat64;
    for (size_t r = 0; r < spine.size(); ++r) {
      std::map<std::string, Cell> row;
      for (const Expected& x : out) {
        if (!x.cells.empty()) row[x.feature] = x.cells[r];
      }
      e.cells.push_back(Derive(d.name, spine[r], row));
    }
    out.push_back(std::move(e));
  }
  return out;
}

Cell ReadCell(const Column& c, int64_t row) {
  if (c.IsNull(row)) return Cell();
  switch (c.type()) {
    case ColumnType::kFloat64:
      return Cell::Number(c.Float64(row));
    case ColumnType::kBool:
      return Cell::Number(c.Bool(row) ? 1 : 0);
    case ColumnType::kString:
      return Cell::Text(std::string(c.String(row)));
    case ColumnType::kInt64:
    case ColumnType::kTimestamp:
      return Cell::Number(static_cast<double>(c.Int64(row)));
  }
  return Cell();
}

// Sums are kept in 2^-40 fixed point (key_state.h): each value is off by at most 2^-41 ≈ 4.5e-13, and a
// few hundred values by well under 1e-9. So sum, mean and stddev must agree within 1e-9 relative plus
// 1e-9 absolute; everything else exactly. approx_count_distinct: within 4 standard errors
// (4 × 1.04 / sqrt(2^precision)) of the exact count, plus 1.
bool Agrees(const Expected& e, const Cell& want, const Cell& got) {
  if (want.null || got.null) return want.null == got.null;
  if (e.type == ColumnType::kString) return want.text == got.text;
  switch (e.tolerance) {
    case Tolerance::kExact:
      return want.number == got.number;
    case Tolerance::kFixedPoint:
      return std::fabs(want.number - got.number) <= 1e-9 + 1e-9 * std::fabs(want.number);
    case Tolerance::kApprox: {
      double bound = 4 * 1.04 / std::sqrt(std::ldexp(1.0, e.precision)) * want.number + 1;
      return std::fabs(want.number - got.number) <= bound;
    }
  }
  return false;
}

std::vector<int> FeatureIndices(const FeatureRegistry& registry, const std::vector<Expected>& expected) {
  std::vector<int> features;
  for (const Expected& e : expected) {
    Result<int> f = registry.FindFeature(e.feature);
    EXPECT_TRUE(f.ok()) << "feature " << e.feature << " is not defined: " << f.status().ToString();
    if (f.ok()) features.push_back(*f);
  }
  return features;
}

// Compares `table` (spine rows, kept columns then features) with the brute force. `what` names the case in
// messages; on a mismatch the key's events are listed, so a failure is a reproducible minimal story.
void CheckAgainstBruteForce(const std::string& what, const Table& table, const std::vector<Expected>& expected,
                            const std::vector<GroupSpec>& groups, const std::vector<Row>& events,
                            const std::vector<Row>& spine) {
  ASSERT_EQ(table.num_rows(), static_cast<int64_t>(spine.size())) << what;
  int failures = 0;
  for (const Expected& e : expected) {
    Result<const Column*> column = table.ColumnByName(e.feature);
    ASSERT_TRUE(column.ok()) << what << ": " << column.status().ToString();
    ASSERT_EQ((*column)->type(), e.type) << what << ": type of " << e.feature;
    for (size_t r = 0; r < spine.size(); ++r) {
      Cell got = ReadCell(**column, static_cast<int64_t>(r));
      if (Agrees(e, e.cells[r], got)) continue;
      if (++failures > 8) continue;
      std::string story;
      for (size_t i = 0; i < events.size(); ++i) {
        bool same = false;
        for (const GroupSpec& g : groups) same = same || SameKey(g, events[i], spine[r]);
        if (same && events[i].ts <= spine[r].ts) story += fmt::format("\n    event #{}: {}", i, Describe(events[i]));
      }
      ADD_FAILURE() << what << ": spine row " << r << " (" << Describe(spine[r]) << ") feature " << e.feature
                    << ": want " << e.cells[r].ToString() << ", got " << got.ToString()
                    << "\n  events of the key up to t (file position #):" << story;
    }
  }
  if (failures > 8) ADD_FAILURE() << what << ": " << failures - 8 << " more mismatching cells not shown";
}

// Runs the backfill with 1 and 3 threads (which must agree exactly) and checks the result.
void RunCase(const std::string& what, const std::vector<GroupSpec>& groups, const std::vector<DerivedSpec>& derived,
             const std::vector<Row>& events, const std::vector<Row>& spine) {
  Result<FeatureRegistry> registry = testing::ParseDefinitions(DefinitionsYaml(groups, derived, ""));
  ASSERT_TRUE(registry.ok()) << registry.status().ToString();
  std::vector<Expected> expected = BruteForce(groups, derived, events, spine);
  std::vector<int> features = FeatureIndices(*registry, expected);
  ASSERT_EQ(features.size(), expected.size());
  std::vector<Table> sources = {ToTable(events)};
  Table spine_table = ToTable(spine);
  std::vector<std::string> keep = {"time", "user", "device"};
  BackfillStats stats;
  Result<Table> one = BackfillTables(*registry, features, spine_table, "time", sources, keep, 1, &stats);
  ASSERT_TRUE(one.ok()) << what << ": " << one.status().ToString();
  EXPECT_EQ(stats.rows, static_cast<int64_t>(spine.size()));
  Result<Table> three = BackfillTables(*registry, features, spine_table, "time", sources, keep, 3);
  ASSERT_TRUE(three.ok()) << what << ": " << three.status().ToString();
  EXPECT_TRUE(one->Equals(*three)) << what << ": 1 and 3 threads disagree";
  ASSERT_EQ(one->num_columns(), static_cast<int>(keep.size() + expected.size()));
  for (size_t c = 0; c < keep.size(); ++c) EXPECT_EQ(one->column_name(static_cast<int>(c)), keep[c]);
  CheckAgainstBruteForce(what, *one, expected, groups, events, spine);
}

const DataShape kUsers = {{"u0", "u1", "u2", "u3", "u4", "u5"}, {"d0", "d1", "d2"}, true};

std::vector<GroupSpec> AllUserGroups() {
  std::vector<GroupSpec> groups = {MainGroup()};
  for (GroupSpec& g : IdleGroups()) groups.push_back(std::move(g));
  return groups;
}

constexpr int kSeeds = 12;

TEST(BackfillPropertyTest, EveryEventAsSpineMatchesBruteForce) {
  std::vector<GroupSpec> groups = AllUserGroups();
  for (int seed = 1; seed <= kSeeds; ++seed) {
    Rng rng(static_cast<uint64_t>(seed));
    std::vector<Row> events = GenerateEvents(rng, kUsers);
    RunCase(fmt::format("seed {} (event spine)", seed), groups, MainDerived(), events, events);
    if (HasFatalFailure()) return;
  }
}

TEST(BackfillPropertyTest, RandomSpineMatchesBruteForce) {
  std::vector<GroupSpec> groups = AllUserGroups();
  for (int seed = 1; seed <= kSeeds; ++seed) {
    Rng rng(static_cast<uint64_t>(1000 + seed));
    std::vector<Row> events = GenerateEvents(rng, kUsers);
    std::vector<Row> spine = GenerateSpine(rng, kUsers);
    RunCase(fmt::format("seed {} (random spine)", 1000 + seed), groups, MainDerived(), events, spine);
    if (HasFatalFailure()) return;
  }
}

// Two key columns, with values whose concatenations collide ("a"+"bc" and "ab"+"c"): they are different
// keys.
TEST(BackfillPropertyTest, CompositeEntityMatchesBruteForce) {
  GroupSpec g;
  g.name = "per_user_device";
  g.entity = Entity::kUserDevice;
  g.aggs = {
      {"ud_cnt", Kind::kCount, Of::kNone, Filter::kNone, {k30s, kLife}},
      {"ud_sum_x", Kind::kSum, Of::kX, Filter::kNone, {k2m}},
      {"ud_cd_s", Kind::kCountDistinct, Of::kS, Filter::kNone, {}},
      {"ud_last_n", Kind::kLast, Of::kN, Filter::kNone, {}},
      {"ud_new_s", Kind::kIsNew, Of::kS, Filter::kNone, {}, k30s},
      {"ud_fs", Kind::kFirstSeen, Of::kNone, Filter::kNone, {}},
  };
  GroupSpec per_user;  // the same events by user alone, computed beside it
  per_user.name = "per_user_only";
  per_user.aggs = {{"u_cnt", Kind::kCount, Of::kNone, Filter::kNone, {k30s, kLife}}};
  GroupSpec per_user_n;  // an int64 key column (with nulls) beside a string one
  per_user_n.name = "per_user_n";
  per_user_n.entity = Entity::kUserN;
  per_user_n.aggs = {{"un_cnt", Kind::kCount, Of::kNone, Filter::kNone, {k2m, kLife}},
                     {"un_sum_x", Kind::kSum, Of::kX, Filter::kNone, {}}};
  const std::vector<GroupSpec> groups = {g, per_user, per_user_n};
  const DataShape shape = {{"a", "ab", "u2"}, {"bc", "c"}, false};
  for (int seed = 1; seed <= kSeeds; ++seed) {
    Rng rng(static_cast<uint64_t>(2000 + seed));
    std::vector<Row> events = GenerateEvents(rng, shape);
    RunCase(fmt::format("seed {} (composite, event spine)", 2000 + seed), groups, {}, events, events);
    if (HasFatalFailure()) return;
    std::vector<Row> spine = GenerateSpine(rng, shape);
    RunCase(fmt::format("seed {} (composite, random spine)", 2000 + seed), groups, {}, events, spine);
    if (HasFatalFailure()) return;
  }
}

// Long histories of two keys (hundreds of events each over 20 minutes): the state evicts events older than
// its longest window, compacts its buffers and folds lifetime aggregates into its archive many times over.
TEST(BackfillPropertyTest, LongHistoriesMatchBruteForce) {
  std::vector<GroupSpec> groups = {MainGroup(), IdleGroups()[0]};
  DataShape shape = {{"u0", "u1"}, {"d0"}, false, 600, 700, 240};
  for (int seed = 1; seed <= 1; ++seed) {  // the brute force is quadratic: one seed of this size is enough
    Rng rng(static_cast<uint64_t>(4000 + seed));
    std::vector<Row> events = GenerateEvents(rng, shape);
    RunCase(fmt::format("seed {} (long history, event spine)", 4000 + seed), groups, MainDerived(), events, events);
    if (HasFatalFailure()) return;
  }
}

// Repeated deliveries: a source with an event id, whose file holds some events two or three times (the same
// row again, or a copy at another time with other values, before or after the first in the file). The
// brute force runs over each id once (its earliest copy, the first in the file among equal times, picked
// here by a plain scan), the backfill over the whole file: they must agree, and the backfill must say how
// many rows it dropped.
TEST(BackfillPropertyTest, RepeatedDeliveriesCountOnce) {
  std::vector<GroupSpec> groups = AllUserGroups();
  for (int seed = 1; seed <= kSeeds; ++seed) {
    Rng rng(static_cast<uint64_t>(5000 + seed));
    std::vector<Row> events = GenerateEvents(rng, kUsers);
    std::vector<std::optional<std::string>> ids;
    for (size_t i = 0; i < events.size(); ++i) {
      ids.push_back(rng.Chance(0.1) ? std::nullopt : std::optional<std::string>(fmt::format("e{}", i)));
    }
    const size_t originals = events.size();
    int64_t repeats = 0;
    for (size_t i = 0; i < originals; ++i) {
      if (!ids[i] || !rng.Chance(0.25)) continue;
      for (int64_t copies = rng.Between(1, 2); copies > 0; --copies) {
        Row copy = events[i];
        if (rng.Chance(0.5)) {  // a different row under the same id: only the earliest copy is the event
          copy.ts = kT0 + rng.Below(72) * kGrid;
          FillValues(rng, copy);
        }
        const size_t at = static_cast<size_t>(rng.Below(static_cast<int64_t>(events.size()) + 1));
        const std::optional<std::string> id = ids[i];
        events.insert(events.begin() + static_cast<std::ptrdiff_t>(at), copy);
        ids.insert(ids.begin() + static_cast<std::ptrdiff_t>(at), id);
        if (at <= i) ++i;  // the original moved one place on
        ++repeats;
      }
    }
    std::vector<Row> once;
    for (size_t i = 0; i < events.size(); ++i) {
      bool first = true;
      for (size_t j = 0; j < events.size() && ids[i]; ++j) {
        const bool earlier = events[j].ts < events[i].ts || (events[j].ts == events[i].ts && j < i);
        if (j != i && ids[j] == ids[i] && earlier) first = false;
      }
      if (first) once.push_back(events[i]);
    }
    ASSERT_EQ(static_cast<int64_t>(events.size() - once.size()), repeats);

    std::string yaml = DefinitionsYaml(groups, MainDerived(), "");
    yaml.replace(yaml.find("    timestamp: time\n"), 20, "    timestamp: time\n    event_id: event_id\n");
    const std::string columns = kSourceColumnsYaml;
    yaml.replace(yaml.find(columns), columns.size(), columns.substr(0, columns.size() - 1) + ", event_id: string}");
    Result<FeatureRegistry> registry = testing::ParseDefinitions(yaml);
    ASSERT_TRUE(registry.ok()) << registry.status().ToString();
    std::vector<Row> spine = GenerateSpine(rng, kUsers);
    std::vector<Expected> expected = BruteForce(groups, MainDerived(), once, spine);
    std::vector<int> features = FeatureIndices(*registry, expected);
    Table file = ToTable(events);
    Column id_column(ColumnType::kString);
    for (const std::optional<std::string>& id : ids) id ? id_column.AppendString(*id) : id_column.AppendNull();
    std::vector<ColumnSchema> schema = file.schema().columns();
    schema.push_back({"event_id", ColumnType::kString});
    std::vector<Column> columns_of_file;
    for (int c = 0; c < file.num_columns(); ++c) columns_of_file.push_back(file.column(c));
    columns_of_file.push_back(std::move(id_column));
    Result<Table> source = Table::Make(Schema(std::move(schema)), std::move(columns_of_file));
    ASSERT_TRUE(source.ok()) << source.status().ToString();
    BackfillStats stats;
    Result<Table> got = BackfillTables(*registry, features, ToTable(spine), "time", {*source},
                                       {"time", "user", "device"}, 2, &stats);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(stats.duplicates, repeats) << "seed " << 5000 + seed;
    CheckAgainstBruteForce(fmt::format("seed {} (repeated deliveries)", 5000 + seed), *got, expected, groups, once,
                           spine);
    if (HasFatalFailure()) return;
  }
}

// Sample stddev without cancellation: equal values have stddev 0, and a spread of 1 on values near 1e8 is
// a spread of 1 (found by the random tests above; these are the minimal cases).
TEST(BackfillPropertyTest, StddevOfEqualAndOfLargeValues) {
  GroupSpec g;
  g.name = "spread";
  g.aggs = {{"std_x", Kind::kStddev, Of::kX, Filter::kNone, {}}, {"mean_x", Kind::kMean, Of::kX, Filter::kNone, {}}};
  const std::vector<std::vector<double>> cases = {{0.1, 0.1},
                                                  {-0.9, -0.9, -0.9},
                                                  {19.99, 19.99, 19.99},
                                                  {1e6 + 0.1, 1e6 + 0.2, 1e6 + 0.3},
                                                  {1e8 + 1, 1e8 + 2, 1e8 + 3}};
  for (const std::vector<double>& values : cases) {
    std::vector<Row> events;
    for (size_t i = 0; i < values.size(); ++i) {
      Row r;
      r.ts = kT0 + Seconds(static_cast<int64_t>(i));
      r.user = "u";
      r.x = values[i];
      events.push_back(r);
    }
    Row q;
    q.ts = kT0 + Seconds(60);
    q.user = "u";
    RunCase(fmt::format("stddev of [{}]", fmt::join(values, ", ")), {g}, {}, events, {q});
  }
}

// The source read from a CSV file (ReadSource) gives the same table, hence the same features, as the
// in-memory one; and Backfill() over the source's own events equals BackfillTables() with the events as
// the spine.
TEST(BackfillPropertyTest, CsvSourceMatchesInMemoryTables) {
  testing::TempDir dir;
  std::vector<GroupSpec> groups = AllUserGroups();
  std::vector<DerivedSpec> derived = MainDerived();
  for (int seed = 1; seed <= 3; ++seed) {
    Rng rng(static_cast<uint64_t>(3000 + seed));
    std::vector<Row> events = GenerateEvents(rng, kUsers);
    testing::WriteTextFile(dir.File("events.csv"), ToCsv(events));
    Result<FeatureRegistry> registry =
        FeatureRegistry::Parse(DefinitionsYaml(groups, derived, "events.csv"), "features.yaml", dir.path());
    ASSERT_TRUE(registry.ok()) << registry.status().ToString();
    ASSERT_EQ(registry->sources().size(), 1u);
    EXPECT_EQ(registry->sources()[0].path, dir.File("events.csv"));
    Result<Table> read = ReadSource(registry->sources()[0]);
    ASSERT_TRUE(read.ok()) << read.status().ToString();
    EXPECT_TRUE(read->Equals(ToTable(events))) << "seed " << 3000 + seed << ": the CSV did not round-trip";

    std::vector<Expected> expected = BruteForce(groups, derived, events, events);
    std::vector<int> features = FeatureIndices(*registry, expected);
    std::vector<std::string> keep = {"time", "user"};
    Result<Table> tables = BackfillTables(*registry, features, *read, "time", {*read}, keep, 2);
    ASSERT_TRUE(tables.ok()) << tables.status().ToString();
    CheckAgainstBruteForce(fmt::format("seed {} (CSV source)", 3000 + seed), *tables, expected, groups, events, events);

    BackfillOptions options;
    options.source = "events";
    options.keep_columns = keep;
    options.threads = 2;
    for (const Expected& e : expected) options.features.push_back(e.feature);
    Result<Table> whole = Backfill(*registry, options);
    ASSERT_TRUE(whole.ok()) << whole.status().ToString();
    EXPECT_TRUE(whole->Equals(*tables)) << "seed " << 3000 + seed << ": Backfill() and BackfillTables() disagree";

    // A spine file (its types inferred) gives what the same spine in memory gives.
    std::vector<Row> spine = GenerateSpine(rng, kUsers);
    testing::WriteTextFile(dir.File("spine.csv"), ToCsv(spine));
    options.spine_path = dir.File("spine.csv");
    options.spine_timestamp = "time";
    Result<Table> from_file = Backfill(*registry, options);
    ASSERT_TRUE(from_file.ok()) << from_file.status().ToString();
    Result<Table> in_memory = BackfillTables(*registry, features, ToTable(spine), "time", {*read}, keep, 1);
    ASSERT_TRUE(in_memory.ok()) << in_memory.status().ToString();
    EXPECT_TRUE(from_file->Equals(*in_memory)) << "seed " << 3000 + seed << ": spine file and spine table disagree";
  }
}

// ---------------------------------------------------------------------------------------------------------
// A hand-computed case: the semantics the brute force encodes, spelled out as numbers, checked against
// both the brute force and gyre (so a shared misreading of the rules would still be caught).

TEST(BackfillPropertyTest, HandComputedSmallCase) {
  auto at = [](int64_t s) { return kT0 + Seconds(s); };
  auto ev = [&](int64_t s, std::optional<double> x, std::optional<std::string> str, std::optional<bool> ok) {
    Row r;
    r.ts = at(s);
    r.user = "u";
    r.device = "d";
    r.x = x;
    r.s = std::move(str);
    r.ok = ok;
    return r;
  };
  // File order matters for the tie at 10 s: x = 4 comes last.
  std::vector<Row> events = {ev(0, 1, "a", true), ev(10, 2, "b", false), ev(10, 4, "a", true),
                             ev(20, std::nullopt, std::nullopt, true), ev(60, 8, "c", true)};
  Row q30 = ev(30, std::nullopt, "b", std::nullopt);  // a read between events
  Row q80 = ev(80, std::nullopt, "a", std::nullopt);  // after a 40 s gap (ttl 15s dropped the state)
  Row q_other = ev(30, std::nullopt, "a", std::nullopt);
  q_other.user = "v";  // a key never seen
  std::vector<Row> spine = events;
  spine.push_back(q30);
  spine.push_back(q80);
  spine.push_back(q_other);

  GroupSpec g;
  g.name = "hand";
  g.aggs = {
      {"cnt", Kind::kCount, Of::kNone, Filter::kNone, {k10s, kLife}},
      {"sum_x", Kind::kSum, Of::kX, Filter::kNone, {k10s}},
      {"mean_x", Kind::kMean, Of::kX, Filter::kNone, {}},
      {"last_x", Kind::kLast, Of::kX, Filter::kNone, {k10s, kLife}},
      {"new_s", Kind::kIsNew, Of::kS, Filter::kNone, {}, k30s},
      {"ratio_ok", Kind::kRatio, Of::kNone, Filter::kOk, {}},
      {"tsl_ok", Kind::kTimeSinceLast, Of::kNone, Filter::kOk, {}},
      {"fs", Kind::kFirstSeen, Of::kNone, Filter::kNone, {}},
  };
  GroupSpec ttl = g;
  ttl.name = "hand_ttl";
  ttl.ttl = Seconds(15);
  ttl.aggs = {{"t_cnt", Kind::kCount, Of::kNone, Filter::kNone, {}}};
  GroupSpec age = g;
  age.name = "hand_age";
  age.max_age = Seconds(10);
  age.aggs = {{"a_cnt", Kind::kCount, Of::kNone, Filter::kNone, {}}};
  std::vector<GroupSpec> groups = {g, ttl, age};

  const Cell N;
  auto n = [](double v) { return Cell::Number(v); };
  // Rows: the 5 events (t = 0, 10, 10, 20, 60), then q30, q80 and the unseen key at 30.
  std::map<std::string, std::vector<Cell>> want = {
      // [t-10s, t): at 20 the two events at 10 (the window's start is included); ties never see each other.
      {"cnt_10s", {n(0), n(1), n(1), n(2), n(0), n(1), n(0), n(0)}},
      {"cnt", {n(0), n(1), n(1), n(3), n(4), n(4), n(5), n(0)}},
      {"sum_x_10s", {n(0), n(1), n(1), n(6), n(0), n(0), n(0), n(0)}},
      {"mean_x", {N, n(1), n(1), n(7.0 / 3), n(7.0 / 3), n(7.0 / 3), n(15.0 / 4), N}},
      // The later event of the tie at 10 s (x = 4); the event at 20 has no x, so last skips it.
      {"last_x", {N, n(1), n(1), n(4), n(4), n(4), n(8), N}},
      {"last_x_10s", {N, n(1), n(1), n(4), N, N, N, N}},
      // s of the row itself, seen in [t-30s, t)? q80's 'a' was last seen at 10 s: new again.
      {"new_s", {n(1), n(1), n(0), N, n(1), n(0), n(1), n(1)}},
      {"ratio_ok", {N, n(1), n(1), n(2.0 / 3), n(3.0 / 4), n(3.0 / 4), n(4.0 / 5), N}},
      {"tsl_ok", {N, n(10), n(10), n(10), n(40), n(10), n(20), N}},
      {"fs", {N, n(10), n(10), n(20), n(60), n(30), n(80), N}},
      // ttl 15s: the gap 20 → 60 restarts the key; at 80 the key idled 20 s and is gone.
      {"t_cnt", {n(0), n(1), n(1), n(3), n(0), n(4), n(0), n(0)}},
      // max_age 10s: a latest event more than 10 s before t nulls the group (exactly 10 s does not).
      {"a_cnt", {n(0), n(1), n(1), n(3), N, n(4), N, n(0)}},
  };
  std::vector<Expected> expected = BruteForce(groups, {}, events, spine);
  for (const Expected& e : expected) {
    auto it = want.find(e.feature);
    ASSERT_NE(it, want.end()) << e.feature;
    for (size_t r = 0; r < spine.size(); ++r) {
      EXPECT_TRUE(Agrees(e, it->second[r], e.cells[r]))
          << "brute force, " << e.feature << " row " << r << ": want " << it->second[r].ToString() << ", got "
          << e.cells[r].ToString();
    }
  }
  RunCase("hand-computed case", groups, {}, events, spine);
}

}  // namespace
}  // namespace gyre::features
