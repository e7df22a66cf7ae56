#include "core/csv_reader.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

#include "core/csv_writer.h"
#include "core/value_parse.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace gyre {
namespace {

constexpr size_t kPadding = 64;  // readable bytes past the data, so SIMD loads need no bounds checks
constexpr size_t kMaxRejectRecordBytes = 64 << 10;
constexpr size_t kMaxValueInMessage = 80;

// ------------------------------------------------------------------------------------------ Byte sources

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Reads up to n bytes; 0 means the end.
  virtual Result<size_t> Read(char* out, size_t n) = 0;
  virtual Status Rewind() = 0;
  // Total size in bytes, or -1 if unknown.
  virtual int64_t Size() const = 0;
};

class FileSource : public ByteSource {
 public:
  static Result<std::unique_ptr<FileSource>> Open(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Status::IOError(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
    struct stat st;
    int64_t size = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? st.st_size : -1;
    if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
      ::close(fd);
      return Status::IOError(fmt::format("{}: is a directory, not a CSV file", path));
    }
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    return std::unique_ptr<FileSource>(new FileSource(fd, path, size));
  }
  ~FileSource() override { ::close(fd_); }

  Result<size_t> Read(char* out, size_t n) override {
    for (;;) {
      ssize_t got = ::read(fd_, out, n);
      if (got >= 0) return static_cast<size_t>(got);
      if (errno != EINTR) return Status::IOError(fmt::format("{}: read failed: {}", path_, std::strerror(errno)));
    }
  }
  Status Rewind() override {
    if (::lseek(fd_, 0, SEEK_SET) < 0) {
      return Status::IOError(fmt::format("{}: cannot seek back to the start: {}", path_, std::strerror(errno)));
    }
    return Status::OK();
  }
  int64_t Size() const override { return size_; }

 private:
  FileSource(int fd, std::string path, int64_t size) : fd_(fd), path_(std::move(path)), size_(size) {}
  int fd_;
  std::string path_;
  int64_t size_;
};

class MemorySource : public ByteSource {
 public:
  explicit MemorySource(std::string_view data) : data_(data) {}
  Result<size_t> Read(char* out, size_t n) override {
    n = std::min(n, data_.size() - pos_);
    std::memcpy(out, data_.data() + pos_, n);
    pos_ += n;
    return n;
  }
  Status Rewind() override {
    pos_ = 0;
    return Status::OK();
  }
  int64_t Size() const override { return static_cast<int64_t>(data_.size()); }

 private:
  std::string_view data_;
  size_t pos_ = 0;
};

// ------------------------------------------------------------------------------------------ Tokenizing

// First delimiter or '\n' in [p, end), or end. May read up to 15 bytes past end (the buffer's padding).
inline const char* FindDelimiterOrNewline(const char* p, const char* end, char delimiter) {
#if defined(__SSE2__)
  const __m128i delim = _mm_set1_epi8(delimiter);
  const __m128i newline = _mm_set1_epi8('\n');
  for (; p < end; p += 16) {
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    unsigned mask = static_cast<unsigned>(
        _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, delim), _mm_cmpeq_epi8(v, newline))));
    if (mask != 0) {
      const char* hit = p + __builtin_ctz(mask);
      return hit < end ? hit : end;
    }
  }
  return end;
#else
  for (; p < end; ++p) {
    if (*p == delimiter || *p == '\n') return p;
  }
  return end;
#endif
}

int64_t CountNewlines(const char* p, const char* end) {
  int64_t n = 0;
  while (p < end) {
    const void* hit = std::memchr(p, '\n', static_cast<size_t>(end - p));
    if (hit == nullptr) break;
    ++n;
    p = static_cast<const char*>(hit) + 1;
  }
  return n;
}

struct FieldRef {
  const char* data;
  size_t size;
  bool escaped;  // quoted and holds doubled quotes still to be collapsed
};

