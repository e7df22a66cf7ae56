// Feature definitions (YAML → FeatureRegistry): what a valid file turns into, and that every bad input is
// refused with a message naming where (file:line:column) and what (the dotted key or the name involved).
//
// Locations are not typed in by hand: At(yaml, token) finds the token in the YAML text, so the tests state
// "the error points at this token" and stay right when a fixture gains a line.

#include "features/definitions.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "features/backfill.h"
#include "tests/features/testing_util.h"

namespace gyre::features {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using testing::ParseDefinitions;
using testing::ParseError;
using testing::Seconds;
using ::testing::StartsWith;

// "features.yaml:L:C" of the `nth` occurrence (0-based) of `token` in `yaml`.
std::string At(const std::string& yaml, const std::string& token, int nth = 0) {
  size_t pos = yaml.find(token);
  for (int i = 0; i < nth && pos != std::string::npos; ++i) pos = yaml.find(token, pos + 1);
  if (pos == std::string::npos) {
    ADD_FAILURE() << "fixture bug: '" << token << "' is not in the YAML";
    return "?";
  }
  size_t line_start = yaml.rfind('\n', pos);
  line_start = line_start == std::string::npos ? 0 : line_start + 1;
  int line = 1 + static_cast<int>(std::count(yaml.begin(), yaml.begin() + static_cast<std::ptrdiff_t>(pos), '\n'));
  return fmt::format("features.yaml:{}:{}", line, pos - line_start + 1);
}

// Entities and sources most tests share; they append their own groups, derived features and sets.
const std::string kHeader = R"(entities:
  user: {keys: [user]}
  device: {keys: [device]}
  user_device: {keys: [user, device]}
sources:
  logins:
    timestamp: time
    allowed_lateness: 5m
    columns: {time: timestamp, user: string, device: string, ok: bool, amount: float64, n: int64, country: string}
  payments:
    timestamp: time
    columns: {time: timestamp, user: string, amount: float64}
)";

// ---------------------------------------------------------------------------------------------------------
// Valid definitions.

