#include "core/profile.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>

namespace gyre {
namespace {

// Five rows; every expected number below is worked out by hand from these.
const char* kSmallCsv =
    "user,amount,n,ok,time,country\n"
    "u1,10.5,3,true,2026-03-01T10:00:00Z,FR\n"
    "u2,,1,false,2026-03-01T09:00:00Z,US\n"
    "u1,2.5,3,true,,FR\n"
    "u3,-1,,true,2026-03-02T00:00:00Z,\n"
    "u1,nan,2,,2026-03-01T10:00:00Z,DE\n";

class ProfileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = std::filesystem::temp_directory_path() / ("gyre_profile_" + std::to_string(::getpid()) + ".csv");
    std::ofstream(path_) << kSmallCsv;
  }
  void TearDown() override { std::filesystem::remove(path_); }

  TableProfile Profile(ProfileOptions options = {}) {
    auto p = ProfileCsv(path_, {}, options);
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    return p.ok() ? *p : TableProfile{};
  }

  std::string path_;
};

TEST_F(ProfileTest, RowsTypesAndNulls) {
  TableProfile p = Profile();
  EXPECT_EQ(p.source, path_);
  EXPECT_EQ(p.rows, 5);
  ASSERT_EQ(p.columns.size(), 6u);
  const std::vector<std::pair<const char*, ColumnType>> expected = {
      {"user", ColumnType::kString}, {"amount", ColumnType::kFloat64},   {"n", ColumnType::kInt64},
      {"ok", ColumnType::kBool},     {"time", ColumnType::kTimestamp}, {"country", ColumnType::kString}};
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(p.columns[i].name, expected[i].first);
    EXPECT_EQ(p.columns[i].type, expected[i].second) << expected[i].first;
    EXPECT_TRUE(p.columns[i].inferred);
  }
  EXPECT_EQ(p.columns[0].nulls, 0);
  for (int i = 1; i < 6; ++i) {
    EXPECT_EQ(p.columns[i].nulls, 1) << p.columns[i].name;
    EXPECT_EQ(p.columns[i].count, 4) << p.columns[i].name;
    EXPECT_DOUBLE_EQ(p.columns[i].null_rate, 0.2) << p.columns[i].name;
  }
}

TEST_F(ProfileTest, Strings) {
  TableProfile p = Profile();
  const ColumnProfile& user = p.columns[0];
  EXPECT_EQ(user.distinct, 3);
  EXPECT_EQ(user.min, ProfileValue(std::string("u1")));
  EXPECT_EQ(user.max, ProfileValue(std::string("u3")));
  EXPECT_EQ(user.min_length, 2);
  EXPECT_EQ(user.max_length, 2);
  EXPECT_FALSE(user.mean.has_value());
  // u1 three times; u2 and u3 tie at one and are ordered by value.
  EXPECT_EQ(user.top, (std::vector<ValueCount>{{std::string("u1"), 3}, {std::string("u2"), 1}, {std::string("u3"), 1}}));

  const ColumnProfile& country = p.columns[5];
  EXPECT_EQ(country.distinct, 3);
  EXPECT_EQ(country.min, ProfileValue(std::string("DE")));  // lexicographic
  EXPECT_EQ(country.max, ProfileValue(std::string("US")));
  EXPECT_EQ(country.top,
            (std::vector<ValueCount>{{std::string("FR"), 2}, {std::string("DE"), 1}, {std::string("US"), 1}}));
}

TEST_F(ProfileTest, Numbers) {
  TableProfile p = Profile();
  // amount: 10.5, 2.5, -1 and NaN. NaN counts as a value and a distinct value, not in range or moments.
  const ColumnProfile& amount = p.columns[1];
  EXPECT_EQ(amount.distinct, 4);
  EXPECT_EQ(amount.min, ProfileValue(-1.0));
  EXPECT_EQ(amount.max, ProfileValue(10.5));
  ASSERT_TRUE(amount.mean && amount.stddev);
  EXPECT_DOUBLE_EQ(*amount.mean, 4.0);                // (10.5 + 2.5 - 1) / 3
  EXPECT_DOUBLE_EQ(*amount.stddev, std::sqrt(34.75));  // (6.5² + 1.5² + 5²) / 2
  ASSERT_EQ(amount.top.size(), 4u);
  EXPECT_EQ(amount.top[0], (ValueCount{-1.0, 1}));
  EXPECT_EQ(amount.top[2], (ValueCount{10.5, 1}));
  EXPECT_TRUE(std::isnan(std::get<double>(amount.top[3].value)));

  // n: 3, 1, 3, 2.
  const ColumnProfile& n = p.columns[2];
  EXPECT_EQ(n.distinct, 3);
  EXPECT_EQ(n.min, ProfileValue(int64_t{1}));
  EXPECT_EQ(n.max, ProfileValue(int64_t{3}));
  EXPECT_DOUBLE_EQ(*n.mean, 2.25);
  EXPECT_DOUBLE_EQ(*n.stddev, std::sqrt(2.75 / 3));  // 0.75² + 1.25² + 0.75² + 0.25² = 2.75
  EXPECT_EQ(n.top, (std::vector<ValueCount>{{int64_t{3}, 2}, {int64_t{1}, 1}, {int64_t{2}, 1}}));
}

