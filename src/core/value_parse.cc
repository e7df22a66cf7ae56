#include "core/value_parse.h"

#include <charconv>
#include <system_error>

namespace gyre {
namespace {

inline unsigned Digit(char c) { return static_cast<unsigned>(static_cast<unsigned char>(c)) - '0'; }

// Case-insensitive equality with a lowercase ASCII literal.
inline bool EqualsLower(std::string_view text, std::string_view lower) {
  if (text.size() != lower.size()) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + ('a' - 'A'));
    if (c != lower[i]) return false;
  }
  return true;
}

bool IsLeapYear(unsigned y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

}  // namespace

bool ParseInt64(std::string_view text, int64_t* out) {
  const char* p = text.data();
  size_t n = text.size();
  bool negative = n != 0 && *p == '-';
  if (negative) {
    ++p;
    --n;
  }
  if (n == 0) return false;
  if (n <= 18) {  // cannot overflow: at most 999,999,999,999,999,999
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i) {
      unsigned d = Digit(p[i]);
      if (d > 9) return false;
      v = v * 10 + d;
    }
    *out = negative ? -static_cast<int64_t>(v) : static_cast<int64_t>(v);
    return true;
  }
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && ptr == text.data() + text.size();
}

bool ParseFloat64(std::string_view text, double* out) {
  if (text.empty()) return false;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && ptr == text.data() + text.size();
}

bool ParseBool(std::string_view text, bool* out) {
  switch (text.size()) {
    case 1: {
      char c = text[0];
      if (c == '1' || c == 't' || c == 'T' || c == 'y' || c == 'Y') return *out = true, true;
      if (c == '0' || c == 'f' || c == 'F' || c == 'n' || c == 'N') return *out = false, true;
      return false;
    }
    case 2:
      if (EqualsLower(text, "no")) return *out = false, true;
      return false;
    case 3:
      if (EqualsLower(text, "yes")) return *out = true, true;
      return false;
    case 4:
      if (EqualsLower(text, "true")) return *out = true, true;
      return false;
    case 5:
      if (EqualsLower(text, "false")) return *out = false, true;
      return false;
    default:
      return false;
  }
}

bool IsBoolLiteral(std::string_view text) { return EqualsLower(text, "true") || EqualsLower(text, "false"); }

bool ParseIsoTimestampFastPath(std::string_view text, TimestampMicros* out) {
  const size_t n = text.size();
  const char* s = text.data();
  if (n < 19) return false;
  if (s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || s[13] != ':' ||
      s[16] != ':') {
    return false;
  }
  static constexpr int kDigitAt[] = {0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18};
  unsigned d[19];
  for (int i : kDigitAt) {
    d[i] = Digit(s[i]);
    if (d[i] > 9) return false;
  }
  unsigned year = d[0] * 1000 + d[1] * 100 + d[2] * 10 + d[3];
  unsigned month = d[5] * 10 + d[6];
  unsigned day = d[8] * 10 + d[9];
  unsigned hour = d[11] * 10 + d[12];
  unsigned minute = d[14] * 10 + d[15];
  unsigned second = d[17] * 10 + d[18];
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12 || day < 1) return false;
  if (day > kDays[month - 1] + (month == 2 && IsLeapYear(year) ? 1 : 0)) return false;
  // Out-of-range times and the leap second 60 go to the general parser, which reports or clamps them.
  if (hour > 23 || minute > 59 || second > 59) return false;

  int64_t micros = DaysFromCivil(year, month, day) * kMicrosPerDay + hour * kMicrosPerHour +
                   minute * kMicrosPerMinute + second * kMicrosPerSecond;
  size_t pos = 19;
  if (pos < n && s[pos] == '.') {
    ++pos;
    int digits = 0;
    int64_t fraction = 0, scale = 100000;
    while (pos < n && Digit(s[pos]) <= 9) {
      if (digits < 6) fraction += Digit(s[pos]) * scale;  // beyond microseconds: truncated, as ParseTimestamp
      scale /= 10;
      ++digits;
      ++pos;
    }
    if (digits == 0 || digits > 9) return false;
    micros += fraction;
  }
  if (pos == n) {
    *out = micros;
    return true;
  }
  if ((s[pos] == 'Z' || s[pos] == 'z') && pos + 1 == n) {
    *out = micros;
    return true;
  }
  if ((s[pos] == '+' || s[pos] == '-') && pos + 6 == n && s[pos + 3] == ':') {
    unsigned h1 = Digit(s[pos + 1]), h2 = Digit(s[pos + 2]), m1 = Digit(s[pos + 4]), m2 = Digit(s[pos + 5]);
    if (h1 > 9 || h2 > 9 || m1 > 9 || m2 > 9) return false;
    unsigned off_h = h1 * 10 + h2, off_m = m1 * 10 + m2;
    if (off_h > 23 || off_m > 59) return false;
    int64_t offset = off_h * kMicrosPerHour + off_m * kMicrosPerMinute;
    *out = s[pos] == '+' ? micros - offset : micros + offset;
    return true;
  }
  return false;
}

Result<TimestampMicros> ParseTimestampFast(std::string_view text, TimestampFormat format) {
  TimestampMicros ts;
  if (format == TimestampFormat::kIso8601 || format == TimestampFormat::kAuto) {
    if (ParseIsoTimestampFastPath(text, &ts)) return ts;
  }
  if (format != TimestampFormat::kIso8601 && !text.empty() && text.size() <= 18) {
    // Plain non-negative epoch integers; the unit rule is ParseTimestamp's.
    uint64_t v = 0;
    bool digits = true;
    for (char c : text) {
      unsigned d = Digit(c);
      if (d > 9) {
        digits = false;
        break;
      }
      v = v * 10 + d;
    }
    if (digits) {
      int64_t whole = static_cast<int64_t>(v);
      TimestampFormat unit_format = format;
      if (unit_format == TimestampFormat::kAuto) {
        unit_format = whole < 100'000'000'000LL        ? TimestampFormat::kEpochSeconds
                      : whole < 100'000'000'000'000LL ? TimestampFormat::kEpochMillis
                                                      : TimestampFormat::kEpochMicros;
      }
      int64_t unit = unit_format == TimestampFormat::kEpochSeconds  ? kMicrosPerSecond
                     : unit_format == TimestampFormat::kEpochMillis ? 1000
                                                                    : 1;
      if (!__builtin_mul_overflow(whole, unit, &ts)) return ts;
    }
  }
  return ParseTimestamp(text, format);
}

}  // namespace gyre
