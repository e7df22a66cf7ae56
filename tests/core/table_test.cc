#include "core/table.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <utility>

namespace gyre {
namespace {

TEST(StringDictionaryTest, CodesAreDenseInFirstInsertionOrder) {
  StringDictionary dict;
  EXPECT_EQ(dict.Insert("fr"), 0);
  EXPECT_EQ(dict.Insert("us"), 1);
  EXPECT_EQ(dict.Insert("fr"), 0);
  EXPECT_EQ(dict.Insert(""), 2);  // the empty string is a value like any other
  EXPECT_EQ(dict.Insert("de"), 3);
  EXPECT_EQ(dict.size(), 4);
  EXPECT_EQ(dict.Get(1), "us");
  EXPECT_EQ(dict.Get(2), "");
  EXPECT_EQ(dict.Find("de"), 3);
  EXPECT_EQ(dict.Find("gb"), -1);
  EXPECT_EQ(dict.byte_size(), 6);
}

TEST(StringDictionaryTest, ManyValuesSurviveGrowth) {
  StringDictionary dict;
  for (int i = 0; i < 20000; ++i) ASSERT_EQ(dict.Insert("user_" + std::to_string(i)), i);
  for (int i = 0; i < 20000; i += 7) ASSERT_EQ(dict.Insert("user_" + std::to_string(i)), i);
  EXPECT_EQ(dict.size(), 20000);
  EXPECT_EQ(dict.Get(12345), "user_12345");
  EXPECT_EQ(dict.Find("user_19999"), 19999);
  EXPECT_EQ(dict.Find("user_20000"), -1);
  // Prefixes and embedded zero bytes are distinct values.
  EXPECT_EQ(dict.Insert(std::string_view("user_1\0", 7)), 20000);
  EXPECT_EQ(dict.Find("user_1"), 1);
}

TEST(StringDictionaryTest, ReserveKeepsCodes) {
  StringDictionary dict;
  dict.Insert("a");
  dict.Insert("b");
  dict.Reserve(1000, 10000);
  EXPECT_EQ(dict.Find("a"), 0);
  EXPECT_EQ(dict.Find("b"), 1);
  EXPECT_EQ(dict.Insert("c"), 2);
}

TEST(StringDictionaryTest, EmptyDictionaryHasNothingAndGrowsFromItsSmallestTable) {
  StringDictionary dict;
  EXPECT_EQ(dict.size(), 0);
  EXPECT_EQ(dict.byte_size(), 0);
  EXPECT_EQ(dict.Find(""), -1);
  // Around the first growth (16 slots, 3/4 full) every code still resolves, short (inline) and long strings.
  auto value = [](int i) { return (i % 2 ? std::string(20 + i % 7, 'x') : std::string("v")) + std::to_string(i); };
  for (int i = 0; i < 40; ++i) {
    ASSERT_EQ(dict.Insert(value(i)), i);
    for (int j = 0; j <= i; ++j) ASSERT_EQ(dict.Find(value(j)), j) << "after " << i + 1;
  }
  int64_t bytes = 0;
  for (int i = 0; i < 40; ++i) bytes += static_cast<int64_t>(value(i).size());
  EXPECT_EQ(dict.byte_size(), bytes);
  for (int i = 0; i < 40; ++i) ASSERT_EQ(dict.Get(i), value(i));
  StringDictionary reserved;
  reserved.Reserve(1000, 8000);
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(reserved.Insert("s" + std::to_string(i)), i);
  EXPECT_EQ(reserved.Find("s999"), 999);
}

TEST(StringDictionaryTest, SmallDictionariesAndTheirCopiesGrowIntoATable) {
  // A few strings are found without a table (string_dictionary.h); copies made before and after the table
  // exists keep growing on their own.
  auto value = [](int i) { return i % 3 ? "k" + std::to_string(i) : "a long value of more than 16 bytes #" + std::to_string(i); };
  StringDictionary small;
  small.Reserve(4, 64);
  for (int i = 0; i < 5; ++i) ASSERT_EQ(small.Insert(value(i)), i);
  StringDictionary copy = small;
  for (int i = 5; i < 30; ++i) ASSERT_EQ(copy.Insert(value(i)), i);
  StringDictionary copy_of_table = copy;
  for (int i = 0; i < 30; ++i) {
    ASSERT_EQ(copy.Find(value(i)), i);
    ASSERT_EQ(copy_of_table.Insert(value(i)), i);
  }
  EXPECT_EQ(small.size(), 5);
  EXPECT_EQ(small.Find(value(5)), -1);
  EXPECT_EQ(small.Insert(value(5)), 5);
  EXPECT_EQ(copy_of_table.Insert("new"), 30);
  EXPECT_EQ(copy.Find("new"), -1);
  // Few distinct values inserted many times (a CSV column of countries) move to the table too; codes hold.
  StringDictionary repeated;
  for (int i = 0; i < 200; ++i) ASSERT_EQ(repeated.Insert(value(i % 3)), i % 3) << "insert " << i;
  EXPECT_EQ(repeated.size(), 3);
  EXPECT_EQ(repeated.Find(value(2)), 2);
  EXPECT_EQ(repeated.Insert(value(3)), 3);
}

TEST(StringDictionaryTest, CopiesAndMovedFromDictionariesWork) {
  StringDictionary dict;
  for (const char* s : {"alpha", "beta", "a string longer than sixteen bytes"}) dict.Insert(s);
  StringDictionary copy = dict;
  StringDictionary moved = std::move(dict);
  EXPECT_EQ(copy.size(), 3);
  EXPECT_EQ(moved.size(), 3);
  EXPECT_EQ(moved.Get(2), "a string longer than sixteen bytes");
  // A moved-from dictionary is empty and usable (string_dictionary.h).
  EXPECT_EQ(dict.size(), 0);  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(dict.byte_size(), 0);
  EXPECT_EQ(dict.Insert("gamma"), 0);
  EXPECT_EQ(dict.Get(0), "gamma");
  StringDictionary assigned;
  assigned.Insert("x");
  assigned = std::move(copy);
  EXPECT_EQ(assigned.Find("beta"), 1);
  EXPECT_EQ(copy.size(), 0);  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(copy.Insert("delta"), 0);
}

TEST(ColumnTest, NoValidityUntilTheFirstNull) {
  Column c(ColumnType::kInt64);
  c.AppendInt64(5);
  c.AppendInt64(-7);
  EXPECT_EQ(c.validity(), nullptr);
  EXPECT_EQ(c.null_count(), 0);
  EXPECT_FALSE(c.IsNull(1));
  c.AppendNull();
  c.AppendInt64(9);
  ASSERT_NE(c.validity(), nullptr);
  EXPECT_EQ(c.size(), 4);
  EXPECT_EQ(c.null_count(), 1);
  EXPECT_EQ(std::vector<uint8_t>(c.validity(), c.validity() + 4), (std::vector<uint8_t>{1, 1, 0, 1}));
  EXPECT_TRUE(c.IsNull(2));
  EXPECT_EQ(c.Int64(2), 0);  // a null slot holds 0
  EXPECT_EQ(std::vector<int64_t>(c.int64_values().begin(), c.int64_values().end()),
            (std::vector<int64_t>{5, -7, 0, 9}));
  c.PopBack();
  c.PopBack();
  EXPECT_EQ(c.size(), 2);
  EXPECT_EQ(c.null_count(), 0);
  EXPECT_EQ(c.validity(), nullptr);
}

TEST(ColumnTest, StringsAreDictionaryEncoded) {
  Column c(ColumnType::kString);
  for (const char* v : {"FR", "US", "FR", "FR"}) c.AppendString(v);
  c.AppendNull();
  c.AppendCode(1);
  EXPECT_EQ(c.dictionary().size(), 2);
  EXPECT_EQ(std::vector<int32_t>(c.string_codes().begin(), c.string_codes().end()),
            (std::vector<int32_t>{0, 1, 0, 0, -1, 1}));
  EXPECT_EQ(c.String(1), "US");
  EXPECT_EQ(c.String(4), "");
  EXPECT_TRUE(c.IsNull(4));
  EXPECT_EQ(c.ValueToString(5), "US");
}

TEST(ColumnTest, TypedAccessorsAndFormatting) {
  Column f(ColumnType::kFloat64), b(ColumnType::kBool), t(ColumnType::kTimestamp);
  f.AppendFloat64(0.1);
  f.AppendNull();
  b.AppendBool(true);
  b.AppendBool(false);
  t.AppendTimestamp(1772368200LL * kMicrosPerSecond + 250000);
  t.AppendNull();
  EXPECT_DOUBLE_EQ(f.Float64(0), 0.1);
  EXPECT_EQ(f.ValueToString(0), "0.1");
  EXPECT_EQ(f.ValueToString(1), "");
  EXPECT_TRUE(b.Bool(0));
  EXPECT_FALSE(b.Bool(1));
  EXPECT_EQ(b.bool_values()[0], 1);
  EXPECT_EQ(b.ValueToString(1), "false");
  EXPECT_EQ(t.ValueToString(0), "2026-03-01T12:30:00.250Z");
  EXPECT_EQ(t.Timestamp(0), 1772368200250000LL);
  EXPECT_EQ(t.null_count(), 1);
}

TEST(ColumnTest, SliceAndEquals) {
  Column c(ColumnType::kString);
  for (const char* v : {"a", "b", "c", "d"}) c.AppendString(v);
  c.AppendNull();
  Column s = c.Slice(2, 10);  // clamped to the end
  ASSERT_EQ(s.size(), 3);
  EXPECT_EQ(s.String(0), "c");
  EXPECT_TRUE(s.IsNull(2));
  EXPECT_EQ(s.dictionary().size(), 2);  // re-encoded: only the values of the slice

  Column other(ColumnType::kString);  // same values, different codes
  for (const char* v : {"d", "c"}) other.mutable_dictionary().Insert(v);
  other.AppendString("c");
  other.AppendString("d");
  other.AppendNull();
  EXPECT_TRUE(s.Equals(other));
  other.PopBack();
  other.AppendString("x");
  EXPECT_FALSE(s.Equals(other));

  Column nan1(ColumnType::kFloat64), nan2(ColumnType::kFloat64);
  nan1.AppendFloat64(std::nan(""));
  nan2.AppendFloat64(std::nan(""));
  EXPECT_TRUE(nan1.Equals(nan2));
}

Table MakeLogins() {
  TableBuilder b(Schema({{"user", ColumnType::kString}, {"amount", ColumnType::kFloat64}, {"n", ColumnType::kInt64}}));
  b.column(0).AppendString("u1");
  b.column(1).AppendFloat64(10.5);
  b.column(2).AppendInt64(1);
  b.column(0).AppendString("u2");
  b.column(1).AppendNull();
  b.column(2).AppendInt64(2);
  auto t = b.Finish();
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  return std::move(t).value();
}

TEST(TableTest, BuildAndLookUpByName) {
  Table t = MakeLogins();
  EXPECT_EQ(t.num_rows(), 2);
  EXPECT_EQ(t.num_columns(), 3);
  EXPECT_EQ(t.schema().ToString(), "user:string, amount:float64, n:int64");
  auto amount = t.ColumnByName("amount");
  ASSERT_TRUE(amount.ok());
  EXPECT_EQ((*amount)->type(), ColumnType::kFloat64);
  EXPECT_TRUE((*amount)->IsNull(1));

  auto missing = t.ColumnByName("amt");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message(), "no column 'amt' (columns: user, amount, n)");
}

TEST(TableTest, MakeChecksShape) {
  Column a(ColumnType::kInt64), b(ColumnType::kInt64);
  a.AppendInt64(1);
  auto r = Table::Make(Schema({{"a", ColumnType::kInt64}, {"b", ColumnType::kInt64}}), {a, b});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "column 'b' has 0 rows but column 'a' has 1");

