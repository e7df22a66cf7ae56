#include "core/status.h"

#include <gtest/gtest.h>

namespace gyre {
namespace {

Result<int> Half(int v) {
  if (v % 2 != 0) return Status::InvalidArgument(Field("v", "must be even"));
  return v / 2;
}

Result<int> Quarter(int v) {
  GYRE_ASSIGN_OR_RETURN(int half, Half(v));
  GYRE_ASSIGN_OR_RETURN(int quarter, Half(half));
  return quarter;
}

Status CheckQuarter(int v) {
  GYRE_RETURN_IF_ERROR(Quarter(v).status());
  return Status::OK();
}

TEST(StatusTest, OkByDefault) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.ToString(), "OK");
}

TEST(StatusTest, CodeAndMessage) {
  Status s = Status::NotFound("model 'ato' has no version 3");
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(s.IsNotFound());
  EXPECT_EQ(s.ToString(), "NotFound: model 'ato' has no version 3");
  EXPECT_EQ(s.WithContext("GET /v2/models/ato").message(), "GET /v2/models/ato: model 'ato' has no version 3");
  EXPECT_EQ(s.WithContext("x").code(), StatusCode::kNotFound);
}

TEST(StatusTest, LocationsAreSpelledOneWay) {
  EXPECT_EQ(Located("a.csv", 3, 7, "bad"), "a.csv:3:7: bad");
  EXPECT_EQ(Located("a.yaml", 3, 0, "bad"), "a.yaml:3: bad");
  EXPECT_EQ(Located("a.yaml", 0, 0, "bad"), "a.yaml: bad");
  EXPECT_EQ(Field("port", "expected an integer"), "field 'port': expected an integer");
}

TEST(ResultTest, PropagatesFirstError) {
  EXPECT_EQ(*Quarter(8), 2);
  Result<int> r = Quarter(6);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "field 'v': must be even");
  EXPECT_TRUE(CheckQuarter(4).ok());
  EXPECT_TRUE(CheckQuarter(2).IsInvalidArgument());
  EXPECT_EQ(r.value_or(-1), -1);
}

TEST(ResultTest, MoveOnlyValues) {
  Result<std::unique_ptr<int>> r = std::make_unique<int>(5);
  ASSERT_TRUE(r.ok());
  std::unique_ptr<int> p = std::move(r).value();
  EXPECT_EQ(*p, 5);
}

}  // namespace
}  // namespace gyre
