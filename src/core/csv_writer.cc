#include "core/csv_writer.h"

#include <fmt/format.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <cstdio>
#include <cstdlib>
#include <thread>

namespace gyre {

Result<CsvWriter> CsvWriter::Open(const std::string& path, Options options) {
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr) {
    return Status::IOError(fmt::format("{}: cannot open for writing: {}", path, std::strerror(errno)));
  }
  return CsvWriter(file, path, options);
}

CsvWriter::CsvWriter(std::FILE* file, std::string path, Options options)
    : file_(file), path_(std::move(path)), options_(options), buffer_(std::max<size_t>(options.buffer_bytes, 4096)) {}

CsvWriter::CsvWriter(CsvWriter&& other) noexcept { *this = std::move(other); }

CsvWriter& CsvWriter::operator=(CsvWriter&& other) noexcept {
  if (this != &other) {
    if (file_ != nullptr) (void)Close();
    file_ = std::exchange(other.file_, nullptr);
    path_ = std::move(other.path_);
    options_ = other.options_;
    buffer_ = std::move(other.buffer_);
    used_ = std::exchange(other.used_, 0);
    at_row_start_ = other.at_row_start_;
    rows_ = other.rows_;
    error_ = std::move(other.error_);
  }
  return *this;
}

CsvWriter::~CsvWriter() {
  if (file_ != nullptr) (void)Close();
}

void CsvWriter::FlushBuffer() {
  if (used_ == 0 || file_ == nullptr) return;
  if (error_.ok() && std::fwrite(buffer_.data(), 1, used_, file_) != used_) {
    error_ = Status::IOError(fmt::format("{}: write failed: {}", path_, std::strerror(errno)));
  }
  used_ = 0;
}

char* CsvWriter::Reserve(size_t n) {
  if (used_ + n > buffer_.size()) {
    FlushBuffer();
    if (n > buffer_.size()) buffer_.resize(n);
  }
  return buffer_.data() + used_;
}

void CsvWriter::Separator() {
  if (!at_row_start_) *Reserve(1) = options_.delimiter, ++used_;
  at_row_start_ = false;
}

namespace {

// Whether any byte of `word` equals the byte broadcast in `pattern` (the classic SWAR zero-byte test).
inline bool HasByte(uint64_t word, uint64_t pattern) {
  uint64_t x = word ^ pattern;
  return ((x - 0x0101010101010101ULL) & ~x & 0x8080808080808080ULL) != 0;
}

// Whether a field holds a byte that forces quoting: the delimiter, '"', CR or LF. Eight bytes per step,
// since fields such as user agents are long and this runs for every field datagen writes.
bool HasSpecialByte(std::string_view v, char delimiter) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  const uint64_t delim = kOnes * static_cast<uint8_t>(delimiter), quote = kOnes * '"', cr = kOnes * '\r',
                 lf = kOnes * '\n';
  size_t i = 0;
  for (; i + 8 <= v.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, v.data() + i, 8);
    if (HasByte(w, delim) || HasByte(w, quote) || HasByte(w, cr) || HasByte(w, lf)) return true;
  }
  for (; i < v.size(); ++i) {
    char c = v[i];
    if (c == delimiter || c == '"' || c == '\n' || c == '\r') return true;
  }
  return false;
}

}  // namespace

void CsvWriter::Field(std::string_view value) {
  Separator();
  bool needs_quotes = !value.empty() && (value.front() == ' ' || value.back() == ' ');
  if (!needs_quotes) needs_quotes = HasSpecialByte(value, options_.delimiter);
  if (!needs_quotes) {
    std::memcpy(Reserve(value.size()), value.data(), value.size());
    used_ += value.size();
    return;
  }
  char* p = Reserve(value.size() * 2 + 2);
  char* start = p;
  *p++ = '"';
  // Copy runs between quotes whole; each quote is doubled.
  while (!value.empty()) {
    const void* found = std::memchr(value.data(), '"', value.size());
    size_t run = found ? static_cast<const char*>(found) - value.data() + 1 : value.size();
    std::memcpy(p, value.data(), run);
    p += run;
    if (found) *p++ = '"';
    value.remove_prefix(run);
  }
  *p++ = '"';
  used_ += p - start;
}

void CsvWriter::Field(int64_t value) {
  Separator();
  char* p = Reserve(24);
  used_ += std::to_chars(p, p + 24, value).ptr - p;
}