  r = Table::Make(Schema({{"a", ColumnType::kInt64}, {"a", ColumnType::kInt64}}), {a, a});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "duplicate column name 'a' (columns: a, a)");

  r = Table::Make(Schema({{"a", ColumnType::kString}}), {a});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "column 'a' is declared string but holds int64");
}

// Duplicate names are found in small schemas (checked on the stack) and wide ones (a hash set) alike, wherever
// the two copies are.
TEST(TableTest, MakeFindsDuplicateNamesInAnyWidth) {
  for (int width : {2, 63, 64, 65, 200}) {
    for (int at : {0, width / 2, width - 1}) {
      std::vector<ColumnSchema> columns;
      for (int i = 0; i < width; ++i) columns.push_back({"c" + std::to_string(i), ColumnType::kInt64});
      std::vector<Column> data(static_cast<size_t>(width), Column(ColumnType::kInt64));
      auto unique = Table::Make(Schema(columns), data);
      EXPECT_TRUE(unique.ok()) << width << ": " << unique.status().ToString();
      columns[static_cast<size_t>(at)].name = columns[static_cast<size_t>((at + 1) % width)].name;
      auto r = Table::Make(Schema(columns), data);
      ASSERT_FALSE(r.ok()) << "width " << width << ", duplicate at " << at;
      EXPECT_THAT(r.status().message(),
                  ::testing::StartsWith("duplicate column name '" + columns[static_cast<size_t>(at)].name + "'"));
    }
  }
}

