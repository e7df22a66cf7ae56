#include "core/csv_reader.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <sstream>

#include "core/csv_writer.h"
#include "core/value_parse.h"

namespace gyre {
namespace {

std::string TempPath(const std::string& name) {
  return std::filesystem::temp_directory_path() / ("gyre_csvr_" + std::to_string(::getpid()) + "_" + name);
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

CsvReadOptions Declared(std::vector<CsvColumn> columns) {
  CsvReadOptions o;
  o.columns = std::move(columns);
  o.display_name = "t.csv";
  return o;
}

CsvReadOptions Inferred() {
  CsvReadOptions o;
  o.display_name = "t.csv";
  return o;
}

std::string Error(std::string_view csv, const CsvReadOptions& options) {
  auto r = ReadCsvString(csv, options);
  if (r.ok()) return "OK";
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  return r.status().message();
}

const Column& Col(const CsvReadResult& r, std::string_view name) {
  auto c = r.table.ColumnByName(name);
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return **c;
}

// ------------------------------------------------------------------------------------------- Parsing

TEST(CsvReaderTest, DeclaredSchemaReadsTypedColumns) {
  auto r = ReadCsvString(
      "id,time,amount,ok,country\n"
      "1,2026-03-01T12:30:00Z,10.5,true,FR\n"
      "2,2026-03-01T12:30:01.250+01:00,-3,f,US\n"
      "3,,,,FR\n",
      Declared({{"id", ColumnType::kInt64},
                {"time", ColumnType::kTimestamp},
                {"amount", ColumnType::kFloat64},
                {"ok", ColumnType::kBool},
                {"country", ColumnType::kString}}));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->table.schema().ToString(), "id:int64, time:timestamp, amount:float64, ok:bool, country:string");
  EXPECT_EQ(r->stats.rows, 3);
  EXPECT_EQ(r->stats.lines, 4);
  EXPECT_EQ(r->stats.passes, 1);
  EXPECT_EQ(r->stats.inferred, (std::vector<bool>{false, false, false, false, false}));
  EXPECT_EQ(Col(*r, "id").Int64(2), 3);
  EXPECT_EQ(Col(*r, "time").Timestamp(0), 1772368200LL * kMicrosPerSecond);
  EXPECT_EQ(Col(*r, "time").Timestamp(1), (1772368201LL - 3600) * kMicrosPerSecond + 250000);
  EXPECT_DOUBLE_EQ(Col(*r, "amount").Float64(1), -3.0);
  EXPECT_FALSE(Col(*r, "ok").Bool(1));
  EXPECT_EQ(Col(*r, "country").dictionary().size(), 2);
  EXPECT_EQ(Col(*r, "country").String(2), "FR");
  for (const char* name : {"time", "amount", "ok"}) {
    EXPECT_TRUE(Col(*r, name).IsNull(2)) << name;
    EXPECT_EQ(Col(*r, name).null_count(), 1) << name;
  }
}

TEST(CsvReaderTest, QuotedFieldsAndLineNumbersAfterEmbeddedNewlines) {
  const std::string csv =
      "id,note,amount\n"
      "1,\"hello, world\",1.5\n"
      "2,\"multi\nline \"\"quoted\"\"\",2.5\n"
      "3,plain,abc\n";
  auto options = Declared({{"id", ColumnType::kInt64}, {"note", ColumnType::kString}, {"amount", ColumnType::kFloat64}});
  // Record 3 starts on line 5: record 2 spans lines 3-4.
  EXPECT_EQ(Error(csv, options), "t.csv:5: column 'amount' (3): cannot parse 'abc' as float64");

  auto r = ReadCsvString(csv.substr(0, csv.find("3,plain")), options);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Col(*r, "note").String(0), "hello, world");
  EXPECT_EQ(Col(*r, "note").String(1), "multi\nline \"quoted\"");
  EXPECT_EQ(r->stats.lines, 4);
}

TEST(CsvReaderTest, CrlfBomAndNoFinalNewline) {
  auto r = ReadCsvString("\xEF\xBB\xBFid,name\r\n1,\"a\r\nb\"\r\n2,c\r\n3,\"d\"",
                         Declared({{"id", ColumnType::kInt64}, {"name", ColumnType::kString}}));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->table.column_name(0), "id");  // the BOM is not part of the first name
  ASSERT_EQ(r->stats.rows, 3);
  EXPECT_EQ(Col(*r, "name").String(0), "a\r\nb");
  EXPECT_EQ(Col(*r, "name").String(1), "c");  // the CR of CRLF is not data
  EXPECT_EQ(Col(*r, "name").String(2), "d");
  EXPECT_EQ(Col(*r, "id").Int64(2), 3);
  EXPECT_EQ(r->stats.lines, 5);

