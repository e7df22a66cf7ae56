// Timestamps: gyre's one representation of time is int64 microseconds since the Unix epoch, UTC.
//
// Parsing accepts what event files carry: ISO-8601 / RFC 3339 ("2026-03-01T12:30:00Z",
// "2026-03-01 12:30:00.25+02:00", "2026-03-01"), and Unix epoch numbers. Epoch units are either stated
// (kEpochSeconds, kEpochMillis, kEpochMicros) or, with kAuto, inferred from magnitude: |v| < 1e11 is
// seconds (until year 5138), < 1e14 milliseconds, otherwise microseconds. A timestamp without an offset
// is taken as UTC. Parsing never allocates; errors say what was expected.
//
// Formatting writes RFC 3339 in UTC with the shortest exact fraction: "2026-03-01T10:30:00Z",
// "...:00.250Z", "...:00.000001Z". It is allocation-free and fast, since datagen writes millions per second.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace gyre {

using TimestampMicros = int64_t;

inline constexpr int64_t kMicrosPerSecond = 1'000'000;
inline constexpr int64_t kMicrosPerMinute = 60 * kMicrosPerSecond;
inline constexpr int64_t kMicrosPerHour = 60 * kMicrosPerMinute;
inline constexpr int64_t kMicrosPerDay = 24 * kMicrosPerHour;

enum class TimestampFormat { kAuto, kIso8601, kEpochSeconds, kEpochMillis, kEpochMicros };

// Parses `text` (surrounding spaces are not allowed). On failure the message describes the problem
// without location; callers prefix the file/row/column they know.
Result<TimestampMicros> ParseTimestamp(std::string_view text, TimestampFormat format = TimestampFormat::kAuto);

// Writes at most kMaxTimestampChars characters to `out` and returns how many. Years outside 0..9999 are
// written with a sign and more digits, so formatting never fails.
inline constexpr int kMaxTimestampChars = 40;
int FormatTimestamp(TimestampMicros ts, char* out);
std::string FormatTimestamp(TimestampMicros ts);

// The wall clock, in milliseconds since the epoch: the unit of MLflow's timestamps (runs, metrics, registry).
int64_t NowMillis();

// Days since 1970-01-01 for a proleptic Gregorian date, and back (Hinnant's civil algorithms).
int64_t DaysFromCivil(int64_t year, unsigned month, unsigned day);
void CivilFromDays(int64_t days, int64_t* year, unsigned* month, unsigned* day);

// Timestamp of midnight UTC of a date given as "YYYY-MM-DD"; a convenience for flags like --start.
Result<TimestampMicros> ParseDate(std::string_view text);

// Durations in microseconds, written as a positive integer and a unit: "90s", "10m", "1h", "7d" (also "ms",
// "us", "w"). Errors name the text and the units accepted.
Result<int64_t> ParseDuration(std::string_view text);
// The largest unit that divides the duration exactly: 3600000000 → "1h", 90000000 → "90s".
std::string FormatDuration(int64_t micros);

}  // namespace gyre