// Splits the byte stream into records. Owns the read buffer; field views point into it (or into a
// scratch buffer for fields with doubled quotes) and stay valid until the next call to Next().
class RecordReader {
 public:
  enum class Kind { kRecord, kMalformed, kEnd };

  RecordReader(ByteSource* source, char delimiter, size_t chunk_bytes)
      : source_(source), delimiter_(delimiter), chunk_(std::max<size_t>(chunk_bytes, 16)) {}

  // Rewinds to the start of the input and skips a UTF-8 byte order mark.
  Status Reset() {
    GYRE_RETURN_IF_ERROR(source_->Rewind());
    if (buffer_.empty()) buffer_.assign(chunk_ + kPadding, 0);
    pos_ = len_ = 0;
    consumed_ = 0;
    bytes_read_ = 0;
    eof_ = false;
    line_ = 1;
    last_byte_ = '\n';
    GYRE_RETURN_IF_ERROR(Refill());
    if (len_ >= 3 && std::memcmp(buffer_.data(), "\xEF\xBB\xBF", 3) == 0) pos_ = 3;
    return Status::OK();
  }

  void set_skip_blank_lines(bool skip) { skip_blank_lines_ = skip; }

  Result<Kind> Next() {
    for (;;) {
      if (pos_ == len_) {
        if (eof_) return Kind::kEnd;
        GYRE_RETURN_IF_ERROR(Refill());
        continue;
      }
      if (skip_blank_lines_) {
        char c = buffer_[pos_];
        if (c == '\n') {
          ++pos_;
          ++line_;
          continue;
        }
        if (c == '\r') {
          if (pos_ + 1 == len_ && !eof_) {
            GYRE_RETURN_IF_ERROR(Refill());
            continue;
          }
          if (pos_ + 1 == len_ || buffer_[pos_ + 1] == '\n') {  // "\r\n", or a lone '\r' ending the file
            pos_ += pos_ + 1 == len_ ? 1 : 2;
            ++line_;
            continue;
          }
        }
      }
      Step step = Tokenize();
      if (step == Step::kNeedMore) {
        if (eof_) return Status::Internal("CSV tokenizer asked for more data at the end of the input");
        GYRE_RETURN_IF_ERROR(Refill());
        continue;
      }
      record_line_ = line_;
      line_ += newlines_;
      raw_ = std::string_view(buffer_.data() + pos_, raw_end_ - pos_);
      pos_ = next_pos_;
      if (step == Step::kMalformed) return Kind::kMalformed;
      if (any_escaped_) Unescape();
      return Kind::kRecord;
    }
  }

  const std::vector<FieldRef>& fields() const { return fields_; }
  // Physical line where the current record starts (1-based).
  int64_t line() const { return record_line_; }
  // The record's bytes without its line end.
  std::string_view raw() const { return raw_; }
  // After kMalformed: what is wrong, the 0-based field it concerns, and the line where the problem is.
  const std::string& error() const { return error_; }
  int error_field() const { return error_field_; }
  int64_t error_line() const { return error_line_; }

  // Bytes consumed so far (for size estimates), and statistics at the end.
  int64_t offset() const { return consumed_ + static_cast<int64_t>(pos_); }
  int64_t bytes_read() const { return bytes_read_; }
  int64_t lines() const { return line_ - 1 + (bytes_read_ > 0 && last_byte_ != '\n' ? 1 : 0); }

 private:
  enum class Step { kDone, kNeedMore, kMalformed };

  // Keeps the unread bytes [pos_, len_), moves them to the front and appends more from the source.
  Status Refill() {
    if (eof_) return Status::OK();
    size_t keep = len_ - pos_;
    if (pos_ > 0) {
      std::memmove(buffer_.data(), buffer_.data() + pos_, keep);
      consumed_ += static_cast<int64_t>(pos_);
      pos_ = 0;
      len_ = keep;
    }
    size_t capacity = buffer_.size() - kPadding;
    if (capacity - len_ < capacity / 4) {  // one record fills most of the buffer: grow it
      capacity *= 2;
      buffer_.resize(capacity + kPadding, 0);
    }
    GYRE_ASSIGN_OR_RETURN(size_t got, source_->Read(buffer_.data() + len_, capacity - len_));
    if (got == 0) {
      eof_ = true;
    } else {
      len_ += got;
      bytes_read_ += static_cast<int64_t>(got);
      last_byte_ = buffer_[len_ - 1];
    }
    return Status::OK();
  }

