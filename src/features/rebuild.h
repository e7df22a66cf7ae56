// RebuildGroup: gives one feature group's online state back its history after the group's definition changed
// (its stored keys then restart empty: KeyState::LoadStored), by replaying its source file's recent events into
// that group alone. Pushing the source again would count those events twice in the source's other groups.
//
// Contract: the group's stored keys are deleted, then the source file's events are pushed, in time order (events
// at one time in file order; each event id once, as the backfill counts it), into `group` only: all of them by default, as lifetime features (first_seen, last,
// counts without a window) need the whole history; with `since`, those of that last stretch before the file's
// newest event (enough for groups whose features all have windows: their longest plus the allowed lateness). Nothing else may read or push the store
// meanwhile (with RocksDB the server holds the folder, so the command runs while the server is stopped; on Redis,
// servers keep answering, reading the group's keys as new until the rebuild reaches them). A push-only source
// (no file) is InvalidArgument.
#pragma once

#include <cstdint>
#include <string>

#include "core/status.h"
#include "features/definitions.h"
#include "features/online_store.h"

namespace gyre::features {

struct RebuildReport {
  int64_t events = 0;    // pushed
  int64_t too_late = 0;  // refused by the group (older than the allowed lateness than a later event of the key)
  int64_t duplicates = 0;  // rows of the file left out as repeated deliveries (same event id)
  int64_t from = 0;      // the oldest event time replayed (µs)
  int64_t to = 0;        // the newest
  double seconds = 0;
};

// `since` in microseconds; 0 replays the whole file.
Result<RebuildReport> RebuildGroup(OnlineStore& online, std::string_view group, int64_t since = 0);

}  // namespace gyre::features