TEST_F(ProfileTest, BoolsAndTimestamps) {
  TableProfile p = Profile();
  const ColumnProfile& ok = p.columns[3];
  EXPECT_EQ(ok.distinct, 2);
  EXPECT_EQ(ok.min, ProfileValue(false));
  EXPECT_EQ(ok.max, ProfileValue(true));
  EXPECT_EQ(ok.top, (std::vector<ValueCount>{{true, 3}, {false, 1}}));
  EXPECT_FALSE(ok.mean.has_value());

  const ColumnProfile& time = p.columns[4];
  EXPECT_EQ(time.distinct, 3);
  EXPECT_EQ(time.min, ProfileValue(std::string("2026-03-01T09:00:00Z")));
  EXPECT_EQ(time.max, ProfileValue(std::string("2026-03-02T00:00:00Z")));
  EXPECT_FALSE(time.mean.has_value());
  EXPECT_EQ(time.top, (std::vector<ValueCount>{{std::string("2026-03-01T10:00:00Z"), 2},
                                               {std::string("2026-03-01T09:00:00Z"), 1},
                                               {std::string("2026-03-02T00:00:00Z"), 1}}));
}

TEST_F(ProfileTest, TopKLimit) {
  ProfileOptions o;
  o.top_k = 2;
  TableProfile p = Profile(o);
  EXPECT_EQ(p.columns[0].top, (std::vector<ValueCount>{{std::string("u1"), 3}, {std::string("u2"), 1}}));
  EXPECT_EQ(p.columns[1].top.size(), 2u);
  o.top_k = 0;
  EXPECT_TRUE(Profile(o).columns[2].top.empty());
}

TEST_F(ProfileTest, Json) {
  nlohmann::ordered_json j = ProfileToJson(Profile());
  EXPECT_EQ(j["rows"], 5);
  EXPECT_EQ(j["rejected_rows"], 0);
  EXPECT_TRUE(j["reject_path"].is_null());
  const auto& amount = j["columns"][1];
  EXPECT_EQ(amount["name"], "amount");
  EXPECT_EQ(amount["type"], "float64");
  EXPECT_EQ(amount["inferred"], true);
  EXPECT_EQ(amount["nulls"], 1);
  EXPECT_DOUBLE_EQ(amount["null_rate"].get<double>(), 0.2);
  EXPECT_EQ(amount["min"], -1.0);
  EXPECT_EQ(amount["mean"], 4.0);
  EXPECT_EQ(amount["top"][3]["value"], "nan");  // JSON has no NaN
  EXPECT_TRUE(amount["min_length"].is_null());
  const auto& time = j["columns"][4];
  EXPECT_EQ(time["min"], "2026-03-01T09:00:00Z");
  EXPECT_TRUE(time["mean"].is_null());
  EXPECT_TRUE(time["std"].is_null());
  EXPECT_EQ(j["columns"][0]["top"][0], (nlohmann::ordered_json{{"value", "u1"}, {"count", 3}}));
  EXPECT_EQ(j["columns"][3]["top"][0]["value"], true);
}

TEST(ProfileColumnTest, EmptyAndAllNullColumns) {
  Column empty(ColumnType::kFloat64);
  ColumnProfile p = ProfileColumn(empty, "x");
  EXPECT_EQ(p.count, 0);
  EXPECT_EQ(p.null_rate, 0.0);
  EXPECT_EQ(p.distinct, 0);
  EXPECT_TRUE(std::holds_alternative<std::monostate>(p.min));
  EXPECT_FALSE(p.mean.has_value());

  Column nulls(ColumnType::kString);
  nulls.AppendNull();
  nulls.AppendNull();
  p = ProfileColumn(nulls, "s");
  EXPECT_EQ(p.nulls, 2);
  EXPECT_EQ(p.null_rate, 1.0);
  EXPECT_EQ(p.distinct, 0);
  EXPECT_FALSE(p.min_length.has_value());
  EXPECT_TRUE(p.top.empty());

  Column one(ColumnType::kInt64);
  one.AppendInt64(7);
  p = ProfileColumn(one, "i");
  EXPECT_EQ(*p.mean, 7.0);
  EXPECT_FALSE(p.stddev.has_value());  // the sample deviation needs two values
}

