// Expressions: a lexer, a one-pass recursive-descent compiler to a flat postfix program, and the
// interpreter that runs it.
//
// Why postfix: the feature engine evaluates a filter or derived feature per event over tens of millions of
// events, so evaluation must be a tight loop over a contiguous array of small instructions with the
// operands on a fixed array on the C++ stack: no allocation, no pointer chasing, no virtual calls. Types
// are checked at compile time, so every instruction knows its operand types and only tests for null.
//
// Why one pass: each parse function emits the code of the operand it parsed (postfix order falls out of
// recursive descent) and returns where that code starts, its type and whether it is constant. An operator
// whose operands are all constant runs its own code once, at compile time, and replaces it with a single
// constant; because an operand's code is always the tail of the program, that is a truncate-and-append.
#include "features/expr.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <deque>
#include <iterator>
#include <numbers>
#include <utility>
#include <vector>

#include "core/time.h"

namespace gyre::features {

std::string_view ExprTypeName(ExprType type) {
  switch (type) {
    case ExprType::kBool:
      return "bool";
    case ExprType::kNumber:
      return "number";
    case ExprType::kString:
      return "string";
    case ExprType::kTimestamp:
      return "timestamp";
  }
  return "unknown";
}

namespace {

// Evaluate() keeps its operand stack in a local array of this many cells (24 bytes each); Compile rejects
// the (absurd) expressions that would need more. The parser's recursion is bounded the same way so that
// hostile input cannot overflow the C++ stack.
constexpr int kMaxStack = 64;
constexpr int kMaxNesting = 64;
// In-lists up to this size are scanned; longer ones are searched (see InSet).
constexpr size_t kLinearSearchMax = 8;

// The static type of an operand while compiling. kNull is the type of the literal null, which takes
// whatever type its context needs (null + 1 is a number that is always null).
enum class Type : uint8_t { kBool, kNumber, kString, kTimestamp, kNull };
static_assert(static_cast<int>(Type::kBool) == static_cast<int>(ExprType::kBool) &&
              static_cast<int>(Type::kNumber) == static_cast<int>(ExprType::kNumber) &&
              static_cast<int>(Type::kString) == static_cast<int>(ExprType::kString) &&
              static_cast<int>(Type::kTimestamp) == static_cast<int>(ExprType::kTimestamp));

std::string_view TypeName(Type type) {
  return type == Type::kNull ? "null" : ExprTypeName(static_cast<ExprType>(type));
}

// A value on the evaluation stack. The instruction that reads a cell knows its type statically, so only
// the null flag is stored: 24 bytes instead of ExprValue's 40.
struct Cell {
  union {
    double num;
    int64_t ts;
    bool b;
    const char* str;
  };
  size_t len;  // of str
  bool null;
};

Cell NullCell() {
  Cell c;
  c.ts = 0;
  c.len = 0;
  c.null = true;
  return c;
}
Cell NumberCell(double v) {
  Cell c = NullCell();
  c.num = v;
  c.null = !std::isfinite(v);
  return c;
}
Cell BoolCell(bool v) {
  Cell c = NullCell();
  c.b = v;
  c.null = false;
  return c;
}
Cell StringCell(std::string_view v) {
  Cell c = NullCell();
  c.str = v.data();
  c.len = v.size();
  c.null = false;
  return c;
}

std::string_view View(const Cell& c) { return {c.str, c.len}; }
void SetNumber(Cell& c, double v) {
  c.num = v;
  c.null = !std::isfinite(v);
}
void SetBool(Cell& c, bool v) {
  c.b = v;
  c.null = false;
}

enum class Cmp : uint8_t { kEq, kNe, kLt, kLe, kGt, kGe };

template <typename T>
bool Compare(uint8_t cmp, const T& x, const T& y) {
  switch (static_cast<Cmp>(cmp)) {
    case Cmp::kEq:
      return x == y;
    case Cmp::kNe:
      return x != y;
    case Cmp::kLt:
      return x < y;
    case Cmp::kLe:
      return x <= y;
    case Cmp::kGt:
      return x > y;
    case Cmp::kGe:
      return x >= y;
  }
  return false;
}

// Instructions pop their operands and push their result; "x" is the deeper operand, "y" the top one.
enum class Op : uint8_t {
  kConst,  // push constants[a]
  kLoadBool,
  kLoadNumber,
  kLoadString,
  kLoadTimestamp,  // push slots[a]
  kNeg,
  kAdd,
  kSub,
  kMul,
  kDiv,
  kMod,
  kTimestampDiff,  // x - y in seconds
  kCmpBool,
  kCmpNumber,
  kCmpString,
  kCmpTimestamp,  // aux = Cmp
  kCmpBoolSlotConst,
  kCmpNumberSlotConst,
  kCmpStringSlotConst,  // push slots[a] <aux> constants[b]: the common filter shape in one dispatch
  kInBool,
  kInNumber,
  kInString,  // a = index in sets, aux = 1 for `not in`
  kNot,
  kAnd,
  kOr,
  kJumpIfFalse,  // skip the next a instructions if the top is false (it stays as the result)
  kJumpIfTrue,   // same for true
  kHourOfDay,
  kDayOfWeek,
  kHaversine,
  kAbs,
  kSqrt,
  kLog,
  kLog1p,
  kExp,
  kMin,
  kMax,  // aux = Type of the operands
  kCoalesce,
  kIsNull,
  kStartsWith,
  kContains,
  kLength,
};

struct Instr {
  Op op;
  uint8_t aux;
  int32_t a;
  int32_t b;
};

// How many cells an instruction adds to the stack (negative: removes).
int StackEffect(Op op) {
  switch (op) {
    case Op::kConst:
    case Op::kLoadBool:
    case Op::kLoadNumber:
    case Op::kLoadString:
    case Op::kLoadTimestamp:
    case Op::kCmpBoolSlotConst:
    case Op::kCmpNumberSlotConst:
    case Op::kCmpStringSlotConst:
      return 1;
    case Op::kNeg:
    case Op::kInBool:
    case Op::kInNumber:
    case Op::kInString:
    case Op::kNot:
    case Op::kJumpIfFalse:
    case Op::kJumpIfTrue:
    case Op::kHourOfDay:
    case Op::kDayOfWeek:
    case Op::kAbs:
    case Op::kSqrt:
    case Op::kLog:
    case Op::kLog1p:
    case Op::kExp:
    case Op::kIsNull:
    case Op::kLength:
      return 0;
    case Op::kAdd:
    case Op::kSub:
    case Op::kMul:
    case Op::kDiv:
    case Op::kMod:
    case Op::kTimestampDiff:
    case Op::kCmpBool:
    case Op::kCmpNumber:
    case Op::kCmpString:
    case Op::kCmpTimestamp:
    case Op::kAnd:
    case Op::kOr:
    case Op::kMin:
    case Op::kMax:
    case Op::kCoalesce:
    case Op::kStartsWith:
    case Op::kContains:
      return -1;
    case Op::kHaversine:
      return -3;
  }
  return 0;
}

// The deepest the stack gets running [begin, end). A straight walk is exact: jumped-over code always
// returns the stack to the depth it had at the jump.
int MaxDepth(const Instr* begin, const Instr* end) {
  int depth = 0, max_depth = 0;
  for (const Instr* i = begin; i != end; ++i) {
    depth += StackEffect(i->op);
    max_depth = std::max(max_depth, depth);
  }
  return max_depth;
}

// FNV-1a with a final fold of the high bits into the low ones that the table mask keeps. In-list members
// and probed values are short (country codes, event types), where this beats fancier hashes.
uint64_t HashBytes(std::string_view s) {
  uint64_t h = 14695981039346656037ull;
  for (char c : s) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  return h ^ (h >> 29);
}

// The literals of one in-list, deduplicated. Short lists are scanned. Long number lists are sorted and
// binary-searched; long string lists (50 countries) get an open-addressing hash table, because a binary
// search over same-length codes mispredicts a branch at every step and costs several times more.
struct InSet {
  std::vector<double> numbers;            // sorted
  std::vector<std::string_view> strings;  // point into Program::literals
  std::vector<uint32_t> string_table;     // long lists: 1 + index in strings, 0 = empty; power-of-two size
  bool has_false = false;
  bool has_true = false;