  auto plain = ReadCsvString("a,b\n1,x", Inferred());  // last record without a line end
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->stats.rows, 1);
  EXPECT_EQ(Col(*plain, "b").String(0), "x");
}

TEST(CsvReaderTest, EmptyFieldIsNullForEveryTypeQuotedOrNot) {
  auto r = ReadCsvString("a,b,c\n,\"\",\n1,x,\"\"\n",
                         Declared({{"a", ColumnType::kInt64}, {"b", ColumnType::kString}, {"c", ColumnType::kString}}));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(Col(*r, "a").IsNull(0));
  EXPECT_TRUE(Col(*r, "b").IsNull(0));
  EXPECT_TRUE(Col(*r, "c").IsNull(0));
  EXPECT_TRUE(Col(*r, "c").IsNull(1));
  EXPECT_EQ(Col(*r, "b").String(1), "x");
  EXPECT_EQ(Col(*r, "b").string_codes()[0], -1);
}

TEST(CsvReaderTest, BlankLinesAreSkippedButCounted) {
  auto options = Declared({{"a", ColumnType::kInt64}, {"b", ColumnType::kInt64}});
  auto r = ReadCsvString("a,b\n1,2\n\n\r\n3,4\n\n", options);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->stats.rows, 2);
  EXPECT_EQ(Error("a,b\n1,2\n\n3,x\n", options), "t.csv:4: column 'b' (2): cannot parse 'x' as int64");

  // In a one-column file a blank line is a null value.
  auto one = ReadCsvString("x\n1\n\n3\n", Declared({{"x", ColumnType::kInt64}}));
  ASSERT_TRUE(one.ok());
  ASSERT_EQ(one->stats.rows, 3);
  EXPECT_TRUE(Col(*one, "x").IsNull(1));
  EXPECT_EQ(Col(*one, "x").Int64(2), 3);
}

TEST(CsvReaderTest, InvalidUtf8AndNulBytesPassThrough) {
  static const char kBytes[] = "caf\xE9 \xFF\xFE\0end";  // Latin-1 é, stray bytes, a NUL
  const std::string value(kBytes, sizeof kBytes - 1);
  ASSERT_EQ(value.size(), 11u);
  auto r = ReadCsvString("id,name\n1," + value + "\n2,\"" + value + "\"\n", Inferred());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Col(*r, "name").String(0), value);
  EXPECT_EQ(Col(*r, "name").String(1), value);
  EXPECT_EQ(Col(*r, "name").dictionary().size(), 1);
}

TEST(CsvReaderTest, OtherDelimiters) {
  CsvReadOptions o = Inferred();
  o.delimiter = ';';
  auto r = ReadCsvString("a;b\n1,5;\"x;y\"\n", o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(Col(*r, "a").type(), ColumnType::kString);  // "1,5" is not a number
  EXPECT_EQ(Col(*r, "b").String(0), "x;y");
  o.delimiter = '\t';
  r = ReadCsvString("a\tb\n1\t2.5\n", o);
  ASSERT_TRUE(r.ok());
  EXPECT_DOUBLE_EQ(Col(*r, "b").Float64(0), 2.5);
  o.delimiter = '"';
  EXPECT_FALSE(ReadCsvString("a\n", o).ok());
}

// ----------------------------------------------------------------------------------------- Inference

TEST(CsvReaderTest, InferenceDecisions) {
  auto r = ReadCsvString(
      "b,i,f,t,s,n,e,z,d\n"
      "true,1,1,2026-03-01T10:00:00Z,x,,1700000000,0,2026-03-01\n"
      "FALSE,-2,2.5,2026-03-01 11:00:00+01:00,y,,1700000001,1,2026-03-02\n"
      ",3,,,12,,,,\n",
      Inferred());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->table.schema().ToString(),
            "b:bool, i:int64, f:float64, t:timestamp, s:string, n:string, e:int64, z:int64, d:timestamp");
  EXPECT_EQ(r->stats.inferred, std::vector<bool>(9, true));
  EXPECT_TRUE(Col(*r, "b").Bool(0));
  EXPECT_FALSE(Col(*r, "b").Bool(1));
  EXPECT_TRUE(Col(*r, "b").IsNull(2));
  EXPECT_DOUBLE_EQ(Col(*r, "f").Float64(0), 1.0);
  EXPECT_EQ(Col(*r, "t").Timestamp(0), Col(*r, "t").Timestamp(1));  // same instant, other offset
  EXPECT_EQ(Col(*r, "s").String(2), "12");
  EXPECT_EQ(Col(*r, "n").null_count(), 3);
  EXPECT_EQ(Col(*r, "e").Int64(1), 1700000001);  // epoch numbers stay int64 unless declared
  EXPECT_EQ(Col(*r, "d").Timestamp(1), 1772409600LL * kMicrosPerSecond);
}

