#include "datagen/ato.h"

#include <fmt/format.h>
#include <pthread.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

#include "datagen/ato_config.h"
#include "datagen/background.h"
#include "datagen/campaigns.h"
#include "datagen/output.h"
#include "datagen/population.h"

namespace gyre::datagen {
namespace {

constexpr int kMaxUsers = 50'000'000;  // user indices, ids and event keys have room for 2^32
constexpr int kMaxDays = 3660;

// One day of merged events and their pre-formatted fields, on its way to the writer thread.
struct DayBatch {
  std::vector<Event> events;
  std::vector<AtoWriter::Rendered> rendered;
};

// Hands one day at a time to the writer thread; holds at most `capacity` days so the generator stays
// close ahead of the writer without buffering the whole window.
class DayQueue {
 public:
  explicit DayQueue(size_t capacity) : capacity_(capacity) {}

  void Push(DayBatch day) {
    std::unique_lock lock(mu_);
    not_full_.wait(lock, [&] { return days_.size() < capacity_; });
    days_.push_back(std::move(day));
    not_empty_.notify_one();
  }
  void Close() {
    std::lock_guard lock(mu_);
    closed_ = true;
    not_empty_.notify_one();
  }
  // False once closed and drained.
  bool Pop(DayBatch* day) {
    std::unique_lock lock(mu_);
    not_empty_.wait(lock, [&] { return !days_.empty() || closed_; });
    if (days_.empty()) return false;
    *day = std::move(days_.front());
    days_.pop_front();
    not_full_.notify_one();
    return true;
  }