TEST(DefinitionsTest, ExpandsWindowsIntoGloballyNamedFeatures) {
  std::string yaml = kHeader + R"(groups:
  user_logins:
    entity: user
    source: logins
    max_age: 90d
    ttl: 180d
    features:
      failed: {agg: count, filter: "not ok", windows: [10m, 1h, lifetime]}
      spend: {agg: sum, of: amount, windows: [2h]}
      seen_for: {agg: first_seen}
      new_country: {agg: is_new, of: country, horizon: 30d}
      last_country: {agg: last, of: country}
      last_ok: {agg: last, of: ok, windows: [1h]}
      users: {agg: approx_count_distinct, of: "user", precision: 12}
  device_logins:
    entity: user_device
    source: logins
    features:
      pair_count: {agg: count}
derived:
  spend_per_failure: {source: logins, expr: "spend_2h / max(failed, 1) + amount"}
feature_sets:
  login_model:
    description: a model
    source: logins
    features: [failed_10m, user_logins:spend_2h, spend_per_failure, pair_count]
)";
  Result<FeatureRegistry> r = ParseDefinitions(yaml);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const FeatureRegistry& reg = *r;

  std::vector<std::string> names;
  for (const FeatureDef& f : reg.features()) names.push_back(f.name);
  EXPECT_THAT(names, ::testing::ElementsAre("failed_10m", "failed_1h", "failed", "spend_2h", "seen_for", "new_country",
                                            "last_country", "last_ok_1h", "users", "pair_count", "spend_per_failure"));

  auto feature = [&](const std::string& name) -> const FeatureDef& {
    Result<int> f = reg.FindFeature(name);
    EXPECT_TRUE(f.ok()) << f.status().ToString();
    return reg.features()[f.ok() ? *f : 0];
  };
  EXPECT_EQ(feature("failed_10m").window, Seconds(600));
  EXPECT_EQ(feature("failed_1h").window, Seconds(3600));
  EXPECT_EQ(feature("failed").window, kLifetime);
  EXPECT_EQ(feature("new_country").window, Seconds(30 * 86400));  // is_new: the horizon
  EXPECT_EQ(feature("seen_for").window, kLifetime);
  EXPECT_EQ(feature("last_country").type, ExprType::kString);  // last keeps the value's type
  EXPECT_EQ(feature("last_ok_1h").type, ExprType::kBool);
  EXPECT_EQ(feature("spend_2h").type, ExprType::kNumber);
  EXPECT_EQ(feature("spend_per_failure").type, ExprType::kNumber);
  EXPECT_EQ(feature("spend_per_failure").group, -1);
  EXPECT_GE(feature("spend_per_failure").derived, 0);

  ASSERT_EQ(reg.groups().size(), 2u);
  const GroupDef& g = reg.groups()[0];
  EXPECT_EQ(g.name, "user_logins");
  EXPECT_EQ(reg.entities()[g.entity].name, "user");
  EXPECT_EQ(reg.sources()[g.source].name, "logins");
  EXPECT_EQ(g.max_age, Seconds(90 * 86400));
  EXPECT_EQ(g.ttl, Seconds(180 * 86400));
  // The longest finite window (the 30d is_new horizon) plus the source's 5m lateness.
  EXPECT_EQ(g.horizon, Seconds(30 * 86400) + Seconds(300));
  ASSERT_EQ(g.aggregations.size(), 7u);
  EXPECT_EQ(g.aggregations[0].kind, AggKind::kCount);
  EXPECT_TRUE(g.aggregations[0].filter.has_value());
  EXPECT_FALSE(g.aggregations[0].of.has_value());
  EXPECT_EQ(g.aggregations[6].kind, AggKind::kApproxCountDistinct);
  EXPECT_EQ(g.aggregations[6].precision, 12);
  EXPECT_EQ(reg.groups()[1].ttl, kLifetime);
  EXPECT_EQ(reg.groups()[1].max_age, kLifetime);
  EXPECT_EQ(reg.groups()[1].horizon, Seconds(300));  // lifetime only: just the lateness
  EXPECT_EQ(reg.entities()[reg.groups()[1].entity].keys, (std::vector<std::string>{"user", "device"}));

  const SourceDef& logins = reg.sources()[0];
  EXPECT_EQ(logins.allowed_lateness, Seconds(300));
  EXPECT_EQ(logins.timestamp_column, "time");
  EXPECT_EQ(logins.timestamp_index, 0);
  EXPECT_EQ(logins.schema.ToString(),
            "time:timestamp, user:string, device:string, ok:bool, amount:float64, n:int64, country:string");
  EXPECT_TRUE(logins.path.empty());

  // Derived inputs are the aggregated features it reads; columns are not inputs.
  const DerivedDef& d = reg.derived()[0];
  std::vector<std::string> inputs;
  for (int i : d.inputs) inputs.push_back(reg.features()[i].name);
  EXPECT_THAT(inputs, ::testing::UnorderedElementsAre("spend_2h", "failed"));

  ASSERT_EQ(reg.feature_sets().size(), 1u);
  const FeatureSetDef& set = reg.feature_sets()[0];
  EXPECT_EQ(set.description, "a model");
  EXPECT_EQ(reg.sources()[set.source].name, "logins");
  std::vector<std::string> set_names;
  for (int i : set.features) set_names.push_back(reg.features()[i].name);
  EXPECT_THAT(set_names, ::testing::ElementsAre("failed_10m", "spend_2h", "spend_per_failure", "pair_count"));
  EXPECT_FALSE(set.label.has_value());

  // Feast-style "group:name" must name the right group.
  EXPECT_TRUE(reg.FindFeature("user_logins:failed_1h").ok());
  EXPECT_TRUE(reg.FindFeature("derived:spend_per_failure").ok());
  EXPECT_TRUE(reg.FindFeature("device_logins:failed_1h").status().IsNotFound());
  Result<int> missing = reg.FindFeature("failed_2h");
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.status().message(), HasSubstr("unknown feature 'failed_2h'"));
  EXPECT_THAT(reg.FindSource("clicks").status().message(),
              HasSubstr("unknown source 'clicks' (sources: logins, payments)"));
  EXPECT_THAT(reg.FindFeatureSet("x").status().message(),
              HasSubstr("unknown feature set 'x' (feature sets: login_model)"));
  EXPECT_EQ(*reg.FindSource("payments"), 1);
}

