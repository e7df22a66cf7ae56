// Legit customer activity: sessions with diurnal and weekly rhythm, typos and forgotten passwords,
// password resets, new devices, trips abroad, VPN use, profile changes and promo redemptions, plus the
// analyst reviews (labels) some of those events get.
//
// Each user has a private random stream and state, advanced one day at a time, so a user's events do not
// depend on which thread generates them or on the other users. GenerateDay may run concurrently for
// disjoint user ranges of the same day; days must be generated in order.
#pragma once

#include <cstdint>
#include <vector>

#include "datagen/ato.h"
#include "datagen/event.h"
#include "datagen/population.h"
#include "datagen/rng.h"

namespace gyre::datagen {

// Times when a user does not use the account: between a takeover and the victim's recovery (the planner
// makes the victim's own events of that period).
struct CompromiseWindow {
  uint32_t user;
  TimestampMicros from, to;
};

class BackgroundGenerator {
 public:
  // `population` and `windows` must outlive the generator. windows may be in any order.
  BackgroundGenerator(const Population& population, std::vector<CompromiseWindow> windows, const AtoOptions& options);
  ~BackgroundGenerator();

  // Appends the events of sessions starting on `day` for users [first, last) to `out`, unsorted. Some may
  // fall after the day (a reset a few minutes after a late session); none before it.
  void GenerateDay(int day, uint32_t first, uint32_t last, std::vector<Event>* out);

  // The expected number of background events for the whole window (used to size the attacks against a
  // fraud rate). Uses the same rates as GenerateDay; compromise windows are ignored.
  static double ExpectedEvents(const Population& population, const AtoOptions& options);

 private:
  struct State;
  struct Net;

  void Session(uint32_t u, TimestampMicros t, bool new_device_today, std::vector<Event>* out);
  void Signup(uint32_t u, std::vector<Event>* out);
  bool Compromised(uint32_t u, TimestampMicros t) const;
  Net PickNet(uint32_t u, const DeviceInfo& device, TimestampMicros t);
  Event Base(uint32_t u, TimestampMicros t, const DeviceInfo& device, const Net& net, EventKind kind);
  void Review(uint32_t u, Event& e);

  const Population& pop_;
  const AtoOptions& options_;
  std::vector<State> states_;
  std::vector<CompromiseWindow> windows_;  // sorted by user
  std::vector<uint32_t> window_begin_;     // CSR offsets into windows_, per user (+1)
};

}  // namespace gyre::datagen
