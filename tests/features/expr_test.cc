#include "features/expr.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/time.h"

namespace gyre::features {
namespace {

using Kind = ExprValue::Kind;

// The columns every test can name, with their slot index.
struct Column {
  std::string_view name;
  ExprType type;
};
constexpr Column kColumns[] = {
    {"success", ExprType::kBool},
    {"mfa", ExprType::kBool},
    {"country", ExprType::kString},
    {"event_type", ExprType::kString},
    {"lat", ExprType::kNumber},
    {"lon", ExprType::kNumber},
    {"last_success_lat", ExprType::kNumber},
    {"last_success_lon", ExprType::kNumber},
    {"time", ExprType::kTimestamp},
    {"last_success_time", ExprType::kTimestamp},
    {"failed_1h", ExprType::kNumber},
    {"attempts_1h", ExprType::kNumber},
    {"x", ExprType::kNumber},
    {"y", ExprType::kNumber},
    {"a", ExprType::kBool},
    {"b", ExprType::kBool},
    {"s", ExprType::kString},
    {"t", ExprType::kString},
};
constexpr int kNumColumns = static_cast<int>(std::size(kColumns));

Result<ExprSlot> Resolve(std::string_view name) {
  for (int i = 0; i < kNumColumns; ++i) {
    if (kColumns[i].name == name) return ExprSlot{i, kColumns[i].type};
  }
  return Status::NotFound("unknown column '" + std::string(name) + "' (columns: success, mfa, ...)");
}

int SlotOf(std::string_view name) {
  for (int i = 0; i < kNumColumns; ++i) {
    if (kColumns[i].name == name) return i;
  }
  ADD_FAILURE() << "no column " << name;
  return 0;
}

// A row of slot values, all null until set.
struct Row {
  std::vector<ExprValue> values = std::vector<ExprValue>(kNumColumns);
  Row& Set(std::string_view name, ExprValue v) {
    values[static_cast<size_t>(SlotOf(name))] = v;
    return *this;
  }
};

Expr MustCompile(std::string_view text) {
  Result<Expr> e = Expr::Compile(text, Resolve, {"f.yaml", 1, 1});
  EXPECT_TRUE(e.ok()) << text << ": " << e.status().ToString();
  if (!e.ok()) return Expr::Compile("0", Resolve, {}).value();  // the test has already failed
  return std::move(e).value();
}

ExprValue Eval(std::string_view text, const Row& row = Row()) { return MustCompile(text).Evaluate(row.values); }

// A string result can point into the expression's literals, so it is copied before the Expr goes away.
std::string Str(std::string_view text, const Row& row = Row()) {
  const Expr e = MustCompile(text);
  const ExprValue v = e.Evaluate(row.values);
  EXPECT_EQ(v.kind, Kind::kString) << text;
  return std::string(v.string);
}

double Num(std::string_view text, const Row& row = Row()) {
  const ExprValue v = Eval(text, row);
  EXPECT_EQ(v.kind, Kind::kNumber) << text;
  return v.number;
}

// "T", "F" or "N" (null), for truth tables.
std::string Tri(std::string_view text, const Row& row = Row()) {
  const ExprValue v = Eval(text, row);
  if (v.kind == Kind::kNull) return "N";
  EXPECT_EQ(v.kind, Kind::kBool) << text;
  return v.boolean ? "T" : "F";
}

bool IsNull(std::string_view text, const Row& row = Row()) { return Eval(text, row).is_null(); }

// The full message of a compile error, or "" when it compiles.
std::string ErrorOf(std::string_view text, ExprSource source = {"f.yaml", 1, 1}) {
  Result<Expr> e = Expr::Compile(text, Resolve, source);
  if (e.ok()) return "";
  EXPECT_EQ(e.status().code(), StatusCode::kInvalidArgument) << e.status().ToString();
  return e.status().message();
}

TimestampMicros Ts(std::string_view iso) { return ParseTimestamp(iso).value(); }

// ---- literals and arithmetic

TEST(ExprTest, NumberLiterals) {
  EXPECT_EQ(Num("1"), 1);
  EXPECT_EQ(Num("2.5"), 2.5);
  EXPECT_EQ(Num(".5"), 0.5);
  EXPECT_EQ(Num("5."), 5);
  EXPECT_EQ(Num("1e-3"), 1e-3);
  EXPECT_EQ(Num("2E3"), 2000);
  EXPECT_EQ(Num("1.5e+2"), 150);
  EXPECT_EQ(Num("  42  "), 42);
}

TEST(ExprTest, StringLiteralsAndEscapes) {
  const Expr e = MustCompile(R"('it\'s' == s)");
  EXPECT_EQ(e.type(), ExprType::kBool);
  EXPECT_EQ(Tri(R"(s == 'it\'s')", Row().Set("s", ExprValue::String("it's"))), "T");
  EXPECT_EQ(Tri(R"(s == "say \"hi\"")", Row().Set("s", ExprValue::String("say \"hi\""))), "T");
  EXPECT_EQ(Tri(R"(s == 'a\\b\nc\td')", Row().Set("s", ExprValue::String("a\\b\nc\td"))), "T");
  EXPECT_EQ(Tri(R"(s == "it's")", Row().Set("s", ExprValue::String("it's"))), "T");
  EXPECT_EQ(Str(R"(coalesce(s, 'x\ty'))"), "x\ty");
  EXPECT_EQ(Str("''"), "");
}

TEST(ExprTest, Arithmetic) {
  EXPECT_EQ(Num("1 + 2"), 3);
  EXPECT_EQ(Num("1 - 2"), -1);
  EXPECT_EQ(Num("3 * 4"), 12);
  EXPECT_EQ(Num("7 / 2"), 3.5);
  EXPECT_EQ(Num("7 % 3"), 1);
  EXPECT_EQ(Num("-7 % 3"), -1);  // fmod: sign of the dividend
  EXPECT_EQ(Num("7.5 % 2"), 1.5);
  EXPECT_EQ(Num("-3"), -3);
  EXPECT_EQ(Num("- -3"), 3);
  EXPECT_EQ(Num("-(2 + 3)"), -5);
  const Row row = Row().Set("x", ExprValue::Number(10)).Set("y", ExprValue::Number(4));
  EXPECT_EQ(Num("x + y", row), 14);
  EXPECT_EQ(Num("x - y", row), 6);
  EXPECT_EQ(Num("x * y", row), 40);
  EXPECT_EQ(Num("x / y", row), 2.5);
  EXPECT_EQ(Num("x % y", row), 2);
  EXPECT_EQ(Num("-x", row), -10);
  EXPECT_EQ(Num("1 / 60"), 1.0 / 60);
}

TEST(ExprTest, DivisionByZeroAndNonFiniteAreNull) {
  const Row row = Row().Set("x", ExprValue::Number(5)).Set("y", ExprValue::Number(0));
  EXPECT_TRUE(IsNull("x / y", row));
  EXPECT_TRUE(IsNull("x % y", row));
  EXPECT_TRUE(IsNull("1 / 0"));
  EXPECT_TRUE(IsNull("0 / 0"));
  EXPECT_TRUE(IsNull("5 % 0"));
  EXPECT_TRUE(IsNull("1e308 * 10"));  // overflow to infinity
  EXPECT_TRUE(IsNull("x * 1e308 * 1e308", row));
  EXPECT_EQ(Num("0 / x", row), 0);
  EXPECT_EQ(Eval("x / y", row).kind, Kind::kNull);
}

TEST(ExprTest, ArithmeticPropagatesNull) {
  const Row row = Row().Set("x", ExprValue::Number(5));  // y is null
  for (const char* text : {"x + y", "y - x", "x * y", "y / x", "x % y", "-y", "y + 1", "null + x", "x * null"}) {
    EXPECT_TRUE(IsNull(text, row)) << text;
    EXPECT_EQ(MustCompile(text).type(), ExprType::kNumber) << text;
  }
}

TEST(ExprTest, Precedence) {
  EXPECT_EQ(Num("1 + 2 * 3"), 7);
  EXPECT_EQ(Num("(1 + 2) * 3"), 9);
  EXPECT_EQ(Num("10 - 4 - 3"), 3);  // left-associative
  EXPECT_EQ(Num("64 / 4 / 2"), 8);  // left-associative
  EXPECT_EQ(Num("2 * 3 % 4"), 2);   // same level, left to right
  EXPECT_EQ(Num("2 + 7 % 4"), 5);   // % binds tighter than +
  EXPECT_EQ(Num("-2 * -3"), 6);     // unary minus binds tighter than *
  EXPECT_EQ(Num("-2 + 3"), 1);
  EXPECT_EQ(Num("2 - -2"), 4);
  // comparison below arithmetic, not below comparison, and below not, or below and.
  EXPECT_EQ(Tri("1 + 2 == 3"), "T");
  EXPECT_EQ(Tri("2 * 3 > 5 and 1 < 2"), "T");
  EXPECT_EQ(Tri("not 1 == 2"), "T");               // not (1 == 2)
  EXPECT_EQ(Tri("true or false and false"), "T");  // true or (false and false)
  EXPECT_EQ(Tri("(true or false) and false"), "F");
  EXPECT_EQ(Tri("not false and false"), "F");  // (not false) and false
  EXPECT_EQ(Tri("not true or true"), "T");     // (not true) or true
  EXPECT_EQ(Tri("false and false or true"), "T");
  EXPECT_EQ(Tri("! false && ! false || false"), "T");
  EXPECT_EQ(Tri("not not true"), "T");
  EXPECT_EQ(Tri("1 + 1 in [2, 3]"), "T");  // in binds looser than +
  EXPECT_EQ(Tri("not 2 in [2, 3]"), "F");  // not (2 in [...])
  EXPECT_EQ(Tri("not 1 not in [2] or false"), "F");
}

// ---- comparisons

TEST(ExprTest, ComparisonsOfNumbers) {
  const std::string ops[] = {"==", "!=", "<", "<=", ">", ">="};
  const std::string less[] = {"F", "T", "T", "T", "F", "F"};   // 1 op 2
  const std::string equal[] = {"T", "F", "F", "T", "F", "T"};  // 2 op 2
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(Tri("1 " + ops[i] + " 2"), less[i]) << ops[i];
    EXPECT_EQ(Tri("2 " + ops[i] + " 2"), equal[i]) << ops[i];
    const Row row = Row().Set("x", ExprValue::Number(1)).Set("y", ExprValue::Number(2));
    EXPECT_EQ(Tri("x " + ops[i] + " y", row), less[i]) << ops[i];
    EXPECT_EQ(Tri("x " + ops[i] + " y", Row().Set("x", ExprValue::Number(1))), "N") << ops[i];
  }
}

