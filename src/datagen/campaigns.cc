#include "datagen/campaigns.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <unordered_map>
#include <unordered_set>

#include "datagen/label_policy.h"

namespace gyre::datagen {
namespace {

// Where an attacker's request comes from, as the login system sees it.
struct Endpoint {
  uint32_t ip, asn;
  uint8_t country;
  int32_t lat_e4, lon_e4;
};

int32_t E4(double degrees) { return static_cast<int32_t>(std::lround(degrees * 1e4)); }

Endpoint AtNetwork(Rng& rng, int index, double jitter) {
  const auto& world = World();
  const Network& n = world.networks[index];
  const City& city = world.countries[n.country].cities[n.city];
  return {RandomIp(rng, n), n.asn, n.country, E4(city.lat) + Jitter(rng, jitter), E4(city.lon) + Jitter(rng, jitter)};
}

template <typename T>
void AddDistinct(std::vector<T>& v, T x) {
  if (std::find(v.begin(), v.end(), x) == v.end()) v.push_back(x);
}

template <typename T>
const T& PickFrom(Rng& rng, const std::vector<T>& v) {
  return v[rng.Below(static_cast<uint32_t>(v.size()))];
}

// A delay of lo..hi seconds, to the millisecond (whole seconds would make follow-ups line up exactly).
TimestampMicros Seconds(Rng& rng, int lo, int hi) { return rng.Between(lo * 1000LL, hi * 1000LL) * 1000; }
uint64_t ValueHash(Rng& rng) { return rng.Next() | 1; }

// A takeover crew's kit: the devices it logs in from, where it connects from, and the contact details
// and payees it puts on the accounts it takes. All are reused across victims, which is the signal.
struct Crew {
  std::vector<uint64_t> devices;
  std::vector<uint16_t> uas;  // per device
  std::vector<Endpoint> endpoints;
  std::vector<uint64_t> emails, phones, payees;
};

// One campaign being planned.
struct Ctx {
  uint32_t index;  // into plan.campaigns (which may reallocate)
  Rng rng;
  std::unordered_set<uint64_t> users, devices, ips;
};

class Planner {
 public:
  Planner(const AtoOptions& options, Population* pop, double expected_background)
      : options_(options), pop_(*pop), world_(World()) {
    double r = options.fraud_rate;
    plan_.fraud_budget = std::llround(r / (1 - r) * expected_background);
  }

  CampaignPlan Run();

 private:
  Ctx Begin(CampaignType type, TimestampMicros from, TimestampMicros to) {
    plan_.campaigns.emplace_back();
    Campaign& c = plan_.campaigns.back();
    c.id = static_cast<uint32_t>(plan_.campaigns.size());
    c.type = type;
    c.after_drift = from >= pop_.drift;
    c.start = to;
    c.end = from;
    return Ctx{c.id - 1, Rng(options_.seed, 0x3000000000ULL + c.id), {}, {}, {}};
  }
  Campaign& C(const Ctx& ctx) { return plan_.campaigns[ctx.index]; }
  // Records the distinct counts; returns the fraud events the campaign spent.
  int64_t Done(const Ctx& ctx) {
    Campaign& c = C(ctx);
    c.target_users = static_cast<int64_t>(ctx.users.size());
    c.devices = static_cast<int64_t>(ctx.devices.size());
    c.ips = static_cast<int64_t>(ctx.ips.size());
    return c.fraud_events;
  }

  int64_t Emit(Ctx& ctx, EventKind kind, uint32_t user, TimestampMicros t, uint64_t device, uint16_t ua,
               const Endpoint& at, bool fraud);
  Event& At(int64_t index) { return plan_.events[index]; }
  void LabelFraud(Rng& rng, int64_t index, TimestampMicros noticed);
  void ReviewRecovery(Rng& rng, int64_t index);

  void TakeOver(Ctx& ctx, uint32_t user, TimestampMicros t, uint64_t device, uint16_t ua, const Endpoint& at,
                const Crew& crew, bool full, std::vector<int64_t>* events);
  // A credential attack's login attempt `e`: a failure is labelled fraud; a success becomes a quick takeover
  // with probability takeover_rate when the user is not in another one, else it is labelled fraud too.
  void FollowUpAttempt(Ctx& ctx, Rng& rng, int64_t e, bool success, double takeover_rate, uint32_t user,
                       TimestampMicros t, uint64_t device, uint16_t ua, const Endpoint& at, const Crew& crew);
  TimestampMicros Recover(Ctx& ctx, uint32_t user, TimestampMicros t, bool password_changed, bool email_changed);

