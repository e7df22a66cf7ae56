#include "datagen/population.h"

#include <algorithm>
#include <cmath>

namespace gyre::datagen {
namespace {

// A keyed 4-round Feistel network over 32 bits: a bijection, so ids are unique without bookkeeping, and
// they reveal neither signup order nor which accounts a ring created.
uint32_t PermuteIndex(uint32_t index, uint64_t seed) {
  uint32_t left = index >> 16, right = index & 0xffff;
  for (uint64_t round = 0; round < 4; ++round) {
    uint32_t f = static_cast<uint32_t>(HashCombine(seed ^ 0x5bd1e995, (round << 16) | right)) & 0xffff;
    uint32_t next = left ^ f;
    left = right;
    right = next;
  }
  return (left << 16) | right;
}

void FormatUserId(uint32_t value, UserProfile& p) {
  p.code = value;
  p.id[0] = 'u';
  for (int i = 10; i >= 1; --i) {
    p.id[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  p.id_len = 11;
}

struct Cdf {
  std::vector<double> cum;
  std::vector<int> index;
  void Add(int i, double w) {
    if (w <= 0) return;
    cum.push_back((cum.empty() ? 0 : cum.back()) + w);
    index.push_back(i);
  }
  int Pick(Rng& rng) const { return index[PickCdf(rng, cum.data(), static_cast<int>(cum.size()))]; }
};

int PickCity(Rng& rng, const Country& c) {
  double total = 0;
  for (const auto& city : c.cities) total += city.weight;
  double x = rng.Uniform() * total;
  for (size_t i = 0; i < c.cities.size(); ++i) {
    x -= c.cities[i].weight;
    if (x < 0 && c.cities[i].weight > 0) return static_cast<int>(i);
  }
  return 0;
}

void PlaceUser(Rng& rng, int country, UserProfile& p) {
  const auto& world = World();
  const Country& c = world.countries[country];
  p.country = static_cast<uint8_t>(country);
  p.city = static_cast<uint8_t>(PickCity(rng, c));
  // Homes spread over the metro area; login geolocation adds its own noise on top.
  p.lat_e4 = static_cast<int32_t>(std::lround(c.cities[p.city].lat * 1e4)) + Jitter(rng, 0.15);
  p.lon_e4 = static_cast<int32_t>(std::lround(c.cities[p.city].lon * 1e4)) + Jitter(rng, 0.15);
  p.home_net = static_cast<uint8_t>(c.residential[rng.Below(static_cast<uint32_t>(c.residential.size()))]);
  p.mobile_net = static_cast<uint8_t>(c.mobile[rng.Below(static_cast<uint32_t>(c.mobile.size()))]);
}

}  // namespace

DeviceType PickDeviceType(Rng& rng, bool primary) {
  double x = rng.Uniform();
  if (primary) {
    return x < 0.35   ? DeviceType::kAppIos
           : x < 0.65 ? DeviceType::kAppAndroid
           : x < 0.85 ? DeviceType::kDesktop
                      : DeviceType::kMobileWeb;
  }
  return x < 0.5    ? DeviceType::kDesktop
         : x < 0.7  ? DeviceType::kMobileWeb
         : x < 0.85 ? DeviceType::kAppIos
                    : DeviceType::kAppAndroid;
}

uint16_t DeviceUaAt(const UserProfile& user, const DeviceInfo& device, TimestampMicros t) {
  if (t < user.app_update_at) return device.ua;
  if (device.type == DeviceType::kAppIos) return static_cast<uint16_t>(World().new_ios_app_ua);
  if (device.type == DeviceType::kAppAndroid) return static_cast<uint16_t>(World().new_android_app_ua);
  return device.ua;
}

uint64_t NewDeviceId(Rng& rng) { return rng.Next() | 1; }  // never 0, which means "no device"

int PickUserAgent(Rng& rng, const std::vector<int>& uas) {
  const auto& all = World().user_agents;
  double total = 0;
  for (int i : uas) total += all[i].weight;
  double x = rng.Uniform() * total;
  for (int i : uas) {
    x -= all[i].weight;
    if (x < 0) return i;
  }
  return uas.back();
}

DeviceInfo MakeDevice(Rng& rng, DeviceType type) {
  const auto& w = World();
  DeviceInfo d;
  d.id = NewDeviceId(rng);
  d.type = type;
  switch (type) {
    case DeviceType::kDesktop: d.ua = static_cast<uint16_t>(PickUserAgent(rng, w.desktop_uas)); break;
    case DeviceType::kMobileWeb: d.ua = static_cast<uint16_t>(PickUserAgent(rng, w.mobile_web_uas)); break;
    case DeviceType::kAppIos: d.ua = static_cast<uint16_t>(PickUserAgent(rng, w.ios_app_uas)); break;
    case DeviceType::kAppAndroid: d.ua = static_cast<uint16_t>(PickUserAgent(rng, w.android_app_uas)); break;
  }
  return d;
}

int32_t Jitter(Rng& rng, double degrees) {
  auto k = static_cast<int64_t>(degrees * 1e4 + 0.5);
  return static_cast<int32_t>(rng.Between(-k, k));
}

uint32_t RandomIp(Rng& rng, const Network& net) { return net.base + rng.Below(net.size); }

uint32_t Population::HomeIp(uint32_t user, TimestampMicros t) const {
  const UserProfile& p = users[user];
  const Network& net = World().networks[p.home_net];
  int64_t lease = (t - start) / (p.lease_days * kMicrosPerDay);
  if (t < start) lease = -1;
  return net.base + static_cast<uint32_t>(HashCombine(seed ^ user, static_cast<uint64_t>(lease)) % net.size);
}

uint32_t Population::AddFakeUser(uint8_t country, uint8_t city, TimestampMicros signup, Rng& rng) {
  UserProfile p;
  uint32_t index = static_cast<uint32_t>(users.size());
  FormatUserId(PermuteIndex(index, seed), p);
  PlaceUser(rng, country, p);
  p.city = city;
  p.fake = true;
  p.rate = 0;
  p.active_from = signup;
  p.num_devices = 0;
  users.push_back(p);
  return index;
}

Population BuildPopulation(const AtoOptions& options, TimestampMicros drift) {
  const auto& world = World();
  Population pop;
  pop.seed = options.seed;
  pop.start = options.start;
  pop.end = options.start + options.days * kMicrosPerDay;
  pop.drift = drift;
  pop.initial = static_cast<uint32_t>(options.users);
  pop.new_market = drift < pop.end ? static_cast<uint32_t>(std::lround(options.users * options.new_market_share)) : 0;
  pop.users.resize(pop.background_users());

  Cdf markets;
  for (size_t i = 0; i < world.countries.size(); ++i)
    markets.Add(static_cast<int>(i), world.countries[i].market_weight);
  const double window = static_cast<double>(pop.end - pop.start);
  const double after_drift = static_cast<double>(pop.end - drift);

  for (uint32_t u = 0; u < pop.users.size(); ++u) {
    Rng rng(options.seed, 0x1000000000ULL + u);
    UserProfile& p = pop.users[u];
    FormatUserId(PermuteIndex(u, options.seed), p);
    bool newcomer = u >= pop.initial;
    PlaceUser(rng, newcomer ? world.new_market : markets.Pick(rng), p);

    // Heavy-tailed activity: most customers log in every few days, a few many times a day.
    p.rate = static_cast<float>(std::clamp(rng.LogNormal(std::log(0.5), 1.0), 0.03, 25.0) * options.activity_scale);
    p.lease_days = static_cast<uint16_t>(rng.Between(7, 60));
    p.vpn_user = rng.Bernoulli(0.03);
    p.reuses_password = rng.Bernoulli(0.12);
    p.weak_password = rng.Bernoulli(0.04);

    double devices = rng.Uniform();
    p.num_devices = devices < 0.45 ? 1 : devices < 0.85 ? 2 : 3;
    bool has_app = false;
    for (int d = 0; d < p.num_devices; ++d) {
      p.devices[d] = MakeDevice(rng, PickDeviceType(rng, d == 0));
      has_app |= p.devices[d].type == DeviceType::kAppIos || p.devices[d].type == DeviceType::kAppAndroid;
    }

    double mfa = rng.Uniform();
    if (mfa < 0.35) {
      p.mfa_from = kAlways;
    } else if (mfa < 0.38) {
      p.mfa_from = pop.start + static_cast<TimestampMicros>(rng.Uniform() * window);
    }

    if (newcomer) {
      // Signups ramp up after the launch: density grows linearly with time since the drift.
      p.active_from = drift + static_cast<TimestampMicros>(std::sqrt(rng.Uniform()) * after_drift);
      if (p.mfa_from == kAlways) p.mfa_from = p.active_from;
    }

    // The new app version rolls out from the drift: about 80% of app users update, sooner or later.
    if (has_app && drift < pop.end && rng.Bernoulli(0.8)) {
      p.app_update_at = drift + static_cast<TimestampMicros>(rng.Exponential(0.6 * after_drift));
      if (p.app_update_at < drift) p.app_update_at = drift;
    }
  }
  return pop;
}

}  // namespace gyre::datagen