  Step Malformed(int field, int64_t line, std::string message) {
    error_field_ = field;
    error_line_ = line;
    error_ = std::move(message);
    return Step::kMalformed;
  }

  // From `from`, skips to just past the next line end (or to the end of the data) after a malformed field.
  Step Resync(const char* from, int64_t newlines_so_far) {
    const char* end = buffer_.data() + len_;
    const void* nl = std::memchr(from, '\n', static_cast<size_t>(end - from));
    if (nl == nullptr && !eof_) return Step::kNeedMore;
    const char* stop = nl ? static_cast<const char*>(nl) : end;
    raw_end_ = static_cast<size_t>(stop - buffer_.data());
    if (nl && raw_end_ > pos_ && buffer_[raw_end_ - 1] == '\r') --raw_end_;
    next_pos_ = nl ? raw_end_ + (buffer_[raw_end_] == '\r' ? 2 : 1) : len_;
    newlines_ = newlines_so_far + (nl ? 1 : 0);
    return Step::kMalformed;
  }

  // Splits the record at pos_ into fields_. Sets next_pos_, raw_end_ and newlines_ (line ends inside the
  // record including its own). kNeedMore means the record may continue past the buffered data.
  Step Tokenize() {
    const char* const base = buffer_.data();
    const char* const end = base + len_;
    const char* p = base + pos_;
    int64_t newlines = 0;
    fields_.clear();
    any_escaped_ = false;
    for (;;) {
      if (p < end && *p == '"') {
        const char* content = p + 1;
        const char* q = content;
        bool escaped = false;
        for (;;) {
          const void* hit = std::memchr(q, '"', static_cast<size_t>(end - q));
          if (hit == nullptr) {
            if (!eof_) return Step::kNeedMore;
            raw_end_ = len_;
            next_pos_ = len_;
            newlines_ = newlines + CountNewlines(content, end);
            return Malformed(static_cast<int>(fields_.size()), line_ + newlines,
                             "quoted field is never closed (its opening quote is on this line)");
          }
          q = static_cast<const char*>(hit);
          if (q + 1 < end && q[1] == '"') {
            escaped = true;
            q += 2;
            continue;
          }
          if (q + 1 == end && !eof_) return Step::kNeedMore;  // cannot tell "" from a closing quote yet
          break;
        }
        newlines += CountNewlines(content, q);
        fields_.push_back({content, static_cast<size_t>(q - content), escaped});
        any_escaped_ |= escaped;
        const char* after = q + 1;
        if (after == end) {  // only at the end of the input (see above)
          raw_end_ = next_pos_ = len_;
          newlines_ = newlines;
          return Step::kDone;
        }
        char c = *after;
        if (c == delimiter_) {
          p = after + 1;
          continue;
        }
        if (c == '\n') {
          raw_end_ = static_cast<size_t>(after - base);
          next_pos_ = raw_end_ + 1;
          newlines_ = newlines + 1;
          return Step::kDone;
        }
        if (c == '\r') {
          if (after + 1 == end) {
            if (!eof_) return Step::kNeedMore;
            raw_end_ = static_cast<size_t>(after - base);
            next_pos_ = len_;
            newlines_ = newlines;
            return Step::kDone;
          }
          if (after[1] == '\n') {
            raw_end_ = static_cast<size_t>(after - base);
            next_pos_ = raw_end_ + 2;
            newlines_ = newlines + 1;
            return Step::kDone;
          }
        }
        Step s = Resync(after, newlines);
        if (s == Step::kNeedMore) return s;
        std::string shown = c == '\r' ? "\\r" : std::string(1, c);
        return Malformed(static_cast<int>(fields_.size()) - 1, line_ + newlines,
                         fmt::format("unexpected '{}' after the closing quote (a quote inside a quoted field "
                                     "must be doubled: \"\")",
                                     shown));
      }
      const char* q = FindDelimiterOrNewline(p, end, delimiter_);
      if (q == end) {
        if (!eof_) return Step::kNeedMore;
        size_t n = static_cast<size_t>(end - p);
        if (n > 0 && p[n - 1] == '\r') --n;
        fields_.push_back({p, n, false});
        raw_end_ = static_cast<size_t>(p + n - base);
        next_pos_ = len_;
        newlines_ = newlines;
        return Step::kDone;
      }
      if (*q == delimiter_) {
        fields_.push_back({p, static_cast<size_t>(q - p), false});
        p = q + 1;
        continue;
      }
      size_t n = static_cast<size_t>(q - p);
      if (n > 0 && p[n - 1] == '\r') --n;
      fields_.push_back({p, n, false});
      raw_end_ = static_cast<size_t>(p + n - base);
      next_pos_ = static_cast<size_t>(q - base) + 1;
      newlines_ = newlines + 1;
      return Step::kDone;
    }
  }

