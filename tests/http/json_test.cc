#include "http/json.h"

#include <gtest/gtest.h>

namespace gyre::http {
namespace {

TEST(ParseJsonTest, ParsesValidDocument) {
  auto j = ParseJson(R"({"a": [1, 2]})");
  ASSERT_TRUE(j.ok()) << j.status().ToString();
  EXPECT_EQ((*j)["a"][1], 2);
}

TEST(ParseJsonTest, SyntaxErrorNamesLineColumnAndByte) {
  // The stray '}' is on line 3, column 3, byte offset 14.
  auto j = ParseJson("{\n  \"a\": 1,\n  }\n");
  ASSERT_FALSE(j.ok());
  EXPECT_TRUE(j.status().IsInvalidArgument());
  EXPECT_NE(j.status().message().find("request body:3:3: "), std::string::npos) << j.status().message();
  EXPECT_NE(j.status().message().find("(byte offset 14)"), std::string::npos) << j.status().message();
  EXPECT_EQ(j.status().message().find("json.exception"), std::string::npos) << j.status().message();
}

TEST(ParseJsonTest, EmptyAndTruncatedBodies) {
  auto empty = ParseJson("  \n");
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.status().message().find("empty body"), std::string::npos);
  auto truncated = ParseJson(R"({"a": [1, 2)");
  ASSERT_FALSE(truncated.ok());
  EXPECT_NE(truncated.status().message().find("request body:1:"), std::string::npos)
      << truncated.status().message();
}

TEST(ParseJsonTest, RefusesHostileNesting) {
  std::string deep(100000, '[');
  auto j = ParseJson(deep);
  ASSERT_FALSE(j.ok());
  EXPECT_NE(j.status().message().find("nested deeper than 256"), std::string::npos) << j.status().message();
  // Brackets inside strings do not count.
  auto ok = ParseJson("[\"" + std::string(1000, '[') + "\"]");
  EXPECT_TRUE(ok.ok()) << ok.status().ToString();
}

TEST(JsonViewTest, TypedGettersNameTheField) {
  auto doc = ParseJson(R"({"inputs": [{"name": "x", "shape": [2, "3"], "data": [1.5, 2], "fp": true}]})");
  ASSERT_TRUE(doc.ok());
  JsonView root(*doc);
  auto inputs = root.Get("inputs");
  ASSERT_TRUE(inputs.ok());
  auto first = inputs->At(0);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->path(), "inputs[0]");

  auto name = first->Get("name");
  ASSERT_TRUE(name.ok());
  EXPECT_EQ(name->String().value(), "x");

  auto shape = first->Get("shape")->IntArray();
  ASSERT_FALSE(shape.ok());
  EXPECT_EQ(shape.status().message(),
            "field 'inputs[0].shape': expected an array of integers, element 1 is a string");

  auto data = first->Get("data")->NumberArray();
  ASSERT_TRUE(data.ok());
  EXPECT_EQ(*data, (std::vector<double>{1.5, 2.0}));
  EXPECT_FALSE(first->Get("data")->IntArray().ok());

  auto missing = first->Get("datatype");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().message(), "field 'inputs[0].datatype': is required");
  EXPECT_FALSE(first->Find("datatype").has_value());
  EXPECT_TRUE(first->Get("fp")->Bool().value());

  auto out_of_range = inputs->At(3);
  ASSERT_FALSE(out_of_range.ok());
  EXPECT_NE(out_of_range.status().message().find("field 'inputs[3]'"), std::string::npos);
}

TEST(JsonViewTest, WrongTypesAndRootErrors) {
  auto doc = ParseJson(R"([1, 2])");
  ASSERT_TRUE(doc.ok());
  JsonView root(*doc);
  auto member = root.Get("inputs");
  ASSERT_FALSE(member.ok());
  EXPECT_EQ(member.status().message(), "request body: expected an object, got an array");

  auto obj = ParseJson(R"({"n": 3.5, "s": "3", "big": 18446744073709551615, "i": -4})");
  JsonView o(*obj);
  EXPECT_EQ(o.Get("n")->Int().status().message(), "field 'n': expected an integer, got 3.5");
  EXPECT_EQ(o.Get("s")->Int().status().message(), "field 's': expected an integer, got a string");
  EXPECT_FALSE(o.Get("big")->Int().ok());
  EXPECT_EQ(o.Get("i")->Int().value(), -4);
  EXPECT_DOUBLE_EQ(o.Get("i")->Number().value(), -4.0);
  EXPECT_EQ(o.Get("s")->StringArray().status().message(), "field 's': expected an array of strings, got a string");
}

TEST(JsonResponseTest, ReplacesInvalidUtf8InsteadOfThrowing) {
  nlohmann::json j = {{"bad", std::string("a\xff" "b")}};
  Response r = JsonResponse(j, 201);
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(r.ContentType(), "application/json");
  EXPECT_EQ(r.body, "{\"bad\":\"a\xEF\xBF\xBD" "b\"}");
}

}  // namespace
}  // namespace gyre::http
