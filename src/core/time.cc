#include "core/time.h"

#include <fmt/format.h>

#include <charconv>
#include <chrono>
#include <cstring>

namespace gyre {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Reads exactly n digits at text[pos...], advancing pos.
bool ReadDigits(std::string_view text, size_t& pos, int n, int* out) {
  if (pos + n > text.size()) return false;
  int v = 0;
  for (int i = 0; i < n; ++i) {
    char c = text[pos + i];
    if (!IsDigit(c)) return false;
    v = v * 10 + (c - '0');
  }
  pos += n;
  *out = v;
  return true;
}

bool IsLeap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

unsigned DaysInMonth(int64_t y, unsigned m) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

Status IsoError(std::string_view text, std::string_view what) {
  return Status::InvalidArgument(
      fmt::format("cannot parse '{}' as a timestamp: {} (expected ISO-8601 like 2026-03-01T12:30:00Z "
                  "or epoch seconds/milliseconds)",
                  text, what));
}

Result<TimestampMicros> ParseIso(std::string_view text) {
  size_t pos = 0;
  int year = 0, month = 0, day = 0;
  if (!ReadDigits(text, pos, 4, &year)) return IsoError(text, "year must be 4 digits");
  if (pos >= text.size() || text[pos] != '-') return IsoError(text, "expected '-' after the year");
  ++pos;
  if (!ReadDigits(text, pos, 2, &month)) return IsoError(text, "month must be 2 digits");
  if (pos >= text.size() || text[pos] != '-') return IsoError(text, "expected '-' after the month");
  ++pos;
  if (!ReadDigits(text, pos, 2, &day)) return IsoError(text, "day must be 2 digits");
  if (month < 1 || month > 12) return IsoError(text, "month out of range");
  if (day < 1 || static_cast<unsigned>(day) > DaysInMonth(year, month)) return IsoError(text, "day out of range");

  int64_t micros = DaysFromCivil(year, month, day) * kMicrosPerDay;
  if (pos == text.size()) return micros;

  if (text[pos] != 'T' && text[pos] != 't' && text[pos] != ' ') {
    return IsoError(text, "expected 'T' or ' ' between date and time");
  }
  ++pos;
  int hour = 0, minute = 0, second = 0;
  if (!ReadDigits(text, pos, 2, &hour)) return IsoError(text, "hour must be 2 digits");
  if (pos >= text.size() || text[pos] != ':') return IsoError(text, "expected ':' after the hour");
  ++pos;
  if (!ReadDigits(text, pos, 2, &minute)) return IsoError(text, "minute must be 2 digits");
  int64_t fraction_micros = 0;
  if (pos < text.size() && text[pos] == ':') {
    ++pos;
    if (!ReadDigits(text, pos, 2, &second)) return IsoError(text, "second must be 2 digits");
    if (pos < text.size() && (text[pos] == '.' || text[pos] == ',')) {
      ++pos;
      int digits = 0;
      int64_t scale = 100000;
      while (pos < text.size() && IsDigit(text[pos])) {
        if (digits < 6) fraction_micros += (text[pos] - '0') * scale;  // beyond µs: truncated
        scale /= 10;
        ++digits;
        ++pos;
      }
      if (digits == 0) return IsoError(text, "expected digits after the decimal point");
      if (digits > 9) return IsoError(text, "more than 9 fractional digits");
    }
  }
  if (hour > 23 || minute > 59 || second > 60) return IsoError(text, "time of day out of range");
  if (second == 60) second = 59;  // leap second: clamp, as most systems do
  micros += hour * kMicrosPerHour + minute * kMicrosPerMinute + second * kMicrosPerSecond + fraction_micros;

  if (pos == text.size()) return micros;  // no offset: UTC
  char sign = text[pos];
  if (sign == 'Z' || sign == 'z') {
    ++pos;
  } else if (sign == '+' || sign == '-') {
    ++pos;
    int off_h = 0, off_m = 0;
    if (!ReadDigits(text, pos, 2, &off_h)) return IsoError(text, "offset hours must be 2 digits");
    if (pos < text.size() && text[pos] == ':') ++pos;
    if (pos < text.size() && !ReadDigits(text, pos, 2, &off_m))
      return IsoError(text, "offset minutes must be 2 digits");
    if (off_h > 23 || off_m > 59) return IsoError(text, "offset out of range");
    int64_t offset = off_h * kMicrosPerHour + off_m * kMicrosPerMinute;
    micros += sign == '+' ? -offset : offset;
  } else {
    return IsoError(text, "unexpected characters after the time");
  }
  if (pos != text.size()) return IsoError(text, "unexpected characters after the offset");
  return micros;
}

Result<TimestampMicros> ParseEpoch(std::string_view text, TimestampFormat format) {
  // Integer part, optional fraction (epoch seconds often come as 1700000000.123).
  size_t dot = text.find('.');
  std::string_view int_part = text.substr(0, dot);
  int64_t whole = 0;
  auto [ptr, ec] = std::from_chars(int_part.data(), int_part.data() + int_part.size(), whole);
  if (ec != std::errc() || ptr != int_part.data() + int_part.size() || int_part.empty()) {
    return Status::InvalidArgument(fmt::format("cannot parse '{}' as an epoch timestamp", text));
  }
  int64_t frac_micros = 0;
  if (dot != std::string_view::npos) {
    std::string_view frac = text.substr(dot + 1);
    if (frac.empty()) return Status::InvalidArgument(fmt::format("cannot parse '{}' as an epoch timestamp", text));
    int64_t scale = 100000;
    for (char c : frac) {
      if (!IsDigit(c)) return Status::InvalidArgument(fmt::format("cannot parse '{}' as an epoch timestamp", text));
      frac_micros += (c - '0') * scale;
      scale /= 10;
    }
  }
  if (format == TimestampFormat::kAuto) {
    int64_t mag = whole < 0 ? -whole : whole;
    format = mag < 100'000'000'000LL       ? TimestampFormat::kEpochSeconds
             : mag < 100'000'000'000'000LL ? TimestampFormat::kEpochMillis
                                           : TimestampFormat::kEpochMicros;
  }
  int64_t unit = format == TimestampFormat::kEpochSeconds  ? kMicrosPerSecond
                 : format == TimestampFormat::kEpochMillis ? 1000
                                                           : 1;
  int64_t result;
  if (__builtin_mul_overflow(whole, unit, &result)) {
    return Status::InvalidArgument(fmt::format("epoch timestamp '{}' is out of range", text));
  }
  int64_t frac = frac_micros * unit / kMicrosPerSecond;
  return whole < 0 || (whole == 0 && text[0] == '-') ? result - frac : result + frac;
}

}  // namespace