TEST(CsvReaderTest, LateValuesWidenInferredTypes) {
  const std::string csv =
      "a,b,c,d\n"
      "1,true,2026-03-01,7\n"
      "2,false,2026-03-02,8\n"
      "3.5,maybe,soon,9\n"
      "4,true,2026-03-03,x\n";
  CsvReadOptions o = Inferred();
  o.infer_rows = 2;
  auto r = ReadCsvString(csv, o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->stats.passes, 2);
  EXPECT_EQ(r->table.schema().ToString(), "a:float64, b:string, c:string, d:string");
  EXPECT_DOUBLE_EQ(Col(*r, "a").Float64(2), 3.5);
  EXPECT_DOUBLE_EQ(Col(*r, "a").Float64(3), 4.0);
  EXPECT_EQ(Col(*r, "b").String(2), "maybe");
  EXPECT_EQ(Col(*r, "d").String(0), "7");

  o.infer_rows = 0;  // the whole file: right the first time
  r = ReadCsvString(csv, o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->stats.passes, 1);
  EXPECT_EQ(r->table.schema().ToString(), "a:float64, b:string, c:string, d:string");
}

TEST(CsvReaderTest, SelectAndInferUndeclared) {
  CsvReadOptions o = Declared({{"b", ColumnType::kString}});
  auto r = ReadCsvString("a,b,c\n1,2,x\n", o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->table.schema().ToString(), "b:string");  // undeclared columns are skipped

  o.infer_undeclared = true;
  r = ReadCsvString("a,b,c\n1,2,x\n", o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->table.schema().ToString(), "a:int64, b:string, c:string");
  EXPECT_EQ(r->stats.inferred, (std::vector<bool>{true, false, true}));

  o = Inferred();
  o.select = {"c", "a"};
  r = ReadCsvString("a,b,c\n1,2,x\n", o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->table.schema().ToString(), "a:int64, c:string");  // header order

  o.select = {"a", "zz"};
  EXPECT_EQ(Error("a,b,c\n1,2,x\n", o), "t.csv: selected columns not in the header: 'zz' (header: a, b, c)");
}

TEST(CsvReaderTest, DeclaredColumnsMissingFromTheHeader) {
  auto o = Declared({{"id", ColumnType::kInt64}, {"foo", ColumnType::kInt64}, {"amount", ColumnType::kFloat64},
                     {"bar", ColumnType::kString}});
  EXPECT_EQ(Error("id,amount\n1,2\n", o), "t.csv: declared columns not in the header: 'foo', 'bar' (header: id, amount)");
}

// ----------------------------------------------------------------------------------------- Errors

TEST(CsvReaderTest, HeaderErrors) {
  EXPECT_EQ(Error("", Inferred()), "t.csv: the file is empty (a header row is required)");
  EXPECT_EQ(Error("\n\n", Inferred()), "t.csv: the file is empty (a header row is required)");
  EXPECT_EQ(Error("a,,b\n", Inferred()), "t.csv:1: header field 2 is empty");
  EXPECT_EQ(Error("a,b,a\n", Inferred()), "t.csv:1: duplicate column name 'a' in the header (fields 1 and 3)");
  EXPECT_EQ(Error("a,\"b\n", Inferred()),
            "t.csv:1: header field 2: quoted field is never closed (its opening quote is on this line)");
}

TEST(CsvReaderTest, RaggedRows) {
  auto o = Declared({{"id", ColumnType::kInt64}});
  EXPECT_EQ(Error("id,a,b\n1,2,3\n1,2\n", o), "t.csv:3: too few fields: the record has 2, the header has 3");
  EXPECT_EQ(Error("id,a,b\n1,2,3,4\n", o), "t.csv:2: too many fields: the record has 4, the header has 3");
  EXPECT_EQ(Error("id,a,b\n1,2,3\n\"x\ny\",2,3,4\n", o),
            "t.csv:3: too many fields: the record has 4, the header has 3");
}

