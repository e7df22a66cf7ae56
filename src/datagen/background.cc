#include "datagen/background.h"

#include <algorithm>
#include <cmath>

#include "datagen/label_policy.h"

namespace gyre::datagen {
namespace {

// Per-session behaviour. ExpectedEvents() derives the volume from the same constants.
constexpr double kForgotRate = 0.004;   // several failures, then usually a reset
constexpr double kResetRate = 0.6;      // of forgotten passwords: reset rather than remembered
constexpr double kTypoRate = 0.04;      // one failure, then success seconds later
constexpr double kAbandonRate = 0.006;  // one failure, gives up
constexpr double kStepUpRate = 0.3;     // enrolled users asked for MFA on a known device
constexpr double kPromoRate = 0.006;
struct ChangeRate {
  AccountEventType type;
  double rate, on_new_device;  // per successful session; on the session that introduces a device
};
constexpr ChangeRate kChanges[] = {
    {AccountEventType::kPayeeAdded, 0.004, 0.004},    {AccountEventType::kEmailChange, 0.0008, 0.01},
    {AccountEventType::kPhoneChange, 0.0008, 0.03},   {AccountEventType::kPasswordChange, 0.001, 0.001},
    {AccountEventType::kAddressChange, 0.001, 0.001},
};

// Per user-day.
constexpr double kNewDeviceRate = 0.004;
constexpr double kTripRate = 0.003;
constexpr double kTripNewDeviceRate = 0.1;  // on the day a trip starts
constexpr double kVpnSessionShare = 0.3;

// Local-time activity by hour: quiet nights, a morning rise, an evening peak.
constexpr double kHourWeights[24] = {0.8, 0.5, 0.3, 0.25, 0.25, 0.4, 1.0, 2.0, 3.0, 3.2, 3.0, 3.0,
                                     3.5, 3.2, 2.8, 2.8,  3.0,  3.4, 3.8, 4.2, 4.5, 4.2, 3.2, 1.8};

struct HourCdf {
  double cum[24];
  HourCdf() {
    double total = 0;
    for (int h = 0; h < 24; ++h) cum[h] = total += kHourWeights[h];
  }
};
const HourCdf kHourCdf;

double WeekdayFactor(TimestampMicros day_start) {
  int64_t days = day_start / kMicrosPerDay;
  int dow = static_cast<int>(((days + 4) % 7 + 7) % 7);  // 0 = Sunday; 1970-01-01 was a Thursday
  return dow == 0 || dow == 6 ? 0.85 : 1.06;             // averages to 1 over a week
}

double ChangeRateSum(bool new_device) {
  double sum = 0;
  for (const auto& c : kChanges) sum += new_device ? c.on_new_device : c.rate;
  return sum;
}

double ExpectedEventsPerSession() {
  double fails_when_forgot = 3.5;  // Between(2, 5)
  double forgot = fails_when_forgot + kResetRate * 2 + (1 - kResetRate);
  double plain = 1 - kForgotRate - kTypoRate - kAbandonRate;
  double logins = kForgotRate * forgot + kTypoRate * 2 + kAbandonRate + plain;
  double success = 1 - kAbandonRate;
  return logins + success * (ChangeRateSum(false) + kPromoRate);
}

// A delay of lo..hi seconds, to the millisecond (whole seconds would make follow-ups line up exactly).
TimestampMicros Seconds(Rng& rng, int lo, int hi) { return rng.Between(lo * 1000LL, hi * 1000LL) * 1000; }

uint64_t ValueHash(Rng& rng) { return rng.Next() | 1; }

int PickPromo(Rng& rng, double window_fraction) {
  const auto& promos = World().promos;
  double total = 0;
  for (const auto& p : promos) {
    if (!p.new_accounts_only && window_fraction >= p.valid_from && window_fraction < p.valid_to) total += p.weight;
  }
  double x = rng.Uniform() * total;
  for (size_t i = 0; i < promos.size(); ++i) {
    const auto& p = promos[i];
    if (p.new_accounts_only || window_fraction < p.valid_from || window_fraction >= p.valid_to) continue;
    x -= p.weight;
    if (x < 0) return static_cast<int>(i);
  }
  return 2;  // CASHBACK5: always valid
}

}  // namespace

struct BackgroundGenerator::State {
  Rng rng;
  uint32_t seq = 0;
  uint8_t num_devices = 0;
  DeviceInfo devices[4];
  int trip_country = -1;
  uint8_t trip_city = 0;
  TimestampMicros trip_from = 0, trip_until = 0;
  bool mfa_announced = false;
  bool signed_up = false;
};

struct BackgroundGenerator::Net {
  uint32_t ip, asn;
  uint8_t country;
  int32_t lat_e4, lon_e4;
  bool unusual;  // abroad or through a VPN
};

BackgroundGenerator::BackgroundGenerator(const Population& population, std::vector<CompromiseWindow> windows,
                                         const AtoOptions& options)
    : pop_(population), options_(options), states_(population.background_users()), windows_(std::move(windows)) {
  for (uint32_t u = 0; u < states_.size(); ++u) {
    State& s = states_[u];
    s.rng = Rng(options.seed, 0x2000000000ULL + u);
    const UserProfile& p = pop_.users[u];
    s.num_devices = p.num_devices;
    std::copy(p.devices, p.devices + p.num_devices, s.devices);
    s.signed_up = p.active_from == kAlways;
    s.mfa_announced = p.mfa_from == kAlways;
  }
  std::sort(windows_.begin(), windows_.end(),
            [](const auto& a, const auto& b) { return a.user != b.user ? a.user < b.user : a.from < b.from; });
  window_begin_.assign(states_.size() + 1, 0);
  for (const auto& w : windows_) {
    if (w.user < states_.size()) ++window_begin_[w.user + 1];
  }
  for (size_t u = 0; u < states_.size(); ++u) window_begin_[u + 1] += window_begin_[u];
}

BackgroundGenerator::~BackgroundGenerator() = default;

bool BackgroundGenerator::Compromised(uint32_t u, TimestampMicros t) const {
  for (uint32_t i = window_begin_[u]; i < window_begin_[u + 1]; ++i) {
    if (t >= windows_[i].from && t < windows_[i].to) return true;
  }
  return false;
}

BackgroundGenerator::Net BackgroundGenerator::PickNet(uint32_t u, const DeviceInfo& device, TimestampMicros t) {
  const auto& world = World();
  const UserProfile& p = pop_.users[u];
  State& s = states_[u];
  auto at_network = [&](int index, double jitter) {
    const Network& n = world.networks[index];
    const City& city = world.countries[n.country].cities[n.city];
    return Net{RandomIp(s.rng, n),
               n.asn,
               n.country,
               static_cast<int32_t>(std::lround(city.lat * 1e4)) + Jitter(s.rng, jitter),
               static_cast<int32_t>(std::lround(city.lon * 1e4)) + Jitter(s.rng, jitter),
               true};
  };
  if (s.trip_country >= 0 && t >= s.trip_from && t < s.trip_until) {
    const Country& c = world.countries[s.trip_country];
    double x = s.rng.Uniform();
    if (x < 0.75 || c.mobile.empty() || c.residential.empty()) {
      // Hotel wifi or a local SIM: geolocated where the traveller is.
      const auto& nets = x < 0.5 || c.mobile.empty() ? c.residential : c.mobile;
      const Network& n = world.networks[nets[s.rng.Below(static_cast<uint32_t>(nets.size()))]];
      const City& city = c.cities[s.trip_city];
      return Net{RandomIp(s.rng, n),
                 n.asn,
                 static_cast<uint8_t>(s.trip_country),
                 static_cast<int32_t>(std::lround(city.lat * 1e4)) + Jitter(s.rng, 0.1),
                 static_cast<int32_t>(std::lround(city.lon * 1e4)) + Jitter(s.rng, 0.1),
                 true};
    }
    // Roaming on the home carrier: the IP still geolocates at home.
    const Network& n = world.networks[p.mobile_net];
    return Net{
        RandomIp(s.rng, n), n.asn, p.country, p.lat_e4 + Jitter(s.rng, 0.3), p.lon_e4 + Jitter(s.rng, 0.3), true};
  }
  if (p.vpn_user && s.rng.Bernoulli(kVpnSessionShare)) {
    return at_network(world.vpn[s.rng.Below(static_cast<uint32_t>(world.vpn.size()))], 0.01);
  }
  bool handheld = device.type != DeviceType::kDesktop;
  if (s.rng.Bernoulli(handheld ? 0.6 : 0.05)) {
    const Network& n = world.networks[p.mobile_net];
    return Net{
        RandomIp(s.rng, n), n.asn, p.country, p.lat_e4 + Jitter(s.rng, 0.2), p.lon_e4 + Jitter(s.rng, 0.2), false};
  }
  const Network& n = world.networks[p.home_net];
  return Net{
      pop_.HomeIp(u, t), n.asn, p.country, p.lat_e4 + Jitter(s.rng, 0.02), p.lon_e4 + Jitter(s.rng, 0.02), false};
}

Event BackgroundGenerator::Base(uint32_t u, TimestampMicros t, const DeviceInfo& device, const Net& net,
                                EventKind kind) {
  Event e;
  e.time = ToMillis(t);
  e.key = BackgroundKey(u, states_[u].seq++);
  e.device = device.id;
  e.user_code = pop_.users[u].code;
  e.ip = net.ip;
  e.asn = net.asn;
  e.lat_e4 = net.lat_e4;
  e.lon_e4 = net.lon_e4;
  e.country = net.country;
  e.ua = DeviceUaAt(pop_.users[u], device, t);
  e.kind = kind;
  if (net.unusual) e.flags |= kSuspicious;
  return e;
}

void BackgroundGenerator::Review(uint32_t u, Event& e) {
  Rng& rng = states_[u].rng;
  double p = e.Has(kSuspicious) ? std::min(1.0, 50 * options_.review_rate) : options_.review_rate;
  if (rng.Bernoulli(p))
    SetLabel(e, LabelSource::kAnalyst, rng.Bernoulli(options_.label_noise), e.time + AnalystDelay(rng));
}

void BackgroundGenerator::Signup(uint32_t u, std::vector<Event>* out) {
  const UserProfile& p = pop_.users[u];
  State& s = states_[u];
  s.signed_up = true;
  const DeviceInfo& device = s.devices[0];
  TimestampMicros t = p.active_from;
  Net net = PickNet(u, device, t);
  auto emit = [&](Event e) {
    Review(u, e);
    out->push_back(e);
  };
  Event signup = Base(u, t, device, net, EventKind::kAccount);
  signup.subtype = static_cast<uint8_t>(AccountEventType::kSignup);
  signup.value = ValueHash(s.rng);  // the email the account was opened with
  emit(signup);
  t += Seconds(s.rng, 5, 60);
  Event login = Base(u, t, device, net, EventKind::kLogin);
  login.flags |= kSuccess;
  emit(login);
  if (p.mfa_from == p.active_from) {
    s.mfa_announced = true;
    Event mfa = Base(u, t + Seconds(s.rng, 20, 300), device, net, EventKind::kAccount);
    mfa.subtype = static_cast<uint8_t>(AccountEventType::kMfaEnabled);
    emit(mfa);
  }
  const auto& world = World();
  auto redeem = [&](int promo, TimestampMicros at) {
    Event e = Base(u, at, device, net, EventKind::kPromo);
    e.subtype = static_cast<uint8_t>(promo);
    int64_t discount = world.promos[promo].discount_cents;
    e.value = static_cast<uint64_t>(std::max<double>(discount * 2, std::round(s.rng.LogNormal(std::log(4500), 0.6))));
    emit(e);
  };
  if (s.rng.Bernoulli(0.5)) redeem(world.welcome_promo, t + Seconds(s.rng, 120, 3600));
  if (s.rng.Bernoulli(0.15)) redeem(world.referral_promo, t + Seconds(s.rng, 600, 7200));
}

void BackgroundGenerator::Session(uint32_t u, TimestampMicros t, bool new_device, std::vector<Event>* out) {
  const UserProfile& p = pop_.users[u];
  State& s = states_[u];
  Rng& rng = s.rng;

  DeviceInfo device;
  if (new_device) {
    // A new phone often keeps the old one's platform.
    DeviceType type = rng.Bernoulli(0.5) ? s.devices[rng.Below(s.num_devices)].type : PickDeviceType(rng, false);
    device = MakeDevice(rng, type);
    if (s.num_devices < 4) {
      s.devices[s.num_devices++] = device;
    } else {
      s.devices[1 + rng.Below(3)] = device;
    }
  } else if (s.num_devices == 1 || rng.Bernoulli(0.65)) {
    device = s.devices[0];
  } else {
    device = s.devices[1 + rng.Below(s.num_devices - 1u)];
  }
  Net net = PickNet(u, device, t);

  auto emit = [&](Event e, bool suspicious) {
    if (suspicious) e.flags |= kSuspicious;
    Review(u, e);
    out->push_back(e);
  };
  auto login = [&](TimestampMicros at, bool success, bool mfa, bool suspicious) {
    Event e = Base(u, at, device, net, EventKind::kLogin);
    if (success) e.flags |= kSuccess;
    if (mfa) e.flags |= kMfa;
    emit(e, suspicious);
  };
  auto change = [&](TimestampMicros at, AccountEventType type, bool suspicious) {
    Event e = Base(u, at, device, net, EventKind::kAccount);
    e.subtype = static_cast<uint8_t>(type);
    if (type != AccountEventType::kPasswordChange && type != AccountEventType::kMfaEnabled) e.value = ValueHash(rng);
    emit(e, suspicious);
  };

  bool enrolling = !s.mfa_announced && t >= p.mfa_from;
  bool has_mfa = s.mfa_announced;
  TimestampMicros cur = t;
  double x = rng.Uniform();
  if (x < kForgotRate) {
    int fails = static_cast<int>(rng.Between(2, 5));
    for (int i = 0; i < fails; ++i) {
      login(cur, false, false, true);
      cur += Seconds(rng, 8, 90);
    }
    if (rng.Bernoulli(kResetRate)) {
      cur += Seconds(rng, 60, 300);
      change(cur, AccountEventType::kPasswordChange, true);
      cur += Seconds(rng, 20, 120);
    }
  } else if (x < kForgotRate + kTypoRate) {
    login(cur, false, false, new_device);
    cur += Seconds(rng, 4, 40);
  } else if (x < kForgotRate + kTypoRate + kAbandonRate) {
    login(cur, false, false, new_device);
    return;
  }
  login(cur, true, has_mfa && (new_device || rng.Bernoulli(kStepUpRate)), new_device);

  if (enrolling) {
    s.mfa_announced = true;
    change(cur + Seconds(rng, 30, 600), AccountEventType::kMfaEnabled, false);
  }
  for (const auto& c : kChanges) {
    if (rng.Bernoulli(new_device ? c.on_new_device : c.rate)) change(cur + Seconds(rng, 60, 1800), c.type, new_device);
  }
  if (rng.Bernoulli(kPromoRate)) {
    double fraction = static_cast<double>(t - pop_.start) / static_cast<double>(pop_.end - pop_.start);
    int promo = PickPromo(rng, fraction);
    Event e = Base(u, cur + Seconds(rng, 60, 1200), device, net, EventKind::kPromo);
    e.subtype = static_cast<uint8_t>(promo);
    int64_t discount = World().promos[promo].discount_cents;
    e.value = static_cast<uint64_t>(std::max<double>(discount * 2, std::round(rng.LogNormal(std::log(6000), 0.7))));
    emit(e, new_device);
  }
}

void BackgroundGenerator::GenerateDay(int day, uint32_t first, uint32_t last, std::vector<Event>* out) {
  const auto& world = World();
  const TimestampMicros day_start = pop_.start + day * kMicrosPerDay;
  const TimestampMicros day_end = day_start + kMicrosPerDay;
  const double weekday = WeekdayFactor(day_start);
  std::vector<TimestampMicros> times;

  for (uint32_t u = first; u < last; ++u) {
    const UserProfile& p = pop_.users[u];
    if (p.fake || p.active_from >= day_end) continue;
    State& s = states_[u];
    Rng& rng = s.rng;
    if (!s.signed_up) Signup(u, out);

    if (s.trip_country >= 0 && s.trip_until <= day_start) s.trip_country = -1;
    bool trip_starts = false;
    if (s.trip_country < 0 && rng.Bernoulli(kTripRate)) {
      trip_starts = true;
      double total = 0;
      for (size_t c = 0; c < world.countries.size(); ++c) {
        if (c != p.country) total += world.countries[c].travel_weight;
      }
      double pick = rng.Uniform() * total;
      int dest = 0;
      for (size_t c = 0; c < world.countries.size(); ++c) {
        if (c == p.country || world.countries[c].travel_weight <= 0) continue;
        dest = static_cast<int>(c);
        pick -= world.countries[c].travel_weight;
        if (pick < 0) break;
      }
      const Country& dc = world.countries[dest];
      s.trip_country = dest;
      s.trip_city = static_cast<uint8_t>(rng.Below(static_cast<uint32_t>(dc.cities.size())));
      while (dc.cities[s.trip_city].weight <= 0)
        s.trip_city = static_cast<uint8_t>((s.trip_city + 1) % dc.cities.size());
      s.trip_from = day_start + static_cast<TimestampMicros>(rng.Uniform() * kMicrosPerDay);
      s.trip_until = s.trip_from + rng.Between(2, 10) * kMicrosPerDay;
    }
    // Travellers sometimes log in from a hotel computer or a phone bought on the way.
    bool new_device = rng.Bernoulli(trip_starts ? kTripNewDeviceRate : kNewDeviceRate);

    int n = rng.Poisson(p.rate * weekday);
    if (n == 0) continue;
    times.resize(n);
    const int offset = world.countries[p.country].utc_offset_minutes;
    for (int i = 0; i < n; ++i) {
      int hour = PickCdf(rng, kHourCdf.cum, 24);
      TimestampMicros local = hour * kMicrosPerHour + static_cast<TimestampMicros>(rng.Uniform() * kMicrosPerHour);
      TimestampMicros utc = ((local - offset * kMicrosPerMinute) % kMicrosPerDay + kMicrosPerDay) % kMicrosPerDay;
      times[i] = day_start + utc;
    }
    std::sort(times.begin(), times.end());
    for (int i = 0; i < n; ++i) {
      if (times[i] <= p.active_from || Compromised(u, times[i])) continue;
      Session(u, times[i], new_device, out);
      new_device = false;
    }
  }
}

double BackgroundGenerator::ExpectedEvents(const Population& pop, const AtoOptions& options) {
  const double per_session = ExpectedEventsPerSession();
  // Left out: the extra changes on days a new device appears (~2e-4 events per user-day).
  double total = 0;
  for (uint32_t u = 0; u < pop.background_users(); ++u) {
    const UserProfile& p = pop.users[u];
    double sessions = 0;
    for (int d = 0; d < options.days; ++d) {
      TimestampMicros day_start = pop.start + d * kMicrosPerDay, day_end = day_start + kMicrosPerDay;
      double fraction = p.active_from <= day_start ? 1.0
                        : p.active_from >= day_end ? 0.0
                                                   : static_cast<double>(day_end - p.active_from) / kMicrosPerDay;
      sessions += p.rate * WeekdayFactor(day_start) * fraction;
    }
    total += sessions * per_session;
    if (p.active_from != kAlways) total += 2 + 0.5 + 0.15 + (p.mfa_from == p.active_from ? 1 : 0);
    if (p.mfa_from != kAlways && p.mfa_from != p.active_from && p.mfa_from < pop.end) total += 1;
  }
  return total;
}

}  // namespace gyre::datagen
