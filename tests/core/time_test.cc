#include "core/time.h"

#include <gtest/gtest.h>

#include <random>

namespace gyre {
namespace {

// 2026-03-01T12:30:00Z computed independently: `date -u -d 2026-03-01T12:30:00Z +%s` = 1772368200.
constexpr int64_t kRef = 1772368200LL * kMicrosPerSecond;

TEST(TimeTest, ParsesIsoForms) {
  EXPECT_EQ(*ParseTimestamp("2026-03-01T12:30:00Z"), kRef);
  EXPECT_EQ(*ParseTimestamp("2026-03-01 12:30:00"), kRef);
  EXPECT_EQ(*ParseTimestamp("2026-03-01t12:30z"), kRef);
  EXPECT_EQ(*ParseTimestamp("2026-03-01T14:30:00+02:00"), kRef);
  EXPECT_EQ(*ParseTimestamp("2026-03-01T14:30:00+0200"), kRef);
  EXPECT_EQ(*ParseTimestamp("2026-03-01T07:00:00-05:30"), kRef);
  EXPECT_EQ(*ParseTimestamp("2026-03-01T12:30:00.25Z"), kRef + 250000);
  EXPECT_EQ(*ParseTimestamp("2026-03-01T12:30:00,000001Z"), kRef + 1);
  EXPECT_EQ(*ParseTimestamp("2026-03-01T12:30:00.123456789Z"), kRef + 123456);  // ns truncated
  EXPECT_EQ(*ParseTimestamp("2026-03-01"), kRef - (12 * 60 + 30) * kMicrosPerMinute);
  EXPECT_EQ(*ParseTimestamp("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(*ParseTimestamp("1969-12-31T23:59:59Z"), -kMicrosPerSecond);
  EXPECT_EQ(*ParseTimestamp("2024-02-29T00:00:00Z"), 1709164800LL * kMicrosPerSecond);
}

TEST(TimeTest, ParsesEpochNumbers) {
  EXPECT_EQ(*ParseTimestamp("1772368200"), kRef);
  EXPECT_EQ(*ParseTimestamp("1772368200000"), kRef);
  EXPECT_EQ(*ParseTimestamp("1772368200000000"), kRef);
  EXPECT_EQ(*ParseTimestamp("1772368200.5"), kRef + 500000);
  EXPECT_EQ(*ParseTimestamp("0"), 0);
  EXPECT_EQ(*ParseTimestamp("-1.5"), -1500000);
  EXPECT_EQ(*ParseTimestamp("1772368200", TimestampFormat::kEpochMillis), kRef / 1000);
  EXPECT_EQ(*ParseTimestamp("1772368200123", TimestampFormat::kEpochMillis), kRef + 123000);
  EXPECT_EQ(*ParseTimestamp("5", TimestampFormat::kEpochMicros), 5);
}

TEST(TimeTest, RejectsMalformedWithReason) {
  for (const char* bad : {"", "yesterday", "2026-13-01", "2026-02-30", "2026-02-29", "2026-03-01T25:00:00Z",
                          "2026-03-01T12:30:00+25:00", "2026-03-01T12:30:00Q", "2026-3-1", "2026-03-01T12",
                          "12:30", "1772368200x", "99999999999999999999", "2026-03-01T12:30:00."}) {
    Result<TimestampMicros> r = ParseTimestamp(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_TRUE(r.status().IsInvalidArgument()) << bad;
    }
  }
  EXPECT_NE(ParseTimestamp("2026-02-30").status().message().find("day out of range"), std::string::npos);
  EXPECT_FALSE(ParseTimestamp("1772368200", TimestampFormat::kIso8601).ok());
}

TEST(TimeTest, FormatsShortestExactFraction) {
  EXPECT_EQ(FormatTimestamp(kRef), "2026-03-01T12:30:00Z");
  EXPECT_EQ(FormatTimestamp(kRef + 250000), "2026-03-01T12:30:00.250Z");
  EXPECT_EQ(FormatTimestamp(kRef + 1), "2026-03-01T12:30:00.000001Z");
  EXPECT_EQ(FormatTimestamp(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatTimestamp(-1), "1969-12-31T23:59:59.999999Z");
}

TEST(TimeTest, RoundTripsRandomInstants) {
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<int64_t> dist(-2'000'000'000LL * kMicrosPerSecond, 7'000'000'000LL * kMicrosPerSecond);
  for (int i = 0; i < 100000; ++i) {
    int64_t ts = dist(rng);
    std::string text = FormatTimestamp(ts);
    Result<TimestampMicros> back = ParseTimestamp(text);
    ASSERT_TRUE(back.ok()) << text;
    ASSERT_EQ(*back, ts) << text;
  }
}

TEST(TimeTest, CivilDaysAgreeWithKnownDates) {
  EXPECT_EQ(DaysFromCivil(1970, 1, 1), 0);
  EXPECT_EQ(DaysFromCivil(2000, 3, 1), 11017);
  EXPECT_EQ(DaysFromCivil(1900, 1, 1), -25567);
  for (int64_t d = -800000; d < 800000; d += 97) {
    int64_t y;
    unsigned m, day;
    CivilFromDays(d, &y, &m, &day);
    ASSERT_EQ(DaysFromCivil(y, m, day), d);
  }
}

TEST(TimeTest, ParseDateOnlyTakesDates) {
  EXPECT_EQ(*ParseDate("2026-03-01"), kRef - (12 * 60 + 30) * kMicrosPerMinute);
  EXPECT_FALSE(ParseDate("2026-03-01T00:00:00Z").ok());
  EXPECT_FALSE(ParseDate("march").ok());
}

}  // namespace
}  // namespace gyre