TEST(TableTest, SelectSharesAndSliceCopies) {
  Table t = MakeLogins();
  auto sel = t.SelectColumns({"n", "user"});
  ASSERT_TRUE(sel.ok());
  EXPECT_EQ(sel->schema().ToString(), "n:int64, user:string");
  EXPECT_EQ(&sel->column(0), &t.column(2));  // shared, not copied
  EXPECT_FALSE(t.SelectColumns({"nope"}).ok());

  Table s = t.Slice(1, 1);
  EXPECT_EQ(s.num_rows(), 1);
  EXPECT_EQ(s.column(0).String(0), "u2");
  EXPECT_TRUE(s.column(1).IsNull(0));
  EXPECT_TRUE(t.Equals(t.Slice(0, 2)));
  EXPECT_FALSE(t.Equals(s));
}

// Small tables keep their columns in one block, larger ones one allocation per column: either way a selected
// column outlives the table it came from (ASan checks the block is not freed under it).
TEST(TableTest, SelectedColumnsOutliveTheirTableOfAnySize) {
  for (int64_t rows : {int64_t{0}, int64_t{1}, Table::kSharedBlockRows, Table::kSharedBlockRows + 1, int64_t{1000}}) {
    std::optional<Table> selected;
    {
      TableBuilder b(Schema({{"user", ColumnType::kString}, {"n", ColumnType::kInt64}}));
      for (int64_t r = 0; r < rows; ++r) {
        b.column(0).AppendString("u" + std::to_string(r));
        b.column(1).AppendInt64(r);
      }
      auto t = b.Finish();
      ASSERT_TRUE(t.ok()) << t.status().ToString();
      auto sel = t->SelectColumns({"n", "user"});
      ASSERT_TRUE(sel.ok());
      selected = std::move(*sel);
    }
    ASSERT_EQ(selected->num_rows(), rows);
    for (int64_t r = 0; r < rows; ++r) {
      EXPECT_EQ(selected->column(0).Int64(r), r);
      EXPECT_EQ(selected->column(1).String(r), "u" + std::to_string(r));
    }
  }
}

TEST(ColumnTypeTest, NamesRoundTrip) {
  for (ColumnType type : {ColumnType::kInt64, ColumnType::kFloat64, ColumnType::kBool, ColumnType::kString,
                          ColumnType::kTimestamp}) {
    auto parsed = ParseColumnType(ColumnTypeName(type));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, type);
  }
  auto bad = ParseColumnType("decimal");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            "unknown column type 'decimal' (expected int64, float64, bool, string or timestamp)");
}

}  // namespace
}  // namespace gyre