  // Collapses doubled quotes of the current record's fields into scratch_.
  void Unescape() {
    size_t total = 0;
    for (const FieldRef& f : fields_) total += f.escaped ? f.size : 0;
    if (scratch_.size() < total) scratch_.resize(total);
    char* out = scratch_.data();
    for (FieldRef& f : fields_) {
      if (!f.escaped) continue;
      char* start = out;
      for (size_t i = 0; i < f.size; ++i) {
        *out++ = f.data[i];
        if (f.data[i] == '"') ++i;  // the tokenizer guarantees the pair
      }
      f = {start, static_cast<size_t>(out - start), false};
    }
  }

  ByteSource* source_;
  char delimiter_;
  size_t chunk_;
  std::vector<char> buffer_;  // data in [0, len_), then at least kPadding readable bytes
  size_t pos_ = 0;            // start of the next record
  size_t len_ = 0;
  int64_t consumed_ = 0;  // bytes dropped from the front of the buffer so far
  int64_t bytes_read_ = 0;
  bool eof_ = false;
  bool skip_blank_lines_ = true;
  char last_byte_ = '\n';
  int64_t line_ = 1;  // line of the byte at pos_

  std::vector<FieldRef> fields_;
  std::vector<char> scratch_;
  bool any_escaped_ = false;
  size_t next_pos_ = 0, raw_end_ = 0;
  int64_t newlines_ = 0;
  int64_t record_line_ = 0;
  std::string_view raw_;
  std::string error_;
  int error_field_ = 0;
  int64_t error_line_ = 0;
};

// ------------------------------------------------------------------------------------------- Inference

enum : uint8_t { kMaybeBool = 1, kMaybeInt64 = 2, kMaybeFloat64 = 4, kMaybeTimestamp = 8, kMaybeAll = 15 };

struct PlannedColumn {
  int field;  // 0-based position in the header
  std::string name;
  ColumnType type = ColumnType::kString;
  TimestampFormat timestamp_format = TimestampFormat::kAuto;
  bool inferred = false;
  uint8_t candidates = kMaybeAll;  // inference: types every value seen so far parses as
  bool seen_value = false;

  void Observe(std::string_view v) {
    if (v.empty()) return;
    seen_value = true;
    int64_t i;
    double d;
    TimestampMicros ts;
    if ((candidates & kMaybeBool) && !IsBoolLiteral(v)) candidates &= ~kMaybeBool;
    if ((candidates & kMaybeInt64) && !ParseInt64(v, &i)) candidates &= ~kMaybeInt64;
    if ((candidates & kMaybeFloat64) && !ParseFloat64(v, &d)) candidates &= ~kMaybeFloat64;
    if ((candidates & kMaybeTimestamp) && !ParseIsoTimestampFastPath(v, &ts) &&
        !ParseTimestamp(v, TimestampFormat::kIso8601).ok()) {
      candidates &= ~kMaybeTimestamp;
    }
  }

