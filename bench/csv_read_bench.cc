// CSV read throughput: gyre's CsvReader into typed columns against the I/O floor (a plain read() of the
// same file), in one run, on a login-events file.
//
//   csv_read_bench --generate PATH --bytes N [--seed S]   writes a login-like CSV of about N bytes
//   csv_read_bench --run PATH [--repeat R]                measures (a) plain read, (b) declared schema,
//                                                          (c) inferred schema; prints medians in MB/s
//
// MB = 10^6 bytes. The file is read once before timing so that every variant sees a warm page cache:
// the comparison is parsing against memory bandwidth, not against the disk.
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "core/csv_reader.h"
#include "core/csv_writer.h"

namespace {

using gyre::ColumnType;
using Clock = std::chrono::steady_clock;

// ---------------------------------------------------------------------------------------- Generator

struct Rng {  // splitmix64: fast and good enough for synthetic data
  uint64_t state;
  uint64_t Next() {
    uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  uint64_t Below(uint64_t n) { return Next() % n; }
  double Unit() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  // Skewed pick in [0, n): a few values are common, most are rare (like users and devices).
  uint64_t Skewed(uint64_t n) { return static_cast<uint64_t>(std::pow(Unit(), 3.0) * static_cast<double>(n)); }
};

std::vector<std::string> UserAgents() {
  std::vector<std::string> out;
  for (int v = 110; v < 126; ++v) {
    out.push_back(fmt::format("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
                              "Chrome/{}.0.0.0 Safari/537.36", v));
    out.push_back(fmt::format("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like "
                              "Gecko) Chrome/{}.0.0.0 Safari/537.36", v));
    out.push_back(fmt::format("Mozilla/5.0 (X11; Linux x86_64; rv:{}.0) Gecko/20100101 Firefox/{}.0", v, v));
    out.push_back(fmt::format("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
                              "Chrome/{}.0.0.0 Mobile Safari/537.36", v));
  }
  for (int v = 15; v < 18; ++v) {
    for (int m = 0; m < 6; ++m) {
      out.push_back(fmt::format("Mozilla/5.0 (iPhone; CPU iPhone OS {}_{} like Mac OS X) AppleWebKit/605.1.15 "
                                "(KHTML, like Gecko) Version/{}.{} Mobile/15E148 Safari/604.1", v, m, v, m));
    }
  }
  for (int v = 0; v < 12; ++v) out.push_back(fmt::format("okhttp/4.{}.0", v));
  for (int v = 0; v < 8; ++v) out.push_back(fmt::format("python-requests/2.{}.1", 25 + v));
  return out;
}

int Generate(const std::string& path, int64_t bytes, uint64_t seed) {
  auto writer = gyre::CsvWriter::Open(path);
  if (!writer.ok()) {
    fmt::print(stderr, "{}\n", writer.status().message());
    return 1;
  }
  static const char* kCountries[] = {"US", "FR", "DE", "GB", "BR", "IN", "NG", "JP", "CA", "ES", "IT", "NL",
                                     "PL", "RO", "VN", "ID", "MX", "AR", "ZA", "KR", "TR", "UA", "RU", "CN"};
  static const double kCenters[][2] = {{39.8, -98.6}, {46.2, 2.2},  {51.2, 10.4}, {55.4, -3.4}, {-14.2, -51.9},
                                       {20.6, 78.9},  {9.1, 8.7},   {36.2, 138.3}, {56.1, -106.3}, {40.5, -3.7},
                                       {41.9, 12.6},  {52.1, 5.3},  {51.9, 19.1}, {45.9, 24.9}, {14.1, 108.3},
                                       {-0.8, 113.9}, {23.6, -102.6}, {-38.4, -63.6}, {-30.6, 22.9}, {35.9, 127.8},
                                       {38.9, 35.2},  {48.4, 31.2}, {61.5, 105.3}, {35.9, 104.2}};
  const std::vector<std::string> agents = UserAgents();
  Rng rng{seed};
  gyre::CsvWriter& w = *writer;
  w.Row({"event_id", "time", "user_id", "device_id", "ip", "asn", "country", "lat", "lon", "user_agent", "success",
         "mfa"});
  int64_t time_ms = 1772323200000LL;  // 2026-03-01T00:00:00Z
  char buf[64];
// Formats into buf (fmt needs the format string at compile time, hence a macro, not a lambda).
#define GYRE_BENCH_TEXT(...) std::string_view(buf, fmt::format_to_n(buf, sizeof buf, __VA_ARGS__).size)
  for (int64_t id = 1'000'000'000;; ++id) {
    // CsvWriter keeps no byte count; the file size (behind by at most its 1 MiB buffer) is close enough.
    if (id % 16384 == 0 && static_cast<int64_t>(std::filesystem::file_size(path)) >= bytes) break;
    time_ms += static_cast<int64_t>(rng.Below(40));
    uint64_t user = rng.Skewed(400'000);
    uint64_t country = user % 24 < 14 ? user % 24 : rng.Below(24);
    w.Field(id);
    w.TimestampField(time_ms * 1000);
    w.Field(GYRE_BENCH_TEXT("u{:07}", user));
    if (rng.Below(100) == 0) {
      w.NullField();
    } else {
      w.Field(GYRE_BENCH_TEXT("d-{:012x}", (user * 2654435761ULL + rng.Below(3)) & 0xFFFFFFFFFFFFULL));
    }
    uint64_t ip = rng.Below(8) == 0 ? rng.Next() : user * 7919 + rng.Below(2);
    w.Field(GYRE_BENCH_TEXT("{}.{}.{}.{}", 11 + ip % 200, (ip >> 8) & 255, (ip >> 16) & 255, 1 + (ip >> 24) % 254));
    if (rng.Below(200) == 0) {
      w.NullField();
    } else {
      w.Field(static_cast<int64_t>(1000 + (ip % 2000) * 17));
    }
    w.Field(kCountries[country]);
    if (rng.Below(50) == 0) {
      w.NullField();
      w.NullField();
    } else {
      w.Field(std::round((kCenters[country][0] + (rng.Unit() - 0.5) * 8) * 1e4) / 1e4);
      w.Field(std::round((kCenters[country][1] + (rng.Unit() - 0.5) * 8) * 1e4) / 1e4);
    }
    w.Field(std::string_view(agents[(user + rng.Skewed(4)) % agents.size()]));
    w.Field(rng.Below(100) < 93);
    w.Field(rng.Below(100) < 30);
    w.EndRow();
  }
#undef GYRE_BENCH_TEXT
  int64_t rows = w.rows_written() - 1;
  if (auto s = w.Close(); !s.ok()) {
    fmt::print(stderr, "{}\n", s.message());
    return 1;
  }
  fmt::print("generated {}: {} rows, {:.1f} MB\n", path, rows, std::filesystem::file_size(path) / 1e6);
  return 0;
}

// -------------------------------------------------------------------------------------- Measurement

// The I/O floor: read() in 1 MiB chunks, counting line ends so that every byte is touched.
int64_t PlainRead(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) {
    std::perror(path.c_str());
    std::exit(1);
  }
  std::vector<char> buf(1 << 20);
  int64_t lines = 0;
  for (;;) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n <= 0) break;
    const char* p = buf.data();
    const char* end = p + n;
    while (const void* hit = std::memchr(p, '\n', static_cast<size_t>(end - p))) {
      ++lines;
      p = static_cast<const char*>(hit) + 1;
    }
  }
  ::close(fd);
  return lines;
}

