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
    bool have_stat = ::fstat(fd, &st) == 0;
    if (have_stat && S_ISDIR(st.st_mode)) {
      ::close(fd);
      return Status::IOError(fmt::format("{}: is a directory, not a CSV file", path));
    }
    int64_t size = have_stat && S_ISREG(st.st_mode) ? st.st_size : -1;
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

// Bit i set where p[i] is `a` or `b`, for the 64 bytes at p (which must be readable).
inline uint64_t Match64(const char* p, char a, char b) {
#if defined(__SSE2__)
  const __m128i va = _mm_set1_epi8(a), vb = _mm_set1_epi8(b);
  uint64_t mask = 0;
  for (int k = 0; k < 4; ++k) {
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * k));
    unsigned m = static_cast<unsigned>(_mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, va), _mm_cmpeq_epi8(v, vb))));
    mask |= static_cast<uint64_t>(m) << (16 * k);
  }
  return mask;
#else
  uint64_t mask = 0;
  for (int i = 0; i < 64; ++i) mask |= static_cast<uint64_t>(p[i] == a || p[i] == b) << i;
  return mask;
#endif
}

// The first '"' in [p, end), or nullptr; adds the '\n' bytes before it (or before end) to *newlines.
// One pass over the quoted text instead of a memchr for the quote and another for line ends. May read up
// to 15 bytes past end (the buffer's padding), which are masked off.
inline const char* FindQuoteCountingNewlines(const char* p, const char* end, int64_t* newlines) {
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"'), newline = _mm_set1_epi8('\n');
  for (; p < end; p += 16) {
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    unsigned valid = end - p >= 16 ? 0xFFFFu : (1u << (end - p)) - 1;
    unsigned q = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, quote))) & valid;
    unsigned n = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, newline))) & valid;
    if (q != 0) {
      unsigned before = (q & -q) - 1;  // bits below the first quote
      *newlines += __builtin_popcount(n & before);
      return p + __builtin_ctz(q);
    }
    *newlines += __builtin_popcount(n);
  }
  return nullptr;
#else
  for (; p < end; ++p) {
    if (*p == '"') return p;
    *newlines += *p == '\n';
  }
  return nullptr;
#endif
}

struct FieldRef {
  const char* data;
  uint32_t size;
  uint32_t escaped;  // quoted and holds doubled quotes still to be collapsed

  std::string_view view() const { return {data, size}; }
};

struct RecordInfo {
  std::string_view raw;  // the record's bytes without its line end
  int64_t line;          // physical line where the record starts (1-based)
  uint32_t first_field;  // into Batch::fields
  uint32_t num_fields;
  int32_t error = -1;  // index into Batch::errors if the record is malformed
};

struct MalformedInfo {
  int field;     // 0-based field the problem concerns
  int64_t line;  // line where the problem is
  std::string message;
};

// Consecutive records of the input, tokenized. Field and raw views point into the reader's buffers and
// stay valid until the next call to NextBatch().
struct Batch {
  std::vector<FieldRef> fields;  // the first num_fields are in use; the rest is room to grow into
  size_t num_fields = 0;
  std::vector<RecordInfo> records;
  std::vector<MalformedInfo> errors;

  const FieldRef* Fields(const RecordInfo& r) const { return fields.data() + r.first_field; }
  void Clear() {
    num_fields = 0;
    records.clear();
    errors.clear();
  }
  // Inline and branch-light: it runs once per field of the file.
  void AddField(const char* data, size_t size, bool escaped) {
    if (num_fields == fields.size()) Grow();
    fields[num_fields++] = {data, static_cast<uint32_t>(size), escaped ? 1u : 0u};
  }
  [[gnu::noinline]] void Grow() { fields.resize(std::max<size_t>(1024, fields.size() * 2)); }
};

// Splits the byte stream into records. Owns the read buffer, refilling it only between batches, so that
// every view of a batch stays valid while the batch is processed.
class RecordReader {
 public:
  RecordReader(ByteSource* source, char delimiter, size_t chunk_bytes)
      : source_(source), delimiter_(delimiter), chunk_(std::max<size_t>(chunk_bytes, 16)) {}