TEST(CsvReaderTest, QuotingErrors) {
  auto o = Declared({{"id", ColumnType::kInt64}, {"note", ColumnType::kString}});
  EXPECT_EQ(Error("id,note\n1,ok\n2,\"a\nb\"\n3,\"never\nclosed\n", o),
            "t.csv:5: column 'note' (2): quoted field is never closed (its opening quote is on this line)");
  EXPECT_EQ(Error("id,note\n1,\"two\nlines\"x\n", o),
            "t.csv:3: column 'note' (2): unexpected 'x' after the closing quote (a quote inside a quoted field "
            "must be doubled: \"\")");
  // A quote inside an unquoted field is an ordinary character.
  auto r = ReadCsvString("id,note\n1,5'10\" tall\n", o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(Col(*r, "note").String(0), "5'10\" tall");
}

TEST(CsvReaderTest, BadValuesNameLineColumnAndValue) {
  auto o = Declared({{"id", ColumnType::kInt64},
                     {"time", ColumnType::kTimestamp},
                     {"amount", ColumnType::kFloat64},
                     {"ok", ColumnType::kBool}});
  const std::string header = "id,time,amount,ok\n1,2026-03-01T00:00:00Z,1.5,true\n";
  EXPECT_EQ(Error(header + "x2,2026-03-01T00:00:00Z,1,true\n", o), "t.csv:3: column 'id' (1): cannot parse 'x2' as int64");
  EXPECT_EQ(Error(header + "99999999999999999999,2026-03-01T00:00:00Z,1,true\n", o),
            "t.csv:3: column 'id' (1): cannot parse '99999999999999999999' as int64");
  EXPECT_EQ(Error(header + "2,2026-03-01T00:00:00Z,1.5.1,true\n", o),
            "t.csv:3: column 'amount' (3): cannot parse '1.5.1' as float64");
  EXPECT_EQ(Error(header + "2,2026-03-01T00:00:00Z, 1.5,true\n", o),
            "t.csv:3: column 'amount' (3): cannot parse ' 1.5' as float64");
  EXPECT_EQ(Error(header + "2,2026-03-01T00:00:00Z,1.5,maybe\n", o),
            "t.csv:3: column 'ok' (4): cannot parse 'maybe' as bool");
  EXPECT_EQ(Error(header + "2,2026-13-01T00:00:00Z,1.5,true\n", o),
            "t.csv:3: column 'time' (2): cannot parse '2026-13-01T00:00:00Z' as a timestamp: month out of range "
            "(expected ISO-8601 like 2026-03-01T12:30:00Z or epoch seconds/milliseconds)");
  EXPECT_EQ(Error(header + "2,yesterday,1.5,true\n", o),
            "t.csv:3: column 'time' (2): cannot parse 'yesterday' as an epoch timestamp");
  // Long values are shortened in messages.
  std::string long_value(200, '7');
  long_value[0] = 'x';
  EXPECT_EQ(Error(header + long_value + ",2026-03-01T00:00:00Z,1,true\n", o),
            "t.csv:3: column 'id' (1): cannot parse '" + long_value.substr(0, 77) + "...' as int64");
}

TEST(CsvReaderTest, DeclaredTimestampFormats) {
  auto r = ReadCsvString("ms,s,iso\n1700000000123,1700000000,2026-03-01T00:00:00.5Z\n",
                         Declared({{"ms", ColumnType::kTimestamp, TimestampFormat::kEpochMillis},
                                   {"s", ColumnType::kTimestamp, TimestampFormat::kEpochSeconds},
                                   {"iso", ColumnType::kTimestamp, TimestampFormat::kIso8601}}));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Col(*r, "ms").Timestamp(0), 1700000000123000LL);
  EXPECT_EQ(Col(*r, "s").Timestamp(0), 1700000000000000LL);
  EXPECT_EQ(Col(*r, "iso").Timestamp(0), 1772323200500000LL);
  EXPECT_EQ(Error("t\n1700000000\n", Declared({{"t", ColumnType::kTimestamp, TimestampFormat::kIso8601}})),
            "t.csv:2: column 't' (1): cannot parse '1700000000' as a timestamp: expected '-' after the year (expected "
            "ISO-8601 like 2026-03-01T12:30:00Z or epoch seconds/milliseconds)");
}

TEST(CsvReaderTest, MissingFileIsIOErrorNamingThePath) {
  auto r = ReadCsv("/nonexistent-dir/logins.csv");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kIOError);
  EXPECT_EQ(r.status().message(), "/nonexistent-dir/logins.csv: cannot open: No such file or directory");
}

