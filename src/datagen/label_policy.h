// When and by whom events get labeled: the delays of each label source, shared by the background
// generator (analyst reviews of legit events) and the campaign planner (fraud). The bounds here are the
// contract documented in ato.h and checked by the tests.
#pragma once

#include <algorithm>
#include <cmath>

#include "core/time.h"
#include "datagen/event.h"
#include "datagen/rng.h"

namespace gyre::datagen {

inline constexpr TimestampMicros kAnalystMinDelay = kMicrosPerHour;
inline constexpr TimestampMicros kAnalystMaxDelay = 7 * kMicrosPerDay;
inline constexpr TimestampMicros kReportMinDelay = kMicrosPerHour;
inline constexpr TimestampMicros kReportMaxDelay = 21 * kMicrosPerDay;
inline constexpr TimestampMicros kChargebackMinDelay = 30 * kMicrosPerDay;
inline constexpr TimestampMicros kChargebackMaxDelay = 90 * kMicrosPerDay;

// A review queue works through most cases within a day or two; a tail waits for the week's backlog.
inline TimestampMicros AnalystDelay(Rng& rng) {
  double hours = 1.0 + rng.LogNormal(std::log(18.0), 0.9);
  auto d = static_cast<TimestampMicros>(hours * kMicrosPerHour);
  return std::clamp(d, kAnalystMinDelay, kAnalystMaxDelay);
}

inline TimestampMicros ChargebackDelay(Rng& rng) {
  return kChargebackMinDelay +
         static_cast<TimestampMicros>(rng.Uniform() * (kChargebackMaxDelay - kChargebackMinDelay));
}

// A customer report arrives some hours after the victim notices (`noticed`), never sooner than an hour
// after the event and never later than the documented bound.
inline TimestampMicros ReportTime(Rng& rng, TimestampMicros event, TimestampMicros noticed) {
  TimestampMicros t = noticed + static_cast<TimestampMicros>(rng.Uniform(1.0, 24.0) * kMicrosPerHour);
  return std::clamp(t, event + kReportMinDelay, event + kReportMaxDelay);
}

inline void SetLabel(Event& e, LabelSource source, bool value, TimestampMicros labeled_at) {
  e.label_source = source;
  e.labeled_at = ToMillis(labeled_at);
  if (e.labeled_at <= e.time) e.labeled_at = e.time + 1000;
  e.flags = static_cast<uint8_t>(value ? (e.flags | kLabelValue) : (e.flags & ~kLabelValue));
}

}  // namespace gyre::datagen
