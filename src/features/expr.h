// Expressions: the small language of feature filters and row-level derived features.
//
//   success == false
//   country in ['X', 'Y'] and not mfa
//   haversine_km(lat, lon, last_success_lat, last_success_lon) / max((time - last_success_time) / 3600, 1 / 60)
//
// Values are null, bool, number (double), string or timestamp (int64 microseconds UTC). Identifiers name
// slots (event columns or other features) that the caller resolves at compile time, so a typo is an error
// at load time naming the file, line and column, never a silent null at run time.
//
// Grammar, loosest binding first: or (||) < and (&&) < not (!) < comparison and in < + - < * / % <
// unary - < call, literal, identifier, ( ... ). Binary operators are left-associative; comparisons do not
// chain (`a < b < c` is an error: write `a < b and b < c`). Keywords are lowercase.
//
// Semantics (documented in docs/features.md):
// - arithmetic + - * / % on numbers; timestamp - timestamp is seconds (number); no other arithmetic on
//   timestamps. Division or modulo by zero is null. % is fmod: the result has the sign of the dividend
//   (-7 % 3 == -1). Unary minus.
// - comparisons == != < <= > >= between values of the same type (numbers, strings compared bytewise, bools
//   with false < true, timestamps); comparing with a null value yields null. Comparing with the literal
//   null is a compile error (it could only ever be null): use is_null(x).
// - `x in [literal, ...]`, `x not in [...]`: non-empty lists of literals (numbers, -numbers, strings, true,
//   false) of x's type; a trailing comma is allowed. Lists longer than 8 are not scanned: strings are
//   hashed, numbers binary-searched.
// - and / or / not (also && || !) with SQL's three-valued logic (null and false = false, null or true = true,
//   not null = null). The right side is skipped when the left decides.
// - literals: numbers (1, 2.5, .5, 1e-3; no unit suffix: `1h` is an error), strings in single or double
//   quotes with the escapes \\ \' \" \n \t, true, false, null.
// - functions: hour_of_day(ts) 0..23 UTC, day_of_week(ts) 0 = Monday .. 6, haversine_km(lat1, lon1, lat2,
//   lon2) in degrees, on a sphere of radius kEarthRadiusKm (the mean Earth radius, 6371.0088 km), abs, sqrt,
//   log (natural), log1p, exp, min(a, b), max(a, b) (numbers, timestamps or strings), coalesce(a, b) (same
//   type), is_null(x), starts_with(s, prefix), contains(s, part), length(s) (UTF-8 code points). Any null
//   argument yields null except in coalesce and is_null. Results that are not finite (sqrt(-1), log(0),
//   exp(1000)) are null.
// - slots: a slot whose value is null, whose kind differs from the type the resolver declared, or whose
//   index is outside the span passed to Evaluate() reads as null; so does a number slot holding NaN or an
//   infinity.
// - constant sub-expressions (1 / 60) are computed once, at compile time.
//
// Thread-safety: a compiled Expr is immutable; Evaluate() may run on many threads at once and does not
// allocate (it runs a flat postfix program on a small stack array). Copies share the compiled program.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "core/status.h"

namespace gyre::features {

enum class ExprType : uint8_t { kBool, kNumber, kString, kTimestamp };

std::string_view ExprTypeName(ExprType type);  // "bool", "number", "string", "timestamp"

// The sphere haversine_km() measures on: the mean Earth radius (IUGG), in km.
inline constexpr double kEarthRadiusKm = 6371.0088;

struct ExprValue {
  enum class Kind : uint8_t { kNull, kBool, kNumber, kString, kTimestamp };
  Kind kind = Kind::kNull;
  bool boolean = false;
  double number = 0;
  int64_t timestamp = 0;
  std::string_view string;  // points into the caller's slot data or the expression's literals

  static ExprValue Null() { return {}; }
  static ExprValue Bool(bool v) {
    ExprValue r;
    r.kind = Kind::kBool;
    r.boolean = v;
    return r;
  }
  static ExprValue Number(double v) {
    ExprValue r;
    r.kind = Kind::kNumber;
    r.number = v;
    return r;
  }
  static ExprValue String(std::string_view v) {
    ExprValue r;
    r.kind = Kind::kString;
    r.string = v;
    return r;
  }
  static ExprValue Timestamp(int64_t v) {
    ExprValue r;
    r.kind = Kind::kTimestamp;
    r.timestamp = v;
    return r;
  }
  bool is_null() const { return kind == Kind::kNull; }
};

// What an identifier stands for: the index of its value in the slots passed to Evaluate(), and its type
// (any slot may hold null at run time).
struct ExprSlot {
  int index = 0;
  ExprType type = ExprType::kNumber;
};

// Maps an identifier to its slot, or an error (its message is kept, prefixed with the location of the
// identifier), e.g. NotFound "unknown column 'sucess' (columns: ...)".
using ExprResolver = std::function<Result<ExprSlot>(std::string_view identifier)>;

// Where the expression's text starts, for messages: "features.yaml:12:15: ..." points at the offending
// token (column = start column + offset within the text, counted in UTF-8 code points). After a newline in
// the text the line advances and the column restarts at 1 (the YAML indentation is not known here). An
// empty file is spelled "expression"; a line or column <= 0 is taken as 1.
struct ExprSource {
  std::string file;
  int line = 0;
  int column = 0;
};

class Expr {
 public:
  // Parses and type-checks `text`. Errors are InvalidArgument "file:line:col: <what>", e.g.
  // "features.yaml:12:22: expected ']' after the list, got end of expression" or
  // "features.yaml:9:11: cannot compare string 'country' with number 3". The resolver is called once per
  // identifier occurrence, only during Compile; its error message is kept (the code becomes
  // InvalidArgument). An expression that is always null (`null`, `coalesce(null, null)`) is an error: it
  // has no type.
  static Result<Expr> Compile(std::string_view text, const ExprResolver& resolve, const ExprSource& source);

  Expr(Expr&&) noexcept;
  Expr& operator=(Expr&&) noexcept;
  Expr(const Expr&);
  Expr& operator=(const Expr&);
  ~Expr();

  ExprType type() const;
  const std::string& text() const;  // as given to Compile

  // The value for one row. A string result points into `slots` or into this expression's literals, so it
  // is valid while both live (any copy of the Expr keeps the literals alive).
  ExprValue Evaluate(std::span<const ExprValue> slots) const;
  // For filters: true only when the result is the bool true (false, null and non-bool results are false).
  bool Test(std::span<const ExprValue> slots) const;

 private:
  struct Impl;
  Expr();
  std::shared_ptr<const Impl> impl_;  // immutable once compiled, so copies share it
};

}  // namespace gyre::features
