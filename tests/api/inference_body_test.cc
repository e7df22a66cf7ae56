// api/inference_body: the OIP infer and MLflow /invocations bodies read into rows without a model, and the
// inputs fuzz/inference_body_fuzz found (kept in fuzz/corpus/inference_body_fuzz/regress-*).
#include "api/inference_body.h"

#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace gyre::api {
namespace {

const std::vector<std::string> kNames = {"a", "b", "c"};

Result<InferRows> Infer(const std::string& body) {
  Result<nlohmann::json> doc = http::ParseJson(body);
  if (!doc.ok()) return doc.status();
  http::JsonView root(*doc);
  return InferInputs(root, 3, kNames, "m");
}

Result<std::vector<float>> Invocations(const std::string& body, const std::string& type = "application/json") {
  static thread_local http::HeaderField header;
  header = http::HeaderField{"Content-Type", type};
  http::Request request;
  request.method = "POST";
  request.body = body;
  request.headers = std::span<const http::HeaderField>(&header, 1);
  return InvocationRows(request, kNames);
}

TEST(InferenceBodyTest, OipOneTensorOrOnePerFeature) {
  auto one = Infer(R"({"inputs":[{"name":"x","datatype":"FP32","shape":[2,3],"data":[[1,2,3],[4,null,6]]}]})");
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  EXPECT_EQ(one->n, 2);
  ASSERT_EQ(one->rows.size(), 6u);
  EXPECT_TRUE(std::isnan(one->rows[4]));
  auto per = Infer(R"({"inputs":[{"name":"c","datatype":"BOOL","shape":[1],"data":[true]},
                                  {"name":"a","datatype":"INT64","shape":[1,1],"data":[[7]]},
                                  {"name":"b","datatype":"FP64","shape":[1],"data":[0.5]}]})");
  ASSERT_TRUE(per.ok()) << per.status().ToString();
  EXPECT_EQ(per->rows, (std::vector<float>{7, 0.5f, 1}));
  auto missing = Infer(R"({"inputs":[{"name":"a","datatype":"FP32","shape":[1],"data":[1]},
                                      {"name":"b","datatype":"FP32","shape":[1],"data":[1]}]})");
  EXPECT_NE(missing.status().message().find("missing input for feature 'c'"), std::string::npos);
}

// The product of a shape's dimensions overflowed int64 (undefined behaviour) before the values were
// counted: [2^31, 2^31, 2^31].
TEST(InferenceBodyTest, HugeShapeIsA400NotAnOverflow) {
  auto r = Infer(R"({"inputs":[{"name":"x","datatype":"FP32","shape":[2147483648,2147483648,2147483648],"data":[1]}]})");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("holds more than 2^31 values"), std::string::npos) << r.status().message();
}

TEST(InferenceBodyTest, InvocationsFormats) {
  auto split = Invocations(R"({"dataframe_split":{"columns":["c","a","b"],"data":[[3,1,2]]}})");
  ASSERT_TRUE(split.ok()) << split.status().ToString();
  EXPECT_EQ(*split, (std::vector<float>{1, 2, 3}));
  auto records = Invocations(R"({"dataframe_records":[{"a":1,"b":"2","c":null}]})");
  ASSERT_TRUE(records.ok()) << records.status().ToString();
  EXPECT_EQ((*records)[1], 2.0f);
  auto csv = Invocations("b,a,c\n2,1,\n", "text/csv; charset=utf-8");
  ASSERT_TRUE(csv.ok()) << csv.status().ToString();
  EXPECT_EQ((*csv)[0], 1.0f);
  EXPECT_EQ(Invocations("{}", "application/xml").status().code(), StatusCode::kUnsupportedMediaType);
}

}  // namespace
}  // namespace gyre::api
