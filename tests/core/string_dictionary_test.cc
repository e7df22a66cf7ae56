#include "core/string_dictionary.h"

#include <gtest/gtest.h>

#include <string>
#include <unordered_map>
#include <utility>

namespace gyre {
namespace {

TEST(StringDictionaryTest, EmptyDictionaryHasNothing) {
  StringDictionary d;
  EXPECT_EQ(d.size(), 0);
  EXPECT_EQ(d.byte_size(), 0);
  EXPECT_EQ(d.Find("a"), -1);
  EXPECT_EQ(d.Find(""), -1);
}

// Codes are dense in first-insert order and survive every growth of the table, from the smallest one on.
TEST(StringDictionaryTest, CodesAreStableThroughGrowth) {
  StringDictionary d;
  std::unordered_map<std::string, int32_t> expected;
  int64_t bytes = 0;
  for (int i = 0; i < 5000; ++i) {
    std::string s = i % 7 == 0 ? std::string(static_cast<size_t>(i % 40), 'x') + std::to_string(i)
                               : std::to_string(i * 31);
    auto [it, added] = expected.try_emplace(s, d.size());
    if (added) bytes += static_cast<int64_t>(s.size());
    EXPECT_EQ(d.Insert(s), it->second) << s;
    if (i == 11 || i == 12 || i == 13) {  // around the first growth (16 slots, 3/4 full)
      for (const auto& [text, code] : expected) ASSERT_EQ(d.Find(text), code) << text;
    }
  }
  EXPECT_EQ(d.Insert(""), static_cast<int32_t>(expected.size()));
  EXPECT_EQ(d.size(), static_cast<int32_t>(expected.size()) + 1);
  EXPECT_EQ(d.byte_size(), bytes);
  for (const auto& [text, code] : expected) {
    ASSERT_EQ(d.Find(text), code);
    ASSERT_EQ(d.Get(code), text);
  }
}

TEST(StringDictionaryTest, CopiesAndMovedFromDictionariesWork) {
  StringDictionary d;
  for (const char* s : {"alpha", "beta", "a string longer than sixteen bytes"}) d.Insert(s);
  StringDictionary copy = d;
  StringDictionary moved = std::move(d);
  EXPECT_EQ(copy.size(), 3);
  EXPECT_EQ(moved.size(), 3);
  EXPECT_EQ(moved.Get(2), "a string longer than sixteen bytes");
  // The moved-from dictionary is empty and usable again.
  EXPECT_EQ(d.size(), 0);  // NOLINT(bugprone-use-after-move): specified by StringDictionary
  EXPECT_EQ(d.byte_size(), 0);
  EXPECT_EQ(d.Insert("gamma"), 0);
  EXPECT_EQ(d.Get(0), "gamma");
  StringDictionary assigned;
  assigned.Insert("x");
  assigned = std::move(copy);
  EXPECT_EQ(assigned.Find("beta"), 1);
  EXPECT_EQ(copy.size(), 0);  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(copy.Insert("delta"), 0);
}

TEST(StringDictionaryTest, ReserveFromEmpty) {
  StringDictionary d;
  d.Reserve(1000, 8000);
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(d.Insert("s" + std::to_string(i)), i);
  EXPECT_EQ(d.Find("s999"), 999);
}

}  // namespace
}  // namespace gyre
