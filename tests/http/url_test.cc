#include "http/url.h"

#include <gtest/gtest.h>

namespace gyre::http {
namespace {

std::string Decode(std::string_view in, DecodeMode mode) {
  std::string out;
  Status s = PercentDecode(in, mode, &out);
  return s.ok() ? out : "ERROR: " + s.message();
}

TEST(PercentDecodeTest, DecodesEscapesInBothCases) {
  EXPECT_EQ(Decode("a%20b%2fc%2Fd", DecodeMode::kPathSegment), "a b/c/d");
  EXPECT_EQ(Decode("%C3%A9t%C3%A9", DecodeMode::kPathSegment), "\xC3\xA9t\xC3\xA9");
  EXPECT_EQ(Decode("", DecodeMode::kQuery), "");
}

TEST(PercentDecodeTest, PlusIsASpaceOnlyInQueries) {
  EXPECT_EQ(Decode("a+b", DecodeMode::kQuery), "a b");
  EXPECT_EQ(Decode("a+b", DecodeMode::kPathSegment), "a+b");
  EXPECT_EQ(Decode("a%2Bb", DecodeMode::kQuery), "a+b");
}

TEST(PercentDecodeTest, MalformedEscapesAreErrors) {
  for (std::string_view bad : {"%", "%2", "abc%", "%zz", "%2g", "x%%41"}) {
    std::string out;
    Status s = PercentDecode(bad, DecodeMode::kQuery, &out);
    EXPECT_TRUE(s.IsInvalidArgument()) << bad;
    EXPECT_NE(s.message().find("malformed %-escape"), std::string::npos) << s.message();
  }
  std::string out;
  Status s = PercentDecode("ab%zz", DecodeMode::kQuery, &out);
  EXPECT_NE(s.message().find("offset 2"), std::string::npos) << s.message();
}

TEST(PercentDecodeTest, NulIsRefusedInPathsOnly) {
  std::string out;
  EXPECT_TRUE(PercentDecode("a%00b", DecodeMode::kPathSegment, &out).IsInvalidArgument());
  out.clear();
  EXPECT_TRUE(PercentDecode("a%00b", DecodeMode::kQuery, &out).ok());
  EXPECT_EQ(out, std::string("a\0b", 3));
}

TEST(SplitTargetTest, OriginAndAbsoluteForms) {
  std::string_view path, query;
  ASSERT_TRUE(SplitTarget("/a/b?x=1&y", &path, &query).ok());
  EXPECT_EQ(path, "/a/b");
  EXPECT_EQ(query, "x=1&y");
  ASSERT_TRUE(SplitTarget("/a#frag", &path, &query).ok());
  EXPECT_EQ(path, "/a");
  EXPECT_EQ(query, "");
  ASSERT_TRUE(SplitTarget("http://h:80/p/q?z=2", &path, &query).ok());
  EXPECT_EQ(path, "/p/q");
  EXPECT_EQ(query, "z=2");
  ASSERT_TRUE(SplitTarget("http://h:80", &path, &query).ok());
  EXPECT_EQ(path, "/");
  EXPECT_TRUE(SplitTarget("*", &path, &query).IsInvalidArgument());
  EXPECT_TRUE(SplitTarget("host:443", &path, &query).IsInvalidArgument());
}

TEST(QueryStringTest, ParsesInOrderAndDecodes) {
  auto params = ParseQueryString("a=1&b=x%20y+z&flag&&c=&a=2");
  ASSERT_TRUE(params.ok()) << params.status().ToString();
  ASSERT_EQ(params->size(), 5u);
  EXPECT_EQ((*params)[0].name, "a");
  EXPECT_EQ((*params)[0].value, "1");
  EXPECT_EQ((*params)[1].value, "x y z");
  EXPECT_EQ((*params)[2].name, "flag");
  EXPECT_EQ((*params)[2].value, "");
  EXPECT_EQ((*params)[3].name, "c");
  EXPECT_EQ((*params)[4].value, "2");
}

TEST(QueryStringTest, ErrorNamesTheParameter) {
  auto params = ParseQueryString("ok=1&run_id=%G1");
  ASSERT_FALSE(params.ok());
  EXPECT_NE(params.status().message().find("query parameter 'run_id'"), std::string::npos)
      << params.status().message();
}

TEST(QueryStringTest, ReusesStorageAcrossCalls) {
  std::vector<QueryParam> storage;
  size_t count = 0;
  ASSERT_TRUE(ParseQueryString("a=1&b=2&c=3", &storage, &count).ok());
  EXPECT_EQ(count, 3u);
  ASSERT_TRUE(ParseQueryString("z=9", &storage, &count).ok());
  EXPECT_EQ(count, 1u);
  EXPECT_EQ(storage[0].name, "z");
  EXPECT_EQ(storage[0].value, "9");
}

}  // namespace
}  // namespace gyre::http
