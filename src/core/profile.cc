#include "core/profile.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <queue>

#include "core/value_parse.h"

namespace gyre {
namespace {

// Keeps the top_k (value, count) pairs: count descending, then value ascending. Offer() values in
// ascending order, so that on equal counts the earlier (smaller) value is kept without comparing values.
template <typename T>
class TopK {
 public:
  explicit TopK(int k) : k_(static_cast<size_t>(std::max(k, 0))) {}

  void Offer(const T& value, int64_t count) {
    if (k_ == 0) return;
    if (heap_.size() < k_) {
      heap_.push({count, order_++, value});
    } else if (count > heap_.top().count) {
      heap_.pop();
      heap_.push({count, order_++, value});
    }
  }

  // Best first.
  std::vector<std::pair<T, int64_t>> Take() {
    std::vector<std::pair<T, int64_t>> out;
    for (; !heap_.empty(); heap_.pop()) out.emplace_back(heap_.top().value, heap_.top().count);
    std::reverse(out.begin(), out.end());
    return out;
  }

 private:
  struct Entry {
    int64_t count;
    int64_t order;  // offer order = value order
    T value;
  };
  struct Worse {  // the heap's top is the entry to drop first: lowest count, then latest offered
    bool operator()(const Entry& a, const Entry& b) const {
      return a.count != b.count ? a.count > b.count : a.order < b.order;
    }
  };
  size_t k_;
  int64_t order_ = 0;
  std::priority_queue<Entry, std::vector<Entry>, Worse> heap_;
};

// Sample mean and standard deviation, two passes for accuracy.
template <typename T>
void MeanStd(const std::vector<T>& values, ColumnProfile* p) {
  if (values.empty()) return;
  long double sum = 0;
  for (T v : values) sum += static_cast<long double>(v);
  const long double mean = sum / static_cast<long double>(values.size());
  p->mean = static_cast<double>(mean);
  if (values.size() < 2) return;
  long double squares = 0;
  for (T v : values) {
    long double d = static_cast<long double>(v) - mean;
    squares += d * d;
  }
  p->stddev = static_cast<double>(std::sqrt(squares / static_cast<long double>(values.size() - 1)));
}

// Distinct count, min, max and top values of sorted values; `convert` makes a ProfileValue of one.
template <typename T, typename Convert>
void SortedStats(const std::vector<T>& sorted, int top_k, Convert convert, ColumnProfile* p) {
  if (sorted.empty()) return;
  p->min = convert(sorted.front());
  p->max = convert(sorted.back());
  TopK<T> top(top_k);
  for (size_t i = 0; i < sorted.size();) {
    size_t j = i + 1;
    while (j < sorted.size() && sorted[j] == sorted[i]) ++j;
    ++p->distinct;
    top.Offer(sorted[i], static_cast<int64_t>(j - i));
    i = j;
  }
  for (auto& [value, count] : top.Take()) p->top.push_back({convert(value), count});
}

void ProfileInt64(const Column& c, const ProfileOptions& o, ColumnProfile* p) {
  std::vector<int64_t> values;
  values.reserve(static_cast<size_t>(p->count));
  auto data = c.int64_values();
  for (int64_t r = 0; r < c.size(); ++r) {
    if (!c.IsNull(r)) values.push_back(data[r]);
  }
  if (c.type() == ColumnType::kInt64) MeanStd(values, p);
  std::sort(values.begin(), values.end());
  if (c.type() == ColumnType::kTimestamp) {
    SortedStats(values, o.top_k, [](int64_t v) { return ProfileValue(FormatTimestamp(v)); }, p);
  } else {
    SortedStats(values, o.top_k, [](int64_t v) { return ProfileValue(v); }, p);
  }
}

void ProfileFloat64(const Column& c, const ProfileOptions& o, ColumnProfile* p) {
  std::vector<double> values;
  values.reserve(static_cast<size_t>(p->count));
  int64_t nans = 0;
  auto data = c.float64_values();
  for (int64_t r = 0; r < c.size(); ++r) {
    if (c.IsNull(r)) continue;
    if (std::isnan(data[r])) {
      ++nans;
    } else {
      values.push_back(data[r]);
    }
  }
  MeanStd(values, p);
  std::sort(values.begin(), values.end());
  // NaN sorts after every number: it is the last candidate for the top values.
  SortedStats(values, o.top_k, [](double v) { return ProfileValue(v); }, p);
  if (nans > 0) {
    ++p->distinct;
    p->top.push_back({std::nan(""), nans});
    std::stable_sort(p->top.begin(), p->top.end(),
                     [](const ValueCount& a, const ValueCount& b) { return a.count > b.count; });
    if (static_cast<int>(p->top.size()) > o.top_k) p->top.resize(std::max(o.top_k, 0));
  }
  if (values.empty()) {  // only NaNs: no numeric range
    p->min = p->max = std::monostate();
  }
}

void ProfileBool(const Column& c, const ProfileOptions& o, ColumnProfile* p) {
  int64_t counts[2] = {0, 0};
  auto data = c.bool_values();
  for (int64_t r = 0; r < c.size(); ++r) {
    if (!c.IsNull(r)) ++counts[data[r] != 0];
  }
  if (counts[0] + counts[1] == 0) return;
  p->min = counts[0] > 0 ? false : true;
  p->max = counts[1] > 0 ? true : false;
  TopK<bool> top(o.top_k);
  for (int v = 0; v < 2; ++v) {
    if (counts[v] > 0) {
      ++p->distinct;
      top.Offer(v != 0, counts[v]);
    }
  }
  for (auto& [value, count] : top.Take()) p->top.push_back({value, count});
}

// Sets p->not_numeric when the column is numbers but for a few values. Each distinct value is parsed once.
void FindNotNumeric(const Column& c, const std::vector<int64_t>& counts, ColumnProfile* p) {
  const StringDictionary& dict = c.dictionary();
  std::vector<bool> number(counts.size(), false);
  NotNumeric n;
  bool all_integers = true;
  for (int32_t code = 0; code < dict.size(); ++code) {
    if (counts[code] == 0) continue;
    int64_t i;
    double d;
    if (ParseInt64(dict.Get(code), &i)) {
      number[code] = true;
    } else if (ParseFloat64(dict.Get(code), &d)) {
      number[code] = true;
      all_integers = false;
    }
    (number[code] ? n.numbers : n.count) += counts[code];
  }
  if (n.count == 0 || n.numbers == 0 ||
      static_cast<double>(n.numbers) < kMostlyNumericShare * static_cast<double>(n.numbers + n.count)) {
    return;
  }
  n.number_type = all_integers ? ColumnType::kInt64 : ColumnType::kFloat64;
  auto codes = c.string_codes();
  for (int64_t r = 0; r < c.size(); ++r) {
    if (codes[r] >= 0 && !number[codes[r]]) {
      n.example = std::string(dict.Get(codes[r]));
      n.example_row = r;
      break;
    }
  }
  p->not_numeric = std::move(n);
}

// The physical line of the first value of `column` that is not a `type` number: the file read again with
// only that column, declared, its bad values sent to a scratch reject file. 0 if the read finds none.
Result<int64_t> FirstNonNumberLine(const std::string& path, const CsvReadOptions& read, const std::string& column,
                                   ColumnType type) {
  static std::atomic<int> sequence{0};
  std::error_code ec;
  std::filesystem::path rejects = std::filesystem::temp_directory_path(ec) /
                                  fmt::format("gyre_profile_{}_{}.csv", ::getpid(), sequence.fetch_add(1));
  if (ec) return Status::IOError(fmt::format("no temporary folder for a scratch file: {}", ec.message()));
  CsvReadOptions again = read;
  again.columns = {CsvColumn{column, type}};
  again.select = {column};
  again.infer_undeclared = false;
  again.reject_path = rejects.string();
  CsvReadOptions reject_file;
  reject_file.columns = {CsvColumn{"line", ColumnType::kInt64}, CsvColumn{"error", ColumnType::kString}};
  Status reread = ReadCsv(path, again).status();
  Result<CsvReadResult> rejected = reread.ok() ? ReadCsv(rejects.string(), reject_file) : Result<CsvReadResult>(reread);
  std::filesystem::remove(rejects, ec);
  GYRE_RETURN_IF_ERROR(rejected.status());
  const Table& t = rejected->table;
  if (t.num_rows() == 0) return int64_t{0};
  // Records the first read already rejected (wrong field count, broken quotes) are rejected again; only a
  // value that does not parse is the one we want.
  const Column& lines = t.column(0);
  const Column& errors = t.column(1);
  for (int64_t r = 0; r < t.num_rows(); ++r) {
    if (errors.String(r).find(": cannot parse ") != std::string_view::npos) return lines.Int64(r);
  }
  return int64_t{0};
}

// A value as a warning quotes it: line ends and tabs escaped, at most 40 characters (cut on a UTF-8
// boundary), so one stray record cannot flood the terminal.
std::string Quoted(std::string_view value) {
  std::string out;
  size_t chars = 0;
  for (size_t i = 0; i < value.size(); ++i) {
    char c = value[i];
    bool starts_char = (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    if (starts_char && ++chars > 40) return out + "\u2026";
    if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else if (c == '\t') out += "\\t";
    else out += c;
  }
  return out;
}

std::string WithThousands(int64_t v) {
  std::string digits = std::to_string(v < 0 ? -v : v), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return v < 0 ? "-" + out : out;
}

void ProfileString(const Column& c, const ProfileOptions& o, ColumnProfile* p) {
  const StringDictionary& dict = c.dictionary();
  std::vector<int64_t> counts(static_cast<size_t>(dict.size()), 0);
  for (int32_t code : c.string_codes()) {
    if (code >= 0) ++counts[code];
  }
  // Visit used codes in value order so that ties in the top values resolve to the smaller string.
  std::vector<int32_t> used;
  for (int32_t code = 0; code < dict.size(); ++code) {
    if (counts[code] > 0) used.push_back(code);
  }
  if (used.empty()) return;
  std::sort(used.begin(), used.end(), [&](int32_t a, int32_t b) { return dict.Get(a) < dict.Get(b); });
  p->distinct = static_cast<int64_t>(used.size());
  p->min = std::string(dict.Get(used.front()));
  p->max = std::string(dict.Get(used.back()));
  int64_t shortest = INT64_MAX, longest = 0;
  TopK<int32_t> top(o.top_k);
  for (int32_t code : used) {
    int64_t length = static_cast<int64_t>(dict.Get(code).size());
    shortest = std::min(shortest, length);
    longest = std::max(longest, length);
    top.Offer(code, counts[code]);
  }
  p->min_length = shortest;
  p->max_length = longest;
  for (auto& [code, count] : top.Take()) p->top.push_back({std::string(dict.Get(code)), count});
  FindNotNumeric(c, counts, p);
}

nlohmann::ordered_json ValueJson(const ProfileValue& v) {
  return std::visit(
      [](const auto& x) -> nlohmann::ordered_json {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          return nullptr;
        } else if constexpr (std::is_same_v<T, double>) {
          if (std::isfinite(x)) return x;
          return ProfileValueToString(x);  // JSON has no NaN or infinity: "nan", "inf", "-inf"
        } else {
          return x;
        }
      },
      v);
}

template <typename T>
nlohmann::ordered_json OptionalJson(const std::optional<T>& v) {
  if (!v) return nullptr;
  if constexpr (std::is_floating_point_v<T>) {
    if (!std::isfinite(*v)) return ProfileValueToString(*v);
  }
  return *v;
}

nlohmann::ordered_json NotNumericJson(const std::optional<NotNumeric>& n) {
  if (!n) return nullptr;
  return {{"count", n->count},
          {"numbers", n->numbers},
          {"number_type", ColumnTypeName(n->number_type)},
          {"example", n->example},
          {"line", n->example_line > 0 ? nlohmann::ordered_json(n->example_line) : nlohmann::ordered_json(nullptr)}};
}

}  // namespace

std::string ProfileValueToString(const ProfileValue& value) {
  return std::visit(
      [](const auto& x) -> std::string {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          return "";
        } else if constexpr (std::is_same_v<T, bool>) {
          return x ? "true" : "false";
        } else if constexpr (std::is_same_v<T, int64_t>) {
          return std::to_string(x);
        } else if constexpr (std::is_same_v<T, double>) {
          char buf[32];
          auto r = std::to_chars(buf, buf + sizeof buf, x);
          return std::string(buf, r.ptr);
        } else {
          return x;
        }
      },
      value);
}

