#include "registry/model_uri.h"

#include <gtest/gtest.h>

#include "registry/validation.h"

namespace gyre::registry {
namespace {

TEST(ModelUriTest, ParsesEveryForm) {
  auto v = ParseModelUri("models:/fraud/3");
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->kind, ModelUri::Kind::kVersion);
  EXPECT_EQ(v->name, "fraud");
  EXPECT_EQ(v->version, "3");

  auto leading_zero = ParseModelUri("models:/fraud/007");
  ASSERT_TRUE(leading_zero.ok());
  EXPECT_EQ(leading_zero->version, "7");

  auto stage = ParseModelUri("models:/fraud/production");
  ASSERT_TRUE(stage.ok());
  EXPECT_EQ(stage->kind, ModelUri::Kind::kStage);
  EXPECT_EQ(stage->stage, Stage::kProduction);

  auto latest = ParseModelUri("models:/ato model/Latest");
  ASSERT_TRUE(latest.ok());
  EXPECT_EQ(latest->kind, ModelUri::Kind::kLatest);
  EXPECT_EQ(latest->name, "ato model");

  auto alias = ParseModelUri("models:/fraud@champion");
  ASSERT_TRUE(alias.ok());
  EXPECT_EQ(alias->kind, ModelUri::Kind::kAlias);
  EXPECT_EQ(alias->name, "fraud");
  EXPECT_EQ(alias->alias, "champion");

  // An '@' inside the name is fine when a version follows.
  auto at_name = ParseModelUri("models:/team@risk/2");
  ASSERT_TRUE(at_name.ok());
  EXPECT_EQ(at_name->name, "team@risk");
  EXPECT_EQ(at_name->version, "2");
}

TEST(ModelUriTest, RejectsMalformedUrisNamingThem) {
  for (const char* bad : {"fraud/3", "runs:/abc/model", "models:fraud/3", "models:/", "models:/fraud", "models:/fraud/",
                          "models:/fraud/1/2", "models:/@champion", "models:/a/b@c", "models://3"}) {
    auto r = ParseModelUri(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(r.status().message().find(std::string("'") + bad + "'"), std::string::npos) << r.status().message();
  }
  EXPECT_EQ(ParseModelUri("models:/fraud/0").status().message(),
            "model URI 'models:/fraud/0': Model version must be a positive integer, got '0'");
  EXPECT_EQ(ParseModelUri("models:/fraud/-1").status().message(),
            "model URI 'models:/fraud/-1': Model version must be an integer, got '-1'");
  EXPECT_EQ(ParseModelUri("models:/fraud/Prod").status().message(),
            "model URI 'models:/fraud/Prod': Invalid Model Version stage: Prod. Value must be one of None, Staging, "
            "Production, Archived.");
  EXPECT_EQ(ParseModelUri("models:/fraud@v2").status().message(),
            "model URI 'models:/fraud@v2': Version alias name 'v2' is reserved.");
}

TEST(ValidationTest, Versions) {
  EXPECT_EQ(*ParseVersion("1"), 1);
  EXPECT_EQ(*ParseVersion("42"), 42);
  EXPECT_EQ(ParseVersion("abc").status().message(), "Model version must be an integer, got 'abc'");
  EXPECT_EQ(ParseVersion("").status().message(), "Model version must be an integer, got ''");
  EXPECT_EQ(ParseVersion("1.5").status().message(), "Model version must be an integer, got '1.5'");
  EXPECT_EQ(ParseVersion("0").status().message(), "Model version must be a positive integer, got '0'");
  EXPECT_EQ(ParseVersion("-1").status().message(), "Model version must be an integer, got '-1'");
  EXPECT_EQ(ParseVersion("99999999999999999999").status().code(), StatusCode::kInvalidArgument);
}

TEST(ValidationTest, Aliases) {
  EXPECT_TRUE(ValidateAlias("champion").ok());
  EXPECT_TRUE(ValidateAlias("challenger-2_b").ok());
  EXPECT_TRUE(ValidateAlias("v1a").ok());
  EXPECT_TRUE(ValidateAlias("version").ok());
  EXPECT_EQ(ValidateAlias("").message(), "Registered model alias name cannot be empty.");
  EXPECT_EQ(ValidateAlias("v1").message(), "Version alias name 'v1' is reserved.");
  EXPECT_EQ(ValidateAlias("V12").message(), "Version alias name 'V12' is reserved.");
  EXPECT_EQ(ValidateAlias("12").message(), "Version alias name '12' is reserved.");
  EXPECT_EQ(ValidateAlias("LATEST").message(), "'latest' alias name (case insensitive) is reserved.");
  EXPECT_EQ(ValidateAlias("my alias").message(),
            "Invalid alias name: 'my alias'. Names may only contain alphanumerics, underscores (_), and dashes (-).");
  EXPECT_EQ(ValidateAlias(std::string(256, 'a')).code(), StatusCode::kInvalidArgument);
}

TEST(ValidationTest, StagesAreCaseInsensitiveWithCanonicalNames) {
  EXPECT_EQ(*ParseStage("none"), Stage::kNone);
  EXPECT_EQ(*ParseStage("STAGING"), Stage::kStaging);
  EXPECT_EQ(*ParseStage("Production"), Stage::kProduction);
  EXPECT_EQ(*ParseStage("archived"), Stage::kArchived);
  EXPECT_EQ(StageName(Stage::kStaging), "Staging");
  EXPECT_FALSE(ParseStage("").ok());
  EXPECT_FALSE(ParseStage("Deleted_Internal").ok());
}

}  // namespace
}  // namespace gyre::registry