  ColumnType InferredType() const {
    if (!seen_value) return ColumnType::kString;
    if (candidates & kMaybeBool) return ColumnType::kBool;
    if (candidates & kMaybeInt64) return ColumnType::kInt64;
    if (candidates & kMaybeFloat64) return ColumnType::kFloat64;
    if (candidates & kMaybeTimestamp) return ColumnType::kTimestamp;
    return ColumnType::kString;
  }
};

std::string Shown(std::string_view value) {
  if (value.size() <= kMaxValueInMessage) return std::string(value);
  return std::string(value.substr(0, kMaxValueInMessage - 3)) + "...";
}

// ------------------------------------------------------------------------------------------ The reader

class CsvReadJob {
 public:
  CsvReadJob(ByteSource* source, const CsvReadOptions& options, std::string name)
      : source_(source), options_(options), name_(std::move(name)),
        reader_(source, options.delimiter, options.read_buffer_bytes) {}

  Result<CsvReadResult> Run() {
    if (options_.delimiter == '"' || options_.delimiter == '\n' || options_.delimiter == '\r') {
      return Status::InvalidArgument(fmt::format("{}: the delimiter cannot be a quote or a line end", name_));
    }
    GYRE_RETURN_IF_ERROR(reader_.Reset());
    GYRE_RETURN_IF_ERROR(ReadHeader());
    GYRE_RETURN_IF_ERROR(PlanColumns());
    bool any_inferred = std::any_of(plan_.begin(), plan_.end(), [](const auto& p) { return p.inferred; });
    if (any_inferred) GYRE_RETURN_IF_ERROR(Sample());
    for (int pass = 1;; ++pass) {
      CsvReadResult result;
      GYRE_ASSIGN_OR_RETURN(bool again, MainPass(&result));
      if (!again) {
        result.stats.passes = pass;
        return result;
      }
    }
  }

 private:
  // "column 'amount' (4)" for a header field, "field 15" past the header.
  std::string ColumnLabel(int field) const {
    if (field >= 0 && field < static_cast<int>(header_.size())) {
      return fmt::format("column '{}' ({})", header_[field], field + 1);
    }
    return fmt::format("field {}", field + 1);
  }

  Status ReadHeader() {
    GYRE_ASSIGN_OR_RETURN(RecordReader::Kind kind, reader_.Next());
    if (kind == RecordReader::Kind::kEnd) {
      return Status::InvalidArgument(fmt::format("{}: the file is empty (a header row is required)", name_));
    }
    if (kind == RecordReader::Kind::kMalformed) {
      return Status::InvalidArgument(Located(
          name_, static_cast<int>(reader_.error_line()), 0,
          fmt::format("header field {}: {}", reader_.error_field() + 1, reader_.error())));
    }
    header_line_ = reader_.line();
    for (const FieldRef& f : reader_.fields()) header_.emplace_back(f.data, f.size);
    for (size_t i = 0; i < header_.size(); ++i) {
      if (header_[i].empty()) {
        return Status::InvalidArgument(
            Located(name_, static_cast<int>(header_line_), 0, fmt::format("header field {} is empty", i + 1)));
      }
      for (size_t j = 0; j < i; ++j) {
        if (header_[j] == header_[i]) {
          return Status::InvalidArgument(
              Located(name_, static_cast<int>(header_line_), 0,
                      fmt::format("duplicate column name '{}' in the header (fields {} and {})", header_[i], j + 1,
                                  i + 1)));
        }
      }
    }
    return Status::OK();
  }

  int HeaderIndex(std::string_view name) const {
    for (size_t i = 0; i < header_.size(); ++i) {
      if (header_[i] == name) return static_cast<int>(i);
    }
    return -1;
  }

