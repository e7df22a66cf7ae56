#include "features/key_state.h"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <set>

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace gyre::features {
namespace {

// Sums are kept as integers in units of 2^-40 (about 9e-13): exact to add and remove in any order.
constexpr int kFixedBits = 40;
constexpr double kFixedLimit = 0x1p86;  // beyond this a value saturates (documented in docs/features.md)

__int128 ToFixed(double v) {
  double scaled = std::nearbyint(std::ldexp(std::clamp(v, -kFixedLimit, kFixedLimit), kFixedBits));
  return static_cast<__int128>(scaled);
}

long double FromFixed(__int128 v) { return std::ldexp(static_cast<long double>(v), -kFixedBits); }

// Sums of squares need ~2 x 86 bits plus headroom: a 256-bit two's-complement integer, just what variance
// needs (add, subtract, multiply small factors, convert). With it n*sum(V^2) - sum(V)^2 is computed exactly,
// so stddev has no cancellation error and does not depend on the order events came and went.
struct Int256 {
  uint64_t w[4] = {0, 0, 0, 0};  // little-endian limbs

  static Int256 FromU128(unsigned __int128 v) {
    Int256 r;
    r.w[0] = static_cast<uint64_t>(v);
    r.w[1] = static_cast<uint64_t>(v >> 64);
    return r;
  }
  void Add(const Int256& o) {
    unsigned __int128 carry = 0;
    for (int i = 0; i < 4; ++i) {
      unsigned __int128 t = static_cast<unsigned __int128>(w[i]) + o.w[i] + carry;
      w[i] = static_cast<uint64_t>(t);
      carry = t >> 64;
    }
  }
  void Sub(const Int256& o) {
    uint64_t borrow = 0;
    for (int i = 0; i < 4; ++i) {
      unsigned __int128 t = static_cast<unsigned __int128>(w[i]) - o.w[i] - borrow;
      w[i] = static_cast<uint64_t>(t);
      borrow = (t >> 64) != 0 ? 1 : 0;
    }
  }
  // a * b for a, b < 2^128.
  static Int256 Multiply(unsigned __int128 a, unsigned __int128 b) {
    uint64_t a0 = static_cast<uint64_t>(a), a1 = static_cast<uint64_t>(a >> 64);
    uint64_t b0 = static_cast<uint64_t>(b), b1 = static_cast<uint64_t>(b >> 64);
    Int256 r = FromU128(static_cast<unsigned __int128>(a0) * b0);
    Int256 mid1 = FromU128(static_cast<unsigned __int128>(a0) * b1).Shifted64();
    Int256 mid2 = FromU128(static_cast<unsigned __int128>(a1) * b0).Shifted64();
    Int256 high = FromU128(static_cast<unsigned __int128>(a1) * b1).Shifted64().Shifted64();
    r.Add(mid1);
    r.Add(mid2);
    r.Add(high);
    return r;
  }
  Int256 Shifted64() const {
    Int256 r;
    r.w[1] = w[0];
    r.w[2] = w[1];
    r.w[3] = w[2];
    return r;
  }
  // this * m for a non-negative value and m < 2^64.
  Int256 Times(uint64_t m) const {
    Int256 r;
    unsigned __int128 carry = 0;
    for (int i = 0; i < 4; ++i) {
      unsigned __int128 t = static_cast<unsigned __int128>(w[i]) * m + carry;
      r.w[i] = static_cast<uint64_t>(t);
      carry = t >> 64;
    }
    return r;
  }
  bool Negative() const { return (w[3] >> 63) != 0; }
  long double ToLongDouble() const {
    long double r = 0;
    for (int i = 3; i >= 0; --i) r = r * 0x1p64L + static_cast<long double>(w[i]);
    return r;
  }
};

// Squares are taken of values clamped to |v| <= 2^45 (3.5e13), which keeps n * sum(V^2) within 256 bits.
constexpr double kSquareLimit = 0x1p45;

Int256 FixedSquare(double v) {
  __int128 fixed = ToFixed(std::clamp(v, -kSquareLimit, kSquareLimit));
  unsigned __int128 magnitude = static_cast<unsigned __int128>(fixed < 0 ? -fixed : fixed);
  return Int256::Multiply(magnitude, magnitude);
}

double BitsToDouble(uint64_t bits) { return std::bit_cast<double>(bits); }

// Hash for approximate distinct counting: string slots already hold XXH3; numbers are mixed (splitmix64).
uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

bool IsMin(AggKind kind) { return kind == AggKind::kMin; }

// Multiset of 64-bit values (value → count) for count_distinct and is_new: an open-addressing table with
// linear probing and backward-shift deletion, because most keys hold a handful of values and a node-based
// map costs an allocation per value. Key 0 (the bits of 0.0) is kept aside so 0 can mean "empty slot".
class ValueCounts {
 public:
  void Add(uint64_t key) {
    if (key == 0) {
      size_ += zero_++ == 0;
      return;
    }
    if ((used_ + 1) * 2 > slots_.size()) Grow();
    size_t i = Find(key);
    if (slots_[i].first == 0) {
      slots_[i] = {key, 0};
      ++used_;
      ++size_;
    }
    ++slots_[i].second;
  }
  void Remove(uint64_t key) {
    if (key == 0) {
      if (zero_ > 0) size_ -= --zero_ == 0;
      return;
    }
    if (slots_.empty()) return;
    size_t i = Find(key);
    if (slots_[i].first == 0 || --slots_[i].second > 0) return;
    --used_;
    --size_;
    size_t mask = slots_.size() - 1;
    for (size_t j = (i + 1) & mask; slots_[j].first != 0; j = (j + 1) & mask) {
      size_t home = Mix(slots_[j].first) & mask;
      // Move j back into the hole at i unless its home lies cyclically in (i, j].
      bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
      if (!stays) {
        slots_[i] = slots_[j];
        i = j;
      }
    }
    slots_[i] = {0, 0};
  }
  bool Contains(uint64_t key) const {
    if (key == 0) return zero_ > 0;
    return !slots_.empty() && slots_[Find(key)].first != 0;
  }
  size_t size() const { return size_; }
  // Entries sorted by value (for serialization: equal states give equal bytes).
  std::vector<std::pair<uint64_t, int32_t>> Sorted() const {
    std::vector<std::pair<uint64_t, int32_t>> out;
    if (zero_ > 0) out.emplace_back(0, zero_);
    for (const auto& slot : slots_) {
      if (slot.first != 0) out.push_back(slot);
    }
    std::sort(out.begin(), out.end());
    return out;
  }
  // Restores an entry read back from bytes (count > 0, key not present yet).
  void Set(uint64_t key, int32_t count) {
    Add(key);
    if (key == 0) {
      zero_ = count;
    } else {
      slots_[Find(key)].second = count;
    }
  }

 private:
  size_t Find(uint64_t key) const {
    size_t mask = slots_.size() - 1;
    size_t i = Mix(key) & mask;
    while (slots_[i].first != 0 && slots_[i].first != key) i = (i + 1) & mask;
    return i;
  }
  void Grow() {
    std::vector<std::pair<uint64_t, int32_t>> old = std::move(slots_);
    slots_.assign(old.empty() ? 8 : old.size() * 2, {0, 0});
    for (const auto& slot : old) {
      if (slot.first != 0) slots_[Find(slot.first)] = slot;
    }
  }

  std::vector<std::pair<uint64_t, int32_t>> slots_;
  size_t used_ = 0;  // occupied slots
  size_t size_ = 0;  // distinct values, zero included
  int32_t zero_ = 0;
};

}  // namespace

std::string_view ReadStatusName(ReadStatus status) {
  switch (status) {
    case ReadStatus::kPresent:
      return "PRESENT";
    case ReadStatus::kNotFound:
      return "NOT_FOUND";
    case ReadStatus::kOutsideMaxAge:
      return "OUTSIDE_MAX_AGE";
  }
  return "PRESENT";
}

uint64_t ValueBits(const ExprValue& value) {
  switch (value.kind) {
    case ExprValue::Kind::kString:
      return XXH3_64bits(value.string.data(), value.string.size());
    case ExprValue::Kind::kBool:
      return std::bit_cast<uint64_t>(value.boolean ? 1.0 : 0.0);
    case ExprValue::Kind::kTimestamp:
      return std::bit_cast<uint64_t>(static_cast<double>(value.timestamp));
    case ExprValue::Kind::kNumber:
      // -0.0 and 0.0 are one value for distinct counting.
      return std::bit_cast<uint64_t>(value.number == 0 ? 0.0 : value.number);
    case ExprValue::Kind::kNull:
      break;
  }
  return 0;
}

// ---------------------------------------------------------------------------------------------------------
// GroupProgram

Result<std::shared_ptr<const GroupProgram>> GroupProgram::Make(const FeatureRegistry& registry, int group) {
  auto program = std::make_shared<GroupProgram>();
  const GroupDef& def = registry.groups()[group];
  program->def_ = &def;
  program->source_ = &registry.sources()[def.source];
  if (def.aggregations.size() > 64) {
    return Status::InvalidArgument("group '" + def.name + "' has more than 64 aggregations; split it");
  }
  std::vector<int> slot_of_aggregation(def.aggregations.size(), -1);
  for (size_t a = 0; a < def.aggregations.size(); ++a) {
    const AggregationDef& agg = def.aggregations[a];
    if (!agg.of) continue;
    bool keeps_text = agg.kind == AggKind::kLast && agg.of->type() == ExprType::kString;
    // Aggregations of the same expression share one slot.
    for (size_t s = 0; s < program->slot_expr_.size(); ++s) {
      if (program->slot_expr_[s].text() == agg.of->text() &&
          (!keeps_text || program->slot_string_index_[s] >= 0)) {
        slot_of_aggregation[a] = static_cast<int>(s);
      }
    }
    if (slot_of_aggregation[a] < 0) {
      slot_of_aggregation[a] = static_cast<int>(program->slot_expr_.size());
      program->slot_expr_.push_back(*agg.of);
      program->slot_type_.push_back(agg.of->type());
      program->slot_string_index_.push_back(keeps_text ? program->num_string_slots_++ : -1);
    }
  }
  if (program->slot_expr_.size() > 64) return Status::InvalidArgument("group '" + def.name + "' has more than 64 values");
  for (int feature : def.features) {
    const FeatureDef& f = registry.features()[feature];
    const AggregationDef& agg = def.aggregations[f.aggregation];
    Accumulator acc;
    acc.kind = agg.kind;
    acc.aggregation = f.aggregation;
    acc.feature = feature;
    acc.slot = slot_of_aggregation[f.aggregation];
    acc.string_slot = acc.slot >= 0 ? program->slot_string_index_[acc.slot] : -1;
    acc.window = f.window;
    acc.precision = agg.precision;
    bool remembers = agg.kind == AggKind::kLast || agg.kind == AggKind::kTimeSinceLast ||
                     agg.kind == AggKind::kFirstSeen;
    acc.forgets = f.window != kLifetime && !remembers;
    program->accumulators_.push_back(acc);
  }
  // The columns the expressions read, found by evaluating nothing: ask each expression's resolver again.
  std::vector<bool> used(program->source_->schema.size(), false);
  auto mark = [&](const Expr& expr) {
    ExprResolver resolve = [&](std::string_view name) -> Result<ExprSlot> {
      int index = program->source_->schema.IndexOf(name);
      if (index < 0) return Status::NotFound(std::string(name));
      used[index] = true;
      return SlotForColumn(program->source_->schema, index);
    };
    (void)Expr::Compile(expr.text(), resolve, ExprSource{});
  };
  for (const Expr& e : program->slot_expr_) mark(e);
  for (const AggregationDef& agg : def.aggregations) {
    if (agg.filter) mark(*agg.filter);
  }
  for (int c = 0; c < static_cast<int>(used.size()); ++c) {
    if (used[c]) program->used_columns_.push_back(c);
  }
  // Everything the stored bytes depend on, in order (names do not matter: renaming a feature keeps its state).
  std::string layout;
  for (size_t s = 0; s < program->slot_expr_.size(); ++s) {
    layout += fmt::format("slot {} {} {}\n", program->slot_expr_[s].text(), static_cast<int>(program->slot_type_[s]),
                          program->slot_string_index_[s]);
  }
  for (size_t a = 0; a < def.aggregations.size(); ++a) {
    const AggregationDef& agg = def.aggregations[a];
    layout += fmt::format("aggregation {} {} {}\n", static_cast<int>(agg.kind),
                          agg.filter ? agg.filter->text() : std::string(), slot_of_aggregation[a]);
  }
  for (const Accumulator& acc : program->accumulators_) {
    layout += fmt::format("accumulator {} {} {} {} {} {} {}\n", static_cast<int>(acc.kind), acc.aggregation, acc.slot,
                          acc.string_slot, acc.window, acc.forgets, acc.precision);
  }
  program->fingerprint_ = XXH3_64bits(layout.data(), layout.size());
  return std::shared_ptr<const GroupProgram>(std::move(program));
}

void EncodeEvent(const GroupProgram& program, std::span<const ExprValue> row, int64_t ts, GroupEvent* out) {
  out->ts = ts;
  out->filters = 0;
  const auto& aggs = program.def_->aggregations;
  for (size_t a = 0; a < aggs.size(); ++a) {
    if (!aggs[a].filter || aggs[a].filter->Test(row)) out->filters |= uint64_t{1} << a;
  }
  int slots = program.num_slots();
  out->nulls = 0;
  out->bits.resize(slots);
  out->texts.resize(program.num_string_slots_);
  for (int s = 0; s < slots; ++s) {
    ExprValue v = program.slot_expr_[s].Evaluate(row);
    if (v.is_null() || (v.kind == ExprValue::Kind::kNumber && std::isnan(v.number))) {
      out->nulls |= uint64_t{1} << s;
      out->bits[s] = 0;
      if (program.slot_string_index_[s] >= 0) out->texts[program.slot_string_index_[s]].clear();
      continue;
    }
    out->bits[s] = ValueBits(v);
    if (program.slot_string_index_[s] >= 0) out->texts[program.slot_string_index_[s]].assign(v.string);
  }
}

Result<IsNewQueries> IsNewQueries::Compile(const FeatureRegistry& registry, const GroupProgram& program,
                                           const Schema& rows, std::string_view rows_name,
                                           const std::function<bool(int feature)>& wanted) {
  IsNewQueries queries;
  const auto& accumulators = program.accumulators();
  queries.of_.resize(accumulators.size());
  std::set<int> columns;
  for (size_t i = 0; i < accumulators.size(); ++i) {
    if (accumulators[i].kind != AggKind::kIsNew || !wanted(accumulators[i].feature)) continue;
    const AggregationDef& agg = program.def().aggregations[accumulators[i].aggregation];
    ExprResolver resolve = [&](std::string_view name) -> Result<ExprSlot> {
      int index = rows.IndexOf(name);
      if (index < 0) {
        return Status::InvalidArgument(fmt::format("feature '{}' (is_new) needs column '{}' of the event, which {} "
                                                   "lacks (columns: {})", registry.features()[accumulators[i].feature].name,
                                                   name, rows_name, rows.NameList()));
      }
      columns.insert(index);
      return SlotForColumn(rows, index);
    };
    Result<Expr> expr = Expr::Compile(agg.of_text, resolve, agg.of_where);
    if (!expr.ok()) return Status::InvalidArgument(expr.status().message());
    queries.of_[i] = std::move(*expr);
  }
  queries.columns_.assign(columns.begin(), columns.end());
  return queries;
}

void IsNewQueries::Evaluate(std::span<const ExprValue> row, std::span<std::optional<uint64_t>> out) const {
  for (size_t i = 0; i < of_.size(); ++i) {
    if (!of_[i]) continue;
    ExprValue v = of_[i]->Evaluate(row);
    out[i] = v.is_null() ? std::nullopt : std::optional<uint64_t>(ValueBits(v));
  }
}

// ---------------------------------------------------------------------------------------------------------
// Accumulators

namespace {

// State beyond a counter, allocated only by the kinds that need it.
struct AccExtra {
  __int128 sum = 0;
  Int256 sumsq;  // sum of squares of the (clamped) fixed-point values, exact
  double extreme = 0;
  bool has_extreme = false;
  std::vector<uint64_t> deque;  // forgetting min/max: absolute event indices, values monotone
  size_t deque_head = 0;
  ValueCounts distinct;
  std::optional<SlidingHyperLogLog> hll;
  int64_t last_ts = INT64_MIN;
  uint64_t last_bits = 0;
  std::string last_text;
  int64_t first_ts = INT64_MAX;
};

struct Acc {
  uint64_t begin = 0;  // absolute index of the first event in the accumulator
  uint64_t end = 0;    // one past the last event added
  int64_t n = 0;       // matches (count, ratio) or non-null values (sum, mean, stddev)
  int64_t total = 0;   // ratio: all events
  std::unique_ptr<AccExtra> x;

  Acc() = default;
  Acc(const Acc& o) : begin(o.begin), end(o.end), n(o.n), total(o.total) {
    if (o.x) x = std::make_unique<AccExtra>(*o.x);
  }
  Acc& operator=(const Acc& o) {
    if (this != &o) {
      begin = o.begin;
      end = o.end;
      n = o.n;
      total = o.total;
      x = o.x ? std::make_unique<AccExtra>(*o.x) : nullptr;
    }
    return *this;
  }
  Acc(Acc&&) = default;
  Acc& operator=(Acc&&) = default;

  AccExtra& extra(const GroupProgram::Accumulator& spec) {
    if (!x) {
      x = std::make_unique<AccExtra>();
      if (spec.kind == AggKind::kApproxCountDistinct) x->hll.emplace(spec.precision);
    }
    return *x;
  }
};

}  // namespace

struct KeyState::Impl {
  const GroupProgram* program;
  // Raw events [base, base + size), in time order (arrival order within one timestamp). Stored column-wise
  // from `head` on; the front is compacted away once half the vectors is dead.
  uint64_t base = 0;
  size_t head = 0;
  std::vector<int64_t> ts;
  std::vector<uint64_t> filters;
  std::vector<uint64_t> nulls;
  std::vector<uint64_t> bits;        // num_slots per event
  std::vector<std::string> texts;    // num_string_slots per event
  std::vector<Acc> live;             // one per accumulator
  std::vector<Acc> archive;          // evicted events, for accumulators that remember (empty Acc otherwise)
  int64_t archive_latest = INT64_MIN;
  bool dirty = true;                 // live accumulators must be rebuilt before the next read
  int64_t read_t = INT64_MIN;        // time of the read the live accumulators are positioned at

  explicit Impl(const GroupProgram* p) : program(p) {
    live.resize(p->accumulators().size());
    archive.resize(p->accumulators().size());
  }

  size_t size() const { return ts.size() - head; }
  uint64_t end_index() const { return base + size(); }

  // A read starts from the newest events and every accumulator. On a server the key was last touched many
  // requests ago, so each of these is a cache miss; asked for together they overlap instead of coming one
  // after the other (perf showed a read stalled on ts, then filters, then nulls). Always inlined: GCC deems a
  // function doing nothing but prefetches free of effects and drops the call.
  [[gnu::always_inline]] void PrefetchForRead() const {
    if (ts.size() > head) {
      const size_t last = ts.size() - 1;
      __builtin_prefetch(&ts[last]);
      __builtin_prefetch(&filters[last]);
      __builtin_prefetch(&nulls[last]);
      if (!bits.empty()) __builtin_prefetch(&bits[last * static_cast<size_t>(num_slots())]);
    }
    const char* accs = reinterpret_cast<const char*>(live.data());
    for (size_t offset = 0; offset < live.size() * sizeof(Acc); offset += 64) __builtin_prefetch(accs + offset);
    // Then what the accumulators point to (distinct values, last values...): one wait for the lines above
    // instead of a miss per accumulator later.
    const auto& specs = program->accumulators();
    for (size_t i = 0; i < live.size(); ++i) {
      const AccExtra* x = live[i].x.get();
      if (x == nullptr) continue;
      switch (specs[i].kind) {
        case AggKind::kCountDistinct:
        case AggKind::kIsNew:
          __builtin_prefetch(&x->distinct);
          break;
        case AggKind::kLast:
        case AggKind::kTimeSinceLast:
          __builtin_prefetch(&x->last_ts);
          break;
        case AggKind::kFirstSeen:
          __builtin_prefetch(&x->first_ts);
          break;
        case AggKind::kApproxCountDistinct:
          __builtin_prefetch(&x->hll);
          break;
        case AggKind::kMin:
        case AggKind::kMax:
          __builtin_prefetch(&x->deque);
          break;
        default:
          __builtin_prefetch(x);  // sums
          break;
      }
    }
  }
  size_t pos(uint64_t index) const { return head + static_cast<size_t>(index - base); }
  int num_slots() const { return program->num_slots(); }
  int num_texts() const { return program->num_string_slots(); }

  bool Matches(const GroupProgram::Accumulator& spec, size_t p) const {
    return (filters[p] >> spec.aggregation) & 1;
  }
  bool ValueNull(const GroupProgram::Accumulator& spec, size_t p) const {
    return spec.slot < 0 || ((nulls[p] >> spec.slot) & 1);
  }
  uint64_t Bits(const GroupProgram::Accumulator& spec, size_t p) const {
    return bits[p * num_slots() + spec.slot];
  }
  double Number(const GroupProgram::Accumulator& spec, size_t p) const { return BitsToDouble(Bits(spec, p)); }

  void Add(const GroupProgram::Accumulator& spec, Acc& acc, uint64_t index) {
    size_t p = pos(index);
    bool match = Matches(spec, p);
    switch (spec.kind) {
      case AggKind::kCount:
        acc.n += match;
        return;
      case AggKind::kRatio:
        acc.total += 1;
        acc.n += match;
        return;
      case AggKind::kFirstSeen:
        if (match) acc.extra(spec).first_ts = std::min(acc.extra(spec).first_ts, ts[p]);
        return;
      case AggKind::kTimeSinceLast:
        if (match) acc.extra(spec).last_ts = ts[p];
        return;
      default:
        break;
    }
    if (!match || ValueNull(spec, p)) return;
    AccExtra& x = acc.extra(spec);
    switch (spec.kind) {
      case AggKind::kSum:
      case AggKind::kMean:
      case AggKind::kStddev: {
        double v = Number(spec, p);
        acc.n += 1;
        x.sum += ToFixed(v);
        x.sumsq.Add(FixedSquare(v));
        return;
      }
      case AggKind::kMin:
      case AggKind::kMax: {
        double v = Number(spec, p);
        bool is_min = IsMin(spec.kind);
        if (!spec.forgets) {
          if (!x.has_extreme || (is_min ? v < x.extreme : v > x.extreme)) x.extreme = v;
          x.has_extreme = true;
          return;
        }
        // Monotone deque: drop entries the new value makes irrelevant (ties keep the newer one).
        while (x.deque.size() > x.deque_head) {
          double back = Number(spec, pos(x.deque.back()));
          if (is_min ? back < v : back > v) break;
          x.deque.pop_back();
        }
        x.deque.push_back(index);
        return;
      }
      case AggKind::kCountDistinct:
      case AggKind::kIsNew:
        x.distinct.Add(Bits(spec, p));
        return;
      case AggKind::kApproxCountDistinct:
        x.hll->Add(Mix(Bits(spec, p)), ts[p]);
        return;
      case AggKind::kLast:
        x.last_ts = ts[p];
        x.last_bits = Bits(spec, p);
        if (spec.string_slot >= 0) x.last_text = texts[p * num_texts() + spec.string_slot];
        return;
      default:
        return;
    }
  }

  void Remove(const GroupProgram::Accumulator& spec, Acc& acc, uint64_t index) {
    size_t p = pos(index);
    bool match = Matches(spec, p);
    switch (spec.kind) {
      case AggKind::kCount:
        acc.n -= match;
        return;
      case AggKind::kRatio:
        acc.total -= 1;
        acc.n -= match;
        return;
      default:
        break;
    }
    if (!match || ValueNull(spec, p)) return;
    AccExtra& x = acc.extra(spec);
    switch (spec.kind) {
      case AggKind::kSum:
      case AggKind::kMean:
      case AggKind::kStddev: {
        double v = Number(spec, p);
        acc.n -= 1;
        x.sum -= ToFixed(v);
        x.sumsq.Sub(FixedSquare(v));
        return;
      }
      case AggKind::kMin:
      case AggKind::kMax:
        if (x.deque.size() > x.deque_head && x.deque[x.deque_head] == index) {
          ++x.deque_head;
          if (x.deque_head == x.deque.size()) {
            x.deque.clear();
            x.deque_head = 0;
          } else if (x.deque_head > 32 && x.deque_head * 2 > x.deque.size()) {
            x.deque.erase(x.deque.begin(), x.deque.begin() + static_cast<std::ptrdiff_t>(x.deque_head));
            x.deque_head = 0;
          }
        }
        return;
      case AggKind::kCountDistinct:
      case AggKind::kIsNew: {
        x.distinct.Remove(Bits(spec, p));
        return;
      }
      default:
        return;  // approx_count_distinct expires by time (Advance)
    }
  }

  // Adds event `index` after those already in `acc`. A gap of at least the group's ttl since the event before
  // it (in the buffer, or the newest archived one) restarts the accumulator: the key's history begins again,
  // as the online store's expiry makes it. Done here, in time order, rather than when an event arrives, so
  // a late event or a read at an earlier time still sees the history from before the gap.
  void Extend(const GroupProgram::Accumulator& spec, Acc& acc, uint64_t index) {
    int64_t previous = index > base ? ts[pos(index - 1)] : archive_latest;
    int64_t now = ts[pos(index)];
    if (previous != INT64_MIN && now - previous >= program->def().ttl) {
      if (spec.forgets) {
        for (; acc.begin < acc.end; ++acc.begin) Remove(spec, acc, acc.begin);
        if (spec.kind == AggKind::kApproxCountDistinct && acc.x) acc.x->hll->ExpireBefore(now);
      } else {
        uint64_t begin = acc.begin, end = acc.end;
        acc = Acc();
        acc.begin = begin;
        acc.end = end;
      }
    }
    Add(spec, acc, index);
  }

  // Position (in `ts`) of the first buffered event at or after t. Reads come at or just after the newest
  // event, so the search gallops from the back: O(1) for them instead of a binary search whose probes miss the
  // cache on keys with long histories.
  size_t FirstAtOrAfter(int64_t t) const {
    size_t hi = ts.size();  // ts[hi..] >= t
    size_t step = 1;
    while (hi > head && ts[hi - 1] >= t) {
      size_t lo = hi - std::min(step, hi - head);
      if (ts[lo] < t) {
        return static_cast<size_t>(std::lower_bound(ts.begin() + static_cast<std::ptrdiff_t>(lo),
                                                    ts.begin() + static_cast<std::ptrdiff_t>(hi), t) - ts.begin());
      }
      hi = lo;
      step *= 2;
    }
    return hi;
  }

  // Moves every live accumulator to cover [t - window, t); `at_t` = FirstAtOrAfter(t).
  void Advance(int64_t t, size_t at_t) {
    const auto& specs = program->accumulators();
    // Events are in time order: the first at or after t ends every accumulator.
    const uint64_t stop = base + (at_t - head);
    for (size_t i = 0; i < specs.size(); ++i) {
      const auto& spec = specs[i];
      Acc& acc = live[i];
      for (; acc.end < stop; ++acc.end) Extend(spec, acc, acc.end);
      if (!spec.forgets) continue;
      int64_t start = t - spec.window;
      for (; acc.begin < acc.end && ts[pos(acc.begin)] < start; ++acc.begin) Remove(spec, acc, acc.begin);
      if (spec.kind == AggKind::kApproxCountDistinct && acc.x) acc.x->hll->ExpireBefore(start);
    }
    read_t = t;
  }

  // Whether the live accumulators, positioned at read_t, already hold exactly what a read at the earlier t
  // needs: no event in [t, read_t) and, for each window that forgets, no event in [t - window, read_t - window)
  // was removed. Then a read a moment back in time (concurrent requests for one key finishing out of order)
  // costs nothing instead of a rebuild from the whole buffer.
  bool CanStepBack(int64_t t, size_t at_t) const {
    if (at_t < ts.size() && ts[at_t] < read_t) return false;
    const auto& specs = program->accumulators();
    for (size_t i = 0; i < specs.size(); ++i) {
      if (!specs[i].forgets) continue;
      const Acc& acc = live[i];
      int64_t last_removed = acc.begin > base ? ts[pos(acc.begin - 1)] : archive_latest;
      if (last_removed != INT64_MIN && last_removed >= t - specs[i].window) return false;
    }
    return true;
  }

  void Rebuild() {
    const auto& specs = program->accumulators();
    for (size_t i = 0; i < specs.size(); ++i) {
      live[i] = specs[i].forgets ? Acc() : archive[i];
      live[i].begin = live[i].end = base;
    }
    dirty = false;
    read_t = INT64_MIN;
  }

  // Drops events no future read needs (older than the newest minus the horizon), folding them into the
  // archive of the accumulators that remember.
  void Evict(int64_t latest) {
    int64_t horizon = program->def().horizon;
    if (latest < INT64_MIN + horizon) return;
    int64_t cut = latest - horizon;
    size_t n = 0;
    while (head + n < ts.size() && ts[head + n] < cut) ++n;
    if (n == 0) return;
    const auto& specs = program->accumulators();
    uint64_t new_base = base + n;
    for (size_t i = 0; i < specs.size(); ++i) {
      const auto& spec = specs[i];
      if (!spec.forgets) {
        for (uint64_t e = base; e < new_base; ++e) Extend(spec, archive[i], e);
      }
      if (dirty) continue;
      Acc& acc = live[i];
      // Every valid later read includes these events (lifetime) or excludes them (finite windows).
      for (; acc.end < new_base; ++acc.end) Extend(spec, acc, acc.end);
      if (spec.forgets) {
        for (; acc.begin < new_base; ++acc.begin) Remove(spec, acc, acc.begin);
        if (spec.kind == AggKind::kApproxCountDistinct && acc.x) acc.x->hll->ExpireBefore(cut);
      }
    }
    archive_latest = std::max(archive_latest, ts[head + n - 1]);
    head += n;
    base = new_base;
    if (head > 64 && head * 2 > ts.size()) Compact();
  }

  void Compact() {
    auto drop = [this](auto& v, size_t per_event) {
      v.erase(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(head * per_event));
    };
    drop(ts, 1);
    drop(filters, 1);
    drop(nulls, 1);
    drop(bits, num_slots());
    drop(texts, num_texts());
    head = 0;
  }

  void Insert(size_t at, const GroupEvent& e) {
    auto offset = static_cast<std::ptrdiff_t>(at);
    ts.insert(ts.begin() + offset, e.ts);
    filters.insert(filters.begin() + offset, e.filters);
    nulls.insert(nulls.begin() + offset, e.nulls);
    bits.insert(bits.begin() + offset * num_slots(), e.bits.begin(), e.bits.end());
    texts.insert(texts.begin() + offset * num_texts(), e.texts.begin(), e.texts.end());
  }

  FeatureValue Value(const GroupProgram::Accumulator& spec, const Acc& acc, int64_t t,
                     const std::optional<uint64_t>& query_bits) const {
    const AccExtra* x = acc.x.get();
    switch (spec.kind) {
      case AggKind::kCount:
        return FeatureValue::Number(static_cast<double>(acc.n));
      case AggKind::kRatio:
        return acc.total == 0 ? FeatureValue() : FeatureValue::Number(static_cast<double>(acc.n) / acc.total);
      case AggKind::kSum:
        return FeatureValue::Number(acc.n == 0 ? 0.0 : static_cast<double>(FromFixed(x->sum)));
      case AggKind::kMean:
        return acc.n == 0 ? FeatureValue() : FeatureValue::Number(static_cast<double>(FromFixed(x->sum) / acc.n));
      case AggKind::kStddev: {
        if (acc.n < 2) return FeatureValue();
        // n * sum(V^2) - sum(V)^2, exactly (V = value in 2^-40 units, clamped as the squares were).
        __int128 sum = x->sum;
        unsigned __int128 magnitude = static_cast<unsigned __int128>(sum < 0 ? -sum : sum);
        Int256 numerator = x->sumsq.Times(static_cast<uint64_t>(acc.n));
        numerator.Sub(Int256::Multiply(magnitude, magnitude));
        if (numerator.Negative()) return FeatureValue::Number(0);  // only when values were clamped
        long double var = std::ldexp(numerator.ToLongDouble(), -2 * kFixedBits) /
                          (static_cast<long double>(acc.n) * static_cast<long double>(acc.n - 1));
        return FeatureValue::Number(static_cast<double>(std::sqrt(var)));
      }
      case AggKind::kMin:
      case AggKind::kMax:
        if (x == nullptr) return FeatureValue();
        if (!spec.forgets) return x->has_extreme ? FeatureValue::Number(x->extreme) : FeatureValue();
        return x->deque.size() > x->deque_head ? FeatureValue::Number(Number(spec, pos(x->deque[x->deque_head])))
                                               : FeatureValue();
      case AggKind::kCountDistinct:
        return FeatureValue::Number(x == nullptr ? 0.0 : static_cast<double>(x->distinct.size()));
      case AggKind::kApproxCountDistinct:
        return FeatureValue::Number(x == nullptr ? 0.0 : std::round(x->hll->Estimate()));
      case AggKind::kIsNew:
        if (!query_bits) return FeatureValue();
        return FeatureValue::Number(x != nullptr && x->distinct.Contains(*query_bits) ? 0.0 : 1.0);
      case AggKind::kFirstSeen:
        if (x == nullptr || x->first_ts == INT64_MAX) return FeatureValue();
        return FeatureValue::Number(static_cast<double>(t - x->first_ts) / 1e6);
      case AggKind::kTimeSinceLast:
      case AggKind::kLast: {
        if (x == nullptr || x->last_ts == INT64_MIN) return FeatureValue();
        if (spec.window != kLifetime && x->last_ts < t - spec.window) return FeatureValue();
        if (spec.kind == AggKind::kTimeSinceLast) return FeatureValue::Number(static_cast<double>(t - x->last_ts) / 1e6);
        FeatureValue v;
        v.null = false;
        if (spec.string_slot >= 0) {
          v.text = x->last_text;
        } else {
          v.number = BitsToDouble(x->last_bits);
        }
        return v;
      }
    }
    return FeatureValue();
  }
};

// ---------------------------------------------------------------------------------------------------------
// KeyState

KeyState::KeyState(const GroupProgram* program) : impl_(std::make_unique<Impl>(program)) {}
KeyState::KeyState(KeyState&&) noexcept = default;
KeyState& KeyState::operator=(KeyState&&) noexcept = default;
KeyState::~KeyState() = default;

bool KeyState::empty() const { return impl_->size() == 0 && impl_->archive_latest == INT64_MIN; }
size_t KeyState::buffered_events() const { return impl_->size(); }

KeyState::AppendResult KeyState::Append(const GroupEvent& event) {
  Impl& s = *impl_;
  if (latest_ts_ == INT64_MIN || event.ts >= latest_ts_) {
    s.Insert(s.ts.size(), event);
    latest_ts_ = event.ts;
    s.Evict(latest_ts_);
    return AppendResult::kAccepted;
  }
  if (latest_ts_ - event.ts > s.program->lateness()) return AppendResult::kTooLate;
  // After every event at or before its time: it arrived later than those.
  auto at = std::upper_bound(s.ts.begin() + static_cast<std::ptrdiff_t>(s.head), s.ts.end(), event.ts);
  if (at == s.ts.begin() + static_cast<std::ptrdiff_t>(s.head) && s.archive_latest != INT64_MIN &&
      event.ts < s.archive_latest) {
    return AppendResult::kTooLate;  // would belong among evicted events
  }
  s.Insert(static_cast<size_t>(at - s.ts.begin()), event);
  // The live accumulators cover events before the last read's time: a late event at or after it lands past
  // all of them (it sorts after every event before read_t), so they stay valid; an earlier one invalidates them.
  if (event.ts < s.read_t) s.dirty = true;
  return AppendResult::kLate;
}

ReadStatus KeyState::Read(int64_t t, std::span<const std::optional<uint64_t>> is_new_bits,
                          std::span<FeatureValue> out) {
  Impl& s = *impl_;
  s.PrefetchForRead();
  const auto& specs = s.program->accumulators();
  // The newest event strictly before t.
  size_t first_at_t = s.FirstAtOrAfter(t);
  int64_t latest_before = first_at_t == s.head ? s.archive_latest : s.ts[first_at_t - 1];
  ReadStatus status = ReadStatus::kPresent;
  if (latest_before == INT64_MIN || t - latest_before >= s.program->def().ttl) {
    // No history, or idle past the ttl (events after the gap, if any, are not before t).
    status = ReadStatus::kNotFound;
    for (size_t i = 0; i < specs.size(); ++i) {
      out[i] = s.Value(specs[i], Acc(), t, is_new_bits.empty() ? std::nullopt : is_new_bits[i]);
    }
    return status;
  }
  // One search serves the whole read (Rebuild moves no event).
  if (s.dirty || (t < s.read_t && !s.CanStepBack(t, first_at_t))) s.Rebuild();
  s.Advance(t, first_at_t);
  if (t - latest_before > s.program->def().max_age) {
    for (size_t i = 0; i < specs.size(); ++i) out[i] = FeatureValue();
    return ReadStatus::kOutsideMaxAge;
  }
  for (size_t i = 0; i < specs.size(); ++i) {
    out[i] = s.Value(specs[i], s.live[i], t, is_new_bits.empty() ? std::nullopt : is_new_bits[i]);
  }
  return status;
}

// ---------------------------------------------------------------------------------------------------------
// Serialization: version, latest, archive_latest, events, archived accumulators. Integers are LEB128
// varints (timestamps zigzag-delta encoded), values raw 8-byte little endian.

namespace {

void PutVarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}
uint64_t ZigZag(int64_t v) { return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63); }
int64_t UnZigZag(uint64_t v) { return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1); }
void PutFixed64(std::string* out, uint64_t v) {
  char b[8];
  std::memcpy(b, &v, 8);
  out->append(b, 8);
}
void PutBytes(std::string* out, std::string_view s) {
  PutVarint(out, s.size());
  out->append(s);
}