// -------------------------------------------------------------------------------------- Reject mode

TEST(CsvReaderTest, RejectModeWritesBadRecordsAndGoesOn) {
  std::string rejects = TempPath("rejects.csv");
  CsvReadOptions o = Declared({{"id", ColumnType::kInt64}, {"amount", ColumnType::kFloat64}});
  o.reject_path = rejects;
  auto r = ReadCsvString(
      "id,amount\n"
      "1,1.5\n"
      "2,abc\n"
      "3\n"
      "4,\"x\"y\n"
      "5,\"2.5\"\n"
      "6,\"never\nclosed\n",
      o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->stats.rows, 2);
  EXPECT_EQ(r->stats.rejected_rows, 4);
  EXPECT_EQ(Col(*r, "id").Int64(1), 5);
  EXPECT_DOUBLE_EQ(Col(*r, "amount").Float64(1), 2.5);
  EXPECT_EQ(Slurp(rejects),
            "line,error,record\n"
            "3,column 'amount' (2): cannot parse 'abc' as float64,\"2,abc\"\n"
            "4,\"too few fields: the record has 1, the header has 2\",3\n"
            "5,\"column 'amount' (2): unexpected 'y' after the closing quote (a quote inside a quoted field must "
            "be doubled: \"\"\"\")\",\"4,\"\"x\"\"y\"\n"
            "7,column 'amount' (2): quoted field is never closed (its opening quote is on this line),\"6,\"\"never\n"
            "closed\n\"\n");
  std::filesystem::remove(rejects);
}

TEST(CsvReaderTest, RejectModeUndoesPartlyAppendedRows) {
  std::string rejects = TempPath("rejects2.csv");
  CsvReadOptions o = Declared({{"a", ColumnType::kInt64}, {"s", ColumnType::kString}, {"b", ColumnType::kInt64}});
  o.reject_path = rejects;
  auto r = ReadCsvString("a,s,b\n1,new,x\n2,old,3\n", o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->stats.rows, 1);
  EXPECT_EQ(r->stats.rejected_rows, 1);
  EXPECT_EQ(Col(*r, "a").size(), 1);
  EXPECT_EQ(Col(*r, "a").Int64(0), 2);
  EXPECT_EQ(Col(*r, "s").dictionary().size(), 1);  // "new" never reached the dictionary
  std::filesystem::remove(rejects);
}

TEST(CsvReaderTest, RejectFileThatCannotBeWritten) {
  CsvReadOptions o = Inferred();
  o.reject_path = "/nonexistent-dir/rejects.csv";
  auto r = ReadCsvString("a\n1\n", o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kIOError);
}

// ----------------------------------------------------------------------- Buffers and round trips

std::string RandomText(std::mt19937_64& rng) {
  static const std::vector<std::string> kPieces = {"a", "Zürich", ",", "\"", "\n", "\r\n", " ", "x y", "日本", "'", ";"};
  std::string s;
  int n = 1 + static_cast<int>(rng() % 6);
  for (int i = 0; i < n; ++i) s += kPieces[rng() % kPieces.size()];
  return s;
}

Table RandomTable(std::mt19937_64& rng, int rows) {
  TableBuilder b(Schema({{"i", ColumnType::kInt64},
                         {"f", ColumnType::kFloat64},
                         {"b", ColumnType::kBool},
                         {"s", ColumnType::kString},
                         {"t", ColumnType::kTimestamp}}));
  std::uniform_real_distribution<double> unit(-1, 1);
  for (int r = 0; r < rows; ++r) {
    auto null = [&] { return rng() % 7 == 0; };
    if (null()) b.column(0).AppendNull();
    else if (r == 0) b.column(0).AppendInt64(std::numeric_limits<int64_t>::min());
    else if (r == 1) b.column(0).AppendInt64(std::numeric_limits<int64_t>::max());
    else b.column(0).AppendInt64(static_cast<int64_t>(rng()) >> (rng() % 64));
    if (null()) b.column(1).AppendNull();
    else if (r == 2) b.column(1).AppendFloat64(std::numeric_limits<double>::infinity());
    else b.column(1).AppendFloat64(unit(rng) * std::pow(10.0, static_cast<int>(rng() % 40) - 20));
    if (null()) b.column(2).AppendNull();
    else b.column(2).AppendBool(rng() % 2 == 0);
    if (null()) b.column(3).AppendNull();
    else b.column(3).AppendString(RandomText(rng));
    if (null()) b.column(4).AppendNull();
    else {
      // 1900..2100, sometimes whole seconds, milliseconds or microseconds.
      int64_t ts = -2208988800LL * kMicrosPerSecond + static_cast<int64_t>(rng() % (6311433600ULL * 1000000ULL));
      if (rng() % 3 == 0) ts -= ts % kMicrosPerSecond;
      else if (rng() % 2 == 0) ts -= ts % 1000;
      b.column(4).AppendTimestamp(ts);
    }
  }
  auto t = b.Finish();
  EXPECT_TRUE(t.ok());
  return std::move(t).value();
}