  // Rewinds to the start of the input and skips a UTF-8 byte order mark.
  Status Reset() {
    GYRE_RETURN_IF_ERROR(source_->Rewind());
    block_ = nullptr;
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

  // Replaces `batch` with up to max_records next records (fewer at the end of the buffered data). Returns
  // false, with an empty batch, at the end of the input.
  Result<bool> NextBatch(Batch* batch, size_t max_records) {
    batch->Clear();
    scratch_used_ = 0;
    while (batch->records.size() < max_records) {
      if (pos_ == len_) {
        if (eof_ || !batch->records.empty()) break;
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
            if (!batch->records.empty()) break;
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
      if (batch->records.empty()) batch_start_ = pos_;
      const size_t first_field = batch->num_fields;
      Step step = Tokenize(batch);
      if (step == Step::kNeedMore) {
        batch->num_fields = first_field;
        if (!batch->records.empty()) break;
        if (eof_) return Status::Internal("CSV tokenizer asked for more data at the end of the input");
        GYRE_RETURN_IF_ERROR(Refill());
        continue;
      }
      RecordInfo& r = batch->records.emplace_back();
      r.raw = std::string_view(buffer_.data() + pos_, raw_end_ - pos_);
      r.line = line_;
      r.first_field = static_cast<uint32_t>(first_field);
      r.num_fields = static_cast<uint32_t>(batch->num_fields - first_field);
      line_ += newlines_;
      pos_ = next_pos_;
      if (step == Step::kMalformed) {
        r.error = static_cast<int32_t>(batch->errors.size());
        batch->errors.push_back({error_field_, error_line_, std::move(error_)});
      } else if (any_escaped_) {
        Unescape(batch->fields.data() + first_field, r.num_fields);
      }
    }
    return !batch->records.empty();
  }

  // Bytes consumed so far (for size estimates), and statistics at the end.
  int64_t offset() const { return consumed_ + static_cast<int64_t>(pos_); }
  int64_t bytes_read() const { return bytes_read_; }
  int64_t lines() const { return line_ - 1 + (bytes_read_ > 0 && last_byte_ != '\n' ? 1 : 0); }

 private:
  enum class Step { kDone, kNeedMore, kMalformed };

  // Keeps the unread bytes [pos_, len_), moves them to the front and appends more from the source.
  Status Refill() {
    block_ = nullptr;  // the bytes under it move
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
      if (capacity >= (size_t{1} << 31)) {
        return Status::ResourceExhausted(
            fmt::format("a record (or an unclosed quote) starting {} bytes into the file is longer than 2 GiB",
                        consumed_));
      }
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

  // The first delimiter or '\n' in [p, end), or end. Keeps a bitmask of the separators in a 64-byte block,
  // so consecutive short fields cost a shift and a count-trailing-zeros each rather than a scan.
  const char* NextSeparator(const char* p, const char* end) {
    for (;;) {
      if (block_ != nullptr && p >= block_ && p - block_ < 64) {
        uint64_t m = block_mask_ >> (p - block_);
        if (m != 0) {
          const char* q = p + __builtin_ctzll(m);
          return q < end ? q : end;
        }
        p = block_ + 64;
      }
      if (p >= end) return end;
      block_ = p;
      block_mask_ = Match64(p, delimiter_, '\n');
    }
  }

  // Splits the record at pos_, appending its fields. Sets next_pos_, raw_end_ and newlines_ (line ends
  // inside the record, including its own). kNeedMore: the record may continue past the buffered data.
  Step Tokenize(Batch* batch) {
    const char* const base = buffer_.data();
    const char* const end = base + len_;
    const char* p = base + pos_;
    const size_t first = batch->num_fields;
    int64_t newlines = 0;
    any_escaped_ = false;
    for (;;) {
      if (p < end && *p == '"') {
        const char* content = p + 1;
        const char* q = content;
        const int64_t quote_line = line_ + newlines;
        bool escaped = false;
        for (;;) {
          q = FindQuoteCountingNewlines(q, end, &newlines);
          if (q == nullptr) {
            if (!eof_) return Step::kNeedMore;
            raw_end_ = len_;
            next_pos_ = len_;
            newlines_ = newlines;
            return Malformed(static_cast<int>(batch->num_fields - first), quote_line,
                             "quoted field is never closed (its opening quote is on this line)");
          }
          if (q + 1 < end && q[1] == '"') {
            escaped = true;
            q += 2;
            continue;
          }
          if (q + 1 == end && !eof_) return Step::kNeedMore;  // cannot tell "" from a closing quote yet
          break;
        }
        batch->AddField(content, static_cast<size_t>(q - content), escaped);
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
        return Malformed(static_cast<int>(batch->num_fields - first) - 1, line_ + newlines,
                         fmt::format("unexpected '{}' after the closing quote (a quote inside a quoted field "
                                     "must be doubled: \"\")",
                                     shown));
      }
      const char* q = NextSeparator(p, end);
      if (q == end) {
        if (!eof_) return Step::kNeedMore;
        size_t n = static_cast<size_t>(end - p);
        if (n > 0 && p[n - 1] == '\r') --n;
        batch->AddField(p, n, false);
        raw_end_ = static_cast<size_t>(p + n - base);
        next_pos_ = len_;
        newlines_ = newlines;
        return Step::kDone;
      }
      if (*q == delimiter_) {
        batch->AddField(p, static_cast<size_t>(q - p), false);
        p = q + 1;
        continue;
      }
      size_t n = static_cast<size_t>(q - p);
      if (n > 0 && p[n - 1] == '\r') --n;
      batch->AddField(p, n, false);
      raw_end_ = static_cast<size_t>(p + n - base);
      next_pos_ = static_cast<size_t>(q - base) + 1;
      newlines_ = newlines + 1;
      return Step::kDone;
    }
  }

  // Collapses the doubled quotes of a record's fields into scratch_. The scratch space is sized once per
  // batch for all the batch's bytes, so earlier records' views into it stay valid.
  void Unescape(FieldRef* fields, uint32_t count) {
    if (scratch_used_ == 0 && scratch_.size() < len_ - batch_start_) scratch_.resize(len_ - batch_start_);
    char* out = scratch_.data() + scratch_used_;
    for (uint32_t k = 0; k < count; ++k) {
      FieldRef& f = fields[k];
      if (!f.escaped) continue;
      char* start = out;
      for (uint32_t i = 0; i < f.size; ++i) {
        *out++ = f.data[i];
        if (f.data[i] == '"') ++i;  // the tokenizer guarantees the pair
      }
      f = {start, static_cast<uint32_t>(out - start), 0};
    }
    scratch_used_ = static_cast<size_t>(out - scratch_.data());
  }

  ByteSource* source_;
  char delimiter_;
  size_t chunk_;
  std::vector<char> buffer_;  // data in [0, len_), then at least kPadding readable bytes
  size_t pos_ = 0;            // start of the next record
  size_t len_ = 0;
  size_t batch_start_ = 0;  // pos_ when the current batch began
  int64_t consumed_ = 0;    // bytes dropped from the front of the buffer so far
  int64_t bytes_read_ = 0;
  bool eof_ = false;
  bool skip_blank_lines_ = true;
  char last_byte_ = '\n';
  int64_t line_ = 1;  // line of the byte at pos_
  const char* block_ = nullptr;  // NextSeparator's cached 64-byte block and its separator bits
  uint64_t block_mask_ = 0;

  std::vector<char> scratch_;
  size_t scratch_used_ = 0;
  bool any_escaped_ = false;
  size_t next_pos_ = 0, raw_end_ = 0;
  int64_t newlines_ = 0;
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
//
// Records are tokenized a batch at a time and each run of well-formed records is parsed column by column:
// a tight loop per type, and for strings a loop that hashes every value first and prefetches dictionary
// slots ahead, because lookups in large dictionaries (ids, IPs) are cache misses and overlapping them is
// most of the speed. Only the common case runs there: if any value of a run does not parse, the run is
// undone and read again record by record, which reports (or rejects, or widens on) exactly the first bad
// value, as if every record had been read one at a time.

constexpr size_t kBatchRecords = 1024;
constexpr size_t kPrefetchDistance = 16;  // dictionary lookups ahead whose slots are prefetched

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
    GYRE_ASSIGN_OR_RETURN(bool any, reader_.NextBatch(&batch_, 1));
    if (!any) {
      return Status::InvalidArgument(fmt::format("{}: the file is empty (a header row is required)", name_));
    }
    const RecordInfo& r = batch_.records[0];
    if (r.error >= 0) {
      const MalformedInfo& e = batch_.errors[r.error];
      return Status::InvalidArgument(
          Located(name_, static_cast<int>(e.line), 0, fmt::format("header field {}: {}", e.field + 1, e.message)));
    }
    const int line = static_cast<int>(r.line);
    const FieldRef* fields = batch_.Fields(r);
    for (uint32_t i = 0; i < r.num_fields; ++i) header_.emplace_back(fields[i].view());
    for (size_t i = 0; i < header_.size(); ++i) {
      if (header_[i].empty()) {
        return Status::InvalidArgument(Located(name_, line, 0, fmt::format("header field {} is empty", i + 1)));
      }
      for (size_t j = 0; j < i; ++j) {
        if (header_[j] == header_[i]) {
          return Status::InvalidArgument(Located(
              name_, line, 0,
              fmt::format("duplicate column name '{}' in the header (fields {} and {})", header_[i], j + 1, i + 1)));
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
    return Status::OK();
  }

  Status SkipToFirstRecord() {
    GYRE_RETURN_IF_ERROR(reader_.Reset());
    reader_.set_skip_blank_lines(true);  // blank lines before the header are never records
    GYRE_ASSIGN_OR_RETURN(bool any, reader_.NextBatch(&batch_, 1));
    (void)any;  // validated by ReadHeader
    reader_.set_skip_blank_lines(header_.size() > 1);
    return Status::OK();
  }

  bool WellFormed(const RecordInfo& r) const { return r.error < 0 && r.num_fields == header_.size(); }

  void ObserveRecord(const RecordInfo& r) {
    const FieldRef* fields = batch_.Fields(r);
    for (auto& p : plan_) {
      if (p.inferred) p.Observe(fields[p.field].view());
    }
  }

  // Settles inferred types from the first infer_rows well-formed records.
  Status Sample() {
    GYRE_RETURN_IF_ERROR(SkipToFirstRecord());
    int64_t records = 0;
    const int64_t limit = options_.infer_rows > 0 ? options_.infer_rows : INT64_MAX;
    const int64_t start = reader_.offset();
    while (records < limit) {
      size_t want = static_cast<size_t>(std::min<int64_t>(limit - records, kBatchRecords));
      GYRE_ASSIGN_OR_RETURN(bool more, reader_.NextBatch(&batch_, want));
      if (!more) break;
      for (const RecordInfo& r : batch_.records) {
        if (!WellFormed(r)) continue;
        ObserveRecord(r);
        ++records;
      }
    }
    if (records > 0) bytes_per_record_ = static_cast<double>(reader_.offset() - start) / records;
    for (auto& p : plan_) {
      if (p.inferred) p.type = p.InferredType();
    }
    return Status::OK();
  }

  // A bad record: an error, or a line in the reject file.
  Status Bad(int64_t line, const std::string& message, std::string_view raw) {
    if (!rejects_) return Status::InvalidArgument(Located(name_, static_cast<int>(line), 0, message));
    rejects_->Field(line);
    rejects_->Field(std::string_view(message));
    rejects_->Field(raw.substr(0, kMaxRejectRecordBytes));
    rejects_->EndRow();
    ++rejected_;
    return Status::OK();
  }

  // A malformed record or one with the wrong number of fields.
  Status BadRecord(const RecordInfo& r) {
    if (r.error >= 0) {
      const MalformedInfo& e = batch_.errors[r.error];
      return Bad(e.line, fmt::format("{}: {}", ColumnLabel(e.field), e.message), r.raw);
    }
    return Bad(r.line,
               fmt::format("too {} fields: the record has {}, the header has {}",
                           r.num_fields < header_.size() ? "few" : "many", r.num_fields, header_.size()),
               r.raw);
  }

  // Parses one column of n consecutive well-formed records (fields at f[p.field + k * stride]) and appends
  // the values. Returns false at the first value that does not parse; the caller then undoes the run.
  static bool ParseRun(const PlannedColumn& p, Column& column, const FieldRef* f, size_t stride, size_t n) {
    f += p.field;
    switch (p.type) {
      case ColumnType::kInt64:
        for (size_t r = 0; r < n; ++r, f += stride) {
          int64_t v;
          if (f->size == 0) {
            column.AppendNull();
          } else if (ParseInt64(f->view(), &v)) {
            column.AppendInt64(v);
          } else {
            return false;
          }
        }
        return true;
      case ColumnType::kFloat64:
        for (size_t r = 0; r < n; ++r, f += stride) {
          double v;
          if (f->size == 0) {
            column.AppendNull();
          } else if (ParseFloat64(f->view(), &v)) {
            column.AppendFloat64(v);
          } else {
            return false;
          }
        }
        return true;
      case ColumnType::kBool:
        for (size_t r = 0; r < n; ++r, f += stride) {
          bool v;
          if (f->size == 0) {
            column.AppendNull();
          } else if (p.inferred ? IsBoolLiteral(f->view()) : ParseBool(f->view(), &v)) {
            column.AppendBool(p.inferred ? (f->data[0] == 't' || f->data[0] == 'T') : v);
          } else {
            return false;
          }
        }
        return true;
      case ColumnType::kTimestamp: {
        const bool iso = p.timestamp_format == TimestampFormat::kAuto || p.timestamp_format == TimestampFormat::kIso8601;
        for (size_t r = 0; r < n; ++r, f += stride) {
          TimestampMicros ts;
          if (f->size == 0) {
            column.AppendNull();
          } else if (iso && ParseIsoTimestampFastPath(f->view(), &ts)) {
            column.AppendTimestamp(ts);
          } else if (Result<TimestampMicros> parsed = ParseTimestampFast(f->view(), p.timestamp_format); parsed.ok()) {
            column.AppendTimestamp(*parsed);
          } else {
            return false;
          }
        }
        return true;
      }
      case ColumnType::kString:
        break;
    }
    return true;
  }

  // Appends one string column of n consecutive records. Lookups in large dictionaries (ids, IPs) miss the
  // caches; hashing everything first and prefetching kPrefetchDistance lookups ahead overlaps the misses.
  void AppendStringRun(const PlannedColumn& p, Column& column, const FieldRef* f, size_t stride, size_t n) {
    f += p.field;
    hashes_.resize(n);
    for (size_t r = 0; r < n; ++r) {
      const FieldRef& x = f[r * stride];
      hashes_[r] = x.size == 0 ? 0 : StringDictionary::Hash(x.view());
    }
    const StringDictionary& dictionary = column.dictionary();
    for (size_t r = 0; r < n; ++r) {
      if (r + kPrefetchDistance < n) dictionary.Prefetch(hashes_[r + kPrefetchDistance]);
      const FieldRef& x = f[r * stride];
      if (x.size == 0) {
        column.AppendNull();
      } else {
        column.AppendString(x.view(), hashes_[r]);
      }
    }
  }

  // Appends records [begin, end) of the batch, all well-formed, column by column. Returns false if a value
  // does not parse; columns may then hold part of the run (the caller truncates them). Strings come last:
  // they cannot fail, so a failed run never adds to a dictionary.
  bool AppendRun(size_t begin, size_t end) {
    const FieldRef* fields = batch_.Fields(batch_.records[begin]);
    const size_t stride = header_.size(), n = end - begin;
    for (int k = 0; k < fallible_; ++k) {
      if (!ParseRun(plan_[order_[k]], columns_[order_[k]], fields, stride, n)) return false;
    }
    for (size_t k = fallible_; k < order_.size(); ++k) {
      AppendStringRun(plan_[order_[k]], columns_[order_[k]], fields, stride, n);
    }
    return true;
  }

  // The exact path for one well-formed record: appends it, or rejects it / returns its error naming the
  // first bad value. Returns true if a value did not parse as its column's inferred type.
  Result<bool> AppendRecord(const RecordInfo& r) {
    const FieldRef* fields = batch_.Fields(r);
    for (int k = 0; k < fallible_; ++k) {
      const PlannedColumn& p = plan_[order_[k]];
      if (ParseRun(p, columns_[order_[k]], fields, 0, 1)) continue;
      for (int j = 0; j < k; ++j) columns_[order_[j]].PopBack();
      if (p.inferred) return true;
      std::string_view v = fields[p.field].view();
      std::string failure;
      if (p.type == ColumnType::kTimestamp) {
        failure = ParseTimestamp(v, p.timestamp_format).status().message();
      } else {
        failure = fmt::format("cannot parse '{}' as {}", Shown(v), ColumnTypeName(p.type));
      }
      GYRE_RETURN_IF_ERROR(Bad(r.line, fmt::format("{}: {}", ColumnLabel(p.field), failure), r.raw));
      return false;
    }
    for (size_t k = fallible_; k < order_.size(); ++k) {
      AppendStringRun(plan_[order_[k]], columns_[order_[k]], fields, 0, 1);
    }
    ++rows_;
    return false;
  }

  void ReserveRows(int64_t rows) {
    for (auto& c : columns_) c.Reserve(rows);
  }

  // Reads every record into columns. Returns true if an inferred type was widened and the caller must
  // read again; then `out` is left unfinished.
  Result<bool> MainPass(CsvReadResult* out) {
    GYRE_RETURN_IF_ERROR(SkipToFirstRecord());
    columns_.clear();
    std::vector<ColumnSchema> schema;
    for (const auto& p : plan_) {
      columns_.emplace_back(p.type);
      schema.push_back({p.name, p.type});
    }
    order_.clear();
    for (int i = 0; i < static_cast<int>(plan_.size()); ++i) {
      if (plan_[i].type != ColumnType::kString) order_.push_back(i);
    }
    fallible_ = static_cast<int>(order_.size());
    for (int i = 0; i < static_cast<int>(plan_.size()); ++i) {
      if (plan_[i].type == ColumnType::kString) order_.push_back(i);
    }

    rejected_ = 0;
    rejects_.reset();
    if (!options_.reject_path.empty()) {
      GYRE_ASSIGN_OR_RETURN(CsvWriter writer, CsvWriter::Open(options_.reject_path));
      rejects_ = std::make_unique<CsvWriter>(std::move(writer));
      rejects_->Row({"line", "error", "record"});
    }

    // Reserving from an estimate of the row count avoids regrowing (and copying) large columns.
    const int64_t size = source_->Size();
    bool reserved = false;
    auto reserve = [&](double bytes_per_record) {
      reserved = true;
      if (size > 0 && bytes_per_record > 0) ReserveRows(static_cast<int64_t>(size / bytes_per_record * 1.05) + 16);
    };
    if (bytes_per_record_ > 0) reserve(bytes_per_record_);

    rows_ = 0;
    const int64_t start = reader_.offset();
    for (;;) {
      GYRE_ASSIGN_OR_RETURN(bool more, reader_.NextBatch(&batch_, kBatchRecords));
      if (!more) break;
      const std::vector<RecordInfo>& records = batch_.records;
      size_t i = 0;
      while (i < records.size()) {
        size_t j = i;
        while (j < records.size() && WellFormed(records[j])) ++j;
        if (j > i) {
          if (AppendRun(i, j)) {
            rows_ += static_cast<int64_t>(j - i);
          } else {
            for (auto& c : columns_) c.Truncate(rows_);
            for (size_t k = i; k < j; ++k) {
              GYRE_ASSIGN_OR_RETURN(bool widen, AppendRecord(records[k]));
              if (widen) {
                GYRE_RETURN_IF_ERROR(SettleInferredTypes(k));
                return true;
              }
            }
          }
          i = j;
        }
        if (i < records.size()) {
          GYRE_RETURN_IF_ERROR(BadRecord(records[i]));
          ++i;
        }
      }
      if (!reserved && rows_ >= 4096) reserve(static_cast<double>(reader_.offset() - start) / rows_);
    }

    if (rejects_) {
      GYRE_RETURN_IF_ERROR(rejects_->Close());
      rejects_.reset();
    }
    GYRE_ASSIGN_OR_RETURN(out->table, Table::Make(Schema(std::move(schema)), std::move(columns_)));
    columns_.clear();
    out->stats.rows = rows_;
    out->stats.rejected_rows = rejected_;
    out->stats.lines = reader_.lines();
    out->stats.bytes = reader_.bytes_read();
    for (const auto& p : plan_) out->stats.inferred.push_back(p.inferred);
    return false;
  }

  // Record `failed` of the batch has a value that does not parse as its inferred type: observes it and
  // every later record, so that one more pass suffices, and sets the widened types.
  Status SettleInferredTypes(size_t failed) {
    for (size_t k = failed; k < batch_.records.size(); ++k) {
      if (WellFormed(batch_.records[k])) ObserveRecord(batch_.records[k]);
    }
    for (;;) {
      GYRE_ASSIGN_OR_RETURN(bool more, reader_.NextBatch(&batch_, kBatchRecords));
      if (!more) break;
      for (const RecordInfo& r : batch_.records) {
        if (WellFormed(r)) ObserveRecord(r);
      }
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
  Batch batch_;
  std::vector<std::string> header_;
  std::vector<PlannedColumn> plan_;
  double bytes_per_record_ = 0;

  // State of the current pass.
  std::vector<Column> columns_;  // one per plan_ entry
  std::vector<int> order_;       // plan_ indices: fallible (non-string) columns first, then strings
  int fallible_ = 0;
  std::vector<uint64_t> hashes_;
  int64_t rows_ = 0;
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