// definitions.h: "an aggregation `x` over windows [1h, 24h] yields `x_1h` and `x_24h`": the suffix is the
// window as written, which is also how examples/ato/features.yaml names its features (ip_attempts_24h,
// user_distinct_devices_7d).
TEST(DefinitionsTest, WindowSuffixIsTheWindowAsWritten) {
  std::string yaml = kHeader + R"(groups:
  g:
    entity: user
    source: logins
    features:
      c: {agg: count, windows: [10m, 1h, 24h, 7d, 90s, 30d]}
)";
  Result<FeatureRegistry> r = ParseDefinitions(yaml);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  std::vector<std::string> names;
  for (const FeatureDef& f : r->features()) names.push_back(f.name);
  EXPECT_THAT(names, ::testing::ElementsAre("c_10m", "c_1h", "c_24h", "c_7d", "c_90s", "c_30d"));
}

TEST(DefinitionsTest, DerivedFeatureCompilesAgainstAnotherSchema) {
  std::string yaml = kHeader + R"(groups:
  g:
    entity: user
    source: logins
    features:
      c: {agg: count, windows: [1h]}
derived:
  per_amount: {source: logins, expr: "c_1h / amount"}
)";
  Result<FeatureRegistry> r = ParseDefinitions(yaml);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  // A spine with the columns the expression reads compiles; slots: columns first, then features.
  Schema spine({{"amount", ColumnType::kFloat64}, {"user", ColumnType::kString}, {"time", ColumnType::kTimestamp}});
  Result<Expr> e = r->CompileDerived(0, spine, "the spine");
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  std::vector<ExprValue> slots(spine.size() + r->features().size());
  slots[0] = ExprValue::Number(4);
  slots[spine.size() + *r->FindFeature("c_1h")] = ExprValue::Number(10);
  EXPECT_EQ(e->Evaluate(slots).number, 2.5);
  // A spine without `amount` is refused, naming the column and the feature.
  Result<Expr> bad = r->CompileDerived(0, Schema({{"user", ColumnType::kString}}), "spine.csv");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), AllOf(HasSubstr(At(yaml, "amount\"")), HasSubstr("per_amount"),
                                            HasSubstr("'amount'"), HasSubstr("spine.csv")));
}

// A source with a path and no declared columns takes its schema from the CSV header and a sample;
// declared columns override the inferred type.
TEST(DefinitionsTest, SourceSchemaComesFromItsCsvFile) {
  testing::TempDir dir;
  testing::WriteTextFile(dir.File("data/clicks.csv"),
                         "ts,user,count,price,flag,code\n2024-01-01T00:00:00Z,u1,3,1.5,true,007\n"
                         "2024-01-01T00:00:01Z,u2,,2,false,010\n");
  std::string yaml = R"(entities:
  user: {keys: [user]}
sources:
  clicks:
    path: data/clicks.csv
    timestamp: ts
    columns: {code: string}
groups:
  g:
    entity: user
    source: clicks
    features:
      codes: {agg: count_distinct, of: code}
      spend: {agg: sum, of: "price * count"}
)";
  Result<FeatureRegistry> r = ParseDefinitions(yaml, dir.path());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const SourceDef& s = r->sources()[0];
  EXPECT_EQ(s.path, dir.File("data/clicks.csv"));
  EXPECT_EQ(s.schema.ToString(), "ts:timestamp, user:string, count:int64, price:float64, flag:bool, code:string");
  EXPECT_EQ(s.timestamp_index, 0);

  // The whole file: ReadSource gives the rows with that schema ("007" stays a string, the empty count is null).
  Result<Table> table = ReadSource(s);
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  ASSERT_EQ(table->num_rows(), 2);
  EXPECT_EQ(table->schema(), s.schema);
  EXPECT_EQ(table->column(5).String(0), "007");
  EXPECT_TRUE(table->column(2).IsNull(1));
  EXPECT_EQ(table->column(0).Timestamp(1), 1'704'067'201'000'000);
}