struct Reader {
  std::string_view in;
  bool ok = true;
  uint64_t Varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (in.empty()) break;
      auto byte = static_cast<uint8_t>(in[0]);
      in.remove_prefix(1);
      v |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) return v;
    }
    ok = false;
    return 0;
  }
  uint64_t Fixed64() {
    if (in.size() < 8) {
      ok = false;
      return 0;
    }
    uint64_t v;
    std::memcpy(&v, in.data(), 8);
    in.remove_prefix(8);
    return v;
  }
  std::string Bytes() {
    uint64_t n = Varint();
    if (!ok || n > in.size()) {
      ok = false;
      return {};
    }
    std::string s(in.substr(0, n));
    in.remove_prefix(n);
    return s;
  }
};

constexpr uint8_t kFormatVersion = 1;                // Serialize: a bare snapshot
constexpr uint8_t kStoredWithoutFingerprint = 2;     // expiry, snapshot, then event records (before fingerprints)
constexpr uint8_t kStoredFormatVersion = 3;          // AppendSnapshot: fingerprint, expiry, snapshot, records

void PutInt128(std::string* out, __int128 v) {
  PutFixed64(out, static_cast<uint64_t>(v));
  PutFixed64(out, static_cast<uint64_t>(static_cast<unsigned __int128>(v) >> 64));
}
__int128 GetInt128(Reader& r) {
  uint64_t lo = r.Fixed64();
  uint64_t hi = r.Fixed64();
  return static_cast<__int128>((static_cast<unsigned __int128>(hi) << 64) | lo);
}

