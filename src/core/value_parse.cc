#include "core/value_parse.h"

#include <charconv>
#include <system_error>

namespace gyre {
namespace {

using value_parse_internal::Digit;

bool IsLeapYear(unsigned y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

}  // namespace

namespace value_parse_internal {
bool ParseInt64Slow(std::string_view text, int64_t* out) {
  if (text.empty()) return false;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && ptr == text.data() + text.size();
}
}  // namespace value_parse_internal

bool ParseFloat64(std::string_view text, double* out) {
  // Fast path for plain decimals ("-12.3456"): with at most 15 digits the mantissa is exact in a double,
  // and so is 10^k for k <= 22, so one IEEE division gives the correctly rounded value: the same double
  // from_chars returns (Clinger's fast path).
  static constexpr double kPow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                      1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
  const char* p = text.data();
  const char* const end = p + text.size();
  const bool negative = p != end && *p == '-';
  p += negative;
  uint64_t mantissa = 0;
  int digits = 0, fraction_digits = 0;
  for (; p != end && Digit(*p) <= 9; ++p, ++digits) mantissa = mantissa * 10 + Digit(*p);
  if (p != end && *p == '.') {
    ++p;
    for (; p != end && Digit(*p) <= 9; ++p, ++digits, ++fraction_digits) mantissa = mantissa * 10 + Digit(*p);
  }
  if (p == end && digits > 0 && digits <= 15 && (fraction_digits > 0 || text.back() != '.')) {
    double v = static_cast<double>(mantissa) / kPow10[fraction_digits];
    *out = negative ? -v : v;
    return true;
  }
  if (text.empty()) return false;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && ptr == text.data() + text.size();
}

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