// The shipped example loads: every name the feature sets use resolves, with the expected shapes.
TEST(DefinitionsTest, LoadsTheAtoExample) {
  testing::TempDir dir;
  const std::string common = "event_id,time,user_id,device_id,ip,asn,country";
  const std::string common_row = "e1,2024-01-01T00:00:00Z,u1,d1,10.0.0.1,64500,FR";
  testing::WriteTextFile(dir.File("data/logins.csv"), common + ",lat,lon,user_agent,success,mfa\n" + common_row +
                                                          ",48.85,2.35,Mozilla,true,false\n");
  testing::WriteTextFile(dir.File("data/account_events.csv"),
                         common + ",event_type,new_value_hash\n" + common_row + ",signup,ab12\n");
  testing::WriteTextFile(dir.File("data/promo_redemptions.csv"),
                         common + ",promo_code,amount,order_amount\n" + common_row + ",WELCOME,10.5,80.25\n");
  Result<FeatureRegistry> r =
      FeatureRegistry::Load(std::string(GYRE_SOURCE_DIR) + "/examples/ato/features.yaml", dir.path());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  Result<int> ato = r->FindFeatureSet("ato_login");
  ASSERT_TRUE(ato.ok());
  const FeatureSetDef& set = r->feature_sets()[*ato];
  EXPECT_EQ(set.features.size(), 30u);
  EXPECT_EQ(r->sources()[set.source].name, "logins");
  ASSERT_TRUE(set.label.has_value());
  EXPECT_EQ(set.label->path, dir.File("data/labels.csv"));
  EXPECT_EQ(set.label->key, "event_id");
  EXPECT_EQ(set.label->default_value, 0.0);
  for (const char* name : {"user_failed_logins_10m", "user_new_device", "user_seen_for", "ip_failure_ratio_24h",
                           "ip_approx_users_7d", "device_promo_amount_30d", "geo_velocity_kmh", "hour_unusual"}) {
    EXPECT_TRUE(r->FindFeature(name).ok()) << name;
  }
  Result<int> lat = r->FindFeature("user_last_success_lat");
  ASSERT_TRUE(lat.ok());
  EXPECT_EQ(r->features()[*lat].type, ExprType::kNumber);
  const GroupDef& user_logins = r->groups()[r->features()[*lat].group];
  EXPECT_EQ(user_logins.max_age, Seconds(90 * 86400));
  EXPECT_EQ(user_logins.ttl, Seconds(180 * 86400));
  EXPECT_EQ(user_logins.horizon, Seconds(90 * 86400) + Seconds(600));  // is_new 90d + 10m lateness
}

// ---------------------------------------------------------------------------------------------------------
// Bad input: each message names the place (file:line:column) and the thing.

// One group `g` on `logins` keyed by user, with the given feature lines (already indented by 6).
std::string WithFeatures(const std::string& features) {
  return kHeader + "groups:\n  g:\n    entity: user\n    source: logins\n    features:\n" + features;
}

TEST(DefinitionsErrorTest, UnknownAggregation) {
  std::string yaml = WithFeatures("      c: {agg: count}\n      m: {agg: median, of: amount}\n");
  EXPECT_THAT(ParseError(yaml), AllOf(StartsWith(At(yaml, "median") + ": "), HasSubstr("'groups.g.features.m.agg'"),
                                      HasSubstr("unknown aggregation 'median'"), HasSubstr("count, sum, mean")));
}

TEST(DefinitionsErrorTest, UnknownColumnInFilterPointsAtTheIdentifier) {
  std::string yaml = WithFeatures("      c: {agg: count, filter: \"ok and not sucess\"}\n");
  EXPECT_THAT(ParseError(yaml), AllOf(StartsWith(At(yaml, "sucess") + ": "), HasSubstr("unknown column 'sucess'"),
                                      HasSubstr("source 'logins'"), HasSubstr("country")));
  // Unquoted, and in `of`.
  yaml = WithFeatures("      c: {agg: count, filter: ok == amount2}\n");
  EXPECT_THAT(ParseError(yaml), AllOf(StartsWith(At(yaml, "amount2") + ": "), HasSubstr("unknown column 'amount2'")));
  yaml = WithFeatures("      s: {agg: sum, of: \"amount * rate\"}\n");
  EXPECT_THAT(ParseError(yaml), AllOf(StartsWith(At(yaml, "rate") + ": "), HasSubstr("unknown column 'rate'")));
}