  void Finish() {
    std::sort(numbers.begin(), numbers.end());
    numbers.erase(std::unique(numbers.begin(), numbers.end()), numbers.end());
    std::sort(strings.begin(), strings.end());
    strings.erase(std::unique(strings.begin(), strings.end()), strings.end());
    if (strings.size() <= kLinearSearchMax) return;
    size_t size = 16;
    while (size < 2 * strings.size()) size *= 2;  // at most half full: probe runs stay short
    string_table.assign(size, 0);
    for (size_t i = 0; i < strings.size(); ++i) {
      size_t slot = HashBytes(strings[i]) & (size - 1);
      while (string_table[slot] != 0) slot = (slot + 1) & (size - 1);
      string_table[slot] = static_cast<uint32_t>(i + 1);
    }
  }

  bool Contains(double x) const {
    if (numbers.size() <= kLinearSearchMax) return std::find(numbers.begin(), numbers.end(), x) != numbers.end();
    return std::binary_search(numbers.begin(), numbers.end(), x);
  }
  bool Contains(std::string_view x) const {
    if (string_table.empty()) return std::find(strings.begin(), strings.end(), x) != strings.end();
    const size_t mask = string_table.size() - 1;
    for (size_t slot = HashBytes(x) & mask; string_table[slot] != 0; slot = (slot + 1) & mask) {
      if (strings[string_table[slot] - 1] == x) return true;
    }
    return false;
  }
};

// Function helpers: the calendar math is on floor divisions so that times before 1970 work too.
int64_t FloorMod(int64_t x, int64_t m) {
  const int64_t r = x % m;
  return r < 0 ? r + m : r;
}
double HourOfDay(int64_t ts) { return static_cast<double>(FloorMod(ts, kMicrosPerDay) / kMicrosPerHour); }
double DayOfWeek(int64_t ts) {
  const int64_t days = ts / kMicrosPerDay - (ts % kMicrosPerDay < 0 ? 1 : 0);  // floor, and no overflow
  return static_cast<double>(FloorMod(days + 3, 7));  // 1970-01-01 was a Thursday (3 with Monday = 0)
}
double HaversineKm(double lat1, double lon1, double lat2, double lon2) {
  constexpr double kRadians = std::numbers::pi / 180;
  const double sin_dlat = std::sin((lat2 - lat1) * kRadians / 2);
  const double sin_dlon = std::sin((lon2 - lon1) * kRadians / 2);
  const double h = sin_dlat * sin_dlat + std::cos(lat1 * kRadians) * std::cos(lat2 * kRadians) * sin_dlon * sin_dlon;
  // Rounding can push h a hair above 1 for antipodal points; asin would then be NaN.
  return 2 * kEarthRadiusKm * std::asin(std::min(1.0, std::sqrt(h)));
}
double Utf8Length(std::string_view s) {
  size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;  // count all but continuation bytes
  return static_cast<double>(n);
}
bool CellLess(const Cell& x, const Cell& y, Type type) {
  switch (type) {
    case Type::kNumber:
      return x.num < y.num;
    case Type::kTimestamp:
      return x.ts < y.ts;
    case Type::kString:
      return View(x) < View(y);
    case Type::kBool:
    case Type::kNull:
      return false;
  }
  return false;
}

// Reads slot `index` as a value of `kind`, or nullptr (read as null) when it is absent, null or another kind.
const ExprValue* SlotOf(std::span<const ExprValue> slots, int32_t index, ExprValue::Kind kind) {
  if (static_cast<size_t>(index) >= slots.size()) return nullptr;
  const ExprValue& v = slots[static_cast<size_t>(index)];
  return v.kind == kind ? &v : nullptr;
}

// A compiled expression. Built in place once (Expr::Impl holds it behind a shared_ptr) and never changed.
struct Program {
  std::string text;
  ExprType type = ExprType::kBool;
  std::vector<Instr> code;
  std::vector<Cell> constants;
  std::vector<InSet> sets;
  // Unescaped string literals; string constants and in-list members point into them. A deque never moves
  // its elements, so those pointers survive later push_backs.
  std::deque<std::string> literals;