// A slot compared with a constant runs as one fused instruction; the constant may come first.
TEST(ExprTest, ComparisonsOfSlotsWithConstants) {
  const std::string ops[] = {"==", "!=", "<", "<=", ">", ">="};
  const std::string less[] = {"F", "T", "T", "T", "F", "F"};
  const std::string greater[] = {"F", "T", "F", "F", "T", "T"};
  const std::string equal[] = {"T", "F", "F", "T", "F", "T"};
  const Row one = Row().Set("x", ExprValue::Number(1));
  const Row a_false = Row().Set("a", ExprValue::Bool(false));
  const Row s_a = Row().Set("s", ExprValue::String("a"));
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(Tri("x " + ops[i] + " 2", one), less[i]) << ops[i];
    EXPECT_EQ(Tri("2 " + ops[i] + " x", one), greater[i]) << ops[i];
    EXPECT_EQ(Tri("x " + ops[i] + " 1", one), equal[i]) << ops[i];
    EXPECT_EQ(Tri("1 " + ops[i] + " x", one), equal[i]) << ops[i];
    EXPECT_EQ(Tri("x " + ops[i] + " 2 * 1", one), less[i]) << ops[i];  // a folded constant
    EXPECT_EQ(Tri("x " + ops[i] + " 2", Row()), "N") << ops[i];
    EXPECT_EQ(Tri("x " + ops[i] + " 1 / 0", one), "N") << ops[i];  // a constant that is null
    EXPECT_EQ(Tri("a " + ops[i] + " true", a_false), less[i]) << ops[i];
    EXPECT_EQ(Tri("true " + ops[i] + " a", a_false), greater[i]) << ops[i];
    EXPECT_EQ(Tri("a " + ops[i] + " true", Row()), "N") << ops[i];
    EXPECT_EQ(Tri("s " + ops[i] + " 'b'", s_a), less[i]) << ops[i];
    EXPECT_EQ(Tri("'b' " + ops[i] + " s", s_a), greater[i]) << ops[i];
    EXPECT_EQ(Tri("s " + ops[i] + " 'a'", s_a), equal[i]) << ops[i];
    EXPECT_EQ(Tri("s " + ops[i] + " 'b'", Row()), "N") << ops[i];
  }
  EXPECT_EQ(Tri("x == 1", Row().Set("x", ExprValue::Number(std::nan("")))), "N");
  EXPECT_EQ(Tri("x == 1", Row().Set("x", ExprValue::String("1"))), "N");
}

