// CsvWriter: buffered, RFC 4180 CSV output to a file.
//
// Fields are quoted only when they must be (they contain the delimiter, a quote, CR or LF, or would read
// back differently: leading/trailing spaces); quotes are doubled. Rows end with "\n". A null is an empty
// field, which the reader reads back as null. Timestamps are written as RFC 3339 UTC (core/time.h).
//
// Not thread-safe. Errors from the operating system are remembered and returned by Close(); writing after
// an error is a no-op, so callers may check once at the end. The destructor closes silently; call Close()
// to learn whether everything reached the disk.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/table.h"
#include "core/time.h"

namespace gyre {

class CsvWriter {
 public:
  struct Options {
    char delimiter = ',';
    size_t buffer_bytes = 1 << 20;  // flushed to the OS when full
  };

  // Creates or truncates `path`.
  static Result<CsvWriter> Open(const std::string& path, Options options);
  static Result<CsvWriter> Open(const std::string& path) { return Open(path, Options{}); }

  CsvWriter(CsvWriter&& other) noexcept;
  CsvWriter& operator=(CsvWriter&& other) noexcept;
  CsvWriter(const CsvWriter&) = delete;
  CsvWriter& operator=(const CsvWriter&) = delete;
  ~CsvWriter();

  // One call per field, then EndRow().
  void Field(std::string_view value);
  void Field(const char* value) { Field(std::string_view(value)); }
  void Field(int64_t value);
  void Field(int value) { Field(static_cast<int64_t>(value)); }
  void Field(double value);  // shortest representation that reads back exactly; NaN is written as null
  void Field(bool value);    // true / false
  void TimestampField(TimestampMicros ts);
  void NullField();
  void EndRow();

  // Writes a whole header or row of strings.
  void Row(const std::vector<std::string>& fields);

  int64_t rows_written() const { return rows_; }
  const std::string& path() const { return path_; }

  // Flushes and closes; returns the first error met while writing, if any.
  Status Close();

 private:
  friend Status WriteCsv(const Table& table, const std::string& path, int threads);
  CsvWriter(std::FILE* file, std::string path, Options options);
  void Separator();
  // Appends bytes that are already CSV (whole rows formatted elsewhere).
  void Raw(std::string_view bytes);
  char* Reserve(size_t n);  // room for n bytes at the end of the buffer
  void FlushBuffer();

  std::FILE* file_ = nullptr;
  std::string path_;
  Options options_;
  std::vector<char> buffer_;
  size_t used_ = 0;
  bool at_row_start_ = true;
  int64_t rows_ = 0;
  Status error_;
};

// Writes `table` (header, then every row; nulls as empty fields) to `path`. With threads > 1, blocks of
// rows are formatted in parallel (in memory, a bounded number of blocks at a time) and written in order.
Status WriteCsv(const Table& table, const std::string& path, int threads = 1);

}  // namespace gyre