TEST(DefinitionsErrorTest, BadDurations) {
  // In windows: the message names the feature (its location) and the text.
  std::string yaml = WithFeatures("      c: {agg: count, windows: [1h, 10 minutes]}\n");
  EXPECT_THAT(ParseError(yaml), AllOf(StartsWith(At(yaml, "{agg: count, windows") + ": "), HasSubstr("feature 'c'"),
                                      HasSubstr("invalid duration '10 minutes'"), HasSubstr("10m, 24h, 7d")));
  yaml = WithFeatures("      c: {agg: count, windows: [0s]}\n");
  EXPECT_THAT(ParseError(yaml), HasSubstr("invalid duration '0s'"));
  yaml = WithFeatures("      c: {agg: count, windows: [\"-5m\"]}\n");
  EXPECT_THAT(ParseError(yaml), HasSubstr("invalid duration '-5m'"));
  // In ttl and max_age: the value's location and the dotted key.
  yaml = kHeader +
         "groups:\n  g:\n    entity: user\n    source: logins\n    ttl: 10 minutes\n"
         "    features:\n      c: {agg: count}\n";
  EXPECT_THAT(ParseError(yaml), AllOf(StartsWith(At(yaml, "10 minutes") + ": "), HasSubstr("'groups.g.ttl'"),
                                      HasSubstr("invalid duration '10 minutes'")));
  yaml = kHeader +
         "groups:\n  g:\n    entity: user\n    source: logins\n    max_age: 3 days\n"
         "    features:\n      c: {agg: count}\n";
  EXPECT_THAT(ParseError(yaml), AllOf(StartsWith(At(yaml, "3 days") + ": "), HasSubstr("'groups.g.max_age'")));
  // In a source's allowed lateness and an is_new horizon.
  yaml = "sources:\n  s:\n    timestamp: time\n    allowed_lateness: 1 hour\n    columns: {time: timestamp}\n";
  EXPECT_THAT(ParseError(yaml), AllOf(StartsWith(At(yaml, "1 hour") + ": "), HasSubstr("'sources.s.allowed_lateness'"),
                                      HasSubstr("invalid duration '1 hour'")));
  yaml = WithFeatures("      fresh: {agg: is_new, of: country, horizon: 90 days}\n");
  EXPECT_THAT(ParseError(yaml), AllOf(HasSubstr(At(yaml, "{agg: is_new")), HasSubstr("feature 'fresh'"),
                                      HasSubstr("invalid duration '90 days'")));
}

TEST(DefinitionsErrorTest, UnknownEntityOrSource) {
  std::string yaml =
      kHeader + "groups:\n  g:\n    entity: usr\n    source: logins\n    features:\n      c: {agg: count}\n";
  EXPECT_THAT(ParseError(yaml), AllOf(StartsWith(At(yaml, "entity: usr") + ": "), HasSubstr("group 'g'"),
                                      HasSubstr("unknown entity 'usr'")));
  yaml = kHeader + "groups:\n  g:\n    entity: user\n    source: login\n    features:\n      c: {agg: count}\n";
  EXPECT_THAT(ParseError(yaml), AllOf(StartsWith(At(yaml, "entity: user\n    source: login") + ": "),
                                      HasSubstr("group 'g'"), HasSubstr("unknown source 'login'")));
  yaml = kHeader + "derived:\n  d: {source: clicks, expr: \"amount * 2\"}\n";
  EXPECT_THAT(ParseError(yaml), AllOf(StartsWith(At(yaml, "amount * 2") + ": "), HasSubstr("derived feature 'd'"),
                                      HasSubstr("unknown source 'clicks'")));
  yaml = kHeader + "feature_sets:\n  fs:\n    source: click\n    features: []\n";
  EXPECT_THAT(ParseError(yaml), AllOf(StartsWith(At(yaml, "source: click") + ": "), HasSubstr("feature set 'fs'"),
                                      HasSubstr("unknown source 'click'")));
}

