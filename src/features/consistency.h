// The online/offline consistency check (`gyre features check`): replays the events of a feature set's
// sources, in time order, through the online path (OnlineStore::Get before each event of the set's source,
// then Push), and compares every feature value with the offline backfill of the same events.
//
// Both paths run KeyState, so exact aggregations must agree bit for bit; approximate ones
// (approx_count_distinct) are deterministic too and are held to the same standard, their stated bound
// (1.04/sqrt(2^precision) against the exact count) being a property of the sketch, tested separately.
// A mismatch report names, per feature, how many values differ and the first differing event.
//
// Repeated deliveries of an event (rows sharing an event id) are all replayed: the online store drops the
// later ones through its event index, the backfill drops them from what it aggregates, and every row is
// still read and compared (a repeat's features are those as of its own time).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "features/definitions.h"

namespace gyre::features {

struct CheckOptions {
  std::string feature_set;
  std::string online_store = "memory";  // a store::KvStore URL: memory, rocksdb, rocksdb:///path, redis://...
  std::string state_dir;                // where "rocksdb" keeps its files (emptied first)
  int64_t limit = 0;                    // > 0: only the first `limit` events (in time) of the set's source
  int threads = 0;                      // for the backfill side
};

struct FeatureCheck {
  std::string name;
  int64_t compared = 0;
  int64_t mismatches = 0;
  double max_abs_diff = 0;
  std::string bound_text;  // "exact" for every feature today
};

struct CheckReport {
  std::vector<FeatureCheck> features;
  int64_t events = 0;  // events replayed (all sources)
  int64_t reads = 0;   // feature-vector reads compared
  int64_t too_late = 0;
  int64_t duplicates = 0;          // replayed rows the online store recognised as repeated deliveries
  int64_t offline_duplicates = 0;  // rows the backfill left out as such (of the sources its groups read)
  int64_t total_mismatches = 0;
  std::string first_mismatch;
  double seconds = 0;
};

Result<CheckReport> CheckConsistency(const FeatureRegistry& registry, const CheckOptions& options);

}  // namespace gyre::features