  std::string HeaderList() const {
    std::string out;
    for (const auto& h : header_) out += (out.empty() ? "" : ", ") + h;
    return out;
  }

  Status MissingColumns(std::string_view what, const std::vector<std::string>& names) const {
    std::string missing;
    for (const auto& n : names) {
      if (HeaderIndex(n) < 0) missing += (missing.empty() ? "'" : ", '") + n + "'";
    }
    if (missing.empty()) return Status::OK();
    return Status::InvalidArgument(
        fmt::format("{}: {} not in the header: {} (header: {})", name_, what, missing, HeaderList()));
  }

  Status PlanColumns() {
    std::vector<std::string> declared_names;
    for (const auto& c : options_.columns) declared_names.push_back(c.name);
    GYRE_RETURN_IF_ERROR(MissingColumns("declared columns", declared_names));
    GYRE_RETURN_IF_ERROR(MissingColumns("selected columns", options_.select));

    std::vector<bool> keep(header_.size(), false);
    if (!options_.select.empty()) {
      for (const auto& n : options_.select) keep[HeaderIndex(n)] = true;
    } else if (options_.columns.empty() || options_.infer_undeclared) {
      keep.assign(header_.size(), true);
    } else {
      for (const auto& n : declared_names) keep[HeaderIndex(n)] = true;
    }
    for (size_t i = 0; i < header_.size(); ++i) {
      if (!keep[i]) continue;
      PlannedColumn p;
      p.field = static_cast<int>(i);
      p.name = header_[i];
      p.inferred = true;
      for (const auto& c : options_.columns) {
        if (c.name == header_[i]) {
          p.type = c.type;
          p.timestamp_format = c.timestamp_format;
          p.inferred = false;
        }
      }
      if (p.inferred) p.timestamp_format = TimestampFormat::kIso8601;
      plan_.push_back(std::move(p));
    }
    if (plan_.empty()) return Status::InvalidArgument(fmt::format("{}: no columns selected", name_));
    reader_.set_skip_blank_lines(header_.size() > 1);
    return Status::OK();
  }

  Status SkipToFirstRecord() {
    GYRE_RETURN_IF_ERROR(reader_.Reset());
    bool skip_blank = header_.size() > 1;
    reader_.set_skip_blank_lines(true);  // blank lines before the header are never records
    GYRE_ASSIGN_OR_RETURN(RecordReader::Kind kind, reader_.Next());
    (void)kind;  // validated by ReadHeader
    reader_.set_skip_blank_lines(skip_blank);
    return Status::OK();
  }

  // Settles inferred types from the first infer_rows well-formed records.
  Status Sample() {
    int64_t records = 0;
    int64_t limit = options_.infer_rows > 0 ? options_.infer_rows : INT64_MAX;
    int64_t start = reader_.offset();
    while (records < limit) {
      GYRE_ASSIGN_OR_RETURN(RecordReader::Kind kind, reader_.Next());
      if (kind == RecordReader::Kind::kEnd) break;
      if (kind == RecordReader::Kind::kMalformed || reader_.fields().size() != header_.size()) continue;
      ObserveRecord();
      ++records;
    }
    if (records > 0) bytes_per_record_ = static_cast<double>(reader_.offset() - start) / records;
    for (auto& p : plan_) {
      if (p.inferred) p.type = p.InferredType();
    }
    return Status::OK();
  }

  void ObserveRecord() {
    const auto& fields = reader_.fields();
    for (auto& p : plan_) {
      if (p.inferred) p.Observe(std::string_view(fields[p.field].data, fields[p.field].size));
    }
  }

  // A bad record: an error, or a line in the reject file.
  Status Bad(int64_t line, const std::string& message) {
    if (!rejects_) return Status::InvalidArgument(Located(name_, static_cast<int>(line), 0, message));
    std::string_view raw = reader_.raw();
    rejects_->Field(line);
    rejects_->Field(std::string_view(message));
    rejects_->Field(raw.substr(0, kMaxRejectRecordBytes));
    rejects_->EndRow();
    ++rejected_;
    return Status::OK();
  }