 private:
  std::mutex mu_;
  std::condition_variable not_empty_, not_full_;
  std::deque<DayBatch> days_;
  size_t capacity_;
  bool closed_ = false;
};

// Runs fn(0) .. fn(parts - 1), fn(0) on the calling thread and the others on new threads named `name`.
Status RunParallel(int parts, const char* name, const std::function<void(int)>& fn) {
  std::vector<std::thread> workers;
  Status status;
  try {
    for (int part = 1; part < parts; ++part) {
      workers.emplace_back([&fn, name, part] {
        pthread_setname_np(pthread_self(), name);  // tells the threads apart in top and perf
        fn(part);
      });
    }
  } catch (const std::system_error& e) {
    status = Status::ResourceExhausted(fmt::format("cannot start a {} thread: {}", name, e.what()));
  }
  fn(0);
  for (auto& w : workers) w.join();
  return status;
}

// Merges sorted runs into `out` by (time, key). There are only a few runs (one per thread, the carry from
// the previous day, the day's campaign events), so a linear scan of the heads beats a heap.
void MergeRuns(std::vector<std::pair<const Event*, const Event*>> runs, std::vector<Event>* out) {
  size_t total = 0;
  for (const auto& r : runs) total += static_cast<size_t>(r.second - r.first);
  out->reserve(out->size() + total);
  while (true) {
    int best = -1;
    for (size_t i = 0; i < runs.size(); ++i) {
      if (runs[i].first == runs[i].second) continue;
      if (best < 0 || EventBefore{}(*runs[i].first, *runs[best].first)) best = static_cast<int>(i);
    }
    if (best < 0) break;
    out->push_back(*runs[best].first++);
  }
}

// Sorts one generator thread's day by (time, key): a counting pass into one-minute buckets, then a
// comparison sort inside each (a few dozen events). Several times faster than sorting the 72-byte
// records directly, and this runs once per event.
void SortDay(TimestampMicros day_start, std::vector<Event>* events, std::vector<Event>* scratch,
             std::vector<uint32_t>* counts) {
  constexpr TimestampMicros kBucket = kMicrosPerMinute;
  constexpr size_t kBuckets = 2 * 24 * 60 + 1;  // today, tomorrow (spill-over), anything later
  auto bucket = [&](const Event& e) {
    return static_cast<size_t>(std::clamp<TimestampMicros>((e.time - day_start) / kBucket, 0, kBuckets - 1));
  };
  counts->assign(kBuckets + 1, 0);
  for (const Event& e : *events) ++(*counts)[bucket(e) + 1];
  for (size_t b = 0; b < kBuckets; ++b) (*counts)[b + 1] += (*counts)[b];
  scratch->resize(events->size());
  std::vector<uint32_t> next(counts->begin(), counts->end() - 1);
  for (const Event& e : *events) (*scratch)[next[bucket(e)]++] = e;
  for (size_t b = 0; b < kBuckets; ++b) {
    std::sort(scratch->begin() + (*counts)[b], scratch->begin() + (*counts)[b + 1], EventBefore{});
  }
  std::swap(*events, *scratch);
}

}  // namespace

bool FindBadOption(const AtoOptions& o, std::string* option, std::string* message) {
  auto bad = [&](std::string_view name, std::string why) {
    *option = name;
    *message = std::move(why);
    return true;
  };
  auto out_of = [&](std::string_view name, double value, double lo, double hi) {
    return !(value >= lo && value <= hi) && bad(name, fmt::format("must be in [{}, {}], got {}", lo, hi, value));
  };
  if (o.users < 1 || o.users > kMaxUsers)
    return bad("users", fmt::format("must be in [1, {}], got {}", kMaxUsers, o.users));
  if (o.days < 1 || o.days > kMaxDays) return bad("days", fmt::format("must be in [1, {}], got {}", kMaxDays, o.days));
  if (o.drift_day != -1 && (o.drift_day < 0 || o.drift_day > o.days)) {
    return bad("drift_day", fmt::format("must be in [0, days={}] (or -1 for days*2/3), got {}", o.days, o.drift_day));
  }
  // Timestamps must stay formattable as four-digit years, labels included (up to 90 days after the end).
  const TimestampMicros latest = DaysFromCivil(9999, 1, 1) * kMicrosPerDay;
  if (o.start < 0 || o.start > latest - (o.days + 100) * kMicrosPerDay) {
    return bad("start", fmt::format("must be between 1970 and 9998, got {}", FormatTimestamp(o.start)));
  }
  if (o.out_dir.empty()) return bad("out_dir", "is required");
  if (out_of("fraud_rate", o.fraud_rate, 0, 0.5) || out_of("stuffing_share", o.stuffing_share, 0, 1e6) ||
      out_of("spray_share", o.spray_share, 0, 1e6) || out_of("takeover_share", o.takeover_share, 0, 1e6) ||
      out_of("promo_ring_share", o.promo_ring_share, 0, 1e6)) {
    return true;
  }
  if (o.stuffing_share + o.spray_share + o.takeover_share + o.promo_ring_share <= 0) {
    return bad("stuffing_share", "the four campaign shares must not all be 0");
  }
  if (out_of("unlabeled_fraud_rate", o.unlabeled_fraud_rate, 0, 1) || out_of("label_noise", o.label_noise, 0, 0.5) ||
      out_of("review_rate", o.review_rate, 0, 1) || out_of("new_market_share", o.new_market_share, 0, 1)) {
    return true;
  }
  if (!(o.activity_scale > 0 && o.activity_scale <= 100)) {
    return bad("activity_scale", fmt::format("must be in (0, 100], got {}", o.activity_scale));
  }
  if (o.threads < 0 || o.threads > 256) return bad("threads", fmt::format("must be in [0, 256], got {}", o.threads));
  return false;
}

Status ValidateAtoOptions(const AtoOptions& o) {
  std::string option, message;
  if (!FindBadOption(o, &option, &message)) return Status::OK();
  return Status::InvalidArgument(fmt::format("option '{}': {}", option, message));
}

Result<AtoSummary> GenerateAto(const AtoOptions& requested, std::function<void(double)> progress) {
  GYRE_RETURN_IF_ERROR(ValidateAtoOptions(requested));
  const auto started = std::chrono::steady_clock::now();
  AtoOptions options = requested;
  if (options.drift_day == -1) options.drift_day = options.days * 2 / 3;
  const TimestampMicros drift = options.start + options.drift_day * kMicrosPerDay;

  std::error_code ec;
  std::filesystem::create_directories(options.out_dir, ec);
  if (ec) return Status::IOError(fmt::format("{}: cannot create the output folder: {}", options.out_dir, ec.message()));

  Population pop = BuildPopulation(options, drift);
  const double expected = BackgroundGenerator::ExpectedEvents(pop, options);
  CampaignPlan plan = PlanCampaigns(options, &pop, expected);
  BackgroundGenerator background(pop, plan.windows, options);
  GYRE_ASSIGN_OR_RETURN(std::unique_ptr<AtoWriter> writer, AtoWriter::Open(options.out_dir, pop, plan));
  using Clock = std::chrono::steady_clock;
  auto seconds_since = [](Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); };
  const double setup_seconds = seconds_since(started);
  double generate_seconds = 0, write_seconds = 0;

  int threads =
      options.threads > 0 ? options.threads : std::clamp(static_cast<int>(std::thread::hardware_concurrency()), 1, 8);
  const uint32_t users = pop.background_users();
  threads = std::max(1, std::min<int>(threads, static_cast<int>(users)));