Status WriteTable(const Table& table, const std::string& path) {
  GYRE_ASSIGN_OR_RETURN(CsvWriter w, CsvWriter::Open(path));
  for (int c = 0; c < table.num_columns(); ++c) w.Field(std::string_view(table.column_name(c)));
  w.EndRow();
  for (int64_t r = 0; r < table.num_rows(); ++r) {
    for (int c = 0; c < table.num_columns(); ++c) {
      const Column& col = table.column(c);
      if (col.IsNull(r)) {
        w.NullField();
        continue;
      }
      switch (col.type()) {
        case ColumnType::kInt64: w.Field(col.Int64(r)); break;
        case ColumnType::kFloat64: w.Field(col.Float64(r)); break;
        case ColumnType::kBool: w.Field(col.Bool(r)); break;
        case ColumnType::kString: w.Field(col.String(r)); break;
        case ColumnType::kTimestamp: w.TimestampField(col.Timestamp(r)); break;
      }
    }
    w.EndRow();
  }
  return w.Close();
}

TEST(CsvReaderTest, RoundTripWithCsvWriter) {
  std::mt19937_64 rng(20260301);
  std::string path = TempPath("roundtrip.csv");
  for (int trial = 0; trial < 3; ++trial) {
    Table original = RandomTable(rng, 500 + trial * 300);
    ASSERT_TRUE(WriteTable(original, path).ok());
    CsvReadOptions o;
    for (const auto& c : original.schema().columns()) o.columns.push_back({c.name, c.type});
    for (size_t buffer : {size_t{16}, size_t{61}, size_t{4096}, size_t{4} << 20}) {
      o.read_buffer_bytes = buffer;
      auto r = ReadCsv(path, o);
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      EXPECT_TRUE(r->table.Equals(original)) << "trial " << trial << ", buffer " << buffer;
      EXPECT_EQ(r->stats.rows, original.num_rows());
    }
    // Inference finds the written types (the string column holds non-numeric text).
    auto inferred = ReadCsv(path);
    ASSERT_TRUE(inferred.ok()) << inferred.status().ToString();
    EXPECT_EQ(inferred->table.schema(), original.schema());
    EXPECT_TRUE(inferred->table.Equals(original));
  }
  std::filesystem::remove(path);
}

TEST(CsvReaderTest, TinyBuffersSeeTheSameRecordsAndErrors) {
  std::string csv = "id,note,amount\n";
  for (int i = 0; i < 200; ++i) {
    csv += std::to_string(i) + ",\"" + std::string(i % 37, 'x') + (i % 5 == 0 ? "\n\"\"" : "") + "\"," +
           std::to_string(i * 0.5) + (i % 3 == 0 ? "\r\n" : "\n");
  }
  csv += "200,\"last\nrecord\",bad\n";
  auto o = Declared({{"id", ColumnType::kInt64}, {"note", ColumnType::kString}, {"amount", ColumnType::kFloat64}});
  std::string expected = Error(csv, o);
  EXPECT_EQ(expected.substr(0, 10), "t.csv:242:");  // 1 header + 200 records + 40 embedded newlines
  for (size_t buffer : {size_t{16}, size_t{17}, size_t{33}, size_t{100}}) {
    o.read_buffer_bytes = buffer;
    EXPECT_EQ(Error(csv, o), expected) << buffer;
  }
}