gyre::CsvReadOptions DeclaredSchema() {
  gyre::CsvReadOptions o;
  o.columns = {{"event_id", ColumnType::kInt64},  {"time", ColumnType::kTimestamp, gyre::TimestampFormat::kIso8601},
               {"user_id", ColumnType::kString},  {"device_id", ColumnType::kString},
               {"ip", ColumnType::kString},       {"asn", ColumnType::kInt64},
               {"country", ColumnType::kString},  {"lat", ColumnType::kFloat64},
               {"lon", ColumnType::kFloat64},     {"user_agent", ColumnType::kString},
               {"success", ColumnType::kBool},    {"mfa", ColumnType::kBool}};
  return o;
}

double Seconds(Clock::time_point since) { return std::chrono::duration<double>(Clock::now() - since).count(); }

double CpuSeconds() {  // this thread's CPU time: less sensitive than wall time to a busy machine
  timespec ts;
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

struct Variant {
  explicit Variant(std::string n) : name(std::move(n)) {}
  std::string name;
  std::vector<double> wall_mbps, cpu_mbps;
};

int Run(const std::string& path, int repeat, const std::string& only) {
  const double mb = static_cast<double>(std::filesystem::file_size(path)) / 1e6;
  PlainRead(path);  // warm the page cache
  Variant plain{"plain read (I/O floor)"}, declared{"gyre CsvReader, declared"}, inferred{"gyre CsvReader, inferred"};
  int64_t rows = 0;
  std::string schema;
  // Times fn once, recording MB/s by wall clock and by CPU time.
  auto time = [&](Variant& v, auto&& fn) -> bool {
    auto t0 = Clock::now();
    double c0 = CpuSeconds();
    if (!fn()) return false;
    v.wall_mbps.push_back(mb / Seconds(t0));
    v.cpu_mbps.push_back(mb / (CpuSeconds() - c0));
    return true;
  };
  for (int i = 0; i < repeat; ++i) {
    std::string line = fmt::format("  run {}:", i + 1);
    if (only.empty() || only == "plain") {
      time(plain, [&] { return PlainRead(path) > 0; });
      line += fmt::format(" plain {:.0f}", plain.wall_mbps.back());
    }
    if (only.empty() || only == "declared") {
      bool ok = time(declared, [&] {
        auto d = gyre::ReadCsv(path, DeclaredSchema());
        if (!d.ok()) fmt::print(stderr, "declared read failed: {}\n", d.status().message());
        if (d.ok()) rows = d->stats.rows;
        return d.ok();
      });
      if (!ok) return 1;
      line += fmt::format(" declared {:.0f}", declared.wall_mbps.back());
    }
    if (only.empty() || only == "inferred") {
      bool ok = time(inferred, [&] {
        auto r = gyre::ReadCsv(path);
        if (!r.ok()) fmt::print(stderr, "inferred read failed: {}\n", r.status().message());
        if (r.ok()) {
          rows = r->stats.rows;
          schema = fmt::format("{} ({} pass{})", r->table.schema().ToString(), r->stats.passes,
                               r->stats.passes == 1 ? "" : "es");
        }
        return r.ok();
      });
      if (!ok) return 1;
      line += fmt::format(" inferred {:.0f}", inferred.wall_mbps.back());
    }
    fmt::print("{} MB/s\n", line);
  }
  fmt::print("file: {} ({:.1f} MB, {} rows)\n", path, mb, rows);
  if (!schema.empty()) fmt::print("inferred schema: {}\n", schema);
  fmt::print("median of {} runs, MB/s (MB = 10^6 bytes):   wall      cpu   wall ratio to plain read\n", repeat);
  for (Variant* v : {&plain, &declared, &inferred}) {
    if (v->wall_mbps.empty()) continue;
    std::string ratio = plain.wall_mbps.empty() || v == &plain
                            ? ""
                            : fmt::format("{:.3f}", Median(v->wall_mbps) / Median(plain.wall_mbps));
    fmt::print("  {:<38} {:8.0f} {:8.0f}   {}\n", v->name, Median(v->wall_mbps), Median(v->cpu_mbps), ratio);
  }
  return 0;
}

int Usage() {
  fmt::print(stderr,
             "usage: csv_read_bench --generate PATH --bytes N [--seed S]\n"
             "       csv_read_bench --run PATH [--repeat R] [--only plain|declared|inferred]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string generate, run;
  int64_t bytes = 1LL << 30;
  uint64_t seed = 42;
  int repeat = 3;
  std::string only;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (i + 1 >= argc) return Usage();
    if (a == "--generate") generate = argv[++i];
    else if (a == "--run") run = argv[++i];
    else if (a == "--bytes") bytes = std::atoll(argv[++i]);
    else if (a == "--seed") seed = std::strtoull(argv[++i], nullptr, 10);
    else if (a == "--repeat") repeat = std::max(1, std::atoi(argv[++i]));
    else if (a == "--only") only = argv[++i];
    else return Usage();
  }
  if (!generate.empty()) return Generate(generate, bytes, seed);
  if (!run.empty()) return Run(run, repeat, only);
  return Usage();
}
