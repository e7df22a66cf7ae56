#include "tracking/search_filter.h"

#include <gtest/gtest.h>

namespace gyre::tracking {
namespace {

TEST(SearchFilterTest, ParsesConjunctionsOfEveryEntity) {
  auto f = ParseFilter(
      "metrics.auc > 0.9 and params.model = 'xgb' AND tags.\"user-name\" LIKE '%ann%' AND attributes.status IN "
      "('FINISHED', \"FAILED\") AND run_name != 'x' AND metrics.`log loss` <= -1e-3 AND datasets.name NOT IN ('a')");
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  ASSERT_EQ(f->size(), 7u);
  const auto& c = *f;
  EXPECT_EQ(c[0].entity, EntityType::kMetric);
  EXPECT_EQ(c[0].key, "auc");
  EXPECT_EQ(c[0].op, CompareOp::kGt);
  EXPECT_TRUE(c[0].is_number);
  EXPECT_DOUBLE_EQ(c[0].number, 0.9);
  EXPECT_EQ(c[1].entity, EntityType::kParam);
  EXPECT_EQ(c[1].text, "xgb");
  EXPECT_FALSE(c[1].is_number);
  EXPECT_EQ(c[2].entity, EntityType::kTag);
  EXPECT_EQ(c[2].key, "user-name");
  EXPECT_EQ(c[2].op, CompareOp::kLike);
  EXPECT_EQ(c[3].entity, EntityType::kAttribute);
  EXPECT_EQ(c[3].op, CompareOp::kIn);
  EXPECT_EQ(c[3].list, (std::vector<std::string>{"FINISHED", "FAILED"}));
  EXPECT_EQ(c[4].key, "run_name");
  EXPECT_EQ(c[4].op, CompareOp::kNe);
  EXPECT_EQ(c[5].key, "log loss");
  EXPECT_DOUBLE_EQ(c[5].number, -1e-3);
  EXPECT_EQ(c[6].entity, EntityType::kDataset);
  EXPECT_EQ(c[6].op, CompareOp::kNotIn);
}

TEST(SearchFilterTest, EmptyFilterMatchesEverything) {
  auto f = ParseFilter("   ");
  ASSERT_TRUE(f.ok());
  EXPECT_TRUE(f->empty());
}

TEST(SearchFilterTest, QuotesEscapeByDoubling) {
  auto f = ParseFilter("params.note = 'it''s'");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ((*f)[0].text, "it's");
}

TEST(SearchFilterTest, ErrorsSayWhatAndWhere) {
  struct Case {
    const char* filter;
    const char* expected;
  };
  for (const Case& c : {Case{"metrics.auc >", "at character 14: expected a value"},
                        Case{"metric.auc > 1 OR params.a = 'b'", "OR is not supported"},
                        Case{"foo.bar = 'x'", "unknown entity 'foo'"},
                        Case{"metrics.auc ~ 1", "expected a comparison operator"},
                        Case{"params.a = 'unterminated", "unterminated ' quote"},
                        Case{"metrics.auc > abc", "expected a number or a quoted string"},
                        Case{"status IN 'A'", "expected '(' and a list"},
                        Case{"metrics.auc > 1 metrics.x > 2", "expected AND between comparisons"}}) {
    auto f = ParseFilter(c.filter);
    ASSERT_FALSE(f.ok()) << c.filter;
    EXPECT_TRUE(f.status().IsInvalidArgument());
    EXPECT_NE(f.status().message().find(c.expected), std::string::npos) << c.filter << " -> " << f.status().message();
  }
}

TEST(SearchFilterTest, OrderBy) {
  auto o = ParseOrderBy("metrics.auc DESC");
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->entity, EntityType::kMetric);
  EXPECT_FALSE(o->ascending);
  o = ParseOrderBy("start_time");
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->entity, EntityType::kAttribute);
  EXPECT_TRUE(o->ascending);
  o = ParseOrderBy("tags.`a b` asc");
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->key, "a b");
  EXPECT_FALSE(ParseOrderBy("metrics.auc DOWN").ok());
  EXPECT_FALSE(ParseOrderBy("metrics.auc DESC x").ok());
}

}  // namespace
}  // namespace gyre::tracking