// One event: its time (a delta from `prev` in a snapshot, absolute in a record), filter and null bits, the
// values of its non-null slots, its texts.
void PutEvent(int64_t ts_from_prev, uint64_t filters, uint64_t nulls, std::span<const uint64_t> bits,
              std::span<const std::string> texts, std::string* out) {
  PutVarint(out, ZigZag(ts_from_prev));
  PutVarint(out, filters);
  PutVarint(out, nulls);
  for (size_t slot = 0; slot < bits.size(); ++slot) {
    if (!((nulls >> slot) & 1)) PutFixed64(out, bits[slot]);
  }
  for (const std::string& text : texts) PutBytes(out, text);
}

// Reads what PutEvent wrote into `e` (whose bits and texts have the program's sizes); false if truncated.
bool ReadEvent(Reader& r, int64_t prev, GroupEvent* e) {
  e->ts = prev + UnZigZag(r.Varint());
  e->filters = r.Varint();
  e->nulls = r.Varint();
  for (size_t slot = 0; slot < e->bits.size(); ++slot) e->bits[slot] = ((e->nulls >> slot) & 1) ? 0 : r.Fixed64();
  for (auto& text : e->texts) text = r.Bytes();
  return r.ok;
}

Status CorruptState(const GroupProgram& program, std::string_view what) {
  return Status::Corruption("online state of group '" + program.def().name + "' is corrupt (" + std::string(what) +
                            ")");
}

}  // namespace