  bool PickVictim(Rng& rng, TimestampMicros t, uint32_t* user);
  Crew MakeCrew(Rng& rng, bool proxy);
  void Place(Rng& rng, TimestampMicros from, TimestampMicros to, TimestampMicros duration, TimestampMicros* start,
             TimestampMicros* end);

  int64_t Stuffing(TimestampMicros from, TimestampMicros to, int64_t budget);
  int64_t Spray(TimestampMicros from, TimestampMicros to, int64_t budget);
  int64_t Takeover(TimestampMicros from, TimestampMicros to, int64_t budget, bool proxy);
  int64_t Ring(TimestampMicros from, TimestampMicros to, int64_t budget);

  const AtoOptions& options_;
  Population& pop_;
  const WorldTables& world_;
  CampaignPlan plan_;
  uint64_t next_key_ = 0;
  std::unordered_map<uint32_t, TimestampMicros> busy_until_;  // victims in attackers' hands until recovery
};

int64_t Planner::Emit(Ctx& ctx, EventKind kind, uint32_t user, TimestampMicros t, uint64_t device, uint16_t ua,
                      const Endpoint& at, bool fraud) {
  t = ToMillis(t);
  if (t < pop_.start || t >= pop_.end) return -1;
  Event e;
  e.time = t;
  e.key = kCampaignKeyBit | next_key_++;
  e.device = device;
  e.user_code = pop_.users[user].code;
  e.ip = at.ip;
  e.asn = at.asn;
  e.country = at.country;
  e.lat_e4 = at.lat_e4;
  e.lon_e4 = at.lon_e4;
  e.ua = ua;
  e.kind = kind;
  e.campaign = C(ctx).id;
  e.flags = fraud ? kFraud : kRecovery;
  Campaign& c = C(ctx);
  if (fraud) {
    ++c.fraud_events;
    c.start = std::min(c.start, t);
    c.end = std::max(c.end, t);
    ctx.users.insert(user);
    ctx.devices.insert(device);
    ctx.ips.insert(at.ip);
    AddDistinct(c.asns, at.asn);
    AddDistinct(c.countries, at.country);
    AddDistinct(c.user_agents, ua);
  } else {
    ++c.recovery_events;
  }
  plan_.events.push_back(e);
  return static_cast<int64_t>(plan_.events.size() - 1);
}

// Which label, if any, a fraudulent event gets. `noticed` is when the victim found out (kNever if not).
void Planner::LabelFraud(Rng& rng, int64_t index, TimestampMicros noticed) {
  if (index < 0) return;
  Event& e = At(index);
  if (rng.Bernoulli(options_.unlabeled_fraud_rate)) return;
  double x = rng.Uniform();
  bool money = e.kind == EventKind::kPromo ||
               (e.kind == EventKind::kAccount && e.subtype == static_cast<uint8_t>(AccountEventType::kPayeeAdded));
  if (money && x < (e.kind == EventKind::kPromo ? 0.5 : 0.25)) {
    SetLabel(e, LabelSource::kChargeback, true, e.time + ChargebackDelay(rng));
  } else if (noticed != kNever && rng.Bernoulli(0.6)) {
    SetLabel(e, LabelSource::kCustomerReport, true, ReportTime(rng, e.time, noticed));
  } else {
    SetLabel(e, LabelSource::kAnalyst, !rng.Bernoulli(options_.label_noise), e.time + AnalystDelay(rng));
  }
}

// Recovery events look alarming (failures, a reset), so analysts review them often; they are legit.
void Planner::ReviewRecovery(Rng& rng, int64_t index) {
  if (index < 0) return;
  if (rng.Bernoulli(std::min(1.0, 50 * options_.review_rate))) {
    Event& e = At(index);
    e.flags |= kSuspicious;
    SetLabel(e, LabelSource::kAnalyst, rng.Bernoulli(options_.label_noise), e.time + AnalystDelay(rng));
  }
}

bool Planner::PickVictim(Rng& rng, TimestampMicros t, uint32_t* user) {
  for (int attempt = 0; attempt < 30; ++attempt) {
    uint32_t u = rng.Below(pop_.initial);
    const UserProfile& p = pop_.users[u];
    if (p.MfaAt(t) && attempt < 20) continue;  // crews prefer accounts without a second factor
    auto busy = busy_until_.find(u);
    if (busy != busy_until_.end() && busy->second > t - kMicrosPerDay) continue;
    *user = u;
    return true;
  }
  return false;
}

void Planner::Place(Rng& rng, TimestampMicros from, TimestampMicros to, TimestampMicros duration,
                    TimestampMicros* start, TimestampMicros* end) {
  duration = std::min(duration, to - from);
  *start = from + static_cast<TimestampMicros>(rng.Uniform() * static_cast<double>(to - from - duration));
  *end = *start + duration;
}

void Planner::FollowUpAttempt(Ctx& ctx, Rng& rng, int64_t e, bool success, double takeover_rate, uint32_t user,
                              TimestampMicros t, uint64_t device, uint16_t ua, const Endpoint& at, const Crew& crew) {
  if (!success) {
    LabelFraud(rng, e, kNever);
    return;
  }
  At(e).flags |= kSuccess;
  ++C(ctx).successful_logins;
  auto busy = busy_until_.find(user);
  bool free = busy == busy_until_.end() || busy->second <= t;
  if (free && rng.Bernoulli(takeover_rate)) {
    std::vector<int64_t> events{e};
    TakeOver(ctx, user, t, device, ua, at, crew, false, &events);
  } else {
    LabelFraud(rng, e, kNever);
  }
}

// The attacker's changes after a successful login at t: within minutes, the email (so resets go to the
// crew), the phone, the password and a payee. A stuffing crew checking its haul (full = false) changes
// less.
void Planner::TakeOver(Ctx& ctx, uint32_t user, TimestampMicros t, uint64_t device, uint16_t ua, const Endpoint& at,
                       const Crew& crew, bool full, std::vector<int64_t>* events) {
  Rng& rng = ctx.rng;
  bool email = rng.Bernoulli(full ? 0.7 : 0.8);
  bool phone = rng.Bernoulli(full ? 0.4 : 0.1);
  bool password = rng.Bernoulli(full ? 0.5 : 0.5);
  bool payee = rng.Bernoulli(full ? 0.6 : 0.2);
  if (!email && !phone && !password && !payee) email = true;
  TimestampMicros cur = t + Seconds(rng, 60, 600);
  auto change = [&](AccountEventType type, uint64_t value) {
    int64_t i = Emit(ctx, EventKind::kAccount, user, cur, device, ua, at, true);
    if (i >= 0) {
      At(i).subtype = static_cast<uint8_t>(type);
      At(i).value = value;
    }
    events->push_back(i);
    cur += Seconds(rng, 20, 300);
  };
  if (email) change(AccountEventType::kEmailChange, PickFrom(rng, crew.emails));
  if (phone) change(AccountEventType::kPhoneChange, PickFrom(rng, crew.phones));
  if (password) change(AccountEventType::kPasswordChange, 0);
  if (payee) change(AccountEventType::kPayeeAdded, PickFrom(rng, crew.payees));
  if (full && rng.Bernoulli(0.15)) {
    int64_t i = Emit(ctx, EventKind::kPromo, user, cur + Seconds(rng, 60, 900), device, ua, at, true);
    if (i >= 0) {
      At(i).subtype = 2;  // CASHBACK5: always valid
      At(i).value = static_cast<uint64_t>(std::round(ctx.rng.LogNormal(std::log(15000), 0.5)));
    }
    events->push_back(i);
  }
  ++C(ctx).takeovers;
  // The victim's reaction decides the customer report, and ends the silent window.
  TimestampMicros noticed = Recover(ctx, user, t, password, email);
  for (int64_t i : *events) LabelFraud(rng, i, noticed);
}

TimestampMicros Planner::Recover(Ctx& ctx, uint32_t user, TimestampMicros t, bool password_changed,
                                 bool email_changed) {
  Rng& rng = ctx.rng;
  const UserProfile& p = pop_.users[user];
  // Some victims see the "your email was changed" notice at once; others find out at their next login.
  TimestampMicros delay;
  if (rng.Bernoulli(0.35)) {
    delay = Seconds(rng, 20 * 60, 6 * 3600);
  } else {
    delay = static_cast<TimestampMicros>(rng.Exponential(kMicrosPerDay / std::max(0.05f, p.rate)));
    delay = std::clamp(delay, kMicrosPerHour, 14 * kMicrosPerDay);
  }
  TimestampMicros when = ToMillis(t + delay);
  TimestampMicros silent_from = t - 10 * kMicrosPerMinute;
  if (when >= pop_.end) {
    plan_.windows.push_back({user, silent_from, pop_.end});
    busy_until_[user] = pop_.end;
    return kNever;
  }
  plan_.windows.push_back({user, silent_from, when});
  busy_until_[user] = when;

  const DeviceInfo& device = p.devices[0];
  const Network& home = world_.networks[p.home_net];
  Endpoint at{pop_.HomeIp(user, when), home.asn, p.country, p.lat_e4 + Jitter(rng, 0.02), p.lon_e4 + Jitter(rng, 0.02)};
  uint16_t ua = DeviceUaAt(p, device, when);
  TimestampMicros cur = when;
  auto login = [&](bool success) {
    int64_t i = Emit(ctx, EventKind::kLogin, user, cur, device.id, ua, at, false);
    if (i >= 0 && success) At(i).flags |= kSuccess;
    ReviewRecovery(rng, i);
    cur += Seconds(rng, 10, 60);
  };
  auto change = [&](AccountEventType type, uint64_t value) {
    int64_t i = Emit(ctx, EventKind::kAccount, user, cur, device.id, ua, at, false);
    if (i >= 0) {
      At(i).subtype = static_cast<uint8_t>(type);
      At(i).value = value;
    }
    ReviewRecovery(rng, i);
    cur += Seconds(rng, 20, 120);
  };
  if (password_changed) {
    for (int64_t f = rng.Between(1, 3); f > 0; --f) login(false);
    cur += Seconds(rng, 60, 600);  // through the support line or the reset flow
    change(AccountEventType::kPasswordChange, 0);
    login(true);
  } else {
    login(true);
    change(AccountEventType::kPasswordChange, 0);
  }
  if (email_changed) change(AccountEventType::kEmailChange, ValueHash(rng));
  return when;
}

Crew Planner::MakeCrew(Rng& rng, bool proxy) {
  Crew crew;
  int devices = static_cast<int>(rng.Between(1, 4));
  for (int d = 0; d < devices; ++d) {
    crew.devices.push_back(NewDeviceId(rng));
    // Classic crews use emulators and stale browsers; proxy crews copy what customers run.
    int ua = proxy ? PickUserAgent(rng, rng.Bernoulli(0.5) ? world_.desktop_uas : world_.mobile_web_uas)
                   : (rng.Bernoulli(0.6) ? PickFrom(rng, world_.spoofed_uas) : PickUserAgent(rng, world_.desktop_uas));
    crew.uas.push_back(static_cast<uint16_t>(ua));
  }
  if (!proxy) {
    int home = PickFrom(rng, world_.attacker_countries);
    const Country& c = world_.countries[home];
    int endpoints = static_cast<int>(rng.Between(3, 15));
    for (int i = 0; i < endpoints; ++i) {
      double x = rng.Uniform();
      int net = x < 0.35                        ? PickFrom(rng, world_.vpn)
                : x < 0.5                       ? PickFrom(rng, world_.hosting)
                : x < 0.75 && !c.mobile.empty() ? PickFrom(rng, c.mobile)
                                                : PickFrom(rng, c.residential.empty() ? c.mobile : c.residential);
      crew.endpoints.push_back(AtNetwork(rng, net, 0.05));
    }
  }
  for (int i = static_cast<int>(rng.Between(1, 3)); i > 0; --i) crew.emails.push_back(ValueHash(rng));
  for (int i = static_cast<int>(rng.Between(1, 2)); i > 0; --i) crew.phones.push_back(ValueHash(rng));
  for (int i = static_cast<int>(rng.Between(1, 3)); i > 0; --i) crew.payees.push_back(ValueHash(rng));
  return crew;
}

int64_t Planner::Stuffing(TimestampMicros from, TimestampMicros to, int64_t budget) {
  Ctx ctx = Begin(CampaignType::kCredentialStuffing, from, to);
  Rng& rng = ctx.rng;
  int64_t attempts =
      std::min<int64_t>(budget, std::max<int64_t>(20, std::llround(pop_.initial * rng.Uniform(0.05, 0.3))));
  TimestampMicros start, end;
  Place(rng, from, to, Seconds(rng, 3600, 8 * 3600), &start, &end);

  std::vector<int> nets;
  for (int n = static_cast<int>(rng.Between(1, 3)); n > 0; --n) AddDistinct(nets, PickFrom(rng, world_.hosting));
  uint16_t ua = static_cast<uint16_t>(rng.Bernoulli(0.7) ? PickFrom(rng, world_.scripted_uas)
                                                         : PickFrom(rng, world_.spoofed_uas));
  uint64_t fixed_devices[3] = {NewDeviceId(rng), NewDeviceId(rng), NewDeviceId(rng)};
  Crew crew = MakeCrew(rng, false);  // only its contact details are used, for follow-up takeovers

  std::vector<TimestampMicros> times(attempts);
  for (auto& t : times) t = start + static_cast<TimestampMicros>(rng.Uniform() * static_cast<double>(end - start));
  std::sort(times.begin(), times.end());

  Endpoint at{};
  int64_t left_on_ip = 0;
  uint32_t user = 0;
  for (int64_t i = 0; i < attempts; ++i) {
    if (left_on_ip-- <= 0) {
      at = AtNetwork(rng, PickFrom(rng, nets), 0.02);
      left_on_ip = static_cast<int64_t>(rng.Exponential(25));
    }
    // Mostly a fresh pair per attempt; sometimes the same user again with a password variant.
    if (i == 0 || !rng.Bernoulli(0.15)) user = rng.Below(pop_.initial);
    uint64_t device = rng.Bernoulli(0.6) ? NewDeviceId(rng) : fixed_devices[rng.Below(3)];
    const UserProfile& p = pop_.users[user];
    bool success = p.reuses_password && !p.MfaAt(times[i]) && rng.Bernoulli(0.9);
    int64_t e = Emit(ctx, EventKind::kLogin, user, times[i], device, ua, at, true);
    if (e < 0) continue;
    FollowUpAttempt(ctx, rng, e, success, 0.35, user, times[i], device, ua, at, crew);
  }
  Campaign& c = C(ctx);
  c.description = fmt::format("{} attempts from {} datacenter network(s), user agent '{}'", attempts, nets.size(),
                              world_.user_agents[ua].text);
  return Done(ctx);
}

int64_t Planner::Spray(TimestampMicros from, TimestampMicros to, int64_t budget) {
  Ctx ctx = Begin(CampaignType::kPasswordSpray, from, to);
  Rng& rng = ctx.rng;
  int64_t attempts =
      std::min<int64_t>(budget, std::max<int64_t>(10, std::llround(pop_.initial * rng.Uniform(0.03, 0.15))));
  TimestampMicros start, end;
  Place(rng, from, to, rng.Between(1, 4) * kMicrosPerDay, &start, &end);

  // A handful of exits, each with its own browser fingerprint, rotated slowly to stay under lockouts.
  std::vector<Endpoint> exits;
  std::vector<uint64_t> devices;
  int n = static_cast<int>(rng.Between(3, 10));
  for (int i = 0; i < n; ++i) {
    exits.push_back(
        AtNetwork(rng, rng.Bernoulli(0.6) ? PickFrom(rng, world_.vpn) : PickFrom(rng, world_.hosting), 0.02));
    devices.push_back(NewDeviceId(rng));
  }
  uint16_t ua = static_cast<uint16_t>(PickUserAgent(rng, world_.desktop_uas));
  Crew crew = MakeCrew(rng, false);

  std::vector<TimestampMicros> times(attempts);
  for (auto& t : times) t = start + static_cast<TimestampMicros>(rng.Uniform() * static_cast<double>(end - start));
  std::sort(times.begin(), times.end());
  for (int64_t i = 0; i < attempts; ++i) {
    uint32_t user = rng.Below(pop_.initial);
    int x = static_cast<int>(rng.Below(static_cast<uint32_t>(exits.size())));
    const UserProfile& p = pop_.users[user];
    bool success = p.weak_password && !p.MfaAt(times[i]);
    int64_t e = Emit(ctx, EventKind::kLogin, user, times[i], devices[x], ua, exits[x], true);
    if (e < 0) continue;
    FollowUpAttempt(ctx, rng, e, success, 0.5, user, times[i], devices[x], ua, exits[x], crew);
  }
  C(ctx).description = fmt::format("{} attempts over {:.1f} days from {} exits", attempts,
                                   static_cast<double>(end - start) / kMicrosPerDay, exits.size());
  return Done(ctx);
}

int64_t Planner::Takeover(TimestampMicros from, TimestampMicros to, int64_t budget, bool proxy) {
  Ctx ctx = Begin(proxy ? CampaignType::kTakeoverProxy : CampaignType::kAccountTakeover, from, to);
  Rng& rng = ctx.rng;
  int64_t victims = std::max<int64_t>(rng.Between(3, 8), std::llround(pop_.initial * rng.Uniform(0.0005, 0.002)));
  victims = std::min<int64_t>(victims, std::max<int64_t>(1, budget / 4));
  TimestampMicros start, end;
  Place(rng, from, to, rng.Between(1, 10) * kMicrosPerDay, &start, &end);
  Crew crew = MakeCrew(rng, proxy);

  std::vector<TimestampMicros> times(victims);
  for (auto& t : times) t = start + static_cast<TimestampMicros>(rng.Uniform() * static_cast<double>(end - start));
  std::sort(times.begin(), times.end());
  for (TimestampMicros t : times) {
    uint32_t user;
    if (!PickVictim(rng, t, &user)) continue;
    const UserProfile& p = pop_.users[user];
    uint64_t device;
    uint16_t ua;
    if (rng.Bernoulli(proxy ? 0.4 : 0.7)) {
      size_t d = rng.Below(static_cast<uint32_t>(crew.devices.size()));
      device = crew.devices[d];
      ua = crew.uas[d];
    } else {
      device = NewDeviceId(rng);
      ua = PickFrom(rng, crew.uas);
    }
    Endpoint at;
    if (proxy) {
      // A residential proxy exit near the victim: same country, same metro, an ordinary home ISP.
      const Country& c = world_.countries[p.country];
      const Network& net = world_.networks[PickFrom(rng, c.residential)];
      at = {RandomIp(rng, net), net.asn, p.country, p.lat_e4 + Jitter(rng, 0.1), p.lon_e4 + Jitter(rng, 0.1)};
    } else {
      at = PickFrom(rng, crew.endpoints);
    }
    std::vector<int64_t> events;
    if (rng.Bernoulli(0.2))
      events.push_back(Emit(ctx, EventKind::kLogin, user, t - Seconds(rng, 30, 300), device, ua, at, true));
    int64_t login = Emit(ctx, EventKind::kLogin, user, t, device, ua, at, true);
    if (login < 0) {
      for (int64_t i : events) LabelFraud(rng, i, kNever);
      continue;
    }
    At(login).flags |= kSuccess;
    if (p.MfaAt(t)) At(login).flags |= kMfa;  // a SIM swap got the code
    ++C(ctx).successful_logins;
    events.push_back(login);
    TakeOver(ctx, user, t, device, ua, at, crew, true, &events);
  }
  Campaign& c = C(ctx);
  c.description = proxy ? fmt::format("{} victim(s) via residential proxies in their own city, {} device(s)",
                                      c.takeovers, crew.devices.size())
                        : fmt::format("{} victim(s) from {} endpoint(s) abroad, {} device(s)", c.takeovers,
                                      crew.endpoints.size(), crew.devices.size());
  return Done(ctx);
}

int64_t Planner::Ring(TimestampMicros from, TimestampMicros to, int64_t budget) {
  Ctx ctx = Begin(CampaignType::kPromoAbuseRing, from, to);
  Rng& rng = ctx.rng;
  // Bigger platforms attract bigger rings.
  double scale = std::clamp(std::sqrt(pop_.initial / 20000.0), 1.0, 5.0);
  int64_t accounts = std::llround(static_cast<double>(rng.Between(10, 80)) * scale);
  accounts = std::min<int64_t>(accounts, std::max<int64_t>(2, budget * 2 / 9));
  TimestampMicros start, end;
  Place(rng, from, to, rng.Between(1, 5) * kMicrosPerDay, &start, &end);

  std::vector<double> markets;
  double total = 0;
  for (const auto& c : world_.countries) markets.push_back(total += c.market_weight);
  int country = PickCdf(rng, markets.data(), static_cast<int>(markets.size()));
  const Country& c = world_.countries[country];
  uint8_t city = static_cast<uint8_t>(rng.Below(static_cast<uint32_t>(c.cities.size())));
  while (c.cities[city].weight <= 0) city = static_cast<uint8_t>((city + 1) % c.cities.size());

  std::vector<uint64_t> devices;
  std::vector<uint16_t> uas;
  for (int d = static_cast<int>(rng.Between(2, 6)); d > 0; --d) {
    devices.push_back(NewDeviceId(rng));
    uas.push_back(
        static_cast<uint16_t>(rng.Bernoulli(0.5) ? world_.spoofed_uas[1] : PickUserAgent(rng, world_.android_app_uas)));
  }
  std::vector<Endpoint> endpoints;
  for (int i = static_cast<int>(rng.Between(3, 8)); i > 0; --i) {
    double x = rng.Uniform();
    int net = x < 0.4 ? PickFrom(rng, c.residential) : x < 0.7 ? PickFrom(rng, c.mobile) : PickFrom(rng, world_.vpn);
    Endpoint e = AtNetwork(rng, net, 0.05);
    if (world_.networks[net].kind != NetKind::kHosting) {
      e.lat_e4 = E4(c.cities[city].lat) + Jitter(rng, 0.05);
      e.lon_e4 = E4(c.cities[city].lon) + Jitter(rng, 0.05);
    }
    endpoints.push_back(e);
  }
  // Signups come in bursts: a script run, a pause, another run.
  std::vector<TimestampMicros> bursts;
  for (int b = static_cast<int>(rng.Between(1, 3)); b > 0; --b) {
    bursts.push_back(start + static_cast<TimestampMicros>(rng.Uniform() * static_cast<double>(end - start)));
  }

  auto redeem = [&](uint32_t user, TimestampMicros t, size_t d, const Endpoint& at, int promo) {
    int64_t i = Emit(ctx, EventKind::kPromo, user, t, devices[d], uas[d], at, true);
    if (i < 0) return;
    At(i).subtype = static_cast<uint8_t>(promo);
    // The smallest order the promotion allows, give or take.
    At(i).value = static_cast<uint64_t>(world_.promos[promo].discount_cents * 2 + rng.Between(0, 800));
    LabelFraud(rng, i, kNever);
  };
  for (int64_t a = 0; a < accounts; ++a) {
    TimestampMicros ts = PickFrom(rng, bursts) + static_cast<TimestampMicros>(rng.Normal() * 2 * kMicrosPerHour);
    ts = ToMillis(
        std::clamp(ts, std::max(from, start - kMicrosPerHour), std::min(to, end + kMicrosPerHour) - kMicrosPerHour));
    if (ts < pop_.start) ts = pop_.start;
    uint32_t user = pop_.AddFakeUser(static_cast<uint8_t>(country), city, ts, rng);
    size_t d = rng.Below(static_cast<uint32_t>(devices.size()));
    const Endpoint& at = PickFrom(rng, endpoints);
    int64_t signup = Emit(ctx, EventKind::kAccount, user, ts, devices[d], uas[d], at, true);
    if (signup >= 0) {
      At(signup).subtype = static_cast<uint8_t>(AccountEventType::kSignup);
      At(signup).value = ValueHash(rng);
      LabelFraud(rng, signup, kNever);
    }
    TimestampMicros t = ts + Seconds(rng, 5, 60);
    int64_t login = Emit(ctx, EventKind::kLogin, user, t, devices[d], uas[d], at, true);
    if (login >= 0) {
      At(login).flags |= kSuccess;
      ++C(ctx).successful_logins;
      LabelFraud(rng, login, kNever);
    }
    redeem(user, t + Seconds(rng, 60, 1200), d, at, world_.welcome_promo);
    if (rng.Bernoulli(0.4)) {  // referred by another ring account
      size_t d2 = rng.Below(static_cast<uint32_t>(devices.size()));
      const Endpoint& at2 = PickFrom(rng, endpoints);
      TimestampMicros t2 = t + Seconds(rng, 3600, 6 * 3600);
      int64_t again = Emit(ctx, EventKind::kLogin, user, t2, devices[d2], uas[d2], at2, true);
      if (again >= 0) {
        At(again).flags |= kSuccess;
        ++C(ctx).successful_logins;
        LabelFraud(rng, again, kNever);
      }
      redeem(user, t2 + Seconds(rng, 30, 600), d2, at2, world_.referral_promo);
    }
    if (rng.Bernoulli(0.3)) {
      TimestampMicros t3 = t + Seconds(rng, 20 * 3600, 30 * 3600);
      int64_t later = Emit(ctx, EventKind::kLogin, user, t3, devices[d], uas[d], at, true);
      if (later >= 0) {
        At(later).flags |= kSuccess;
        ++C(ctx).successful_logins;
        LabelFraud(rng, later, kNever);
      }
      redeem(user, t3 + Seconds(rng, 30, 600), d, at, 2);
    }
  }
  Campaign& cc = C(ctx);
  cc.description = fmt::format("{} fake accounts in {} sharing {} devices and {} IPs", accounts, c.code, devices.size(),
                               endpoints.size());
  return Done(ctx);
}

CampaignPlan Planner::Run() {
  const double sum =
      options_.stuffing_share + options_.spray_share + options_.takeover_share + options_.promo_ring_share;
  const double budget = static_cast<double>(plan_.fraud_budget);
  const TimestampMicros start = pop_.start, end = pop_.end, drift = pop_.drift;
  const double before = static_cast<double>(drift - start) / static_cast<double>(end - start);

  // Each family spends its budget campaign by campaign; a campaign is cut to what is left.
  auto spend = [&](double amount, int64_t min_size, auto&& one) {
    auto left = static_cast<int64_t>(std::llround(amount));
    while (left >= min_size) {
      int64_t used = one(left);
      if (used <= 0) break;
      left -= used;
    }
  };
  spend(budget * options_.stuffing_share / sum, 10, [&](int64_t left) { return Stuffing(start, end, left); });
  spend(budget * options_.spray_share / sum, 10, [&](int64_t left) { return Spray(start, end, left); });
  double takeover = budget * options_.takeover_share / sum;
  if (drift > start) {
    spend(takeover * before, 4, [&](int64_t left) { return Takeover(start, drift, left, false); });
  }
  if (drift < end) {
    spend(takeover * (1 - before) * 0.3, 4, [&](int64_t left) { return Takeover(drift, end, left, false); });
    spend(takeover * (1 - before) * 0.7, 4, [&](int64_t left) { return Takeover(drift, end, left, true); });
  }
  spend(budget * options_.promo_ring_share / sum, 8, [&](int64_t left) { return Ring(start, end, left); });

  // Campaigns that ended up with no event inside the window are dropped; the rest are numbered by start
  // time, so campaigns.csv reads in time order like every other file.
  std::vector<Campaign> kept;
  for (auto& c : plan_.campaigns) {
    if (c.fraud_events > 0) kept.push_back(std::move(c));
  }
  std::sort(kept.begin(), kept.end(),
            [](const Campaign& a, const Campaign& b) { return a.start != b.start ? a.start < b.start : a.id < b.id; });
  std::vector<uint32_t> renumber(plan_.campaigns.size() + 1, 0);
  for (size_t i = 0; i < kept.size(); ++i) {
    renumber[kept[i].id] = static_cast<uint32_t>(i + 1);
    kept[i].id = static_cast<uint32_t>(i + 1);
  }
  plan_.campaigns = std::move(kept);
  for (auto& e : plan_.events) e.campaign = renumber[e.campaign];
  std::sort(plan_.events.begin(), plan_.events.end(), EventBefore{});
  return std::move(plan_);
}

}  // namespace

CampaignPlan PlanCampaigns(const AtoOptions& options, Population* population, double expected_background) {
  return Planner(options, population, expected_background).Run();
}

}  // namespace gyre::datagen