TEST(DefinitionsErrorTest, MissingRequiredKeys) {
  std::string yaml = "entities:\n  user: {}\n";
  EXPECT_THAT(ParseError(yaml),
              AllOf(StartsWith(At(yaml, "{}") + ": "), HasSubstr("missing required key 'entities.user.keys'")));
  yaml = kHeader + "groups:\n  g:\n    source: logins\n    features:\n      c: {agg: count}\n";
  EXPECT_THAT(ParseError(yaml), AllOf(StartsWith(At(yaml, "source: logins\n    features") + ": "),
                                      HasSubstr("missing required key 'groups.g.entity'")));
  yaml = WithFeatures("      c: {windows: [1h]}\n");
  EXPECT_THAT(ParseError(yaml), AllOf(StartsWith(At(yaml, "{windows") + ": "),
                                      HasSubstr("missing required key 'groups.g.features.c.agg'")));
  yaml = "sources:\n  s:\n    columns: {time: timestamp}\n";
  EXPECT_THAT(ParseError(yaml),
              AllOf(StartsWith(At(yaml, "columns") + ": "), HasSubstr("missing required key 'sources.s.timestamp'")));
  yaml = kHeader + "derived:\n  d: {source: logins}\n";
  EXPECT_THAT(ParseError(yaml), AllOf(StartsWith(At(yaml, "{source: logins}") + ": "),
                                      HasSubstr("missing required key 'derived.d.expr'")));
  yaml = kHeader + "feature_sets:\n  fs:\n    source: logins\n";
  EXPECT_THAT(ParseError(yaml), HasSubstr("missing required key 'feature_sets.fs.features'"));
  // An entity with no key columns, or too many.
  yaml = "entities:\n  user: {keys: []}\n";
  EXPECT_THAT(ParseError(yaml),
              AllOf(HasSubstr("features.yaml:2:"), HasSubstr("'entities.user.keys'"), HasSubstr("1 to 4 key columns")));
  yaml = "entities:\n  user: {keys: [a, b, c, d, e]}\n";
  EXPECT_THAT(ParseError(yaml), HasSubstr("1 to 4 key columns"));
}

TEST(DefinitionsErrorTest, UnknownKeysAreErrors) {
  std::string yaml = WithFeatures("      c: {agg: count, window: [1h]}\n");
  EXPECT_THAT(ParseError(yaml), AllOf(StartsWith(At(yaml, "window:") + ": "), HasSubstr("unknown key 'window'"),
                                      HasSubstr("'groups.g.features.c'"), HasSubstr("windows")));
  yaml = kHeader + "group:\n  g: {}\n";
  EXPECT_THAT(ParseError(yaml), AllOf(StartsWith(At(yaml, "group:") + ": "), HasSubstr("unknown key 'group'")));
}

TEST(DefinitionsErrorTest, DuplicateFeatureNames) {
  // Across groups: names are global.
  std::string yaml = kHeader + R"(groups:
  a:
    entity: user
    source: logins
    features:
      logins: {agg: count}
  b:
    entity: device
    source: logins
    features:
      logins: {agg: count, filter: ok}
)";
  EXPECT_THAT(ParseError(yaml), AllOf(StartsWith(At(yaml, "{agg: count, filter: ok}") + ": "),
                                      HasSubstr("feature 'logins' is defined twice")));
  // A windowed expansion colliding with an explicit name.
  yaml = WithFeatures("      c: {agg: count, windows: [1h]}\n      c_1h: {agg: sum, of: amount}\n");
  EXPECT_THAT(ParseError(yaml),
              AllOf(StartsWith(At(yaml, "{agg: sum") + ": "), HasSubstr("feature 'c_1h' is defined twice")));
  // A derived feature with an aggregation's name.
  yaml = WithFeatures("      c: {agg: count}\n") + "derived:\n  c: {source: logins, expr: \"amount\"}\n";
  EXPECT_THAT(ParseError(yaml), AllOf(StartsWith(At(yaml, "amount\"")), HasSubstr("feature 'c' is defined twice")));
  // The same window twice.
  yaml = WithFeatures("      c: {agg: count, windows: [1h, 60m]}\n");
  EXPECT_THAT(ParseError(yaml),
              AllOf(StartsWith(At(yaml, "{agg: count") + ": "), HasSubstr("feature 'c'"), HasSubstr("listed twice")));
}