TEST(ExprTest, ComparisonsOfStringsAreBytewise) {
  const auto row = [](std::string_view s, std::string_view t) {
    return Row().Set("s", ExprValue::String(s)).Set("t", ExprValue::String(t));
  };
  EXPECT_EQ(Tri("s < t", row("a", "b")), "T");
  EXPECT_EQ(Tri("s < t", row("Z", "a")), "T");         // uppercase before lowercase
  EXPECT_EQ(Tri("s < t", row("ab", "abc")), "T");      // a prefix sorts first
  EXPECT_EQ(Tri("s > t", row("\xC3\xA9", "z")), "T");  // é's first byte 0xC3 > 'z': unsigned bytes
  EXPECT_EQ(Tri("s == t", row("x", "x")), "T");
  EXPECT_EQ(Tri("s != t", row("x", "X")), "T");
  EXPECT_EQ(Tri("s <= t", row("x", "x")), "T");
  EXPECT_EQ(Tri("s >= t", row("a", "b")), "F");
  EXPECT_EQ(Tri("s == 'x'", Row()), "N");
  EXPECT_EQ(Tri("country == 'FR'", Row().Set("country", ExprValue::String("FR"))), "T");
  const std::string nul("a\0b", 3);
  EXPECT_EQ(Tri("s == 'a'", row(nul, "")), "F");  // embedded NUL is data, not a terminator
}

TEST(ExprTest, ComparisonsOfBoolsAndTimestamps) {
  EXPECT_EQ(Tri("false < true"), "T");
  EXPECT_EQ(Tri("true <= false"), "F");
  EXPECT_EQ(Tri("true == true"), "T");
  EXPECT_EQ(Tri("success == false", Row().Set("success", ExprValue::Bool(false))), "T");
  EXPECT_EQ(Tri("success == false", Row().Set("success", ExprValue::Bool(true))), "F");
  EXPECT_EQ(Tri("success == false", Row()), "N");
  const Row row = Row()
                      .Set("time", ExprValue::Timestamp(Ts("2026-03-01T12:00:00Z")))
                      .Set("last_success_time", ExprValue::Timestamp(Ts("2026-03-01T11:00:00Z")));
  EXPECT_EQ(Tri("time > last_success_time", row), "T");
  EXPECT_EQ(Tri("time == last_success_time", row), "F");
  EXPECT_EQ(Tri("time <= time", row), "T");
  EXPECT_EQ(Tri("time != last_success_time", Row().Set("time", ExprValue::Timestamp(1))), "N");
}

// ---- timestamps

TEST(ExprTest, TimestampDifferenceIsSeconds) {
  const Row row = Row()
                      .Set("time", ExprValue::Timestamp(Ts("2026-03-01T12:00:00.5Z")))
                      .Set("last_success_time", ExprValue::Timestamp(Ts("2026-03-01T11:00:00Z")));
  EXPECT_EQ(Num("time - last_success_time", row), 3600.5);
  EXPECT_EQ(Num("last_success_time - time", row), -3600.5);
  EXPECT_EQ(Num("(time - last_success_time) / 3600", row), 3600.5 / 3600);
  EXPECT_TRUE(IsNull("time - last_success_time", Row().Set("time", ExprValue::Timestamp(0))));
  EXPECT_EQ(MustCompile("time - last_success_time").type(), ExprType::kNumber);
  // One microsecond apart, and extremes that overflow int64 when subtracted.
  EXPECT_EQ(Num("time - last_success_time",
                Row().Set("time", ExprValue::Timestamp(1)).Set("last_success_time", ExprValue::Timestamp(0))),
            1e-6);
  const double far = Num("time - last_success_time",
                         Row()
                             .Set("time", ExprValue::Timestamp(std::numeric_limits<int64_t>::max()))
                             .Set("last_success_time", ExprValue::Timestamp(std::numeric_limits<int64_t>::min())));
  EXPECT_NEAR(far, 1.8446744073709552e13, 1e3);
}

TEST(ExprTest, HourOfDayAndDayOfWeek) {
  // 2026-03-02 is a Monday.
  const auto at = [](std::string_view iso) { return Row().Set("time", ExprValue::Timestamp(Ts(iso))); };
  EXPECT_EQ(Num("hour_of_day(time)", at("2026-03-02T00:00:00Z")), 0);
  EXPECT_EQ(Num("hour_of_day(time)", at("2026-03-02T13:59:59.999999Z")), 13);
  EXPECT_EQ(Num("hour_of_day(time)", at("2026-03-02T23:30:00Z")), 23);
  EXPECT_EQ(Num("hour_of_day(time)", at("2026-03-02T23:30:00+02:00")), 21);  // UTC
  EXPECT_EQ(Num("day_of_week(time)", at("2026-03-02T10:00:00Z")), 0);        // Monday
  EXPECT_EQ(Num("day_of_week(time)", at("2026-03-08T23:59:59Z")), 6);        // Sunday
  EXPECT_EQ(Num("day_of_week(time)", at("1970-01-01T00:00:00Z")), 3);        // Thursday
  // Before the epoch the floor division still lands on the right hour and day.
  EXPECT_EQ(Num("hour_of_day(time)", at("1969-12-31T23:00:00Z")), 23);
  EXPECT_EQ(Num("day_of_week(time)", at("1969-12-31T23:00:00Z")), 2);  // Wednesday
  EXPECT_EQ(Num("day_of_week(time)", at("1969-12-29T00:00:00Z")), 0);  // Monday
  EXPECT_TRUE(IsNull("hour_of_day(time)"));
  EXPECT_TRUE(IsNull("day_of_week(time)"));
}

// ---- in-lists

TEST(ExprTest, InListsOfStrings) {
  const auto c = [](std::string_view v) { return Row().Set("country", ExprValue::String(v)); };
  EXPECT_EQ(Tri("country in ['X', 'Y']", c("X")), "T");
  EXPECT_EQ(Tri("country in ['X', 'Y']", c("Y")), "T");
  EXPECT_EQ(Tri("country in ['X', 'Y']", c("Z")), "F");
  EXPECT_EQ(Tri("country in ['X', 'Y']", c("")), "F");
  EXPECT_EQ(Tri("country in ['X', 'Y']", c("XY")), "F");
  EXPECT_EQ(Tri("country not in ['X', 'Y']", c("X")), "F");
  EXPECT_EQ(Tri("country not in ['X', 'Y']", c("Z")), "T");
  EXPECT_EQ(Tri("country in ['X', 'Y']", Row()), "N");
  EXPECT_EQ(Tri("country not in ['X', 'Y']", Row()), "N");
  EXPECT_EQ(Tri("country in ['X', 'X', \"Y\",]", c("Y")), "T");  // duplicates, trailing comma, both quotes
  EXPECT_EQ(Tri("'b' in ['a', 'b']"), "T");
}