int64_t NowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void CivilFromDays(int64_t z, int64_t* year, unsigned* month, unsigned* day) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *day = doy - (153 * mp + 2) / 5 + 1;
  *month = mp < 10 ? mp + 3 : mp - 9;
  *year = static_cast<int64_t>(yoe) + era * 400 + (*month <= 2);
}

Result<TimestampMicros> ParseTimestamp(std::string_view text, TimestampFormat format) {
  if (text.empty()) return Status::InvalidArgument("empty timestamp");
  switch (format) {
    case TimestampFormat::kIso8601:
      return ParseIso(text);
    case TimestampFormat::kEpochSeconds:
    case TimestampFormat::kEpochMillis:
    case TimestampFormat::kEpochMicros:
      return ParseEpoch(text, format);
    case TimestampFormat::kAuto:
      break;
  }
  // ISO dates have '-' at index 4; epoch numbers never do.
  if (text.size() >= 10 && text[4] == '-') return ParseIso(text);
  return ParseEpoch(text, format);
}

Result<TimestampMicros> ParseDate(std::string_view text) {
  if (text.size() != 10) {
    return Status::InvalidArgument(fmt::format("cannot parse '{}' as a date: expected YYYY-MM-DD", text));
  }
  return ParseIso(text);
}

namespace {
inline char* Put2(char* p, unsigned v) {
  p[0] = static_cast<char>('0' + v / 10);
  p[1] = static_cast<char>('0' + v % 10);
  return p + 2;
}
}  // namespace

int FormatTimestamp(TimestampMicros ts, char* out) {
  int64_t days = ts / kMicrosPerDay;
  int64_t rem = ts % kMicrosPerDay;
  if (rem < 0) {
    rem += kMicrosPerDay;
    --days;
  }
  int64_t year;
  unsigned month, day;
  CivilFromDays(days, &year, &month, &day);
  char* p = out;
  if (year >= 0 && year <= 9999) {
    unsigned y = static_cast<unsigned>(year);
    p = Put2(p, y / 100);
    p = Put2(p, y % 100);
  } else {
    auto r = std::to_chars(p, p + 24, year);
    p = r.ptr;
  }
  *p++ = '-';
  p = Put2(p, month);
  *p++ = '-';
  p = Put2(p, day);
  *p++ = 'T';
  unsigned secs = static_cast<unsigned>(rem / kMicrosPerSecond);
  unsigned micros = static_cast<unsigned>(rem % kMicrosPerSecond);
  p = Put2(p, secs / 3600);
  *p++ = ':';
  p = Put2(p, secs / 60 % 60);
  *p++ = ':';
  p = Put2(p, secs % 60);
  if (micros != 0) {
    *p++ = '.';
    int digits = micros % 1000 == 0 ? 3 : 6;
    unsigned v = digits == 3 ? micros / 1000 : micros;
    for (int i = digits - 1; i >= 0; --i) {
      p[i] = static_cast<char>('0' + v % 10);
      v /= 10;
    }
    p += digits;
  }
  *p++ = 'Z';
  return static_cast<int>(p - out);
}

std::string FormatTimestamp(TimestampMicros ts) {
  char buf[kMaxTimestampChars];
  return std::string(buf, FormatTimestamp(ts, buf));
}

namespace {
struct DurationUnit {
  std::string_view name;
  int64_t micros;
};
// Largest first, so FormatDuration picks the largest exact unit.
constexpr DurationUnit kDurationUnits[] = {{"w", 7 * 86'400'000'000LL}, {"d", 86'400'000'000LL},
                                           {"h", 3'600'000'000LL},      {"m", 60'000'000LL},
                                           {"s", 1'000'000LL},          {"ms", 1'000LL},
                                           {"us", 1LL}};
}  // namespace

Result<int64_t> ParseDuration(std::string_view text) {
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  std::string_view unit = text.substr(digits);
  if (digits > 0 && digits <= 12) {
    int64_t amount = 0;
    for (size_t i = 0; i < digits; ++i) amount = amount * 10 + (text[i] - '0');
    for (const DurationUnit& u : kDurationUnits) {
      if (u.name == unit && amount > 0 && amount <= INT64_MAX / u.micros) return amount * u.micros;
    }
  }
  return Status::InvalidArgument("invalid duration '" + std::string(text) +
                                 "': expected a positive integer and a unit (us, ms, s, m, h, d, w), e.g. 10m, 24h, 7d");
}

std::string FormatDuration(int64_t micros) {
  for (const DurationUnit& u : kDurationUnits) {
    if (micros != 0 && micros % u.micros == 0) return std::to_string(micros / u.micros) + std::string(u.name);
  }
  return std::to_string(micros) + "us";
}

}  // namespace gyre