// Records are parsed in batches of ~1000, column by column; a bad value sends its run of records down the
// exact row-by-row path. Errors, rejects and widening must come out as if every row were read one by one.
TEST(CsvReaderTest, BadRecordsInsideLargeBatches) {
  std::string csv = "id,amount,n,name\n";
  for (int i = 0; i < 5000; ++i) {
    std::string amount = std::to_string(i) + ".5";
    if (i == 1500 || i == 4999) amount = "oops";
    std::string n = i == 4000 ? "2.5" : std::to_string(i % 3);
    if (i == 3000) {
      csv += std::to_string(i) + "," + amount + "\n";  // too few fields
      continue;
    }
    csv += std::to_string(i) + "," + amount + "," + n + ",name" + std::to_string(i % 7) + "\n";
  }
  auto o = Declared({{"id", ColumnType::kInt64}, {"amount", ColumnType::kFloat64}, {"n", ColumnType::kFloat64},
                     {"name", ColumnType::kString}});
  EXPECT_EQ(Error(csv, o), "t.csv:1502: column 'amount' (2): cannot parse 'oops' as float64");

  std::string rejects = TempPath("batch_rejects.csv");
  o.reject_path = rejects;
  auto r = ReadCsvString(csv, o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->stats.rows, 4997);
  EXPECT_EQ(r->stats.rejected_rows, 3);
  const Column& id = Col(*r, "id");
  EXPECT_EQ(id.Int64(1499), 1499);
  EXPECT_EQ(id.Int64(1500), 1501);  // 1500 rejected
  EXPECT_EQ(id.Int64(2999), 3001);  // and 3000
  EXPECT_EQ(id.Int64(4996), 4998);  // and 4999
  EXPECT_DOUBLE_EQ(Col(*r, "amount").Float64(1500), 1501.5);
  EXPECT_DOUBLE_EQ(Col(*r, "n").Float64(3998), 2.5);  // row 4000, after two rejected rows
  EXPECT_EQ(Col(*r, "name").dictionary().size(), 7);
  std::string text = Slurp(rejects);
  EXPECT_NE(text.find("\n1502,column 'amount' (2): cannot parse 'oops' as float64,\"1500,oops,0,name2\"\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("\n3002,\"too few fields: the record has 2, the header has 4\",\"3000,3000.5\"\n"),
            std::string::npos);
  EXPECT_NE(text.find("\n5001,"), std::string::npos);
  std::filesystem::remove(rejects);

  // Inferred from the first 100 records: amount and n widen when row 1500 and row 4000 arrive.
  CsvReadOptions inferred = Inferred();
  inferred.infer_rows = 100;
  inferred.reject_path = rejects;
  r = ReadCsvString(csv, inferred);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->stats.passes, 2);
  EXPECT_EQ(r->table.schema().ToString(), "id:int64, amount:string, n:float64, name:string");
  EXPECT_EQ(r->stats.rows, 4999);
  EXPECT_EQ(r->stats.rejected_rows, 1);  // only the ragged record
  EXPECT_EQ(Col(*r, "amount").String(1500), "oops");
  std::filesystem::remove(rejects);
}

// ------------------------------------------------------------------------------------ Value parsers

TEST(ValueParseTest, Int64) {
  int64_t v;
  EXPECT_TRUE(ParseInt64("007", &v));
  EXPECT_EQ(v, 7);
  EXPECT_TRUE(ParseInt64("-9223372036854775808", &v));
  EXPECT_EQ(v, std::numeric_limits<int64_t>::min());
  EXPECT_TRUE(ParseInt64("9223372036854775807", &v));
  EXPECT_EQ(v, std::numeric_limits<int64_t>::max());
  EXPECT_TRUE(ParseInt64("999999999999999999", &v));
  EXPECT_EQ(v, 999999999999999999LL);
  for (const char* bad : {"", "-", "+1", "1.0", "9223372036854775808", "1 ", "0x10", "1e3"}) {
    EXPECT_FALSE(ParseInt64(bad, &v)) << bad;
  }
}

TEST(ValueParseTest, Float64AndBool) {
  double d;
  EXPECT_TRUE(ParseFloat64(".5", &d));
  EXPECT_EQ(d, 0.5);
  EXPECT_TRUE(ParseFloat64("-1e-3", &d));
  EXPECT_EQ(d, -0.001);
  EXPECT_TRUE(ParseFloat64("nan", &d));
  EXPECT_TRUE(std::isnan(d));
  for (const char* bad : {"", "1e999", "1,5", "+1", " 1", "0x1p3", "abc"}) EXPECT_FALSE(ParseFloat64(bad, &d)) << bad;

  bool b;
  for (const char* t : {"true", "TRUE", "True", "t", "Y", "yes", "1"}) {
    EXPECT_TRUE(ParseBool(t, &b) && b) << t;
  }
  for (const char* f : {"false", "F", "no", "N", "0"}) {
    EXPECT_TRUE(ParseBool(f, &b) && !b) << f;
  }
  for (const char* bad : {"", "2", "truth", "on"}) EXPECT_FALSE(ParseBool(bad, &b)) << bad;
  EXPECT_TRUE(IsBoolLiteral("False"));
  EXPECT_FALSE(IsBoolLiteral("1"));
}

