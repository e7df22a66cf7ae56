// Writes the generated events as the CSV files and manifest described in ato.h.
//
// Events must arrive in (time, key) order; each gets the next event_id. Labels are kept in memory and
// written sorted by labeled_at in Finish(), which also writes campaigns.csv and manifest.json and fills
// the summary. Not thread-safe: one writer thread. Errors of any file surface from Finish().
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/csv_writer.h"
#include "core/status.h"
#include "datagen/ato.h"
#include "datagen/campaigns.h"
#include "datagen/event.h"
#include "datagen/population.h"

namespace gyre::datagen {

class AtoWriter {
 public:
  // Opens the event files in `dir` (which must exist). `population` and `plan` must outlive the writer.
  static Result<std::unique_ptr<AtoWriter>> Open(const std::string& dir, const Population& population,
                                                 const CampaignPlan& plan);

  // The text of the fields every row has, formatted ahead of time so that several threads can share the
  // formatting while one writes (CsvWriter writes a file from one thread).
  struct Rendered {
    char time[kMaxTimestampChars];
    char user[11];
    char device[16];
    char ip[15];
    char lat[12];
    char lon[12];
    uint8_t time_len, ip_len, lat_len, lon_len;
  };
  // Pure and thread-safe.
  static void Render(const Event& e, Rendered* out);

  // Writes one event; `rendered` must be Render(e).
  void Write(const Event& e, const Rendered& rendered);
  void Write(const Event& e) {
    Rendered r;
    Render(e, &r);
    Write(e, r);
  }

  // Writes labels, campaigns and the manifest, closes every file and fills `summary` (all but timing).
  Status Finish(const AtoOptions& options, AtoSummary* summary);

  int64_t events_written() const { return next_id_ - 1; }

 private:
  struct LabelRecord {
    TimestampMicros labeled_at, event_time;
    int64_t event_id;
    EventKind kind;
    LabelSource source;
    bool value;
  };

  AtoWriter(std::string dir, const Population& population, const CampaignPlan& plan, CsvWriter logins,
            CsvWriter accounts, CsvWriter promos, CsvWriter ground_truth);
  void WriteCommon(CsvWriter& w, int64_t id, const Event& e, const Rendered& r, bool geo);

  Status WriteLabels(AtoSummary* summary);
  Status WriteCampaigns(AtoSummary* summary);
  Status WriteManifest(const AtoOptions& options, const AtoSummary& summary);

  std::string dir_;
  const Population& pop_;
  const CampaignPlan& plan_;
  CsvWriter logins_, accounts_, promos_, ground_truth_;
  std::vector<LabelRecord> labels_;
  int64_t next_id_ = 1;
  int64_t fraud_ = 0, recovery_ = 0, never_labeled_ = 0;
  std::vector<int64_t> fraud_by_campaign_;
};

}  // namespace gyre::datagen
