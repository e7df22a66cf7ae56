#include "core/csv_writer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace gyre {
namespace {

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(CsvWriterTest, QuotesOnlyWhatNeedsIt) {
  std::string path = std::filesystem::temp_directory_path() / ("gyre_csvw_" + std::to_string(::getpid()) + ".csv");
  {
    auto w = CsvWriter::Open(path, {.delimiter = ',', .buffer_bytes = 16});  // tiny buffer: exercises flushing
    ASSERT_TRUE(w.ok());
    w->Row({"id", "text", "n", "x", "ok", "t"});
    w->Field(int64_t{1});
    w->Field("plain");
    w->Field(int64_t{-42});
    w->Field(0.1);
    w->Field(true);
    w->TimestampField(1772368200LL * kMicrosPerSecond);
    w->EndRow();
    w->Field(int64_t{2});
    w->Field("a,\"b\"\nc");
    w->NullField();
    w->Field(std::nan(""));
    w->Field(false);
    w->Field(" padded");
    w->EndRow();
    EXPECT_EQ(w->rows_written(), 3);
    ASSERT_TRUE(w->Close().ok());
  }
  EXPECT_EQ(Slurp(path),
            "id,text,n,x,ok,t\n"
            "1,plain,-42,0.1,true,2026-03-01T12:30:00Z\n"
            "2,\"a,\"\"b\"\"\nc\",,,false,\" padded\"\n");
  std::filesystem::remove(path);
}

// The word-at-a-time scan must find a special byte at every offset of every length, and quoting must
// double every quote: checked against a byte-by-byte rendering.
TEST(CsvWriterTest, QuotingMatchesTheSimpleRuleAtEveryOffset) {
  std::string path = std::filesystem::temp_directory_path() / ("gyre_csvw2_" + std::to_string(::getpid()) + ".csv");
  std::string expected;
  {
    auto w = CsvWriter::Open(path);
    ASSERT_TRUE(w.ok());
    for (size_t len = 1; len <= 40; ++len) {
      for (size_t pos = 0; pos < len; ++pos) {
        for (char special : {',', '"', '\n', '\r', 'x'}) {
          std::string v(len, 'a');
          v[pos] = special;
          if (special == '"' && pos + 2 < len) v[len - 1] = '"';  // two quotes: each doubled
          w->Field(v);
          w->EndRow();
          bool quote = special != 'x';  // 'x': nothing to quote
          std::string rendered;
          for (char c : v) rendered += c == '"' ? std::string("\"\"") : std::string(1, c);
          expected += (quote ? "\"" + rendered + "\"" : v) + "\n";
        }
      }
    }
    ASSERT_TRUE(w->Close().ok());
  }
  std::string actual = Slurp(path);
  // Report the first difference, not two megabyte-long strings.
  auto diff = std::mismatch(actual.begin(), actual.end(), expected.begin(), expected.end());
  EXPECT_TRUE(diff.first == actual.end() && diff.second == expected.end())
      << "first difference at byte " << (diff.first - actual.begin());
  std::filesystem::remove(path);
}

TEST(CsvWriterTest, OpenFailureNamesPath) {
  auto w = CsvWriter::Open("/nonexistent-dir/x.csv");
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.status().code(), StatusCode::kIOError);
  EXPECT_NE(w.status().message().find("/nonexistent-dir/x.csv"), std::string::npos);
}

}  // namespace
}  // namespace gyre