// The decimal fast path must give exactly the double std::from_chars gives.
TEST(ValueParseTest, Float64FastPathMatchesFromChars) {
  std::mt19937_64 rng(11);
  std::vector<std::string> inputs = {"0", "-0", "0.1", "5.", ".5", "-.5", "123456789012345", "1234567890123456",
                                     "0.000000000000000000001", "9007199254740993", "1.7976931348623157",
                                     "-48.8566", "2.2250738585072014", "000000000000000.5"};
  for (int i = 0; i < 20000; ++i) {
    std::string s = rng() % 2 ? "-" : "";
    int int_digits = static_cast<int>(rng() % 10), frac_digits = static_cast<int>(rng() % 14);
    for (int k = 0; k < int_digits; ++k) s += static_cast<char>('0' + rng() % 10);
    if (frac_digits > 0 || rng() % 4 == 0) s += '.';
    for (int k = 0; k < frac_digits; ++k) s += static_cast<char>('0' + rng() % 10);
    inputs.push_back(s);
  }
  for (const auto& s : inputs) {
    double expected = 0, got = 0;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), expected);
    bool ok = ec == std::errc() && ptr == s.data() + s.size();
    ASSERT_EQ(ParseFloat64(s, &got), ok) << s;
    if (ok) {
      ASSERT_EQ(std::memcmp(&got, &expected, sizeof got), 0) << s << ": " << got << " vs " << expected;
    }
  }
}

// The fast timestamp path must agree with ParseTimestamp on every input: values and error messages.
TEST(ValueParseTest, FastTimestampsMatchParseTimestamp) {
  std::vector<std::string> inputs = {
      "2026-03-01T12:30:00Z", "2026-03-01 12:30:00", "2026-03-01t12:30:00z", "2026-03-01T12:30:00.1Z",
      "2026-03-01T12:30:00.123456789Z", "2026-03-01T12:30:00.1234567891Z", "2026-03-01T12:30:00.Z",
      "2026-03-01T12:30:00+05:30", "2026-03-01T12:30:00-00:30", "2026-03-01T12:30:00+0530", "2026-03-01T12:30:00+05",
      "2026-03-01T12:30:00+24:00", "2026-03-01T12:30:60Z", "2026-03-01T24:00:00Z", "2026-02-29T00:00:00Z",
      "2024-02-29T00:00:00Z", "2100-02-29T00:00:00Z", "2000-02-29T00:00:00Z", "2026-04-31T00:00:00Z",
      "2026-00-10T00:00:00Z", "2026-03-00T00:00:00Z", "2026-03-01T12:30", "2026-03-01", "2026-03-01T12:30:00,5Z",
      "2026-03-01T12:30:00Zx", "2026-03-01T12:30:00+05:30x", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59.999999Z",
      "1700000000", "1700000000123", "1700000000123456", "1700000000.5", "-1700000000", "0", "12a",
      "999999999999999999", "9999999999999999999", "", "x", "2026-0a-01T00:00:00Z", "20260301T000000Z"};
  std::mt19937_64 rng(7);
  const std::string alphabet = "0123456789-:T .Z+";
  for (int i = 0; i < 3000; ++i) {  // mutations of a valid timestamp
    std::string s = "2024-02-29T23:59:59.123+01:00";
    s.resize(19 + rng() % 11);
    for (int k = 0, n = static_cast<int>(rng() % 3); k < n; ++k) s[rng() % s.size()] = alphabet[rng() % alphabet.size()];
    inputs.push_back(s);
  }
  for (TimestampFormat format : {TimestampFormat::kAuto, TimestampFormat::kIso8601, TimestampFormat::kEpochSeconds,
                                 TimestampFormat::kEpochMillis, TimestampFormat::kEpochMicros}) {
    for (const auto& s : inputs) {
      auto slow = ParseTimestamp(s, format);
      auto fast = ParseTimestampFast(s, format);
      ASSERT_EQ(fast.ok(), slow.ok()) << s;
      if (slow.ok()) {
        EXPECT_EQ(*fast, *slow) << s;
      } else {
        EXPECT_EQ(fast.status().message(), slow.status().message()) << s;
      }
    }
  }
}

}  // namespace
}  // namespace gyre