TEST(DefinitionsErrorTest, FilterMustBeBool) {
  std::string yaml = WithFeatures("      c: {agg: count, filter: \"amount + 1\"}\n");
  EXPECT_THAT(ParseError(yaml), AllOf(StartsWith(At(yaml, "amount + 1") + ": "), HasSubstr("filter"),
                                      HasSubstr("'amount + 1' is a number")));
  yaml = WithFeatures("      c: {agg: count, filter: country}\n");
  EXPECT_THAT(ParseError(yaml), AllOf(StartsWith(At(yaml, "country}") + ": "), HasSubstr("is a string")));
  // A filter that does not type-check names the operator's place.
  yaml = WithFeatures("      c: {agg: count, filter: \"country == 3\"}\n");
  EXPECT_THAT(ParseError(yaml), AllOf(StartsWith(At(yaml, "== 3") + ": "), HasSubstr("cannot compare string")));
}

TEST(DefinitionsErrorTest, NumericAggregationsOfStrings) {
  for (const char* kind : {"sum", "mean", "min", "max", "stddev"}) {
    std::string yaml = WithFeatures(fmt::format("      v: {{agg: {}, of: \"country\"}}\n", kind));
    EXPECT_THAT(ParseError(yaml),
                AllOf(StartsWith(At(yaml, "country\"") + ": "),
                      HasSubstr(fmt::format("{} of 'country' needs numbers", kind)), HasSubstr("string")))
        << kind;
  }
  // Counting distinct strings, or the last one, is fine.
  EXPECT_EQ(
      ParseError(WithFeatures("      v: {agg: count_distinct, of: country}\n      w: {agg: last, of: country}\n")),
      "OK");
}

TEST(DefinitionsErrorTest, AggregationArguments) {
  std::string yaml = WithFeatures("      fresh: {agg: is_new, of: country}\n");
  EXPECT_THAT(ParseError(yaml), AllOf(StartsWith(At(yaml, "{agg: is_new") + ": "),
                                      HasSubstr("'groups.g.features.fresh'"), HasSubstr("is_new needs 'horizon'")));
  yaml = WithFeatures("      c: {agg: count, horizon: 1d}\n");
  EXPECT_THAT(ParseError(yaml), AllOf(StartsWith(At(yaml, "1d") + ": "), HasSubstr("'groups.g.features.c.horizon'"),
                                      HasSubstr("only is_new takes a horizon")));
  yaml = WithFeatures("      s: {agg: sum}\n");
  EXPECT_THAT(ParseError(yaml), AllOf(StartsWith(At(yaml, "{agg: sum}") + ": "), HasSubstr("'sum' needs 'of'")));
  yaml = WithFeatures("      c: {agg: count, of: amount}\n");
  EXPECT_THAT(ParseError(yaml), AllOf(StartsWith(At(yaml, "amount}") + ": "), HasSubstr("'groups.g.features.c.of'"),
                                      HasSubstr("takes no 'of'")));
  yaml = WithFeatures("      f: {agg: first_seen, windows: [1h]}\n");
  EXPECT_THAT(ParseError(yaml), AllOf(StartsWith(At(yaml, "[1h]") + ": "), HasSubstr("'first_seen' has no windows")));
  yaml = WithFeatures("      u: {agg: approx_count_distinct, of: user, precision: 20}\n");
  EXPECT_THAT(ParseError(yaml),
              AllOf(StartsWith(At(yaml, "20}") + ": "), HasSubstr("'groups.g.features.u.precision'")));
}

TEST(DefinitionsErrorTest, FeatureSetProblems) {
  std::string groups = kHeader + R"(groups:
  by_device:
    entity: device
    source: logins
    features:
      device_logins: {agg: count, windows: [1h]}
)";
  std::string yaml = groups + "feature_sets:\n  fs:\n    source: logins\n    features: [device_logins_1h, nope]\n";
  EXPECT_THAT(ParseError(yaml), AllOf(StartsWith(At(yaml, "source: logins\n    features: [") + ": "),
                                      HasSubstr("feature set 'fs'"), HasSubstr("unknown feature 'nope'")));
  // payments has no device column, so a device-keyed feature cannot be joined to its events.
  yaml = groups + "feature_sets:\n  pay:\n    source: payments\n    features: [device_logins_1h]\n";
  EXPECT_THAT(ParseError(yaml),
              AllOf(StartsWith(At(yaml, "source: payments\n") + ": "), HasSubstr("feature set 'pay'"),
                    HasSubstr("'device_logins_1h' is keyed by 'device'"), HasSubstr("source 'payments' lacks")));
  // A derived feature of another source.
  yaml = groups + "derived:\n  twice: {source: logins, expr: \"amount * 2\"}\n" +
         "feature_sets:\n  pay:\n    source: payments\n    features: [twice]\n";
  EXPECT_THAT(ParseError(yaml),
              AllOf(HasSubstr("feature set 'pay'"), HasSubstr("derived feature 'twice'"), HasSubstr("'logins'")));
}

