// core/csv_reader: any bytes are read into a Table or refused with a Status, never a crash. The first byte
// picks the options (delimiter, declared columns, inference sample), the rest is the file.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/csv_reader.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace gyre;
  if (size == 0) return 0;
  const uint8_t mode = data[0];
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  CsvReadOptions options;
  options.delimiter = (mode & 1) ? ';' : ',';
  options.infer_rows = (mode & 2) ? 2 : 10'000;
  if (mode & 4) {
    options.columns = {{"time", ColumnType::kTimestamp},
                       {"user_id", ColumnType::kString},
                       {"amount", ColumnType::kFloat64},
                       {"count", ColumnType::kInt64},
                       {"success", ColumnType::kBool}};
    options.infer_undeclared = (mode & 8) != 0;
  }
  if (mode & 16) options.select = {"user_id", "amount", "x"};
  // Small read buffers: fast runs (the default 1 MiB is zero-filled per read), and records longer than
  // the buffer, which make the reader grow it and re-tokenize, on most inputs.
  options.read_buffer_bytes = (mode & 32) ? 16 : 4096;
  Result<CsvReadResult> result = ReadCsvString(text, options);
  if (result.ok()) {
    const Table& table = result->table;
    fuzz::Check(result->stats.rows == table.num_rows(), "stats.rows differs from the table's rows");
    for (int c = 0; c < table.num_columns(); ++c) {
      for (int64_t r = 0; r < table.num_rows() && r < 64; ++r) (void)table.column(c).ValueToString(r);
    }
  }
  return 0;
}
