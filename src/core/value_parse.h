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

bool ParseInt64(std::string_view text, int64_t* out);
bool ParseFloat64(std::string_view text, double* out);
bool ParseBool(std::string_view text, bool* out);
bool IsBoolLiteral(std::string_view text);

Result<TimestampMicros> ParseTimestampFast(std::string_view text, TimestampFormat format);

// Only the fast shape above: true with *out set, or false if the text is not in that shape (then call
// ParseTimestamp, which also produces the error message).
bool ParseIsoTimestampFastPath(std::string_view text, TimestampMicros* out);

}  // namespace gyre
