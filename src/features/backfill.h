// Offline backfill: the point-in-time feature table for a spine of (entity keys, timestamp) rows, or for
// every event of a source, computed by the same KeyState code the online store runs.
//
// For each spine row at time t and each feature, the value is what KeyState::Read(t) returns after every
// event of the group's source with time < t was appended in time order (file order among equal
// timestamps), each event once: a source with an event id drops repeated deliveries (FirstDeliveries), and
// when the spine is the source's events, it holds each event once too. Events are processed in one sort-merge pass per feature group; the work is split across
// threads by entity key (hash), so memory is the sources as columnar tables plus the per-key state of the
// active keys, and the result does not depend on the number of threads.
//
// Errors: unknown features or sets, a spine without the entity keys or the timestamp column, a timestamp
// column that is not timestamps, unreadable files — all before any computing starts, naming what is
// missing and where.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/table.h"
#include "features/definitions.h"

namespace gyre::features {

struct BackfillOptions {
  // What to compute: a feature set (its features, and its label join) or an explicit list of feature names.
  std::string feature_set;
  std::vector<std::string> features;
  // The spine: a CSV file with the entity key columns and a timestamp column. Empty: every event of the
  // feature set's source (or of `source` when given).
  std::string spine_path;
  std::string spine_timestamp;  // default: the source's timestamp column name
  std::string source;
  // Spine columns copied to the output before the features. Empty: the feature set's label key (if any),
  // the timestamp and the entity keys used.
  std::vector<std::string> keep_columns;
  bool join_label = true;  // add the feature set's label column when it defines one
  int threads = 0;         // 0: the machine's cores
};

struct BackfillStats {
  int64_t rows = 0;            // spine rows
  int64_t events = 0;          // source events processed (summed over groups)
  int64_t keys = 0;            // entity keys seen (summed over groups)
  int64_t labeled_rows = 0;    // rows with a label from the label file (not the default)
  int64_t positive_labels = 0; // rows whose label is > 0 (with the default applied)
  // Source rows left out as repeated deliveries of an event (same event id; summed over the sources read).
  int64_t duplicates = 0;
  double load_seconds = 0;
  double compute_seconds = 0;
};

// The spine rows in their original order with the kept columns, then one column per feature (float64 for
// numbers; the source column's type for `last` of bool, string or timestamp), then the label if joined.
Result<Table> Backfill(const FeatureRegistry& registry, const BackfillOptions& options, BackfillStats* stats = nullptr);

// Same, with the spine and the sources given as tables (tests, the consistency check, in-memory callers).
// `sources` is indexed like registry.sources(); a missing (empty-schema) entry is read from its file.
Result<Table> BackfillTables(const FeatureRegistry& registry, const std::vector<int>& features, const Table& spine,
                             const std::string& spine_timestamp, const std::vector<Table>& sources,
                             const std::vector<std::string>& keep_columns, int threads,
                             BackfillStats* stats = nullptr);

// The rows of `events` (rows of `source`, by column name) that are the first delivery of their event, in
// file order: every row when the source declares no event id; else, of rows sharing a non-null id, the one
// earliest in time (first in file order among equal times), which is the one a replay in time order pushes
// first and so the one the online store counts. Rows with a null id are all kept. `*duplicates` (if given)
// gets the number left out.
std::vector<int64_t> FirstDeliveries(const SourceDef& source, const Table& events, int64_t* duplicates = nullptr);
// `events` without its repeated deliveries (the table itself when there are none).
Table DropRepeatedDeliveries(const SourceDef& source, Table events, int64_t* duplicates = nullptr);

// Reads a source's CSV file with its declared and inferred columns (errors name file:line).
Result<Table> ReadSource(const SourceDef& source);

}  // namespace gyre::features
