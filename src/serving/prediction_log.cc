#include "serving/prediction_log.h"

#include <fmt/compile.h>
#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include "core/background_thread.h"
#include "core/json_text.h"
#include "core/time.h"

namespace gyre::serving {
namespace {

void AppendNumber(std::string& out, float v) {
  // JSON has no NaN or infinities: both are written as null, so every line stays readable.
  if (!std::isfinite(v)) {
    out += "null";
    return;
  }
  // The shortest text that reads back as `v`, formatted by code compiled for this one format (a line holds
  // dozens of numbers; parsing "{}" at run time for each took half of the line's time). Most features are
  // counts: a whole number below 2^24 is printed as the integer it is, the same digits the shortest float form
  // has, at a fraction of its cost (-0 excepted: it keeps its sign).
  char text[32];
  char* end;
  if (std::fabs(v) <= 16777216.0f && v == std::trunc(v) && !(v == 0 && std::signbit(v))) {
    end = fmt::format_to(text, FMT_COMPILE("{}"), static_cast<int32_t>(v));
  } else {
    end = fmt::format_to(text, FMT_COMPILE("{}"), v);
  }
  out.append(text, end);
}

void AppendString(std::string& out, std::string_view s) { AppendJsonString(out, s); }

}  // namespace

void PredictionLineFormatter::Append(const PredictionRecord& r, std::string& out) {
  out += "{\"time\":";
  AppendString(out, FormatTimestamp(r.time_us));
  out += ",\"scored_at\":";
  AppendString(out, FormatTimestamp(r.scored_at_us));
  for (const auto& [key, value] : {std::pair{"request_id", &r.request_id}, std::pair{"deployment", &r.deployment},
                                   std::pair{"model", &r.model}, std::pair{"version", &r.version},
                                   std::pair{"event_id", &r.event_id}}) {
    out += ",\"";
    out += key;
    out += "\":";
    AppendString(out, *value);
  }
  out += ",\"path\":";
  AppendString(out, r.path);
  out += ",\"caller\":";
  AppendString(out, r.caller);
  out += ",\"score\":";
  AppendNumber(out, r.score);
  out += ",\"action\":";
  AppendString(out, r.action);
  if (!r.outputs.empty()) {
    out += ",\"outputs\":[";
    for (size_t i = 0; i < r.outputs.size(); ++i) {
      if (i > 0) out += ',';
      AppendNumber(out, r.outputs[i]);
    }
    out += ']';
  }
  if (r.feature_names != nullptr) {
    out += ",\"features\":{";
    if (r.feature_names != names_) {
      names_ = r.feature_names;
      keys_.clear();
      for (const std::string& name : *names_) {
        std::string key;
        AppendString(key, name);
        keys_.push_back(key + ':');
      }
    }
    for (size_t i = 0; i < r.features.size() && i < keys_.size(); ++i) {
      if (i > 0) out += ',';
      out += keys_[i];
      AppendNumber(out, r.features[i]);
    }
    out += '}';
  }
  if (r.challenger) {
    out += ",\"challenger\":{\"version\":";
    AppendString(out, r.challenger->version);
    out += ",\"score\":";
    AppendNumber(out, r.challenger->score);
    out += ",\"action\":";
    AppendString(out, r.challenger->action);
    out += ",\"mode\":";
    AppendString(out, r.challenger->mode);
    out += '}';
  }
  out += '}';
}

std::string PredictionLine(const PredictionRecord& record) {
  std::string out;
  PredictionLineFormatter().Append(record, out);
  return out;
}

Result<std::unique_ptr<PredictionLog>> PredictionLog::Open(const std::string& path, int64_t capacity) {
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  std::FILE* file = std::fopen(path.c_str(), "ab");
  if (file == nullptr) {
    return Status::IOError(fmt::format("{}: cannot open the prediction log: {}", path, std::strerror(errno)));
  }
  return std::unique_ptr<PredictionLog>(new PredictionLog(path, file, capacity));
}

PredictionLog::PredictionLog(std::string path, std::FILE* file, int64_t capacity)
    : path_(std::move(path)),
      file_(file),
      capacity_(static_cast<size_t>(capacity)),
      wake_at_(std::clamp<size_t>(capacity_ / 4, 1, kWakeAtRecords)) {
  writer_ = std::thread([this] { WriterLoop(); });
}

PredictionLog::~PredictionLog() { Close(); }

bool PredictionLog::Append(PredictionRecord record) {
  {
    std::lock_guard lock(mu_);
    if (closing_ || queue_.size() >= capacity_) {
      ++dropped_;
      return false;
    }
    queue_.push_back(std::move(record));
    if (queue_.size() != wake_at_ && !(queue_.size() == 1 && idle_)) return true;
  }
  cv_.notify_one();
  return true;
}

void PredictionLog::WriterLoop() {
  MarkBackgroundThread("gyre-predlog");
  std::deque<PredictionRecord> batch;
  std::string buffer;
  PredictionLineFormatter formatter;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      // Idle, it sleeps until a record comes; then it gathers records for the interval, or until enough wait,
      // rather than waking for each one: a wake-up per scored event cost the request threads a futex call and
      // the 2 CPUs a context switch each.
      if (queue_.empty()) {
        idle_ = true;
        cv_.wait(lock, [this] { return closing_ || !queue_.empty(); });
        idle_ = false;
      }
      cv_.wait_for(lock, std::chrono::milliseconds(kWriteIntervalMs),
                   [this] { return closing_ || queue_.size() >= wake_at_; });
      if (queue_.empty()) {
        if (closing_) break;
        continue;
      }
      batch.swap(queue_);
    }
    buffer.clear();
    for (const PredictionRecord& r : batch) {
      formatter.Append(r, buffer);
      buffer += '\n';
    }
    std::fwrite(buffer.data(), 1, buffer.size(), file_);
    std::fflush(file_);
    written_ += static_cast<int64_t>(batch.size());
    batch.clear();
  }
}

void PredictionLog::Close() {
  {
    std::lock_guard lock(mu_);
    if (closing_) return;
    closing_ = true;
  }
  cv_.notify_all();
  if (writer_.joinable()) writer_.join();
  std::fclose(file_);
  file_ = nullptr;
}

}  // namespace gyre::serving