void KeyState::Serialize(std::string* out) const {
  out->push_back(static_cast<char>(kFormatVersion));
  SerializeBody(out);
}

void KeyState::SerializeBody(std::string* out) const {
  const Impl& s = *impl_;
  PutVarint(out, ZigZag(latest_ts_));
  PutVarint(out, ZigZag(s.archive_latest));
  PutVarint(out, s.size());
  int64_t prev = latest_ts_;
  for (size_t p = s.head; p < s.ts.size(); ++p) {
    PutEvent(s.ts[p] - prev, s.filters[p], s.nulls[p], std::span(s.bits).subspan(p * s.num_slots(), s.num_slots()),
             std::span(s.texts).subspan(p * s.num_texts(), s.num_texts()), out);
    prev = s.ts[p];
  }
  const auto& specs = s.program->accumulators();
  for (size_t i = 0; i < specs.size(); ++i) {
    if (specs[i].forgets) continue;
    const Acc& a = s.archive[i];
    PutVarint(out, static_cast<uint64_t>(a.n));
    PutVarint(out, static_cast<uint64_t>(a.total));
    out->push_back(a.x ? 1 : 0);
    if (!a.x) continue;
    const AccExtra& x = *a.x;
    PutInt128(out, x.sum);
    for (uint64_t limb : x.sumsq.w) PutFixed64(out, limb);
    PutFixed64(out, std::bit_cast<uint64_t>(x.extreme));
    out->push_back(x.has_extreme ? 1 : 0);
    PutVarint(out, x.distinct.size());
    // Sorted, so equal states serialize to equal bytes.
    std::vector<std::pair<uint64_t, int32_t>> entries = x.distinct.Sorted();
    for (const auto& [k, v] : entries) {
      PutFixed64(out, k);
      PutVarint(out, static_cast<uint64_t>(v));
    }
    out->push_back(x.hll ? 1 : 0);
    if (x.hll) {
      std::string hll;
      x.hll->Serialize(&hll);
      PutBytes(out, hll);
    }
    PutVarint(out, ZigZag(x.last_ts));
    PutFixed64(out, x.last_bits);
    PutBytes(out, x.last_text);
    PutVarint(out, ZigZag(x.first_ts));
  }
}