TEST(ExprTest, LongInListsFindEveryMemberAndNothingElse) {
  // 60 country-like codes, in a scrambled order and with varying lengths, exercise the sorted search.
  std::vector<std::string> members;
  for (int i = 0; i < 60; ++i) {
    // Distinct: the first letter is unique within each block of 26, the second letter differs by block.
    std::string code{static_cast<char>('A' + (i * 7) % 26), static_cast<char>('A' + (i / 26) * 3 + i % 3)};
    if (i % 5 == 0) code += static_cast<char>('a' + i % 26);
    members.push_back(code);
  }
  std::string text = "country in [";
  for (size_t i = 0; i < members.size(); ++i) text += (i ? ", '" : "'") + members[i] + "'";
  text += "]";
  const Expr e = MustCompile(text);
  const Expr not_in = MustCompile("not (" + text + ")");
  for (const std::string& m : members) {
    const Row row = Row().Set("country", ExprValue::String(m));
    EXPECT_TRUE(e.Test(row.values)) << m;
    EXPECT_FALSE(not_in.Test(row.values)) << m;
  }
  int found = 0;
  for (char c1 = 'A'; c1 <= 'Z'; ++c1) {
    for (char c2 = 'A'; c2 <= 'Z'; ++c2) {
      for (const std::string& probe : {std::string{c1, c2}, std::string{c1, c2, 'a'}, std::string{c1}}) {
        const bool member = std::find(members.begin(), members.end(), probe) != members.end();
        const Row row = Row().Set("country", ExprValue::String(probe));
        EXPECT_EQ(e.Test(row.values), member) << probe;
        found += member;
      }
    }
  }
  EXPECT_EQ(found, 49);  // the 48 two-letter members and "AAa"

  // Numbers: 0, 3, 6, ..., 297 and a few negatives.
  std::string numbers = "x in [";
  for (int i = 99; i >= 0; --i) numbers += std::to_string(i * 3) + ", ";
  numbers += "-1.5, -100]";
  const Expr n = MustCompile(numbers);
  for (int v = -2; v < 305; ++v) {
    EXPECT_EQ(n.Test(Row().Set("x", ExprValue::Number(v)).values), v >= 0 && v % 3 == 0 && v < 300) << v;
  }
  EXPECT_TRUE(n.Test(Row().Set("x", ExprValue::Number(-1.5)).values));
  EXPECT_TRUE(n.Test(Row().Set("x", ExprValue::Number(-100)).values));
  EXPECT_FALSE(n.Test(Row().Set("x", ExprValue::Number(1.5)).values));
  EXPECT_TRUE(n.Evaluate(Row().values).is_null());
}

TEST(ExprTest, InListsOfNumbersAndBools) {
  const auto x = [](double v) { return Row().Set("x", ExprValue::Number(v)); };
  EXPECT_EQ(Tri("x in [1, 2.5, -3]", x(2.5)), "T");
  EXPECT_EQ(Tri("x in [1, 2.5, -3]", x(-3)), "T");
  EXPECT_EQ(Tri("x in [1, 2.5, -3]", x(3)), "F");
  EXPECT_EQ(Tri("x in [0]", x(-0.0)), "T");
  EXPECT_EQ(Tri("x not in [1]", x(2)), "T");
  EXPECT_EQ(Tri("a in [true]", Row().Set("a", ExprValue::Bool(true))), "T");
  EXPECT_EQ(Tri("a in [true]", Row().Set("a", ExprValue::Bool(false))), "F");
  EXPECT_EQ(Tri("a in [false]", Row().Set("a", ExprValue::Bool(false))), "T");
  EXPECT_EQ(Tri("a in [true, false]", Row().Set("a", ExprValue::Bool(false))), "T");
  EXPECT_EQ(Tri("a not in [true]", Row().Set("a", ExprValue::Bool(false))), "T");
  EXPECT_EQ(Tri("a in [true]", Row()), "N");
}

// ---- logic

// SQL's three-valued logic, for every pair of true / false / null, through slots (so nothing is folded)
// and through literals (so everything is).
TEST(ExprTest, ThreeValuedLogicTruthTables) {
  const char* names[] = {"T", "F", "N"};
  const auto value = [](int i) { return i == 2 ? ExprValue::Null() : ExprValue::Bool(i == 0); };
  const char* literal[] = {"true", "false", "null"};
  // [a][b]
  const char* kAnd[3][3] = {{"T", "F", "N"}, {"F", "F", "F"}, {"N", "F", "N"}};
  const char* kOr[3][3] = {{"T", "T", "T"}, {"T", "F", "N"}, {"T", "N", "N"}};
  const char* kNot[3] = {"F", "T", "N"};
  for (int i = 0; i < 3; ++i) {
    const Row one = Row().Set("a", value(i));
    EXPECT_EQ(Tri("not a", one), kNot[i]) << names[i];
    EXPECT_EQ(Tri("!a", one), kNot[i]) << names[i];
    EXPECT_EQ(Tri(std::string("not ") + literal[i]), kNot[i]) << names[i];
    for (int j = 0; j < 3; ++j) {
      const Row row = Row().Set("a", value(i)).Set("b", value(j));
      const std::string where = std::string(names[i]) + " , " + names[j];
      EXPECT_EQ(Tri("a and b", row), kAnd[i][j]) << where;
      EXPECT_EQ(Tri("a && b", row), kAnd[i][j]) << where;
      EXPECT_EQ(Tri("a or b", row), kOr[i][j]) << where;
      EXPECT_EQ(Tri("a || b", row), kOr[i][j]) << where;
      EXPECT_EQ(Tri(std::string(literal[i]) + " and " + literal[j]), kAnd[i][j]) << where;
      EXPECT_EQ(Tri(std::string(literal[i]) + " or " + literal[j]), kOr[i][j]) << where;
      // Mixed: one side folded, the other not.
      EXPECT_EQ(Tri(std::string("a and ") + literal[j], row), kAnd[i][j]) << where;
      EXPECT_EQ(Tri(std::string(literal[i]) + " or b", row), kOr[i][j]) << where;
    }
  }
}

TEST(ExprTest, LongLogicalChains) {
  const Row row = Row().Set("a", ExprValue::Bool(true)).Set("b", ExprValue::Bool(false));
  EXPECT_EQ(Tri("a and a and a and b", row), "F");
  EXPECT_EQ(Tri("b or b or b or a", row), "T");
  EXPECT_EQ(Tri("b or b or mfa", row), "N");
  EXPECT_EQ(Tri("a and (b or mfa) and a", row), "N");
  EXPECT_EQ(Tri("b and mfa or a", row), "T");
  EXPECT_EQ(Tri("(a or mfa) and (b or a) and not b", row), "T");
}

