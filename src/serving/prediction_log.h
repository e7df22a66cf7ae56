// PredictionLog: every scored event, written as JSON lines for monitoring (drift, performance once labels
// arrive) and audits — off the request path.
//
// Contract: Append() never blocks scoring. Records go through a bounded queue to one writer thread; when the
// queue is full the record is dropped and counted (dropped()), never silently lost. The writer writes what is
// queued kWriteIntervalMs after the first record it finds, or as soon as a quarter of the queue (at most
// kWakeAtRecords) waits, so a record reaches the file within ~kWriteIntervalMs; with nothing queued it sleeps. Close() (or the destructor) drains the queue and flushes
// the file. The file is appended to, so restarts keep history. Thread-safe.
//
// One line per record:
//   {"time": "...", "scored_at": "...", "request_id": "...", "deployment": "ato", "model": "ato", "version": "3",
//    "event_id": "123", "path": "v1/score", "caller": "ann", "score": 0.91, "action": "block",
//    "outputs": [0.1, 0.9] (multiclass only), "features": {"user_failed_logins_1h": 4, ...},
//    "challenger": {"version": "4", "score": 0.88, "action": "block", "mode": "shadow"}}
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/status.h"

namespace gyre::serving {

struct PredictionRecord {
  int64_t time_us = 0;  // the event's time
  int64_t scored_at_us = 0;
  std::string request_id, deployment, model, version, action, event_id;
  std::string_view path;  // the door it came by (scoring.h kScorePathNames: static strings)
  std::string caller;     // who asked; empty when unknown
  float score = 0;        // what the decision read; NaN (written null) when the deployment takes no decision
  std::vector<float> outputs;  // a multiclass model's every class probability (empty for one-output models)
  std::shared_ptr<const std::vector<std::string>> feature_names;  // shared by every record of a model
  std::vector<float> features;
  struct Challenger {
    std::string version, action, mode;
    float score = 0;
  };
  std::optional<Challenger> challenger;
};

// Formats records as JSON lines; remembers the quoted keys of the last feature-name list it saw, so records
// of one model (which share their names) do not escape the same names again. Not thread-safe.
class PredictionLineFormatter {
 public:
  // Appends the line of `record` (no trailing newline) to `out`.
  void Append(const PredictionRecord& record, std::string& out);

 private:
  std::shared_ptr<const std::vector<std::string>> names_;
  std::vector<std::string> keys_;  // "name": of each name, JSON-escaped
};

class PredictionLog {
 public:
  static constexpr int kWriteIntervalMs = 50;
  static constexpr size_t kWakeAtRecords = 1024;

  static Result<std::unique_ptr<PredictionLog>> Open(const std::string& path, int64_t capacity);
  ~PredictionLog();

  // False (and counted as dropped) when the queue is full or the log is closed.
  bool Append(PredictionRecord record);
  void Close();

  int64_t written() const { return written_.load(); }
  int64_t dropped() const { return dropped_.load(); }
  const std::string& path() const { return path_; }

 private:
  PredictionLog(std::string path, std::FILE* file, int64_t capacity);
  void WriterLoop();

  std::string path_;
  std::FILE* file_;
  const size_t capacity_;
  const size_t wake_at_;  // queue length at which Append wakes the writer before its interval is up
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<PredictionRecord> queue_;
  bool closing_ = false;
  bool idle_ = false;  // the writer sleeps until a record comes (guarded by mu_)
  std::atomic<int64_t> written_{0}, dropped_{0};
  std::thread writer_;
};

// The JSON line of one record (no trailing newline); exposed for tests and for the batch scorer.
std::string PredictionLine(const PredictionRecord& record);

}  // namespace gyre::serving