ColumnProfile ProfileColumn(const Column& column, std::string name, const ProfileOptions& options) {
  ColumnProfile p;
  p.name = std::move(name);
  p.type = column.type();
  p.nulls = column.null_count();
  p.count = column.size() - p.nulls;
  p.null_rate = column.size() == 0 ? 0.0 : static_cast<double>(p.nulls) / static_cast<double>(column.size());
  switch (column.type()) {
    case ColumnType::kInt64:
    case ColumnType::kTimestamp: ProfileInt64(column, options, &p); break;
    case ColumnType::kFloat64: ProfileFloat64(column, options, &p); break;
    case ColumnType::kBool: ProfileBool(column, options, &p); break;
    case ColumnType::kString: ProfileString(column, options, &p); break;
  }
  return p;
}

TableProfile ProfileTable(const Table& table, const ProfileOptions& options) {
  TableProfile out;
  out.rows = table.num_rows();
  for (int i = 0; i < table.num_columns(); ++i) {
    out.columns.push_back(ProfileColumn(table.column(i), table.column_name(i), options));
  }
  return out;
}

Result<TableProfile> ProfileCsv(const std::string& path, const CsvReadOptions& read, const ProfileOptions& options) {
  GYRE_ASSIGN_OR_RETURN(CsvReadResult result, ReadCsv(path, read));
  TableProfile out = ProfileTable(result.table, options);
  out.source = read.display_name.empty() ? path : read.display_name;
  out.rejected_rows = result.stats.rejected_rows;
  out.reject_path = read.reject_path;
  for (size_t i = 0; i < out.columns.size() && i < result.stats.inferred.size(); ++i) {
    ColumnProfile& c = out.columns[i];
    c.inferred = result.stats.inferred[i];
    if (!c.not_numeric) continue;
    if (!c.inferred) {  // declared string: the stray values are the user's choice, not a surprise
      c.not_numeric.reset();
      continue;
    }
    GYRE_ASSIGN_OR_RETURN(c.not_numeric->example_line, FirstNonNumberLine(path, read, c.name, c.not_numeric->number_type));
  }
  return out;
}