Result<KeyState> KeyState::Deserialize(const GroupProgram* program, std::string_view bytes) {
  if (bytes.empty() || static_cast<uint8_t>(bytes[0]) != kFormatVersion) {
    return CorruptState(*program, "unknown format version");
  }
  std::string_view rest = bytes.substr(1);
  GYRE_ASSIGN_OR_RETURN(KeyState state, ParseBody(program, &rest));
  if (!rest.empty()) return CorruptState(*program, "trailing bytes");
  return state;
}

void KeyState::AppendSnapshot(int64_t expires_at, std::string* out) const {
  out->push_back(static_cast<char>(kStoredFormatVersion));
  PutFixed64(out, impl_->program->fingerprint());
  PutVarint(out, ZigZag(expires_at));
  SerializeBody(out);
}

void KeyState::AppendEventRecord(const GroupProgram& program, const GroupEvent& event, int64_t expires_at,
                                 std::string* out) {
  PutVarint(out, ZigZag(expires_at));
  PutEvent(event.ts, event.filters, event.nulls, std::span(event.bits).first(program.num_slots()),
           std::span(event.texts).first(program.num_string_slots()), out);
}

Result<KeyState::Stored> KeyState::LoadStored(const GroupProgram* program, std::string_view bytes) {
  auto written_under_another_definition = [program] {
    Stored reset{KeyState(program)};
    reset.legacy = true;
    reset.definition_changed = true;
    return reset;
  };
  const uint8_t version = bytes.empty() ? 0 : static_cast<uint8_t>(bytes[0]);
  if (version == kFormatVersion) {
    // Written before appends existed: a bare snapshot, expiry unknown.
    Result<KeyState> state = Deserialize(program, bytes);
    if (!state.ok()) return written_under_another_definition();
    int64_t events = static_cast<int64_t>(state->buffered_events());
    return Stored{std::move(*state), 0, events, 0, true};
  }
  if (version != kStoredFormatVersion && version != kStoredWithoutFingerprint) {
    return CorruptState(*program, "unknown format version");
  }
  Reader r{bytes.substr(1)};
  if (version == kStoredFormatVersion) {
    const uint64_t fingerprint = r.Fixed64();
    if (!r.ok) return CorruptState(*program, "truncated");
    if (fingerprint != program->fingerprint()) return written_under_another_definition();
  }
  int64_t expires_at = UnZigZag(r.Varint());
  if (!r.ok) return CorruptState(*program, "truncated");
  Result<Stored> stored = ReplayStored(program, &r.in, expires_at);
  if (version == kStoredWithoutFingerprint) {
    // Its definition is unknown: bytes that do not parse are most likely another definition's.
    if (!stored.ok()) return written_under_another_definition();
    stored->legacy = true;
  }
  return stored;
}

