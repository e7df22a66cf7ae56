// CSV reader: a CSV file into a Table, fast (hundreds of MB/s on one core) and with errors that say where.
//
// Format (RFC 4180, plus what real exports do):
//   - The first record is the header; its names must be unique and non-empty.
//   - Fields are separated by `delimiter` (default ','). Records end with LF or CRLF; the last record may
//     lack its line end. A UTF-8 byte order mark at the start of the file is skipped.
//   - A field that starts with '"' is quoted: it ends at the next lone '"', may hold the delimiter, CR and
//     LF, and a doubled quote "" stands for one quote. After the closing quote only the delimiter or the
//     line end may follow. A quote elsewhere in an unquoted field is an ordinary character.
//   - An empty field is null, for every type including string, quoted ("") or not: gyre's CSV has no
//     empty string. (CsvWriter writes null as an empty field, so tables round-trip.)
//   - Blank lines are skipped, except in a one-column file, where a blank line is a null.
//   - Values are not trimmed: " 12" is not an int64. Bytes are passed through (invalid UTF-8 included).
//   - Parsing of values follows core/value_parse.h; timestamps use a per-column TimestampFormat.
//
// Schema. Each column that ends up in the table has a type that is either declared (CsvReadOptions::
// columns) or inferred. Which header columns are read:
//   select non-empty → exactly those (each must be in the header);
//   else columns empty or infer_undeclared → all of them; else only the declared ones.
// Output columns keep the order of the file's header. A declared or selected column missing from the
// header is an error naming every missing column and listing the header.
//
// Inference. The first `infer_rows` records (default 10,000; <= 0 means all) are sampled. For each
// column, over its non-null sampled values, the first type in this list that parses all of them wins:
//   bool (only true/false, any case) → int64 → float64 → timestamp (ISO-8601 only; epoch numbers are
//   int64) → string. A column with no values in the sample is string.
// If a later value does not parse as the inferred type, the type is widened (int64 → float64 → string,
// bool/timestamp → string): the rest of the file is scanned to settle every inferred column's type, and
// the file is read again. So an inferred column never fails on a value; at worst the file is read twice.
//
// Errors name the file, the physical line where the record starts (quoted fields may span lines) and,
// for value errors, the column's name and 1-based position in the header:
//   logins.csv:1043: column 'amount' (4): cannot parse 'abc' as float64
//   logins.csv:12: record has 12 fields but the header has 13
//   logins.csv:40: column 'note' (3): quoted field is never closed (the quote opens on this line)
// Without reject_path, the first bad record is an error (InvalidArgument). With reject_path, bad records
// (wrong field count, bad declared-type values, quoting errors) are written to that CSV file as
// `line,error,record` (record = the raw text of the record, up to 64 KiB) and counted in
// CsvReadStats::rejected_rows; the read goes on.
//
// Limits: the file is read more than once (the header, the inference sample, the data), so it must be
// seekable: a regular file, not a pipe. A single record longer than 2 GiB is ResourceExhausted.
//
// Thread-safety: ReadCsv is a free function with no shared state; concurrent calls are independent.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/table.h"
#include "core/time.h"

namespace gyre {

// A declared column.
struct CsvColumn {
  std::string name;
  ColumnType type = ColumnType::kString;
  TimestampFormat timestamp_format = TimestampFormat::kAuto;  // only for timestamp columns
};

struct CsvReadOptions {
  char delimiter = ',';
  // Declared columns (name, type). Empty: every column is inferred.
  std::vector<CsvColumn> columns;
  // With declared columns: also read the undeclared header columns, inferring their types. Default false:
  // undeclared columns are skipped.
  bool infer_undeclared = false;
  // If not empty, read only these columns (declared ones keep their type, others are inferred).
  std::vector<std::string> select;
  // Records sampled for inference; <= 0 samples the whole file. Default 10,000.
  int64_t infer_rows = 10'000;
  // If not empty, bad records go to this CSV file instead of failing the read. Default: empty.
  std::string reject_path;
  // Name used in messages; default: the path given to ReadCsv ("<string>" for ReadCsvString).
  std::string display_name;
  // Bytes read from the file per read() call. Default 1 MiB. A record longer than this is still read
  // whole (the buffer grows).
  size_t read_buffer_bytes = 1 << 20;
};

struct CsvReadStats {
  int64_t rows = 0;           // records in the table
  int64_t rejected_rows = 0;  // records written to reject_path
  int64_t lines = 0;          // physical lines in the file
  int64_t bytes = 0;          // bytes in the file
  int passes = 0;             // full reads of the file (1, or 2 if an inferred type had to be widened)
  std::vector<bool> inferred;  // per table column: true if its type was inferred, false if declared
};

struct CsvReadResult {
  Table table;
  CsvReadStats stats;
};

// Reads `path`. Errors: IOError if the file cannot be opened or read (or the reject file written);
// InvalidArgument for malformed content or bad values, with the location as described above.
Result<CsvReadResult> ReadCsv(const std::string& path, const CsvReadOptions& options = {});

// Same, from text in memory (tests, HTTP uploads). `content` must stay alive during the call only.
Result<CsvReadResult> ReadCsvString(std::string_view content, const CsvReadOptions& options = {});

}  // namespace gyre