TEST(ExprTest, FilterExamples) {
  const Expr filter = MustCompile("country in ['X','Y'] and not mfa");
  EXPECT_EQ(filter.type(), ExprType::kBool);
  EXPECT_TRUE(filter.Test(Row().Set("country", ExprValue::String("X")).Set("mfa", ExprValue::Bool(false)).values));
  EXPECT_FALSE(filter.Test(Row().Set("country", ExprValue::String("X")).Set("mfa", ExprValue::Bool(true)).values));
  EXPECT_FALSE(filter.Test(Row().Set("country", ExprValue::String("X")).values));  // null mfa: null, not true
  EXPECT_FALSE(filter.Test(Row().Set("country", ExprValue::String("FR")).Set("mfa", ExprValue::Bool(false)).values));
  const Expr event = MustCompile("event_type == 'password_change'");
  EXPECT_TRUE(event.Test(Row().Set("event_type", ExprValue::String("password_change")).values));
  EXPECT_FALSE(event.Test(Row().Set("event_type", ExprValue::String("login")).values));
  // Test() is false for anything but the bool true, including non-bool expressions.
  EXPECT_FALSE(MustCompile("1 + 1").Test(Row().values));
}

// ---- functions

TEST(ExprTest, HaversineParisLondon) {
  const Row row = Row()
                      .Set("lat", ExprValue::Number(48.8566))
                      .Set("lon", ExprValue::Number(2.3522))
                      .Set("last_success_lat", ExprValue::Number(51.5074))
                      .Set("last_success_lon", ExprValue::Number(-0.1278));
  EXPECT_NEAR(Num("haversine_km(lat, lon, last_success_lat, last_success_lon)", row), 343.5, 0.5);
  EXPECT_NEAR(Num("haversine_km(48.8566, 2.3522, 51.5074, -0.1278)"), 343.5, 0.5);
  EXPECT_NEAR(Num("haversine_km(last_success_lat, last_success_lon, lat, lon)", row), 343.5, 0.5);  // symmetric
  EXPECT_EQ(Num("haversine_km(lat, lon, lat, lon)", row), 0);
  EXPECT_NEAR(Num("haversine_km(0, 0, 0, 180)"), std::numbers::pi * kEarthRadiusKm, 1e-6);  // antipodes
  EXPECT_NEAR(Num("haversine_km(90, 0, -90, 0)"), std::numbers::pi * kEarthRadiusKm, 1e-6);
  EXPECT_NEAR(Num("haversine_km(0, 0, 0, 1)"), 2 * std::numbers::pi * kEarthRadiusKm / 360, 1e-6);
  EXPECT_TRUE(IsNull("haversine_km(lat, lon, last_success_lat, last_success_lon)",
                     Row().Set("lat", ExprValue::Number(1)).Set("lon", ExprValue::Number(1))));
  EXPECT_TRUE(IsNull("haversine_km(lat, 1, 2, 3)"));
}

TEST(ExprTest, VelocityFeature) {
  const Expr e = MustCompile(
      "haversine_km(lat, lon, last_success_lat, last_success_lon) / max((time - last_success_time) / 3600, 1/60)");
  EXPECT_EQ(e.type(), ExprType::kNumber);
  Row row = Row()
                .Set("lat", ExprValue::Number(48.8566))
                .Set("lon", ExprValue::Number(2.3522))
                .Set("last_success_lat", ExprValue::Number(51.5074))
                .Set("last_success_lon", ExprValue::Number(-0.1278))
                .Set("time", ExprValue::Timestamp(Ts("2026-03-01T12:00:00Z")))
                .Set("last_success_time", ExprValue::Timestamp(Ts("2026-03-01T10:00:00Z")));
  const ExprValue two_hours = e.Evaluate(row.values);
  ASSERT_EQ(two_hours.kind, Kind::kNumber);
  EXPECT_NEAR(two_hours.number, 343.5 / 2, 0.25);
  // 10 seconds apart: the denominator is clamped to one minute.
  row.Set("last_success_time", ExprValue::Timestamp(Ts("2026-03-01T11:59:50Z")));
  EXPECT_NEAR(e.Evaluate(row.values).number, 343.5 * 60, 30);
  row.Set("last_success_time", ExprValue::Null());  // no previous success
  EXPECT_TRUE(e.Evaluate(row.values).is_null());
}

TEST(ExprTest, RatioFeature) {
  const Expr e = MustCompile("failed_1h / max(attempts_1h, 1)");
  EXPECT_EQ(
      e.Evaluate(Row().Set("failed_1h", ExprValue::Number(3)).Set("attempts_1h", ExprValue::Number(4)).values).number,
      0.75);
  EXPECT_EQ(
      e.Evaluate(Row().Set("failed_1h", ExprValue::Number(0)).Set("attempts_1h", ExprValue::Number(0)).values).number,
      0);
}

TEST(ExprTest, NumericFunctions) {
  EXPECT_EQ(Num("abs(-2.5)"), 2.5);
  EXPECT_EQ(Num("abs(3)"), 3);
  EXPECT_EQ(Num("sqrt(16)"), 4);
  EXPECT_DOUBLE_EQ(Num("log(exp(2))"), 2);
  EXPECT_DOUBLE_EQ(Num("log(100) / log(10)"), 2);
  EXPECT_EQ(Num("log(1)"), 0);
  EXPECT_NEAR(Num("log1p(1e-10)"), 1e-10 - 5e-21, 1e-24);  // precise where log(1 + x) is not
  EXPECT_EQ(Num("log1p(0)"), 0);
  EXPECT_DOUBLE_EQ(Num("exp(1)"), std::numbers::e);
  EXPECT_EQ(Num("min(3, -2)"), -2);
  EXPECT_EQ(Num("max(3, -2)"), 3);
  EXPECT_EQ(Num("min(2, 2)"), 2);
  // Not finite: null.
  EXPECT_TRUE(IsNull("sqrt(-1)"));
  EXPECT_TRUE(IsNull("log(0)"));
  EXPECT_TRUE(IsNull("log(-1)"));
  EXPECT_TRUE(IsNull("log1p(-1)"));
  EXPECT_TRUE(IsNull("exp(1000)"));
  // Through slots too, and null in gives null out.
  const Row row = Row().Set("x", ExprValue::Number(-4));
  EXPECT_EQ(Num("abs(x)", row), 4);
  EXPECT_TRUE(IsNull("sqrt(x)", row));
  EXPECT_EQ(Num("sqrt(abs(x))", row), 2);
  for (const char* text : {"abs(y)", "sqrt(y)", "log(y)", "log1p(y)", "exp(y)", "min(x, y)", "max(y, x)"}) {
    EXPECT_TRUE(IsNull(text, row)) << text;
  }
}