void CsvWriter::Field(double value) {
  Separator();
  if (std::isnan(value)) return;
  char* p = Reserve(32);
  used_ += std::to_chars(p, p + 32, value).ptr - p;
}

void CsvWriter::Field(bool value) {
  Separator();
  std::string_view text = value ? "true" : "false";
  std::memcpy(Reserve(text.size()), text.data(), text.size());
  used_ += text.size();
}

void CsvWriter::TimestampField(TimestampMicros ts) {
  Separator();
  used_ += FormatTimestamp(ts, Reserve(kMaxTimestampChars));
}

void CsvWriter::NullField() { Separator(); }

void CsvWriter::EndRow() {
  *Reserve(1) = '\n';
  ++used_;
  at_row_start_ = true;
  ++rows_;
}

void CsvWriter::Row(const std::vector<std::string>& fields) {
  for (const auto& f : fields) Field(std::string_view(f));
  EndRow();
}

void CsvWriter::Raw(std::string_view bytes) {
  FlushBuffer();
  if (file_ != nullptr && std::fwrite(bytes.data(), 1, bytes.size(), file_) != bytes.size() && error_.ok()) {
    error_ = Status::IOError(fmt::format("{}: write failed: {}", path_, std::strerror(errno)));
  }
}

Status CsvWriter::Close() {
  if (file_ == nullptr) return error_;
  FlushBuffer();
  if (std::fclose(file_) != 0 && error_.ok()) {
    error_ = Status::IOError(fmt::format("{}: close failed: {}", path_, std::strerror(errno)));
  }
  file_ = nullptr;
  return error_;
}

namespace {

void WriteRows(CsvWriter& writer, const Table& table, int64_t begin, int64_t end) {
  for (int64_t r = begin; r < end; ++r) {
    for (int c = 0; c < table.num_columns(); ++c) {
      const Column& column = table.column(c);
      if (column.IsNull(r)) {
        writer.NullField();
        continue;
      }
      switch (column.type()) {
        case ColumnType::kInt64:
          writer.Field(column.Int64(r));
          break;
        case ColumnType::kFloat64:
          writer.Field(column.Float64(r));
          break;
        case ColumnType::kBool:
          writer.Field(column.Bool(r));
          break;
        case ColumnType::kString:
          writer.Field(column.String(r));
          break;
        case ColumnType::kTimestamp:
          writer.TimestampField(column.Timestamp(r));
          break;
      }
    }
    writer.EndRow();
  }
}

}  // namespace

Status WriteCsv(const Table& table, const std::string& path, int threads) {
  GYRE_ASSIGN_OR_RETURN(CsvWriter writer, CsvWriter::Open(path));
  for (int c = 0; c < table.num_columns(); ++c) writer.Field(table.column_name(c));
  writer.EndRow();
  const int64_t rows = table.num_rows();
  constexpr int64_t kBlockRows = 32768;
  if (threads <= 1 || rows < 2 * kBlockRows) {
    WriteRows(writer, table, 0, rows);
    return writer.Close();
  }
  // Each round formats `threads` blocks into memory streams at once, then appends them in order.
  for (int64_t round = 0; round < rows; round += kBlockRows * threads) {
    std::vector<char*> buffers(threads, nullptr);
    std::vector<size_t> sizes(threads, 0);
    std::vector<Status> errors(threads);
    auto format = [&](int i) {
      int64_t begin = std::min(rows, round + i * kBlockRows), end = std::min(rows, begin + kBlockRows);
      std::FILE* stream = ::open_memstream(&buffers[i], &sizes[i]);
      if (stream == nullptr) {
        errors[i] = Status::IOError(fmt::format("{}: cannot format rows in memory: {}", path, std::strerror(errno)));
        return;
      }
      CsvWriter block(stream, path, CsvWriter::Options{});
      WriteRows(block, table, begin, end);
      errors[i] = block.Close();
    };
    std::vector<std::thread> pool;
    for (int i = 1; i < threads; ++i) pool.emplace_back(format, i);
    format(0);
    for (auto& t : pool) t.join();
    for (int i = 0; i < threads; ++i) {
      if (errors[i].ok() && sizes[i] > 0) writer.Raw(std::string_view(buffers[i], sizes[i]));
      std::free(buffers[i]);
    }
    for (const Status& e : errors) GYRE_RETURN_IF_ERROR(e);
  }
  return writer.Close();
}

}  // namespace gyre