TEST(DefinitionsErrorTest, GroupSourceLacksEntityKey) {
  std::string yaml = kHeader +
                     "groups:\n  g:\n    entity: device\n    source: payments\n    features:\n"
                     "      c: {agg: count}\n";
  EXPECT_THAT(ParseError(yaml), AllOf(StartsWith(At(yaml, "entity: device\n    source: payments") + ": "),
                                      HasSubstr("group 'g'"), HasSubstr("source 'payments' has no column 'device'")));
}

TEST(DefinitionsErrorTest, TimestampColumnMustBeATimestamp) {
  std::string yaml = "sources:\n  ev:\n    timestamp: time\n    columns: {time: string, user: string}\n";
  EXPECT_THAT(ParseError(yaml), AllOf(StartsWith(At(yaml, "timestamp: time") + ": "), HasSubstr("source 'ev'"),
                                      HasSubstr("'time' holds string values, not timestamps")));
  yaml = "sources:\n  ev:\n    timestamp: when\n    columns: {time: timestamp}\n";
  EXPECT_THAT(ParseError(yaml), AllOf(StartsWith(At(yaml, "timestamp: when") + ": "),
                                      HasSubstr("timestamp column 'when' is not among its columns (time)")));
  yaml = "sources:\n  ev:\n    timestamp: time\n    columns: {time: datetime}\n";
  EXPECT_THAT(ParseError(yaml), AllOf(HasSubstr("features.yaml:4:"), HasSubstr("'sources.ev.columns'"),
                                      HasSubstr("column 'time'"), HasSubstr("datetime")));
  yaml = "sources:\n  ev:\n    timestamp: time\n";
  EXPECT_THAT(ParseError(yaml),
              AllOf(StartsWith(At(yaml, "timestamp: time") + ": "), HasSubstr("neither a path nor declared columns")));

  // Inferred from a file: epoch numbers are integers, not timestamps.
  testing::TempDir dir;
  testing::WriteTextFile(dir.File("ev.csv"), "time,user\n1700000000,u1\n");
  yaml = "sources:\n  ev:\n    path: ev.csv\n    timestamp: time\n";
  EXPECT_THAT(ParseError(yaml, dir.path()),
              AllOf(StartsWith(At(yaml, "path") + ": "), HasSubstr("'time' holds int64 values, not timestamps")));
  // A missing file is named.
  yaml = "sources:\n  ev:\n    path: missing.csv\n    timestamp: time\n";
  EXPECT_THAT(ParseError(yaml, dir.path()),
              AllOf(StartsWith(At(yaml, "path") + ": "), HasSubstr(dir.File("missing.csv"))));
}

TEST(DefinitionsErrorTest, DerivedExpressionErrorsPointIntoTheExpression) {
  std::string yaml = WithFeatures("      c: {agg: count, windows: [1h]}\n") +
                     "derived:\n  d: {source: logins, expr: \"c_1h / max(amont, 1)\"}\n";
  EXPECT_THAT(ParseError(yaml), AllOf(StartsWith(At(yaml, "amont") + ": "), HasSubstr("unknown name 'amont'"),
                                      HasSubstr("source 'logins'")));
  // Derived features cannot read other derived features (only columns and aggregated features).
  yaml = WithFeatures("      c: {agg: count}\n") +
         "derived:\n  d1: {source: logins, expr: \"c + 1\"}\n  d2: {source: logins, expr: \"d1 * 2\"}\n";
  EXPECT_THAT(ParseError(yaml), AllOf(StartsWith(At(yaml, "d1 * 2") + ": "), HasSubstr("unknown name 'd1'")));
}

TEST(DefinitionsErrorTest, YamlSyntaxErrorsAreLocated) {
  std::string yaml = "entities:\n  user: {keys: [user}\n";
  EXPECT_THAT(ParseError(yaml), StartsWith("features.yaml:2:"));
}

}  // namespace
}  // namespace gyre::features
