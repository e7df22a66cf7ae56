// The customers behind the synthetic events: who they are, where they live, which devices and networks
// they use, how active they are. Profiles are immutable once built, so the background generator (one
// thread per user range) and the campaign planner read them without locks; what changes day to day
// (new devices, trips) lives in the background generator's per-user state.
//
// Three segments, by index: [0, initial) customers present from the start; [initial, initial+new_market)
// customers of the market that opens at the drift (they sign up after it); and fake accounts the
// campaign planner appends for promo-abuse rings (no background activity).
#pragma once

#include <cstdint>
#include <limits>
#include <string_view>
#include <vector>

#include "core/time.h"
#include "datagen/ato.h"
#include "datagen/rng.h"
#include "datagen/world.h"

namespace gyre::datagen {

inline constexpr TimestampMicros kNever = std::numeric_limits<TimestampMicros>::max();
inline constexpr TimestampMicros kAlways = std::numeric_limits<TimestampMicros>::min();

struct DeviceInfo {
  uint64_t id = 0;
  uint16_t ua = 0;
  DeviceType type = DeviceType::kDesktop;
};

struct UserProfile {
  uint32_t code = 0;  // a keyed permutation of the index: opaque and unique; the id is "u" + 10 digits of it
  char id[12] = {};
  uint8_t id_len = 0;
  uint8_t country = 0, city = 0;
  uint8_t home_net = 0, mobile_net = 0;  // indices into World().networks
  bool fake = false;                     // a ring's account: only the planner makes its events
  bool vpn_user = false;                 // browses through a commercial VPN part of the time
  bool reuses_password = false;          // its password is in breach lists: stuffing succeeds
  bool weak_password = false;            // a spray's common password works
  uint8_t num_devices = 0;
  uint16_t lease_days = 30;                // how long the home router keeps its address
  float rate = 0;                          // mean sessions per day
  int32_t lat_e4 = 0, lon_e4 = 0;          // home, degrees * 1e4
  TimestampMicros active_from = kAlways;   // signup time for users who join during the window
  TimestampMicros mfa_from = kNever;       // second factor enrolled from this time
  TimestampMicros app_update_at = kNever;  // the user's app devices run the new version from here
  DeviceInfo devices[3];                   // initial devices; [0] is the primary and is never replaced

  std::string_view Id() const { return {id, id_len}; }
  bool MfaAt(TimestampMicros t) const { return t >= mfa_from; }
};

struct Population {
  std::vector<UserProfile> users;
  uint32_t initial = 0;
  uint32_t new_market = 0;
  uint64_t seed = 0;
  TimestampMicros start = 0, end = 0, drift = 0;

  uint32_t background_users() const { return initial + new_market; }

  // Home broadband address at time t: stable within a lease, then renewed.
  uint32_t HomeIp(uint32_t user, TimestampMicros t) const;

  // Appends a ring's fake account; returns its index.
  uint32_t AddFakeUser(uint8_t country, uint8_t city, TimestampMicros signup, Rng& rng);
};

// Builds the initial and new-market customers for `options` (already validated, drift resolved).
Population BuildPopulation(const AtoOptions& options, TimestampMicros drift);

// Helpers shared by the generators.
uint64_t NewDeviceId(Rng& rng);
int PickUserAgent(Rng& rng, const std::vector<int>& uas);
DeviceInfo MakeDevice(Rng& rng, DeviceType type);
DeviceType PickDeviceType(Rng& rng, bool primary);
// The user agent a device sends at time t: app devices switch to the new version at app_update_at.
uint16_t DeviceUaAt(const UserProfile& user, const DeviceInfo& device, TimestampMicros t);
int32_t Jitter(Rng& rng, double degrees);  // uniform in [-degrees, degrees], as degrees * 1e4
uint32_t RandomIp(Rng& rng, const Network& net);

}  // namespace gyre::datagen