TEST(ExprTest, MinMaxOfTimestampsAndStrings) {
  const Row row = Row()
                      .Set("time", ExprValue::Timestamp(200))
                      .Set("last_success_time", ExprValue::Timestamp(100))
                      .Set("s", ExprValue::String("apple"))
                      .Set("t", ExprValue::String("banana"));
  const ExprValue lo = Eval("min(time, last_success_time)", row);
  ASSERT_EQ(lo.kind, Kind::kTimestamp);
  EXPECT_EQ(lo.timestamp, 100);
  EXPECT_EQ(Eval("max(time, last_success_time)", row).timestamp, 200);
  EXPECT_EQ(MustCompile("max(time, last_success_time)").type(), ExprType::kTimestamp);
  EXPECT_EQ(Str("min(s, t)", row), "apple");
  EXPECT_EQ(Str("max(s, t)", row), "banana");
  EXPECT_EQ(Str("max(s, 'cherry')", row), "cherry");
}

TEST(ExprTest, StringFunctions) {
  const Row row = Row().Set("s", ExprValue::String("alice@example.com"));
  EXPECT_EQ(Tri("starts_with(s, 'alice')", row), "T");
  EXPECT_EQ(Tri("starts_with(s, 'bob')", row), "F");
  EXPECT_EQ(Tri("starts_with(s, '')", row), "T");
  EXPECT_EQ(Tri("contains(s, '@example.')", row), "T");
  EXPECT_EQ(Tri("contains(s, 'EXAMPLE')", row), "F");  // case-sensitive
  EXPECT_EQ(Tri("contains(s, '')", row), "T");
  EXPECT_EQ(Num("length(s)", row), 17);
  EXPECT_EQ(Num("length('')"), 0);
  EXPECT_EQ(Num("length('h\xC3\xA9llo')"), 5);  // code points, not bytes
  EXPECT_EQ(Num("length('\xF0\x9F\x98\x80')"), 1);
  EXPECT_EQ(Tri("starts_with(s, 'a')"), "N");
  EXPECT_EQ(Tri("contains(s, t)", row), "N");
  EXPECT_TRUE(IsNull("length(s)"));
}

TEST(ExprTest, CoalesceAndIsNull) {
  const Row row = Row().Set("x", ExprValue::Number(5));
  EXPECT_EQ(Num("coalesce(x, 0)", row), 5);
  EXPECT_EQ(Num("coalesce(y, 0)", row), 0);
  EXPECT_EQ(Num("coalesce(y, x)", row), 5);
  EXPECT_TRUE(IsNull("coalesce(y, y)", row));
  EXPECT_EQ(Num("coalesce(null, 7)"), 7);
  EXPECT_EQ(Num("coalesce(x / 0, -1)", row), -1);  // division by zero is null, so coalesce catches it
  EXPECT_EQ(Str("coalesce(s, 'none')"), "none");
  EXPECT_EQ(Tri("coalesce(mfa, false)"), "F");
  EXPECT_EQ(Tri("is_null(y)", row), "T");
  EXPECT_EQ(Tri("is_null(x)", row), "F");
  EXPECT_EQ(Tri("is_null(null)"), "T");
  EXPECT_EQ(Tri("is_null(1)"), "F");
  EXPECT_EQ(Tri("is_null(s)"), "T");
  EXPECT_EQ(Tri("is_null(time)"), "T");
  EXPECT_EQ(Tri("is_null(mfa)"), "T");
  EXPECT_EQ(Tri("not is_null(sqrt(x))", row), "T");
}

// ---- slots

TEST(ExprTest, SlotsOfTheWrongKindOrMissingReadAsNull) {
  const Expr e = MustCompile("x + 1");
  EXPECT_TRUE(e.Evaluate(Row().Set("x", ExprValue::String("5")).values).is_null());
  EXPECT_TRUE(e.Evaluate(Row().Set("x", ExprValue::Timestamp(5)).values).is_null());
  EXPECT_TRUE(e.Evaluate(Row().Set("x", ExprValue::Number(std::nan(""))).values).is_null());
  EXPECT_TRUE(e.Evaluate(Row().Set("x", ExprValue::Number(INFINITY)).values).is_null());
  EXPECT_TRUE(e.Evaluate({}).is_null());  // slot index beyond the span
  EXPECT_EQ(e.Evaluate(Row().Set("x", ExprValue::Number(5)).values).number, 6);
  EXPECT_TRUE(MustCompile("not a").Evaluate(Row().Set("a", ExprValue::Number(1)).values).is_null());
}

TEST(ExprTest, ConstantExpressionsNeedNoSlots) {
  const Expr e = MustCompile("max(1 / 60, 2 * 3) + length('abc')");
  EXPECT_EQ(e.Evaluate({}).number, 9);
  EXPECT_EQ(e.type(), ExprType::kNumber);
  EXPECT_EQ(e.text(), "max(1 / 60, 2 * 3) + length('abc')");
  EXPECT_TRUE(MustCompile("1 < 2 and 'a' in ['a']").Test({}));
}

TEST(ExprTest, CopiesShareTheProgramAndItsLiterals) {
  std::optional<Expr> copy;
  {
    const Expr original = MustCompile("coalesce(s, 'a fallback longer than the small-string buffer')");
    copy = original;
    Expr moved = std::move(copy.value());
    copy = std::move(moved);
  }
  const ExprValue v = copy->Evaluate(Row().values);
  ASSERT_EQ(v.kind, Kind::kString);
  EXPECT_EQ(v.string, "a fallback longer than the small-string buffer");
  EXPECT_EQ(copy->Evaluate(Row().Set("s", ExprValue::String("given")).values).string, "given");
}

TEST(ExprTest, EvaluatesOnManyThreadsAtOnce) {
  const Expr e = MustCompile("country in ['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J'] and x * 2 > y");
  const int kThreads = 4, kRows = 2000;
  std::vector<int> counts(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const char* countries[] = {"A", "Z", "J", "FR"};
      for (int i = 0; i < kRows; ++i) {
        const Row row = Row()
                            .Set("country", ExprValue::String(countries[(i + t) % 4]))
                            .Set("x", ExprValue::Number(i % 10))
                            .Set("y", ExprValue::Number(t + 5));
        counts[static_cast<size_t>(t)] += e.Test(row.values);
      }
    });
  }
  for (std::thread& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) {
    int expected = 0;
    for (int i = 0; i < kRows; ++i) expected += ((i + t) % 4 == 0 || (i + t) % 4 == 2) && (i % 10) * 2 > t + 5;
    EXPECT_EQ(counts[static_cast<size_t>(t)], expected) << t;
  }
}

// ---- compile errors, with their exact locations