  void ReserveRows(std::vector<Column>& columns, int64_t rows) {
    for (auto& c : columns) c.Reserve(rows);
  }

  // Reads every record into columns. Returns true if an inferred type was widened and the caller must
  // read again; then `out` is left unfinished.
  Result<bool> MainPass(CsvReadResult* out) {
    GYRE_RETURN_IF_ERROR(SkipToFirstRecord());
    std::vector<Column> columns;
    std::vector<ColumnSchema> schema;
    for (const auto& p : plan_) {
      columns.emplace_back(p.type);
      schema.push_back({p.name, p.type});
    }
    // Values that can fail are parsed before strings, which cannot: a bad record is then undone with
    // PopBack() on the columns already appended, and never adds to a dictionary.
    std::vector<int> order;
    for (int i = 0; i < static_cast<int>(plan_.size()); ++i) {
      if (plan_[i].type != ColumnType::kString) order.push_back(i);
    }
    const int fallible = static_cast<int>(order.size());
    for (int i = 0; i < static_cast<int>(plan_.size()); ++i) {
      if (plan_[i].type == ColumnType::kString) order.push_back(i);
    }

    rejected_ = 0;
    rejects_.reset();
    if (!options_.reject_path.empty()) {
      GYRE_ASSIGN_OR_RETURN(CsvWriter writer, CsvWriter::Open(options_.reject_path));
      rejects_ = std::make_unique<CsvWriter>(std::move(writer));
      rejects_->Row({"line", "error", "record"});
    }

    const int64_t size = source_->Size();
    if (bytes_per_record_ > 0 && size > 0) ReserveRows(columns, static_cast<int64_t>(size / bytes_per_record_ * 1.05) + 16);
    bool reserved = bytes_per_record_ > 0;
    const size_t num_fields = header_.size();
    int64_t rows = 0;
    for (;;) {
      GYRE_ASSIGN_OR_RETURN(RecordReader::Kind kind, reader_.Next());
      if (kind == RecordReader::Kind::kEnd) break;
      if (kind == RecordReader::Kind::kMalformed) {
        GYRE_RETURN_IF_ERROR(Bad(reader_.error_line(),
                                 fmt::format("{}: {}", ColumnLabel(reader_.error_field()), reader_.error())));
        continue;
      }
      const std::vector<FieldRef>& fields = reader_.fields();
      if (fields.size() != num_fields) {
        GYRE_RETURN_IF_ERROR(Bad(reader_.line(), fmt::format("too {} fields: the record has {}, the header has {}",
                                                             fields.size() < num_fields ? "few" : "many",
                                                             fields.size(), num_fields)));
        continue;
      }

      int done = 0;
      std::string failure;
      for (; done < fallible; ++done) {
        const int c = order[done];
        const PlannedColumn& p = plan_[c];
        const FieldRef& f = fields[p.field];
        Column& column = columns[c];
        if (f.size == 0) {
          column.AppendNull();
          continue;
        }
        std::string_view v(f.data, f.size);
        bool ok = true;
        switch (p.type) {
          case ColumnType::kInt64: {
            int64_t x;
            ok = ParseInt64(v, &x);
            if (ok) column.AppendInt64(x);
            break;
          }
          case ColumnType::kFloat64: {
            double x;
            ok = ParseFloat64(v, &x);
            if (ok) column.AppendFloat64(x);
            break;
          }
          case ColumnType::kBool: {
            // An inferred bool accepts what inference called bool (true/false), so that any other value
            // widens the column instead of silently meaning true or false.
            bool x;
            ok = p.inferred ? IsBoolLiteral(v) : ParseBool(v, &x);
            if (ok) column.AppendBool(p.inferred ? (v[0] == 't' || v[0] == 'T') : x);
            break;
          }
          case ColumnType::kTimestamp: {
            Result<TimestampMicros> ts = ParseTimestampFast(v, p.timestamp_format);
            ok = ts.ok();
            if (ok) {
              column.AppendTimestamp(*ts);
            } else {
              failure = ts.status().message();
            }
            break;
          }
          case ColumnType::kString: break;  // not in the fallible part of `order`
        }
        if (!ok) break;
      }
      if (done < fallible) {
        for (int j = 0; j < done; ++j) columns[order[j]].PopBack();
        PlannedColumn& p = plan_[order[done]];
        std::string_view v(fields[p.field].data, fields[p.field].size);
        if (p.inferred) {
          GYRE_RETURN_IF_ERROR(SettleInferredTypes());
          return true;
        }
        if (failure.empty()) failure = fmt::format("cannot parse '{}' as {}", Shown(v), ColumnTypeName(p.type));
        GYRE_RETURN_IF_ERROR(Bad(reader_.line(), fmt::format("{}: {}", ColumnLabel(p.field), failure)));
        continue;
      }
      for (int i = fallible; i < static_cast<int>(order.size()); ++i) {
        const int c = order[i];
        const FieldRef& f = fields[plan_[c].field];
        if (f.size == 0) {
          columns[c].AppendNull();
        } else {
          columns[c].AppendString(std::string_view(f.data, f.size));
        }
      }
      ++rows;
      if (!reserved && rows == 4096) {
        reserved = true;
        if (size > 0) {
          double per_record = static_cast<double>(reader_.offset()) / rows;
          ReserveRows(columns, static_cast<int64_t>(size / per_record * 1.05) + 16);
        }
      }
    }

    if (rejects_) {
      GYRE_RETURN_IF_ERROR(rejects_->Close());
      rejects_.reset();
    }
    GYRE_ASSIGN_OR_RETURN(out->table, Table::Make(Schema(std::move(schema)), std::move(columns)));
    out->stats.rows = rows;
    out->stats.rejected_rows = rejected_;
    out->stats.lines = reader_.lines();
    out->stats.bytes = reader_.bytes_read();
    for (const auto& p : plan_) out->stats.inferred.push_back(p.inferred);
    return false;
  }

