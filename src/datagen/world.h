// The synthetic world the ATO generator draws from: markets (countries with cities, time zones and
// residential / mobile ISPs), hosting and VPN networks, user agents, promotions.
//
// The tables are plausible rather than exact (ASNs and city coordinates are real; IP ranges are invented
// blocks inside each ISP), and they are fixed: changing them changes every generated file, so
// kWorldVersion goes into the manifest. World() is built once and is immutable, so it is safe to read
// from any thread.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace gyre::datagen {

inline constexpr int kWorldVersion = 1;

struct City {
  std::string_view name;
  double lat, lon;
  double weight;
};

enum class NetKind : uint8_t { kResidential, kMobile, kHosting };

struct Network {
  uint32_t asn;
  std::string_view name;
  NetKind kind;
  uint32_t base;    // first address of the block this network's IPs are drawn from
  uint32_t size;    // addresses in the block; mobile carriers use small CGNAT pools shared by many users
  uint8_t country;  // where IP geolocation puts it
  uint8_t city;     // index into that country's cities
};

struct Country {
  std::string_view code;
  int utc_offset_minutes;
  double market_weight;  // share of the initial user base; 0 = not a market before the drift
  double travel_weight;  // how often users travel there
  std::vector<City> cities;
  std::vector<int> residential;  // indices into World::networks
  std::vector<int> mobile;
};

enum class DeviceType : uint8_t { kDesktop, kMobileWeb, kAppIos, kAppAndroid };

struct UserAgent {
  std::string_view text;
  DeviceType type;
  double weight;  // popularity among legit devices of its type; 0 = never a legit device's UA
};

struct Promo {
  std::string_view code;
  int64_t discount_cents;
  bool new_accounts_only;
  double valid_from, valid_to;  // fraction of the generated window in which the code is redeemable
  double weight;                // popularity among eligible legit redemptions
};

struct WorldTables {
  std::vector<Country> countries;
  std::vector<Network> networks;
  std::vector<UserAgent> user_agents;
  std::vector<Promo> promos;

  int new_market;                       // country index launched at the drift (no traffic before it)
  std::vector<int> attacker_countries;  // foreign countries classic takeover crews operate from
  std::vector<int> hosting;             // networks used by scripted attacks (datacenters)
  std::vector<int> vpn;                 // commercial VPN exits: used by some legit users and by attackers

  // User agents by role.
  std::vector<int> desktop_uas, mobile_web_uas, ios_app_uas, android_app_uas;
  int new_ios_app_ua, new_android_app_ua;  // the app version that ships at the drift
  std::vector<int> scripted_uas;           // libraries and headless browsers (credential stuffing)
  std::vector<int> spoofed_uas;            // stale or emulator browser strings used by crews
  int welcome_promo, referral_promo;
};

WorldTables BuildWorld();

// The tables, built on first use. Inline so that hot loops pay only the initialisation guard.
inline const WorldTables& World() {
  static const WorldTables world = BuildWorld();
  return world;
}

}  // namespace gyre::datagen
