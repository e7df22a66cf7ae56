// Text → typed value parsers for gyre's column types: what the CSV reader (and later, pushed events)
// accepts as an int64, float64, bool or timestamp. They are allocation-free and meant for hot loops.
//
// Rules (no surrounding spaces anywhere; an empty text is never a value, it is null to the CSV reader):
//   int64     optional '-', then decimal digits; must fit in int64.
//   float64   what std::from_chars accepts in general format: "-1.5", ".5", "5.", "1e-3", "inf", "nan";
//             no leading '+', no hex. Out-of-range magnitudes ("1e999") are errors.
//   bool      ParseBool: true/false, t/f, yes/no, y/n, 1/0 in any letter case.
//             IsBoolLiteral (what inference calls bool): only true/false, in any letter case, so that a
//             column of 0/1 infers as int64.
//   timestamp ParseTimestampFast returns exactly what ParseTimestamp (core/time.h) returns for every
//             input, values and errors alike; it handles the common ISO-8601 shape itself
//             ("YYYY-MM-DD[T ]HH:MM:SS[.f{1,9}][Z|±HH:MM]") and hands everything else to ParseTimestamp.
#pragma once

#include <cstdint>
#include <string_view>

#include "core/status.h"
#include "core/time.h"

namespace gyre {

bool ParseInt64(std::string_view text, int64_t* out);  // inline below
bool ParseFloat64(std::string_view text, double* out);
bool ParseBool(std::string_view text, bool* out);  // inline below
bool IsBoolLiteral(std::string_view text);        // inline below

Result<TimestampMicros> ParseTimestampFast(std::string_view text, TimestampFormat format);

// Only the fast shape above: true with *out set, or false if the text is not in that shape (then call
// ParseTimestamp, which also produces the error message).
bool ParseIsoTimestampFastPath(std::string_view text, TimestampMicros* out);

// ---- Inline definitions: these run once per value in CSV hot loops.

namespace value_parse_internal {
bool ParseInt64Slow(std::string_view text, int64_t* out);
inline unsigned Digit(char c) { return static_cast<unsigned>(static_cast<unsigned char>(c)) - '0'; }
inline char Lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + ('a' - 'A')) : c; }
// Case-insensitive equality with a lowercase ASCII literal of the same length.
inline bool EqualsLower(std::string_view text, std::string_view lower) {
  if (text.size() != lower.size()) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    if (Lower(text[i]) != lower[i]) return false;
  }
  return true;
}
}  // namespace value_parse_internal

inline bool ParseInt64(std::string_view text, int64_t* out) {
  using value_parse_internal::Digit;
  const char* p = text.data();
  size_t n = text.size();
  const bool negative = n != 0 && *p == '-';
  p += negative;
  n -= negative;
  if (n == 0 || n > 18) return value_parse_internal::ParseInt64Slow(text, out);
  uint64_t v = 0;  // at most 18 digits: cannot overflow
  for (size_t i = 0; i < n; ++i) {
    unsigned d = Digit(p[i]);
    if (d > 9) return false;
    v = v * 10 + d;
  }
  *out = negative ? -static_cast<int64_t>(v) : static_cast<int64_t>(v);
  return true;
}

inline bool ParseBool(std::string_view text, bool* out) {
  using value_parse_internal::EqualsLower;
  switch (text.size()) {
    case 1:
      switch (value_parse_internal::Lower(text[0])) {
        case '1': case 't': case 'y': *out = true; return true;
        case '0': case 'f': case 'n': *out = false; return true;
        default: return false;
      }
    case 2: return EqualsLower(text, "no") && (*out = false, true);
    case 3: return EqualsLower(text, "yes") && (*out = true, true);
    case 4: return EqualsLower(text, "true") && (*out = true, true);
    case 5: return EqualsLower(text, "false") && (*out = false, true);
    default: return false;
  }
}

inline bool IsBoolLiteral(std::string_view text) {
  return value_parse_internal::EqualsLower(text, "true") || value_parse_internal::EqualsLower(text, "false");
}

}  // namespace gyre