TEST(ExprTest, TypeErrorsPointAtTheOperator) {
  const ExprSource at{"features.yaml", 12, 15};
  EXPECT_EQ(ErrorOf("country == 3", at), "features.yaml:12:23: cannot compare string 'country' with number 3");
  EXPECT_EQ(ErrorOf("3 != country", at), "features.yaml:12:17: cannot compare number 3 with string 'country'");
  EXPECT_EQ(ErrorOf("x < -2 == true", at), "features.yaml:12:22: comparisons do not chain: combine them with 'and'");
  EXPECT_EQ(ErrorOf("success == 'yes'"), "f.yaml:1:9: cannot compare bool 'success' with string 'yes'");
  EXPECT_EQ(ErrorOf("time > 5"), "f.yaml:1:6: cannot compare timestamp 'time' with number 5");
  EXPECT_EQ(ErrorOf("x + 1 == s"), "f.yaml:1:7: cannot compare number 'x + 1' with string 's'");
  EXPECT_EQ(ErrorOf("x == null"), "f.yaml:1:3: comparing with null always gives null; use is_null(x)");
  EXPECT_EQ(ErrorOf("null != country"), "f.yaml:1:6: comparing with null always gives null; use is_null(country)");
  EXPECT_EQ(ErrorOf("country + 1"), "f.yaml:1:9: cannot apply '+' to string 'country' and number 1");
  EXPECT_EQ(ErrorOf("time + 3600"),
            "f.yaml:1:6: cannot apply '+' to timestamp 'time' and number 3600 (the only arithmetic on timestamps is "
            "timestamp - timestamp, in seconds)");
  EXPECT_EQ(ErrorOf("time - 1"),
            "f.yaml:1:6: cannot apply '-' to timestamp 'time' and number 1 (the only arithmetic on timestamps is "
            "timestamp - timestamp, in seconds)");
  EXPECT_EQ(ErrorOf("-country"), "f.yaml:1:1: cannot negate string 'country'");
  EXPECT_EQ(ErrorOf("x and a"), "f.yaml:1:1: 'and' needs bool operands, got number 'x'");
  EXPECT_EQ(ErrorOf("a || 'yes'"), "f.yaml:1:6: '||' needs bool operands, got string 'yes'");
  EXPECT_EQ(ErrorOf("not x"), "f.yaml:1:5: 'not' needs bool operands, got number 'x'");
  EXPECT_EQ(ErrorOf("!country"), "f.yaml:1:2: '!' needs bool operands, got string 'country'");
  EXPECT_EQ(ErrorOf("null"), "f.yaml:1:1: the expression is always null, so it has no type");
}

TEST(ExprTest, FunctionErrors) {
  EXPECT_EQ(ErrorOf("x > 1 and hour(time) < 6"),
            "f.yaml:1:11: unknown function 'hour' (functions: abs, coalesce, contains, day_of_week, exp, "
            "haversine_km, hour_of_day, is_null, length, log, log1p, max, min, sqrt, starts_with)");
  EXPECT_EQ(ErrorOf("max(x)"), "f.yaml:1:1: max(a, b) takes 2 arguments, got 1");
  EXPECT_EQ(ErrorOf("haversine_km(lat, lon, 1)"),
            "f.yaml:1:1: haversine_km(lat1, lon1, lat2, lon2) takes 4 arguments, got 3");
  EXPECT_EQ(ErrorOf("abs()"), "f.yaml:1:1: abs(x) takes 1 argument, got 0");
  EXPECT_EQ(ErrorOf("hour_of_day(x)"), "f.yaml:1:13: argument 1 of hour_of_day() must be a timestamp, got number 'x'");
  EXPECT_EQ(ErrorOf("haversine_km(lat, lon, country, 1)"),
            "f.yaml:1:24: argument 3 of haversine_km() must be a number, got string 'country'");
  EXPECT_EQ(ErrorOf("starts_with(s, 1)"), "f.yaml:1:16: argument 2 of starts_with() must be a string, got number 1");
  EXPECT_EQ(ErrorOf("length(x)"), "f.yaml:1:8: argument 1 of length() must be a string, got number 'x'");
  EXPECT_EQ(ErrorOf("coalesce(x, 'none')"),
            "f.yaml:1:13: coalesce() needs two arguments of the same type, got number 'x' and string 'none'");
  EXPECT_EQ(ErrorOf("min(a, b)"), "f.yaml:1:5: min() takes numbers, timestamps or strings, got bool 'a'");
  EXPECT_EQ(ErrorOf("max(1, 2"), "f.yaml:1:9: expected ',' or ')' after argument 2 of max(), got end of expression");
  EXPECT_EQ(ErrorOf("max(1 2)"), "f.yaml:1:7: expected ',' or ')' after argument 1 of max(), got number 2");
}

TEST(ExprTest, UnknownIdentifiersKeepTheResolversMessage) {
  EXPECT_EQ(ErrorOf("sucess == false", {"features.yaml", 9, 11}),
            "features.yaml:9:11: unknown column 'sucess' (columns: success, mfa, ...)");
  EXPECT_EQ(ErrorOf("NOT a"),
            "f.yaml:1:1: unknown column 'NOT' (columns: success, mfa, ...) (keywords are lowercase: 'not')");
  EXPECT_EQ(ErrorOf("a AND b"),
            "f.yaml:1:3: expected an operator or the end of the expression, got identifier 'AND' (keywords are "
            "lowercase: 'and')");
  const Result<Expr> no_resolver = Expr::Compile("x + 1", nullptr, {"f.yaml", 3, 4});
  ASSERT_FALSE(no_resolver.ok());
  EXPECT_EQ(no_resolver.status().message(), "f.yaml:3:4: unknown identifier 'x'");
  // An identifier that does not resolve is reported even inside a call to an unknown function's arguments.
  EXPECT_EQ(ErrorOf("abs(nope)"), "f.yaml:1:5: unknown column 'nope' (columns: success, mfa, ...)");
}