  // Runs [pc, end) on `stack` (at least MaxDepth(pc, end) cells) and returns the one cell left, on `stack`.
  //
  // Cells are written and read field by field, never built in a temporary and copied whole: a 16-byte load
  // of a cell just written with 1-byte stores cannot be store-forwarded and stalls the CPU for longer than
  // a whole simple expression takes. The fields of a null cell other than `null` are never read.
  const Cell* Run(const Instr* pc, const Instr* end, std::span<const ExprValue> slots, Cell* stack) const;
};

const Cell* Program::Run(const Instr* pc, const Instr* end, std::span<const ExprValue> slots, Cell* stack) const {
  Cell* sp = stack;  // the next free cell
  for (; pc != end; ++pc) {
    switch (pc->op) {
      case Op::kConst:
        *sp++ = constants[static_cast<size_t>(pc->a)];
        break;  // not recently written
      case Op::kLoadBool: {
        const ExprValue* v = SlotOf(slots, pc->a, ExprValue::Kind::kBool);
        sp->null = v == nullptr;
        if (v) sp->b = v->boolean;
        ++sp;
        break;
      }
      case Op::kLoadNumber: {
        const ExprValue* v = SlotOf(slots, pc->a, ExprValue::Kind::kNumber);
        if (v) {
          SetNumber(*sp, v->number);
        } else {
          sp->null = true;
        }
        ++sp;
        break;
      }
      case Op::kLoadString: {
        const ExprValue* v = SlotOf(slots, pc->a, ExprValue::Kind::kString);
        sp->null = v == nullptr;
        if (v) {
          sp->str = v->string.data();
          sp->len = v->string.size();
        }
        ++sp;
        break;
      }
      case Op::kLoadTimestamp: {
        const ExprValue* v = SlotOf(slots, pc->a, ExprValue::Kind::kTimestamp);
        sp->null = v == nullptr;
        if (v) sp->ts = v->timestamp;
        ++sp;
        break;
      }
      case Op::kNeg:
        if (!sp[-1].null) sp[-1].num = -sp[-1].num;
        break;
      case Op::kAdd:
      case Op::kSub:
      case Op::kMul:
      case Op::kDiv:
      case Op::kMod: {
        Cell& x = sp[-2];
        const Cell& y = sp[-1];
        --sp;
        if (x.null || y.null) {
          x.null = true;
        } else if (pc->op == Op::kAdd) {
          SetNumber(x, x.num + y.num);
        } else if (pc->op == Op::kSub) {
          SetNumber(x, x.num - y.num);
        } else if (pc->op == Op::kMul) {
          SetNumber(x, x.num * y.num);
        } else if (y.num == 0) {
          x.null = true;
        } else {
          SetNumber(x, pc->op == Op::kDiv ? x.num / y.num : std::fmod(x.num, y.num));
        }
        break;
      }
      case Op::kTimestampDiff: {
        Cell& x = sp[-2];
        const Cell& y = sp[-1];
        --sp;
        if (x.null || y.null) {
          x.null = true;
        } else {
          int64_t micros;
          // Only timestamps hundreds of thousands of years apart overflow; then doubles are close enough.
          const double diff = __builtin_sub_overflow(x.ts, y.ts, &micros)
                                  ? static_cast<double>(x.ts) - static_cast<double>(y.ts)
                                  : static_cast<double>(micros);
          SetNumber(x, diff / static_cast<double>(kMicrosPerSecond));
        }
        break;
      }
      case Op::kCmpBool:
      case Op::kCmpNumber:
      case Op::kCmpString:
      case Op::kCmpTimestamp: {
        Cell& x = sp[-2];
        const Cell& y = sp[-1];
        --sp;
        if (x.null || y.null) {
          x.null = true;
          break;
        }
        bool r;
        if (pc->op == Op::kCmpNumber) {
          r = Compare(pc->aux, x.num, y.num);
        } else if (pc->op == Op::kCmpString) {
          r = Compare(pc->aux, View(x), View(y));  // char_traits<char> compares as unsigned char: bytewise
        } else if (pc->op == Op::kCmpTimestamp) {
          r = Compare(pc->aux, x.ts, y.ts);
        } else {
          r = Compare(pc->aux, x.b, y.b);
        }
        SetBool(x, r);
        break;
      }
      case Op::kCmpBoolSlotConst: {
        const ExprValue* v = SlotOf(slots, pc->a, ExprValue::Kind::kBool);
        const Cell& c = constants[static_cast<size_t>(pc->b)];
        sp->null = v == nullptr || c.null;
        if (!sp->null) sp->b = Compare(pc->aux, v->boolean, c.b);
        ++sp;
        break;
      }
      case Op::kCmpNumberSlotConst: {
        const ExprValue* v = SlotOf(slots, pc->a, ExprValue::Kind::kNumber);
        const Cell& c = constants[static_cast<size_t>(pc->b)];
        sp->null = v == nullptr || c.null || !std::isfinite(v->number);
        if (!sp->null) sp->b = Compare(pc->aux, v->number, c.num);
        ++sp;
        break;
      }
      case Op::kCmpStringSlotConst: {
        const ExprValue* v = SlotOf(slots, pc->a, ExprValue::Kind::kString);
        const Cell& c = constants[static_cast<size_t>(pc->b)];
        sp->null = v == nullptr || c.null;
        if (!sp->null) sp->b = Compare(pc->aux, v->string, View(c));
        ++sp;
        break;
      }
      case Op::kInBool: {
        Cell& x = sp[-1];
        const InSet& set = sets[static_cast<size_t>(pc->a)];
        if (!x.null) x.b = (x.b ? set.has_true : set.has_false) != (pc->aux != 0);
        break;
      }
      case Op::kInNumber: {
        Cell& x = sp[-1];
        if (!x.null) SetBool(x, sets[static_cast<size_t>(pc->a)].Contains(x.num) != (pc->aux != 0));
        break;
      }
      case Op::kInString: {
        Cell& x = sp[-1];
        if (!x.null) SetBool(x, sets[static_cast<size_t>(pc->a)].Contains(View(x)) != (pc->aux != 0));
        break;
      }
      case Op::kNot:
        if (!sp[-1].null) sp[-1].b = !sp[-1].b;  // a null cell's union may hold a number's bytes
        break;
      case Op::kAnd: {  // false if either is false, else null if either is null, else true
        Cell& x = sp[-2];
        const Cell& y = sp[-1];
        --sp;
        if (!x.null && !x.b) break;  // x false decides
        if (!y.null && !y.b) {
          SetBool(x, false);
        } else if (y.null) {
          x.null = true;
        }  // else y is true and x (true or null) is the result
        break;
      }
      case Op::kOr: {  // true if either is true, else null if either is null, else false
        Cell& x = sp[-2];
        const Cell& y = sp[-1];
        --sp;
        if (!x.null && x.b) break;
        if (!y.null && y.b) {
          SetBool(x, true);
        } else if (y.null) {
          x.null = true;
        }
        break;
      }
      case Op::kJumpIfFalse:
        if (!sp[-1].null && !sp[-1].b) pc += pc->a;
        break;
      case Op::kJumpIfTrue:
        if (!sp[-1].null && sp[-1].b) pc += pc->a;
        break;
      case Op::kHourOfDay:
        if (!sp[-1].null) sp[-1].num = HourOfDay(sp[-1].ts);
        break;
      case Op::kDayOfWeek:
        if (!sp[-1].null) sp[-1].num = DayOfWeek(sp[-1].ts);
        break;
      case Op::kHaversine: {
        sp -= 3;
        Cell& x = sp[-1];
        if (x.null || sp[0].null || sp[1].null || sp[2].null) {
          x.null = true;
        } else {
          SetNumber(x, HaversineKm(x.num, sp[0].num, sp[1].num, sp[2].num));
        }
        break;
      }
      case Op::kAbs:
        if (!sp[-1].null) SetNumber(sp[-1], std::fabs(sp[-1].num));
        break;
      case Op::kSqrt:
        if (!sp[-1].null) SetNumber(sp[-1], std::sqrt(sp[-1].num));
        break;
      case Op::kLog:
        if (!sp[-1].null) SetNumber(sp[-1], std::log(sp[-1].num));
        break;
      case Op::kLog1p:
        if (!sp[-1].null) SetNumber(sp[-1], std::log1p(sp[-1].num));
        break;
      case Op::kExp:
        if (!sp[-1].null) SetNumber(sp[-1], std::exp(sp[-1].num));
        break;
      case Op::kMin:
      case Op::kMax: {
        Cell& x = sp[-2];
        const Cell& y = sp[-1];
        --sp;
        if (x.null || y.null) {
          x.null = true;
        } else if (pc->op == Op::kMin ? CellLess(y, x, static_cast<Type>(pc->aux))
                                      : CellLess(x, y, static_cast<Type>(pc->aux))) {
          x = y;
        }
        break;
      }
      case Op::kCoalesce:
        --sp;
        if (sp[-1].null) sp[-1] = sp[0];
        break;
      case Op::kIsNull:
        SetBool(sp[-1], sp[-1].null);
        break;
      case Op::kStartsWith:
      case Op::kContains: {
        Cell& x = sp[-2];
        const Cell& y = sp[-1];
        --sp;
        if (x.null || y.null) {
          x.null = true;
        } else {
          SetBool(x, pc->op == Op::kStartsWith ? View(x).starts_with(View(y))
                                               : View(x).find(View(y)) != std::string_view::npos);
        }
        break;
      }
      case Op::kLength:
        if (!sp[-1].null) sp[-1].num = Utf8Length(View(sp[-1]));
        break;
    }
  }
  return sp - 1;
}

// ---------------------------------------------------------------------------------------------------------
// Lexer

enum class Tok : uint8_t {
  kEnd,
  kNumber,
  kString,
  kIdent,
  kTrue,
  kFalse,
  kNull,
  kAnd,
  kOr,
  kNot,
  kIn,
  kLParen,
  kRParen,
  kLBracket,
  kRBracket,
  kComma,
  kPlus,
  kMinus,
  kStar,
  kSlash,
  kPercent,
  kEq,
  kNe,
  kLt,
  kLe,
  kGt,
  kGe,
};

struct Token {
  Tok kind = Tok::kEnd;
  size_t begin = 0;  // byte offsets in the text
  size_t end = 0;
  double number = 0;        // kNumber
  std::string_view string;  // kString, unescaped, in Program::literals
};

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsIdentStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsIdentChar(char c) { return IsIdentStart(c) || IsDigit(c); }

struct Keyword {
  std::string_view text;
  Tok kind;
};
constexpr Keyword kKeywords[] = {{"and", Tok::kAnd},   {"or", Tok::kOr},       {"not", Tok::kNot},  {"in", Tok::kIn},
                                 {"true", Tok::kTrue}, {"false", Tok::kFalse}, {"null", Tok::kNull}};

// The character at s[i] for a message: 'c' when printable, the whole UTF-8 sequence when well formed (a
// curly quote pasted from a document is the usual culprit), otherwise the byte in hex.
std::string DescribeChar(std::string_view s, size_t i) {
  const auto lead = static_cast<unsigned char>(s[i]);
  if (lead >= 0x20 && lead < 0x7F) return fmt::format("'{}'", s[i]);
  const size_t n = lead >= 0xF0 && lead < 0xF8 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC2 && lead < 0xE0 ? 2 : 0;
  bool well_formed = n > 0 && i + n <= s.size();
  for (size_t k = 1; well_formed && k < n; ++k) well_formed = (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
  if (well_formed && lead < 0xF8) return fmt::format("'{}'", s.substr(i, n));
  return fmt::format("byte 0x{:02X}", lead);
}

// ---------------------------------------------------------------------------------------------------------
// Compiler

struct Function {
  enum class Sig : uint8_t {
    kNumber1,     // number -> number
    kNumber4,     // number x 4 -> number
    kTimestamp1,  // timestamp -> number
    kString1,     // string -> number
    kString2,     // string x 2 -> bool
    kAny1,        // any -> bool
    kSame2,       // T x T -> T
    kOrdered2,    // T x T -> T, T a number, timestamp or string
  };
  std::string_view name;
  std::string_view params;
  Sig sig;
  Op op;
};

// Sorted by name: the order of the "known functions" list in messages.
constexpr Function kFunctions[] = {
    {"abs", "x", Function::Sig::kNumber1, Op::kAbs},
    {"coalesce", "a, b", Function::Sig::kSame2, Op::kCoalesce},
    {"contains", "s, part", Function::Sig::kString2, Op::kContains},
    {"day_of_week", "ts", Function::Sig::kTimestamp1, Op::kDayOfWeek},
    {"exp", "x", Function::Sig::kNumber1, Op::kExp},
    {"haversine_km", "lat1, lon1, lat2, lon2", Function::Sig::kNumber4, Op::kHaversine},
    {"hour_of_day", "ts", Function::Sig::kTimestamp1, Op::kHourOfDay},
    {"is_null", "x", Function::Sig::kAny1, Op::kIsNull},
    {"length", "s", Function::Sig::kString1, Op::kLength},
    {"log", "x", Function::Sig::kNumber1, Op::kLog},
    {"log1p", "x", Function::Sig::kNumber1, Op::kLog1p},
    {"max", "a, b", Function::Sig::kOrdered2, Op::kMax},
    {"min", "a, b", Function::Sig::kOrdered2, Op::kMin},
    {"sqrt", "x", Function::Sig::kNumber1, Op::kSqrt},
    {"starts_with", "s, prefix", Function::Sig::kString2, Op::kStartsWith},
};

size_t Arity(Function::Sig sig) {
  switch (sig) {
    case Function::Sig::kNumber1:
    case Function::Sig::kTimestamp1:
    case Function::Sig::kString1:
    case Function::Sig::kAny1:
      return 1;
    case Function::Sig::kString2:
    case Function::Sig::kSame2:
    case Function::Sig::kOrdered2:
      return 2;
    case Function::Sig::kNumber4:
      return 4;
  }
  return 0;
}

// What the parser knows about an operand whose code it has just emitted.
struct Operand {
  enum class Form : uint8_t { kIdentifier, kLiteral, kOther };  // for messages
  Type type = Type::kNull;
  size_t code_begin = 0;  // its code is code[code_begin, end of code) until the next operand is parsed
  bool constant = false;
  Form form = Form::kOther;
  size_t src_begin = 0;  // its text
  size_t src_end = 0;
};

// Lexes, parses, type-checks and emits in one go into a Program; Compile() is its only entry point.
class Compiler {
 public:
  Compiler(Program& out, const ExprResolver& resolve, const ExprSource& source)
      : p_(out), text_(out.text), resolve_(resolve), source_(source) {}

  Status Compile() {
    GYRE_RETURN_IF_ERROR(Lex());
    if (Peek().kind == Tok::kEnd) return Error(Peek().begin, "empty expression");
    GYRE_ASSIGN_OR_RETURN(Operand result, ParseOr());
    if (Peek().kind != Tok::kEnd) {
      if (Peek().kind == Tok::kRParen) return Error(Peek().begin, "unmatched ')'");
      return Error(Peek().begin, fmt::format("expected an operator or the end of the expression, got {}{}",
                                             DescribeToken(Peek()), KeywordHint(Source(Peek().begin, Peek().end))));
    }
    if (result.type == Type::kNull) {
      return Error(tokens_.front().begin, "the expression is always null, so it has no type");
    }
    p_.type = static_cast<ExprType>(result.type);
    if (MaxDepth(p_.code.data(), p_.code.data() + p_.code.size()) > kMaxStack) {
      return Error(tokens_.front().begin,
                   fmt::format("expression too complex: it needs more than {} intermediate values", kMaxStack));
    }
    return Status::OK();
  }

 private:
  // ---- errors

  Status Error(size_t offset, std::string_view message) const {
    int line = std::max(source_.line, 1);
    int column = std::max(source_.column, 1);
    for (size_t i = 0; i < offset && i < text_.size(); ++i) {
      if (text_[i] == '\n') {
        ++line;
        column = 1;
      } else if ((static_cast<unsigned char>(text_[i]) & 0xC0) != 0x80) {
        ++column;
      }
    }
    return Status::InvalidArgument(
        Located(source_.file.empty() ? std::string_view("expression") : source_.file, line, column, message));
  }

  std::string_view Source(size_t begin, size_t end) const { return text_.substr(begin, end - begin); }

  // "string 'country'", "number 3", "string 'X'", "number 'a + b'": the type, then the text as written.
  std::string Describe(const Operand& o) const {
    if (o.type == Type::kNull) return "null";
    std::string src(Source(o.src_begin, o.src_end));
    if (o.form == Operand::Form::kLiteral) return fmt::format("{} {}", TypeName(o.type), src);
    if (src.size() > 40) src = src.substr(0, 37) + "...";
    return fmt::format("{} '{}'", TypeName(o.type), src);
  }

  // SQL habits: `a AND b` reads as an identifier 'AND'; say why it is not the keyword.
  static std::string KeywordHint(std::string_view word) {
    std::string lower(word);
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (const Keyword& k : kKeywords) {
      if (lower == k.text && word != k.text) return fmt::format(" (keywords are lowercase: '{}')", k.text);
    }
    return "";
  }

  std::string DescribeToken(const Token& t) const {
    const std::string_view src = Source(t.begin, t.end);
    switch (t.kind) {
      case Tok::kEnd:
        return "end of expression";
      case Tok::kIdent:
        return fmt::format("identifier '{}'", src);
      case Tok::kNumber:
        return fmt::format("number {}", src);
      case Tok::kString:
        return fmt::format("string {}", src);
      default:
        return fmt::format("'{}'", src);
    }
  }

  // ---- lexer

  Status Lex() {
    const std::string_view s = text_;
    size_t i = 0;
    for (;;) {
      while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) ++i;
      Token t;
      t.begin = i;
      if (i == s.size()) {
        t.end = i;
        tokens_.push_back(t);
        return Status::OK();
      }
      const char c = s[i];
      if (IsIdentStart(c)) {
        while (i < s.size() && IsIdentChar(s[i])) ++i;
        t.kind = Tok::kIdent;
        for (const Keyword& k : kKeywords) {
          if (s.substr(t.begin, i - t.begin) == k.text) t.kind = k.kind;
        }
      } else if (IsDigit(c) || (c == '.' && i + 1 < s.size() && IsDigit(s[i + 1]))) {
        GYRE_RETURN_IF_ERROR(LexNumber(i, t));
      } else if (c == '\'' || c == '"') {
        GYRE_RETURN_IF_ERROR(LexString(i, t));
      } else {
        // One- or two-character operators; a lone '=', '&' or '|' is a habit from another language.
        const bool eq_next = i + 1 < s.size() && s[i + 1] == '=';
        const bool doubled = i + 1 < s.size() && s[i + 1] == c;
        size_t len = 1;
        switch (c) {
          case '(':
            t.kind = Tok::kLParen;
            break;
          case ')':
            t.kind = Tok::kRParen;
            break;
          case '[':
            t.kind = Tok::kLBracket;
            break;
          case ']':
            t.kind = Tok::kRBracket;
            break;
          case ',':
            t.kind = Tok::kComma;
            break;
          case '+':
            t.kind = Tok::kPlus;
            break;
          case '-':
            t.kind = Tok::kMinus;
            break;
          case '*':
            t.kind = Tok::kStar;
            break;
          case '/':
            t.kind = Tok::kSlash;
            break;
          case '%':
            t.kind = Tok::kPercent;
            break;
          case '<':
            t.kind = eq_next ? Tok::kLe : Tok::kLt;
            break;
          case '>':
            t.kind = eq_next ? Tok::kGe : Tok::kGt;
            break;
          case '!':
            t.kind = eq_next ? Tok::kNe : Tok::kNot;
            break;
          case '=':
            if (!eq_next) return Error(i, "unexpected '=' (compare with '==')");
            t.kind = Tok::kEq;
            break;
          case '&':
            if (!doubled) return Error(i, "unexpected '&' (use 'and' or '&&')");
            t.kind = Tok::kAnd;
            break;
          case '|':
            if (!doubled) return Error(i, "unexpected '|' (use 'or' or '||')");
            t.kind = Tok::kOr;
            break;
          default:
            return Error(i, fmt::format("unexpected character {}", DescribeChar(s, i)));
        }
        if ((eq_next && (c == '<' || c == '>' || c == '!' || c == '=')) || c == '&' || c == '|') len = 2;
        i += len;
      }
      t.end = i;
      tokens_.push_back(t);
    }
  }

  // digits [. digits] [e [+-] digits], or . digits ...; a letter, digit, '_' or '.' right after is an error,
  // so that `1h` or `1.2.3` is not silently read as two tokens.
  Status LexNumber(size_t& i, Token& t) {
    const std::string_view s = text_;
    const size_t begin = i;
    size_t j = i;
    while (j < s.size() && IsDigit(s[j])) ++j;
    if (j < s.size() && s[j] == '.') {
      ++j;
      while (j < s.size() && IsDigit(s[j])) ++j;
    }
    if (j < s.size() && (s[j] == 'e' || s[j] == 'E')) {
      size_t k = j + 1;
      if (k < s.size() && (s[k] == '+' || s[k] == '-')) ++k;
      if (k < s.size() && IsDigit(s[k])) {
        while (k < s.size() && IsDigit(s[k])) ++k;
        j = k;
      }  // else the 'e' stays unread and is reported below
    }
    if (j < s.size() && (IsIdentChar(s[j]) || s[j] == '.')) {
      size_t k = j;
      while (k < s.size() && (IsIdentChar(s[k]) || s[k] == '.')) ++k;
      return Error(begin, fmt::format("invalid number '{}' (identifiers cannot start with a digit, and numbers "
                                      "have no units)",
                                      s.substr(begin, k - begin)));
    }
    const auto [ptr, ec] = std::from_chars(s.data() + begin, s.data() + j, t.number);
    if (ec != std::errc() || ptr != s.data() + j || !std::isfinite(t.number)) {
      return Error(begin, fmt::format("number {} is out of range", s.substr(begin, j - begin)));
    }
    t.kind = Tok::kNumber;
    i = j;
    return Status::OK();
  }

  Status LexString(size_t& i, Token& t) {
    const std::string_view s = text_;
    const char quote = s[i];
    std::string value;
    size_t j = i + 1;
    for (;;) {
      if (j >= s.size()) return Error(i, fmt::format("unterminated string (no closing {})", quote));
      const char c = s[j];
      if (c == quote) break;
      if (c != '\\') {
        value += c;
        ++j;
        continue;
      }
      if (j + 1 >= s.size()) return Error(i, fmt::format("unterminated string (no closing {})", quote));
      switch (s[j + 1]) {
        case '\\':
          value += '\\';
          break;
        case '\'':
          value += '\'';
          break;
        case '"':
          value += '"';
          break;
        case 'n':
          value += '\n';
          break;
        case 't':
          value += '\t';
          break;
        default:
          return Error(j, fmt::format("unknown escape in string: backslash then {} (known: \\\\ \\' \\\" \\n "
                                      "\\t)",
                                      DescribeChar(s, j + 1)));
      }
      j += 2;
    }
    p_.literals.push_back(std::move(value));
    t.kind = Tok::kString;
    t.string = p_.literals.back();
    i = j + 1;
    return Status::OK();
  }

  // ---- parser

  const Token& Peek(size_t ahead = 0) const { return tokens_[std::min(pos_ + ahead, tokens_.size() - 1)]; }
  const Token& Next() {
    const Token& t = tokens_[pos_];
    if (pos_ + 1 < tokens_.size()) ++pos_;
    return t;
  }

  // Counts recursion depth; every recursive path in the grammar passes through one of these.
  struct Nest {
    explicit Nest(int& depth) : depth_(++depth) {}
    ~Nest() { --depth_; }
    int& depth_;
  };
  Status CheckNesting() const {
    if (depth_ <= kMaxNesting) return Status::OK();
    return Error(Peek().begin, fmt::format("expression nests more than {} levels deep", kMaxNesting));
  }

  // ---- emission

  size_t Emit(Op op, uint8_t aux = 0, int32_t a = 0, int32_t b = 0) {
    p_.code.push_back({op, aux, a, b});
    return p_.code.size() - 1;
  }
  void EmitConstant(const Cell& c) {
    p_.constants.push_back(c);
    Emit(Op::kConst, 0, static_cast<int32_t>(p_.constants.size() - 1));
  }
  static Operand Combine(const Operand& x, const Operand& y, Type type) {
    return {type, x.code_begin, x.constant && y.constant, Operand::Form::kOther, x.src_begin, y.src_end};
  }
  // Replaces the code of a constant operand with its value.
  void Fold(const Operand& o) {
    if (!o.constant) return;
    const Instr* begin = p_.code.data() + o.code_begin;
    const Instr* end = p_.code.data() + p_.code.size();
    if (end - begin == 1 && begin->op == Op::kConst) return;
    std::vector<Cell> stack(static_cast<size_t>(MaxDepth(begin, end)));
    Cell value = *p_.Run(begin, end, {}, stack.data());
    if (value.null) value = NullCell();  // defined bytes in the constant table
    p_.code.resize(o.code_begin);
    EmitConstant(value);
  }

  // or := and (('or' | '||') and)*; and likewise one level down. The jump skips the right side when the
  // left side alone decides the result.
  Result<Operand> ParseOr() {
    Nest nest(depth_);
    GYRE_RETURN_IF_ERROR(CheckNesting());
    return ParseLogical(Tok::kOr);
  }
  Result<Operand> ParseLogical(Tok op_kind) {
    const bool is_or = op_kind == Tok::kOr;
    GYRE_ASSIGN_OR_RETURN(Operand x, is_or ? ParseLogical(Tok::kAnd) : ParseNot());
    while (Peek().kind == op_kind) {
      const Token& op = Next();
      GYRE_RETURN_IF_ERROR(CheckBool(x, op));
      const size_t jump = Emit(is_or ? Op::kJumpIfTrue : Op::kJumpIfFalse);
      GYRE_ASSIGN_OR_RETURN(Operand y, is_or ? ParseLogical(Tok::kAnd) : ParseNot());
      GYRE_RETURN_IF_ERROR(CheckBool(y, op));
      Emit(is_or ? Op::kOr : Op::kAnd);
      p_.code[jump].a = static_cast<int32_t>(p_.code.size() - jump - 1);
      x = Combine(x, y, Type::kBool);
      Fold(x);
    }
    return x;
  }
  Status CheckBool(const Operand& o, const Token& op) const {
    if (o.type == Type::kBool || o.type == Type::kNull) return Status::OK();
    return Error(o.src_begin, fmt::format("'{}' needs bool operands, got {}", Source(op.begin, op.end), Describe(o)));
  }

  // not := ('not' | '!') not | comparison
  Result<Operand> ParseNot() {
    if (Peek().kind != Tok::kNot) return ParseComparison();
    const Token& op = Next();
    Nest nest(depth_);
    GYRE_RETURN_IF_ERROR(CheckNesting());
    GYRE_ASSIGN_OR_RETURN(Operand x, ParseNot());
    GYRE_RETURN_IF_ERROR(CheckBool(x, op));
    Emit(Op::kNot);
    const Operand r{Type::kBool, x.code_begin, x.constant, Operand::Form::kOther, op.begin, x.src_end};
    Fold(r);
    return r;
  }

  // comparison := additive [ ('==' | '!=' | '<' | '<=' | '>' | '>=') additive | ['not'] 'in' list ]
  Result<Operand> ParseComparison() {
    GYRE_ASSIGN_OR_RETURN(Operand x, ParseAdditive());
    const Token& op = Peek();
    Operand r;
    if (IsComparison(op.kind)) {
      Next();
      GYRE_ASSIGN_OR_RETURN(Operand y, ParseAdditive());
      if (x.type == Type::kNull || y.type == Type::kNull) {
        const Operand& other = x.type == Type::kNull ? y : x;
        return Error(op.begin, fmt::format("comparing with null always gives null; use is_null({})",
                                           other.type == Type::kNull ? "x" : Source(other.src_begin, other.src_end)));
      }
      if (x.type != y.type) {
        return Error(op.begin, fmt::format("cannot compare {} with {}", Describe(x), Describe(y)));
      }
      EmitComparison(x, y, CmpOf(op.kind));
      r = Combine(x, y, Type::kBool);
    } else if (op.kind == Tok::kIn || op.kind == Tok::kNot) {
      const bool negate = op.kind == Tok::kNot;
      Next();
      if (negate && Next().kind != Tok::kIn) {
        return Error(op.begin, fmt::format("expected 'in' after '{}'", Source(op.begin, op.end)));
      }
      GYRE_ASSIGN_OR_RETURN(r, ParseInList(x, op, negate));
    } else {
      return x;
    }
    Fold(r);
    if (IsComparison(Peek().kind) || Peek().kind == Tok::kIn) {
      return Error(Peek().begin, "comparisons do not chain: combine them with 'and'");
    }
    return r;
  }
  // x and y have the same type and their code is the tail of the program.
  void EmitComparison(const Operand& x, const Operand& y, Cmp cmp) {
    const auto single = [&](const Operand& o, size_t end) { return end - o.code_begin == 1; };
    const Instr* load = &p_.code[x.code_begin];
    const Instr* constant = &p_.code[y.code_begin];
    bool fuse = single(x, y.code_begin) && single(y, p_.code.size());
    if (fuse && load->op == Op::kConst && constant->op != Op::kConst) {  // 3 < x: x > 3
      std::swap(load, constant);
      static constexpr Cmp kMirror[] = {Cmp::kEq, Cmp::kNe, Cmp::kGt, Cmp::kGe, Cmp::kLt, Cmp::kLe};
      cmp = kMirror[static_cast<int>(cmp)];
    }
    Op fused = Op::kConst;
    if (fuse && constant->op == Op::kConst) {
      if (load->op == Op::kLoadBool) fused = Op::kCmpBoolSlotConst;
      if (load->op == Op::kLoadNumber) fused = Op::kCmpNumberSlotConst;
      if (load->op == Op::kLoadString) fused = Op::kCmpStringSlotConst;
    }
    if (fused != Op::kConst) {
      const Instr fused_instr{fused, static_cast<uint8_t>(cmp), load->a, constant->a};
      p_.code.resize(x.code_begin);
      p_.code.push_back(fused_instr);
      return;
    }
    static constexpr Op kCmpOps[] = {Op::kCmpBool, Op::kCmpNumber, Op::kCmpString, Op::kCmpTimestamp};
    Emit(kCmpOps[static_cast<int>(x.type)], static_cast<uint8_t>(cmp));
  }

  static bool IsComparison(Tok t) {
    return t == Tok::kEq || t == Tok::kNe || t == Tok::kLt || t == Tok::kLe || t == Tok::kGt || t == Tok::kGe;
  }
  static Cmp CmpOf(Tok t) {
    switch (t) {
      case Tok::kNe:
        return Cmp::kNe;
      case Tok::kLt:
        return Cmp::kLt;
      case Tok::kLe:
        return Cmp::kLe;
      case Tok::kGt:
        return Cmp::kGt;
      case Tok::kGe:
        return Cmp::kGe;
      default:
        return Cmp::kEq;
    }
  }

  // list := '[' literal (',' literal)* [','] ']' where literal := number | '-' number | string | true | false
  Result<Operand> ParseInList(const Operand& x, const Token& op, bool negate) {
    if (Peek().kind != Tok::kLBracket) {
      return Error(Peek().begin, fmt::format("expected '[' after 'in', got {}", DescribeToken(Peek())));
    }
    const Token& open = Next();
    InSet set;
    Type list_type = Type::kNull;
    Operand first;  // for the mixed-types message
    while (Peek().kind != Tok::kRBracket) {
      const Token& t = Next();
      Operand element{Type::kNull, 0, true, Operand::Form::kLiteral, t.begin, t.end};
      switch (t.kind) {
        case Tok::kNumber:
          element.type = Type::kNumber;
          set.numbers.push_back(t.number);
          break;
        case Tok::kMinus:
          if (Peek().kind != Tok::kNumber) {
            return Error(Peek().begin,
                         fmt::format("expected a number after '-' in the list, got {}", DescribeToken(Peek())));
          }
          element.type = Type::kNumber;
          element.src_end = Peek().end;
          set.numbers.push_back(-Next().number);
          break;
        case Tok::kString:
          element.type = Type::kString;
          set.strings.push_back(t.string);
          break;
        case Tok::kTrue:
          element.type = Type::kBool;
          set.has_true = true;
          break;
        case Tok::kFalse:
          element.type = Type::kBool;
          set.has_false = true;
          break;
        case Tok::kNull:
          return Error(t.begin, "null cannot be in a list (x in [null] is never true); use is_null(x)");
        case Tok::kEnd:
          return Error(t.begin, "expected ']' after the list, got end of expression");
        default:
          return Error(t.begin, fmt::format("list elements must be literals (numbers, strings, true, false), got {}",
                                            DescribeToken(t)));
      }
      if (list_type == Type::kNull) {
        list_type = element.type;
        first = element;
      } else if (element.type != list_type) {
        return Error(t.begin, fmt::format("list mixes types: {} and {}", Describe(first), Describe(element)));
      }
      if (Peek().kind == Tok::kComma) {
        Next();
      } else if (Peek().kind == Tok::kEnd) {
        return Error(Peek().begin, "expected ']' after the list, got end of expression");
      } else if (Peek().kind != Tok::kRBracket) {
        return Error(Peek().begin, fmt::format("expected ',' or ']' in the list, got {}", DescribeToken(Peek())));
      }
    }
    const Token& close = Next();
    if (list_type == Type::kNull) return Error(open.begin, "empty list after 'in'");
    if (x.type == Type::kNull) {
      return Error(op.begin, "testing null against a list always gives null; use is_null(x)");
    }
    if (x.type != list_type) {
      return Error(op.begin, fmt::format("cannot look up {} in a list of {}s", Describe(x), TypeName(list_type)));
    }
    set.Finish();
    p_.sets.push_back(std::move(set));
    const Op in_op = list_type == Type::kBool     ? Op::kInBool
                     : list_type == Type::kNumber ? Op::kInNumber
                                                  : Op::kInString;
    Emit(in_op, negate ? 1 : 0, static_cast<int32_t>(p_.sets.size() - 1));
    return Operand{Type::kBool, x.code_begin, x.constant, Operand::Form::kOther, x.src_begin, close.end};
  }

  // additive := multiplicative (('+' | '-') multiplicative)*; multiplicative likewise with * / %.
  Result<Operand> ParseAdditive() { return ParseArithmetic(/*additive=*/true); }
  Result<Operand> ParseArithmetic(bool additive) {
    GYRE_ASSIGN_OR_RETURN(Operand x, additive ? ParseArithmetic(false) : ParseUnary());
    for (;;) {
      const Token& op = Peek();
      const bool matches = additive ? (op.kind == Tok::kPlus || op.kind == Tok::kMinus)
                                    : (op.kind == Tok::kStar || op.kind == Tok::kSlash || op.kind == Tok::kPercent);
      if (!matches) return x;
      Next();
      GYRE_ASSIGN_OR_RETURN(Operand y, additive ? ParseArithmetic(false) : ParseUnary());
      const auto is = [](const Operand& o, Type t) { return o.type == t || o.type == Type::kNull; };
      Op code;
      if (op.kind == Tok::kMinus && (x.type == Type::kTimestamp || y.type == Type::kTimestamp) &&
          is(x, Type::kTimestamp) && is(y, Type::kTimestamp)) {
        code = Op::kTimestampDiff;
      } else if (is(x, Type::kNumber) && is(y, Type::kNumber)) {
        code = op.kind == Tok::kPlus    ? Op::kAdd
               : op.kind == Tok::kMinus ? Op::kSub
               : op.kind == Tok::kStar  ? Op::kMul
               : op.kind == Tok::kSlash ? Op::kDiv
                                        : Op::kMod;
      } else {
        const bool timestamps = x.type == Type::kTimestamp || y.type == Type::kTimestamp;
        return Error(op.begin,
                     fmt::format("cannot apply '{}' to {} and {}{}", Source(op.begin, op.end), Describe(x), Describe(y),
                                 timestamps ? " (the only arithmetic on timestamps is timestamp - timestamp, "
                                              "in seconds)"
                                            : ""));
      }
      Emit(code);
      x = Combine(x, y, Type::kNumber);
      Fold(x);
    }
  }

  // unary := '-' unary | primary
  Result<Operand> ParseUnary() {
    if (Peek().kind != Tok::kMinus) return ParsePrimary();
    const Token& op = Next();
    Nest nest(depth_);
    GYRE_RETURN_IF_ERROR(CheckNesting());
    GYRE_ASSIGN_OR_RETURN(Operand x, ParseUnary());
    if (x.type != Type::kNumber && x.type != Type::kNull) {
      return Error(op.begin, fmt::format("cannot negate {}", Describe(x)));
    }
    Emit(Op::kNeg);
    // -3 is still a literal for messages ("cannot compare string 'x' with number -3").
    const Operand r{Type::kNumber, x.code_begin,
                    x.constant,    x.form == Operand::Form::kLiteral ? Operand::Form::kLiteral : Operand::Form::kOther,
                    op.begin,      x.src_end};
    Fold(r);
    return r;
  }

  // primary := number | string | true | false | null | identifier | call | '(' or ')'
  Result<Operand> ParsePrimary() {
    const Token& t = Peek();
    const size_t code_begin = p_.code.size();
    Operand literal{Type::kNull, code_begin, true, Operand::Form::kLiteral, t.begin, t.end};
    switch (t.kind) {
      case Tok::kNumber:
        literal.type = Type::kNumber;
        EmitConstant(NumberCell(t.number));
        break;
      case Tok::kString:
        literal.type = Type::kString;
        EmitConstant(StringCell(t.string));
        break;
      case Tok::kTrue:
      case Tok::kFalse:
        literal.type = Type::kBool;
        EmitConstant(BoolCell(t.kind == Tok::kTrue));
        break;
      case Tok::kNull:
        EmitConstant(NullCell());
        break;
      case Tok::kLParen: {
        Next();
        GYRE_ASSIGN_OR_RETURN(Operand x, ParseOr());
        if (Peek().kind != Tok::kRParen) {
          return Error(Peek().begin, fmt::format("expected ')', got {}", DescribeToken(Peek())));
        }
        Next();
        return x;
      }
      case Tok::kIdent:
        if (Peek(1).kind == Tok::kLParen) return ParseCall();
        return ParseIdentifier();
      case Tok::kEnd:
        return Error(t.begin, "expected a value, got end of expression");
      default:
        return Error(t.begin, fmt::format("expected a value, got {}", DescribeToken(t)));
    }
    Next();
    return literal;
  }

  Result<Operand> ParseIdentifier() {
    const Token& t = Next();
    const std::string_view name = Source(t.begin, t.end);
    Result<ExprSlot> slot = resolve_ ? resolve_(name) : Result<ExprSlot>(Status::NotFound(""));
    if (!slot.ok()) {
      std::string message = slot.status().message();
      if (message.empty()) message = fmt::format("unknown identifier '{}'", name);
      return Error(t.begin, message + KeywordHint(name));
    }
    const int type = static_cast<int>(slot->type);
    if (slot->index < 0 || type < 0 || type > static_cast<int>(ExprType::kTimestamp)) {
      return Error(t.begin, fmt::format("identifier '{}' resolved to an invalid slot (index {})", name, slot->index));
    }
    static constexpr Op kLoadOps[] = {Op::kLoadBool, Op::kLoadNumber, Op::kLoadString, Op::kLoadTimestamp};
    const size_t code_begin = Emit(kLoadOps[type], 0, slot->index);
    return Operand{static_cast<Type>(type), code_begin, false, Operand::Form::kIdentifier, t.begin, t.end};
  }

  // call := identifier '(' [or (',' or)*] ')'
  Result<Operand> ParseCall() {
    const Token& name_token = Next();
    Next();  // '('
    const std::string_view name = Source(name_token.begin, name_token.end);
    const Function* f = nullptr;
    for (const Function& candidate : kFunctions) {
      if (candidate.name == name) f = &candidate;
    }
    if (f == nullptr) {
      std::string known;
      for (const Function& candidate : kFunctions) {
        fmt::format_to(std::back_inserter(known), "{}{}", known.empty() ? "" : ", ", candidate.name);
      }
      return Error(name_token.begin, fmt::format("unknown function '{}' (functions: {})", name, known));
    }
    std::vector<Operand> args;
    if (Peek().kind != Tok::kRParen) {
      for (;;) {
        GYRE_ASSIGN_OR_RETURN(Operand arg, ParseOr());
        args.push_back(arg);
        if (Peek().kind == Tok::kComma) {
          Next();
        } else if (Peek().kind == Tok::kRParen) {
          break;
        } else {
          return Error(Peek().begin, fmt::format("expected ',' or ')' after argument {} of {}(), got {}", args.size(),
                                                 name, DescribeToken(Peek())));
        }
      }
    }
    const Token& close = Next();
    const size_t arity = Arity(f->sig);
    if (args.size() != arity) {
      return Error(name_token.begin, fmt::format("{}({}) takes {} argument{}, got {}", f->name, f->params, arity,
                                                 arity == 1 ? "" : "s", args.size()));
    }
    GYRE_ASSIGN_OR_RETURN(const auto typed, CheckCall(*f, args));
    Emit(f->op, static_cast<uint8_t>(typed.second));
    Operand r{typed.first, args[0].code_begin, true, Operand::Form::kOther, name_token.begin, close.end};
    for (const Operand& arg : args) r.constant = r.constant && arg.constant;
    Fold(r);
    return r;
  }

  // The result type of a call and the operand type its instruction is told (min and max need it).
  Result<std::pair<Type, Type>> CheckCall(const Function& f, const std::vector<Operand>& args) const {
    const auto want = [&](size_t i, Type t) -> Status {
      if (args[i].type == t || args[i].type == Type::kNull) return Status::OK();
      return Error(args[i].src_begin, fmt::format("argument {} of {}() must be a {}, got {}", i + 1, f.name,
                                                  TypeName(t), Describe(args[i])));
    };
    switch (f.sig) {
      case Function::Sig::kNumber1:
      case Function::Sig::kNumber4:
        for (size_t i = 0; i < args.size(); ++i) GYRE_RETURN_IF_ERROR(want(i, Type::kNumber));
        return std::pair{Type::kNumber, Type::kNumber};
      case Function::Sig::kTimestamp1:
        GYRE_RETURN_IF_ERROR(want(0, Type::kTimestamp));
        return std::pair{Type::kNumber, Type::kTimestamp};
      case Function::Sig::kString1:
        GYRE_RETURN_IF_ERROR(want(0, Type::kString));
        return std::pair{Type::kNumber, Type::kString};
      case Function::Sig::kString2:
        GYRE_RETURN_IF_ERROR(want(0, Type::kString));
        GYRE_RETURN_IF_ERROR(want(1, Type::kString));
        return std::pair{Type::kBool, Type::kString};
      case Function::Sig::kAny1:
        return std::pair{Type::kBool, args[0].type};
      case Function::Sig::kSame2:
      case Function::Sig::kOrdered2: {
        const Type x = args[0].type, y = args[1].type;
        if (x != y && x != Type::kNull && y != Type::kNull) {
          return Error(args[1].src_begin, fmt::format("{}() needs two arguments of the same type, got {} and {}",
                                                      f.name, Describe(args[0]), Describe(args[1])));
        }
        const Type t = x == Type::kNull ? y : x;
        if (f.sig == Function::Sig::kOrdered2 && t == Type::kBool) {
          return Error(args[0].src_begin,
                       fmt::format("{}() takes numbers, timestamps or strings, got {}", f.name, Describe(args[0])));
        }
        return std::pair{t, t};
      }
    }
    return Status::Internal("unhandled function signature");
  }

  Program& p_;
  std::string_view text_;
  const ExprResolver& resolve_;
  const ExprSource& source_;
  std::vector<Token> tokens_;
  size_t pos_ = 0;
  int depth_ = 0;
};

}  // namespace

struct Expr::Impl {
  Program program;
};

Result<Expr> Expr::Compile(std::string_view text, const ExprResolver& resolve, const ExprSource& source) {
  auto impl = std::make_shared<Impl>();
  impl->program.text = std::string(text);
  GYRE_RETURN_IF_ERROR(Compiler(impl->program, resolve, source).Compile());
  Expr expr;
  expr.impl_ = std::move(impl);
  return expr;
}

Expr::Expr() = default;
Expr::Expr(Expr&&) noexcept = default;
Expr& Expr::operator=(Expr&&) noexcept = default;
Expr::Expr(const Expr&) = default;
Expr& Expr::operator=(const Expr&) = default;
Expr::~Expr() = default;

ExprType Expr::type() const { return impl_->program.type; }
const std::string& Expr::text() const { return impl_->program.text; }

ExprValue Expr::Evaluate(std::span<const ExprValue> slots) const {
  const Program& p = impl_->program;
  Cell stack[kMaxStack];
  const Cell* r = p.Run(p.code.data(), p.code.data() + p.code.size(), slots, stack);
  if (r->null) return ExprValue::Null();
  switch (p.type) {
    case ExprType::kBool:
      return ExprValue::Bool(r->b);
    case ExprType::kNumber:
      return ExprValue::Number(r->num);
    case ExprType::kString:
      return ExprValue::String(View(*r));
    case ExprType::kTimestamp:
      return ExprValue::Timestamp(r->ts);
  }
  return ExprValue::Null();
}

bool Expr::Test(std::span<const ExprValue> slots) const {
  const Program& p = impl_->program;
  if (p.type != ExprType::kBool) return false;
  Cell stack[kMaxStack];
  const Cell* r = p.Run(p.code.data(), p.code.data() + p.code.size(), slots, stack);
  return !r->null && r->b;
}

}  // namespace gyre::features