Result<KeyState::Stored> KeyState::ReplayStored(const GroupProgram* program, std::string_view* in, int64_t expires_at) {
  GYRE_ASSIGN_OR_RETURN(KeyState state, ParseBody(program, in));
  Stored stored{std::move(state), expires_at, 0, 0, false};
  stored.snapshot_events = static_cast<int64_t>(stored.state.buffered_events());
  Reader r{*in};
  GroupEvent e;
  e.bits.resize(program->num_slots());
  e.texts.resize(program->num_string_slots());
  while (!r.in.empty()) {
    stored.expires_at = UnZigZag(r.Varint());
    if (!ReadEvent(r, 0, &e)) return CorruptState(*program, "truncated event record");
    // Replayed as accepted the first time: the same events in the same order reach the same state.
    stored.state.Append(e);
    ++stored.records;
  }
  *in = r.in;
  return stored;
}

Result<KeyState> KeyState::ParseBody(const GroupProgram* program, std::string_view* in) {
  Reader r{*in};
  KeyState state(program);
  Impl& s = *state.impl_;
  auto corrupt = [&](std::string_view what) { return CorruptState(*program, what); };
  state.latest_ts_ = UnZigZag(r.Varint());
  s.archive_latest = UnZigZag(r.Varint());
  uint64_t events = r.Varint();
  if (!r.ok || events > r.in.size()) return corrupt("event count");
  int64_t prev = state.latest_ts_;
  GroupEvent e;
  e.bits.resize(program->num_slots());
  e.texts.resize(program->num_string_slots());
  for (uint64_t i = 0; i < events; ++i) {
    if (!ReadEvent(r, prev, &e)) return corrupt("truncated");
    prev = e.ts;
    if (!s.ts.empty() && e.ts < s.ts.back()) return corrupt("events out of order");
    s.Insert(s.ts.size(), e);
  }
  const auto& specs = program->accumulators();
  for (size_t i = 0; i < specs.size() && r.ok; ++i) {
    if (specs[i].forgets) continue;
    Acc& a = s.archive[i];
    a.n = static_cast<int64_t>(r.Varint());
    a.total = static_cast<int64_t>(r.Varint());
    if (r.in.empty()) return corrupt("truncated");
    bool has_extra = r.in[0] != 0;
    r.in.remove_prefix(1);
    if (!has_extra) continue;
    AccExtra& x = a.extra(specs[i]);
    x.sum = GetInt128(r);
    for (uint64_t& limb : x.sumsq.w) limb = r.Fixed64();
    x.extreme = std::bit_cast<double>(r.Fixed64());
    if (r.in.empty()) return corrupt("truncated");
    x.has_extreme = r.in[0] != 0;
    r.in.remove_prefix(1);
    uint64_t distinct = r.Varint();
    if (!r.ok || distinct > r.in.size()) return corrupt("distinct values");
    for (uint64_t d = 0; d < distinct && r.ok; ++d) {
      uint64_t k = r.Fixed64();
      uint64_t count = r.Varint();
      if (count == 0 || count >= (uint64_t{1} << 31) || x.distinct.Contains(k)) return corrupt("distinct counts");
      x.distinct.Set(k, static_cast<int32_t>(count));
    }
    if (r.in.empty()) return corrupt("truncated");
    bool has_hll = r.in[0] != 0;
    r.in.remove_prefix(1);
    if (has_hll) {
      std::string hll = r.Bytes();
      std::string_view view(hll);
      Result<SlidingHyperLogLog> sketch = SlidingHyperLogLog::Deserialize(&view);
      if (!sketch.ok()) return corrupt(sketch.status().message());
      x.hll = std::move(*sketch);
    }
    x.last_ts = UnZigZag(r.Varint());
    x.last_bits = r.Fixed64();
    x.last_text = r.Bytes();
    x.first_ts = UnZigZag(r.Varint());
  }
  if (!r.ok) return corrupt("truncated");
  *in = r.in;
  s.dirty = true;
  return state;
}

}  // namespace gyre::features