TEST(ExprTest, ParseErrors) {
  EXPECT_EQ(ErrorOf(""), "f.yaml:1:1: empty expression");
  EXPECT_EQ(ErrorOf("   ", {"f.yaml", 2, 7}), "f.yaml:2:10: empty expression");
  EXPECT_EQ(ErrorOf("country == 'FR"), "f.yaml:1:12: unterminated string (no closing ')");
  EXPECT_EQ(ErrorOf("s == \"a\\\""), "f.yaml:1:6: unterminated string (no closing \")");
  EXPECT_EQ(ErrorOf("s == 'a\\x'"),
            "f.yaml:1:8: unknown escape in string: backslash then 'x' (known: \\\\ \\' \\\" \\n \\t)");
  EXPECT_EQ(ErrorOf("x # comment"), "f.yaml:1:3: unexpected character '#'");
  EXPECT_EQ(ErrorOf("s == \xE2\x80\x9C"
                    "FR\xE2\x80\x9D"),
            "f.yaml:1:6: unexpected character '\xE2\x80\x9C'");
  EXPECT_EQ(ErrorOf("s == \x01"), "f.yaml:1:6: unexpected character byte 0x01");
  EXPECT_EQ(ErrorOf("x = 1"), "f.yaml:1:3: unexpected '=' (compare with '==')");
  EXPECT_EQ(ErrorOf("a & b"), "f.yaml:1:3: unexpected '&' (use 'and' or '&&')");
  EXPECT_EQ(ErrorOf("a | b"), "f.yaml:1:3: unexpected '|' (use 'or' or '||')");
  EXPECT_EQ(ErrorOf("x == 1 y"), "f.yaml:1:8: expected an operator or the end of the expression, got identifier 'y'");
  EXPECT_EQ(ErrorOf("(x == 1))"), "f.yaml:1:9: unmatched ')'");
  EXPECT_EQ(ErrorOf("(x == 1"), "f.yaml:1:8: expected ')', got end of expression");
  EXPECT_EQ(ErrorOf("x =="), "f.yaml:1:5: expected a value, got end of expression");
  EXPECT_EQ(ErrorOf("x == )"), "f.yaml:1:6: expected a value, got ')'");
  EXPECT_EQ(ErrorOf("x * * 2"), "f.yaml:1:5: expected a value, got '*'");
  EXPECT_EQ(ErrorOf("+x"), "f.yaml:1:1: expected a value, got '+'");
  EXPECT_EQ(ErrorOf("a not b"), "f.yaml:1:3: expected 'in' after 'not'");
  EXPECT_EQ(ErrorOf("a or or b"), "f.yaml:1:6: expected a value, got 'or'");
}

TEST(ExprTest, NumbersWithUnitsAreNotIdentifiers) {
  EXPECT_EQ(ErrorOf("failed_1h > 1h"),
            "f.yaml:1:13: invalid number '1h' (identifiers cannot start with a digit, and numbers have no units)");
  EXPECT_EQ(ErrorOf("x > 30d").substr(0, 32), "f.yaml:1:5: invalid number '30d'");
  EXPECT_EQ(ErrorOf("x > 1.2.3").substr(0, 34), "f.yaml:1:5: invalid number '1.2.3'");
  EXPECT_EQ(ErrorOf("x > 1e").substr(0, 31), "f.yaml:1:5: invalid number '1e'");
  EXPECT_EQ(ErrorOf("x > 1_000").substr(0, 34), "f.yaml:1:5: invalid number '1_000'");
  EXPECT_EQ(ErrorOf("x > 1e999"), "f.yaml:1:5: number 1e999 is out of range");
  EXPECT_EQ(ErrorOf("failed_1h > 1"), "");  // digits inside identifiers are fine
}

TEST(ExprTest, InListErrors) {
  EXPECT_EQ(ErrorOf("country in ['X', 'Y'", {"features.yaml", 12, 3}),
            "features.yaml:12:23: expected ']' after the list, got end of expression");
  EXPECT_EQ(ErrorOf("country in ['X', 3]"), "f.yaml:1:18: list mixes types: string 'X' and number 3");
  EXPECT_EQ(ErrorOf("x in [1, true]"), "f.yaml:1:10: list mixes types: number 1 and bool true");
  EXPECT_EQ(ErrorOf("country in [1, 2]"), "f.yaml:1:9: cannot look up string 'country' in a list of numbers");
  EXPECT_EQ(ErrorOf("time in [1]"), "f.yaml:1:6: cannot look up timestamp 'time' in a list of numbers");
  EXPECT_EQ(ErrorOf("country in []"), "f.yaml:1:12: empty list after 'in'");
  EXPECT_EQ(ErrorOf("country in [s]"),
            "f.yaml:1:13: list elements must be literals (numbers, strings, true, false), "
            "got identifier 's'");
  EXPECT_EQ(ErrorOf("country in ['X', null]"),
            "f.yaml:1:18: null cannot be in a list (x in [null] is never true); use is_null(x)");
  EXPECT_EQ(ErrorOf("country in ('X')"), "f.yaml:1:12: expected '[' after 'in', got '('");
  EXPECT_EQ(ErrorOf("country in ['X' 'Y']"), "f.yaml:1:17: expected ',' or ']' in the list, got string 'Y'");
  EXPECT_EQ(ErrorOf("x in [-'a']"), "f.yaml:1:8: expected a number after '-' in the list, got string 'a'");
  EXPECT_EQ(ErrorOf("null in [1]"), "f.yaml:1:6: testing null against a list always gives null; use is_null(x)");
  EXPECT_EQ(ErrorOf("country not in ['X'] in ['Y']"), "f.yaml:1:22: comparisons do not chain: combine them with 'and'");
}

TEST(ExprTest, LocationsCountCodePointsAndLines) {
  // 'é' is two bytes but one column.
  EXPECT_EQ(ErrorOf("s == 'é' and x", {"f.yaml", 4, 10}), "f.yaml:4:23: 'and' needs bool operands, got number 'x'");
  // After a newline the line advances and the column restarts.
  EXPECT_EQ(ErrorOf("a and\n  b and\n  x", {"f.yaml", 4, 10}), "f.yaml:6:3: 'and' needs bool operands, got number 'x'");
  // No file, no position: still a position within the expression.
  EXPECT_EQ(ErrorOf("x == 'a'", {}), "expression:1:3: cannot compare number 'x' with string 'a'");
}

TEST(ExprTest, DeepNestingIsAnErrorNotACrash) {
  EXPECT_EQ(ErrorOf(std::string(40, '(') + "x" + std::string(40, ')')), "");
  const std::string deep = std::string(200, '(') + "x" + std::string(200, ')');
  EXPECT_EQ(ErrorOf(deep), "f.yaml:1:65: expression nests more than 64 levels deep");
  EXPECT_NE(ErrorOf(std::string(500, '-') + "x").find("nests more than 64 levels"), std::string::npos);
  EXPECT_NE(ErrorOf(std::string(500, '!') + "a").find("nests more than 64 levels"), std::string::npos);
  // Calls nested in their last argument hold all earlier arguments: 22 levels of 3 need 67 values.
  const auto calls = [](int levels) {
    std::string text;
    for (int i = 0; i < levels; ++i) text += "haversine_km(x, x, x, ";
    return text + "x" + std::string(static_cast<size_t>(levels), ')');
  };
  EXPECT_EQ(ErrorOf(calls(22)), "f.yaml:1:1: expression too complex: it needs more than 64 intermediate values");
  EXPECT_EQ(ErrorOf(calls(21)), "");  // exactly 64
  // Left-nested ones do not, however long.
  std::string flat = "x";
  for (int i = 0; i < 500; ++i) flat += " + x";
  EXPECT_EQ(Num(flat, Row().Set("x", ExprValue::Number(1))), 501);
}

}  // namespace
}  // namespace gyre::features