  DayQueue queue(2);
  std::thread writer_thread;
  try {
    writer_thread = std::thread([&] {
      pthread_setname_np(pthread_self(), "datagen-writer");
      DayBatch day;
      while (queue.Pop(&day)) {
        auto t = Clock::now();
        for (size_t i = 0; i < day.events.size(); ++i) writer->Write(day.events[i], day.rendered[i]);
        write_seconds += seconds_since(t);
      }
    });
  } catch (const std::system_error& e) {
    return Status::ResourceExhausted(fmt::format("cannot start the writer thread: {}", e.what()));
  }

  Status status;
  std::vector<std::vector<Event>> parts(threads), scratch(threads);
  std::vector<std::vector<uint32_t>> counts(threads);
  std::vector<Event> carry, next_carry;
  size_t plan_pos = 0;
  for (int day = 0; day < options.days && status.ok(); ++day) {
    const TimestampMicros day_end = options.start + (day + 1) * kMicrosPerDay;
    const auto day_started = Clock::now();
    status = RunParallel(threads, "datagen-gen", [&](int part) {
      uint32_t lo = static_cast<uint32_t>(static_cast<uint64_t>(users) * part / threads);
      uint32_t hi = static_cast<uint32_t>(static_cast<uint64_t>(users) * (part + 1) / threads);
      parts[part].clear();
      background.GenerateDay(day, lo, hi, &parts[part]);
      SortDay(options.start + day * kMicrosPerDay, &parts[part], &scratch[part], &counts[part]);
    });
    if (!status.ok()) break;

    size_t plan_end = plan_pos;
    while (plan_end < plan.events.size() && plan.events[plan_end].time < day_end) ++plan_end;
    std::vector<std::pair<const Event*, const Event*>> runs;
    for (const auto& p : parts) runs.emplace_back(p.data(), p.data() + p.size());
    runs.emplace_back(carry.data(), carry.data() + carry.size());
    runs.emplace_back(plan.events.data() + plan_pos, plan.events.data() + plan_end);
    plan_pos = plan_end;

    DayBatch batch;
    std::vector<Event>& merged = batch.events;
    MergeRuns(std::move(runs), &merged);
    // Sessions late in the day spill past midnight: keep those for tomorrow's merge; drop what falls
    // after the window.
    auto split = std::partition_point(merged.begin(), merged.end(), [&](const Event& e) { return e.time < day_end; });
    next_carry.clear();
    for (auto it = split; it != merged.end(); ++it) {
      if (it->time < pop.end) next_carry.push_back(*it);
    }
    merged.erase(split, merged.end());
    std::swap(carry, next_carry);
    // Format our own fields (time, ids, addresses, coordinates) on every thread, so the one thread that must
    // write each file is left with CsvWriter's own work.
    batch.rendered.resize(merged.size());
    status = RunParallel(threads, "datagen-render", [&](int part) {
      size_t lo = merged.size() * part / threads, hi = merged.size() * (part + 1) / threads;
      for (size_t i = lo; i < hi; ++i) AtoWriter::Render(merged[i], &batch.rendered[i]);
    });
    if (!status.ok()) break;
    generate_seconds += seconds_since(day_started);
    queue.Push(std::move(batch));
    if (progress) progress(0.98 * (day + 1) / options.days);
  }
  queue.Close();
  writer_thread.join();
  GYRE_RETURN_IF_ERROR(status);

  AtoSummary summary;
  summary.initial_users = pop.initial;
  summary.new_market_users = pop.new_market;
  summary.ring_accounts = static_cast<int64_t>(pop.users.size()) - pop.background_users();
  summary.drift_day = options.drift_day;
  summary.drift_time = drift;
  summary.setup_seconds = setup_seconds;
  summary.generate_seconds = generate_seconds;
  summary.write_seconds = write_seconds;
  GYRE_RETURN_IF_ERROR(writer->Finish(options, &summary));

  summary.elapsed_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  int64_t bytes = summary.logins.bytes + summary.account_events.bytes + summary.promo_redemptions.bytes +
                  summary.labels.bytes + summary.campaigns.bytes + summary.ground_truth.bytes;
  if (summary.elapsed_seconds > 0) {
    summary.events_per_second = static_cast<double>(summary.events) / summary.elapsed_seconds;
    summary.bytes_per_second = static_cast<double>(bytes) / summary.elapsed_seconds;
  }
  if (progress) progress(1.0);
  return summary;
}

}  // namespace gyre::datagen