  // A value of the current record did not parse as its inferred type: observes it and every later
  // record, so that one more pass suffices, and sets the widened types.
  Status SettleInferredTypes() {
    ObserveRecord();
    for (;;) {
      GYRE_ASSIGN_OR_RETURN(RecordReader::Kind kind, reader_.Next());
      if (kind == RecordReader::Kind::kEnd) break;
      if (kind == RecordReader::Kind::kMalformed || reader_.fields().size() != header_.size()) continue;
      ObserveRecord();
    }
    for (auto& p : plan_) {
      if (p.inferred) p.type = p.InferredType();
    }
    if (rejects_) {
      (void)rejects_->Close();  // rewritten by the next pass
      rejects_.reset();
    }
    return Status::OK();
  }

  ByteSource* source_;
  const CsvReadOptions& options_;
  std::string name_;
  RecordReader reader_;
  std::vector<std::string> header_;
  int64_t header_line_ = 1;
  std::vector<PlannedColumn> plan_;
  double bytes_per_record_ = 0;
  std::unique_ptr<CsvWriter> rejects_;
  int64_t rejected_ = 0;
};

}  // namespace

Result<CsvReadResult> ReadCsv(const std::string& path, const CsvReadOptions& options) {
  GYRE_ASSIGN_OR_RETURN(std::unique_ptr<FileSource> source, FileSource::Open(path));
  CsvReadJob job(source.get(), options, options.display_name.empty() ? path : options.display_name);
  return job.Run();
}

Result<CsvReadResult> ReadCsvString(std::string_view content, const CsvReadOptions& options) {
  MemorySource source(content);
  CsvReadJob job(&source, options, options.display_name.empty() ? "<string>" : options.display_name);
  return job.Run();
}

}  // namespace gyre