TEST(ProfileColumnTest, DictionaryEntriesWithoutRowsAreNotCounted) {
  Column c(ColumnType::kString);
  c.AppendString("kept");
  c.AppendString("dropped");
  c.PopBack();  // "dropped" stays in the dictionary but no row holds it
  ColumnProfile p = ProfileColumn(c, "s");
  EXPECT_EQ(p.distinct, 1);
  EXPECT_EQ(p.max, ProfileValue(std::string("kept")));
}

TEST(ProfileCsvTest, RejectedRowsAndErrors) {
  std::string dir = std::filesystem::temp_directory_path() / ("gyre_profile_rj_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/in.csv") << "a,b\n1,2\n3\n4,5\n";
  CsvReadOptions read;
  read.reject_path = dir + "/rejects.csv";
  auto p = ProfileCsv(dir + "/in.csv", read);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->rows, 2);
  EXPECT_EQ(p->rejected_rows, 1);
  EXPECT_EQ(ProfileToJson(*p)["reject_path"], dir + "/rejects.csv");

  auto bad = ProfileCsv(dir + "/in.csv");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), dir + "/in.csv:3: too few fields: the record has 1, the header has 2");
  std::filesystem::remove_all(dir);
}

// An int column with three stray values: inferred as string, and the profile says how many, which and where.
// The file has a quoted field spanning two lines before the first stray value, so its line is not row + 2.
TEST(ProfileCsvTest, FlagsANumericColumnWithAFewStrayValues) {
  std::string dir = std::filesystem::temp_directory_path() / ("gyre_profile_nn_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::string csv = "id,asn,mixed,note\n";
  int line = 1;
  int64_t x12_line = 0;
  for (int i = 0; i < 100; ++i) {
    std::string asn = std::to_string(7000 + i);
    if (i == 40) asn = "x12";
    if (i == 70 || i == 90) asn = "AS7018";
    std::string note = i == 10 ? "\"two\nlines\"" : "n";
    csv += std::to_string(i) + "," + asn + "," + (i % 2 == 0 ? std::to_string(i) : "v" + std::to_string(i)) + "," +
           note + "\n";
    line += i == 10 ? 2 : 1;
    if (i == 40) x12_line = line;
  }
  std::ofstream(dir + "/in.csv") << csv;
  auto p = ProfileCsv(dir + "/in.csv");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  const ColumnProfile& asn = p->columns[1];
  EXPECT_EQ(asn.type, ColumnType::kString);
  ASSERT_TRUE(asn.not_numeric.has_value());
  EXPECT_EQ(asn.not_numeric->count, 3);
  EXPECT_EQ(asn.not_numeric->numbers, 97);
  EXPECT_EQ(asn.not_numeric->number_type, ColumnType::kInt64);
  EXPECT_EQ(asn.not_numeric->example, "x12");
  EXPECT_EQ(asn.not_numeric->example_row, 40);
  EXPECT_EQ(x12_line, 43);
  EXPECT_EQ(asn.not_numeric->example_line, x12_line);
  // Half numbers is a string column, not a numeric one with strays; real numbers are not flagged either.
  EXPECT_FALSE(p->columns[2].not_numeric.has_value());
  EXPECT_FALSE(p->columns[0].not_numeric.has_value());
  EXPECT_FALSE(p->columns[3].not_numeric.has_value());

  std::vector<std::string> warnings = ProfileWarnings(*p);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0], "column 'asn': 3 of 100 values are not integers, e.g. 'x12' at line 43, so it was read as string");
  nlohmann::ordered_json j = ProfileToJson(*p);
  EXPECT_EQ(j["columns"][1]["not_numeric"],
            (nlohmann::ordered_json{{"count", 3}, {"numbers", 97}, {"number_type", "int64"}, {"example", "x12"}, {"line", 43}}));
  EXPECT_TRUE(j["columns"][2]["not_numeric"].is_null());
  EXPECT_EQ(j["warnings"][0], warnings[0]);

  // Declared as string, the strays are the user's choice: nothing to flag. Declared as int64, the read stops
  // at the first one with its place.
  CsvReadOptions declared;
  declared.columns = {CsvColumn{"asn", ColumnType::kString}};
  declared.infer_undeclared = true;
  auto as_string = ProfileCsv(dir + "/in.csv", declared);
  ASSERT_TRUE(as_string.ok()) << as_string.status().ToString();
  EXPECT_FALSE(as_string->columns[1].not_numeric.has_value());
  EXPECT_TRUE(ProfileWarnings(*as_string).empty());
  declared.columns = {CsvColumn{"asn", ColumnType::kInt64}};
  auto as_int = ProfileCsv(dir + "/in.csv", declared);
  ASSERT_FALSE(as_int.ok());
  EXPECT_EQ(as_int.status().message(), dir + "/in.csv:43: column 'asn' (2): cannot parse 'x12' as int64");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace gyre