std::vector<std::string> ProfileWarnings(const TableProfile& profile) {
  std::vector<std::string> out;
  for (const ColumnProfile& c : profile.columns) {
    if (!c.not_numeric) continue;
    const NotNumeric& n = *c.not_numeric;
    std::string where = n.example_line > 0 ? fmt::format(" at line {}", n.example_line) : "";
    out.push_back(fmt::format("column '{}': {} of {} values {} not {}, e.g. '{}'{}, so it was read as {}", c.name,
                              WithThousands(n.count), WithThousands(n.count + n.numbers), n.count == 1 ? "is" : "are",
                              n.number_type == ColumnType::kInt64 ? "integers" : "numbers", Quoted(n.example), where,
                              ColumnTypeName(c.type)));
  }
  return out;
}

nlohmann::ordered_json ProfileToJson(const TableProfile& profile) {
  nlohmann::ordered_json columns = nlohmann::ordered_json::array();
  for (const ColumnProfile& c : profile.columns) {
    nlohmann::ordered_json top = nlohmann::ordered_json::array();
    for (const ValueCount& v : c.top) top.push_back({{"value", ValueJson(v.value)}, {"count", v.count}});
    columns.push_back({{"name", c.name},
                       {"type", ColumnTypeName(c.type)},
                       {"inferred", c.inferred},
                       {"count", c.count},
                       {"nulls", c.nulls},
                       {"null_rate", c.null_rate},
                       {"distinct", c.distinct},
                       {"min", ValueJson(c.min)},
                       {"max", ValueJson(c.max)},
                       {"min_length", OptionalJson(c.min_length)},
                       {"max_length", OptionalJson(c.max_length)},
                       {"mean", OptionalJson(c.mean)},
                       {"std", OptionalJson(c.stddev)},
                       {"top", std::move(top)},
                       {"not_numeric", NotNumericJson(c.not_numeric)}});
  }
  nlohmann::ordered_json warnings = nlohmann::ordered_json::array();
  for (std::string& w : ProfileWarnings(profile)) warnings.push_back(std::move(w));
  return {{"source", profile.source},
          {"rows", profile.rows},
          {"rejected_rows", profile.rejected_rows},
          {"reject_path", profile.reject_path.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(profile.reject_path)},
          {"columns", std::move(columns)},
          {"warnings", std::move(warnings)}};
}

}  // namespace gyre
