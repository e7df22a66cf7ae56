// TryParseSingleEvent (the /v1/score fast path) against the general path (nlohmann + TableFromRecords) on
// random bodies: whenever the fast path answers, the general path accepts the body and builds the same
// table, bit for bit; and it does answer for the plain bodies clients send.
#include "api/score_body.h"

#include <gtest/gtest.h>

#include <bit>
#include <nlohmann/json.hpp>
#include <random>

#include "api/json_table.h"

namespace gyre::api {
namespace {

Schema EventSchema() {
  return Schema({{"time", ColumnType::kTimestamp},
                 {"user_id", ColumnType::kString},
                 {"asn", ColumnType::kInt64},
                 {"lat", ColumnType::kFloat64},
                 {"success", ColumnType::kBool}});
}

class Bodies {
 public:
  explicit Bodies(uint64_t seed) : rng_(seed) {}

  std::string Body() {
    std::vector<std::string> members;
    members.push_back(Key("event") + Space() + ":" + Space() + Event());
    if (Chance(0.3)) members.push_back(Key("request_id") + ":" + Pick({"\"r-1\"", "\"\"", "7", "null", "\"a\\u0041\""}));
    if (Chance(0.3)) members.push_back(Key("return_features") + ":" + Pick({"true", "false", "1", "\"true\"", "truex"}));
    if (Chance(0.05)) members.push_back(Key("events") + ":[]");
    if (Chance(0.05)) members.push_back(Key("event") + ":{}");  // repeated
    if (Chance(0.05)) members.push_back(Key("extra") + ":1");
    std::shuffle(members.begin(), members.end(), rng_);
    std::string body = Space() + "{";
    for (size_t i = 0; i < members.size(); ++i) body += (i ? "," : "") + Space() + members[i] + Space();
    body += "}" + Space();
    if (Chance(0.03)) body = body.substr(0, rng_() % (body.size() + 1));  // truncated
    if (Chance(0.02)) body += "x";
    return body;
  }

 private:
  std::string Event() {
    if (Chance(0.02)) return Pick({"[]", "null", "\"e\"", "{\"time\":{}}"});
    std::vector<std::string> fields;
    if (Chance(0.95)) fields.push_back(Key("time") + ":" + Time());
    if (Chance(0.9)) fields.push_back(Key("user_id") + ":" + Text());
    if (Chance(0.9)) fields.push_back(Key("asn") + ":" + Number(true));
    if (Chance(0.9)) fields.push_back(Key("lat") + ":" + Number(false));
    if (Chance(0.9)) fields.push_back(Key("success") + ":" + Pick({"true", "false", "null", "\"true\"", "1", "fals"}));
    if (Chance(0.05)) fields.push_back(Key("user_id") + ":\"again\"");
    if (Chance(0.05)) fields.push_back(Key("unknown") + ":1");
    std::shuffle(fields.begin(), fields.end(), rng_);
    std::string out = "{";
    for (size_t i = 0; i < fields.size(); ++i) out += (i ? "," : "") + Space() + fields[i];
    return out + Space() + "}";
  }
  std::string Time() {
    return Pick({"\"2026-01-31T12:34:56.789Z\"", "\"2026-01-31 12:34:56\"", "\"2026-01-31T12:34:56+02:00\"",
                 "1769862896", "1769862896123", "\"not a time\"", "\"\"", "null", "\"2026-02-30T00:00:00Z\""});
  }
  std::string Text() {
    return Pick({"\"u123\"", "\"\"", "\"a b/c\"", "\"esc\\\"aped\"", "\"tab\\t\"", "\"Zürich\"", "\"\\u00e9\"", "42",
                 "4.5", "true", "null", "\"\x7f\""});
  }
  std::string Number(bool integral) {
    std::vector<std::string> ints = {"0", "-0", "7", "-12", "9223372036854775807", "9223372036854775808",
                                     "-9223372036854775808", "123456789012345678901", "01", "3.0", "\"15\"", "null"};
    std::vector<std::string> reals = {"0.1", "-2.5e-3", "1E10", "1e400", "43.5352", "-79.3452", "1.", ".5", "-",
                                      "2e", "0.30000000000000004", "9007199254740993", "\"1.5\"", "null", "NaN",
                                      "64500e22", "-9.3e18", "9.2e18"};
    return integral && Chance(0.8) ? Pick(ints) : Pick(Chance(0.5) ? ints : reals);
  }
  std::string Key(const std::string& k) { return "\"" + k + "\""; }
  std::string Space() { return Chance(0.2) ? Pick({" ", "\n", "\t ", "\r\n  "}) : ""; }
  bool Chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }
  std::string Pick(const std::vector<std::string>& options) { return options[rng_() % options.size()]; }

  std::mt19937_64 rng_;
};

void ExpectSameTable(const Table& fast, const Table& general, const std::string& body) {
  ASSERT_EQ(fast.schema(), general.schema()) << body;
  ASSERT_EQ(fast.num_rows(), general.num_rows()) << body;
  for (int c = 0; c < fast.num_columns(); ++c) {
    const Column& a = fast.column(c);
    const Column& b = general.column(c);
    for (int64_t r = 0; r < fast.num_rows(); ++r) {
      ASSERT_EQ(a.IsNull(r), b.IsNull(r)) << fast.column_name(c) << " in " << body;
      if (a.IsNull(r)) continue;
      if (a.type() == ColumnType::kFloat64) {
        EXPECT_EQ(std::bit_cast<uint64_t>(a.Float64(r)), std::bit_cast<uint64_t>(b.Float64(r))) << body;
      } else {
        EXPECT_EQ(a.ValueToString(r), b.ValueToString(r)) << fast.column_name(c) << " in " << body;
      }
    }
  }
}

TEST(ScoreBodyTest, FastPathAgreesWithTheGeneralPathOrStepsAside) {
  const Schema schema = EventSchema();
  Bodies bodies(2026);
  int answered = 0;
  constexpr int kBodies = 20000;
  for (int i = 0; i < kBodies; ++i) {
    std::string body = bodies.Body();
    std::optional<SingleEventBody> fast = TryParseSingleEvent(body, schema);
    if (!fast) continue;
    ++answered;
    // The general path must accept it and agree.
    nlohmann::json doc = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
    ASSERT_FALSE(doc.is_discarded()) << "fast path took invalid JSON: " << body;
    ASSERT_TRUE(doc.is_object() && doc.contains("event") && !doc.contains("events")) << body;
    for (const auto& [key, value] : doc.items()) {
      ASSERT_TRUE(key == "event" || key == "request_id" || key == "return_features") << body;
    }
    Result<Table> general = TableFromRecords(doc["event"], "event", schema);
    ASSERT_TRUE(general.ok()) << general.status().ToString() << " for " << body;
    ExpectSameTable(fast->event, *general, body);
    if (doc.contains("request_id")) {
      ASSERT_TRUE(doc["request_id"].is_string()) << body;
      EXPECT_EQ(fast->request_id, doc["request_id"].get<std::string>()) << body;
    } else {
      EXPECT_FALSE(fast->request_id.has_value()) << body;
    }
    EXPECT_EQ(fast->return_features, doc.value("return_features", false)) << body;
  }
  // Most random bodies carry at least one value the fast path leaves to the general path; a few hundred
  // are plain enough to be taken (2% with this seed), each checked above.
  EXPECT_GT(answered, kBodies / 100) << "the fast path almost never answers";
}

TEST(ScoreBodyTest, TakesARealLogin) {
  const std::string body =
      R"({"event":{"event_id":56557,"time":"2026-01-31T18:02:11.123Z","user_id":"u0263783153","asn":21928,)"
      R"("lat":34.2125,"lon":-118.5304,"success":true,"ip":null},"request_id":"abc","return_features":true})";
  Schema schema({{"event_id", ColumnType::kInt64},
                 {"time", ColumnType::kTimestamp},
                 {"user_id", ColumnType::kString},
                 {"asn", ColumnType::kInt64},
                 {"lat", ColumnType::kFloat64},
                 {"lon", ColumnType::kFloat64},
                 {"success", ColumnType::kBool},
                 {"ip", ColumnType::kString},
                 {"mfa", ColumnType::kBool}});
  std::optional<SingleEventBody> fast = TryParseSingleEvent(body, schema);
  ASSERT_TRUE(fast.has_value());
  EXPECT_EQ(fast->event.num_rows(), 1);
  EXPECT_EQ(fast->event.column(0).Int64(0), 56557);
  EXPECT_EQ(fast->event.column(2).String(0), "u0263783153");
  EXPECT_DOUBLE_EQ(fast->event.column(5).Float64(0), -118.5304);
  EXPECT_TRUE(fast->event.column(6).Bool(0));
  EXPECT_TRUE(fast->event.column(7).IsNull(0));
  EXPECT_TRUE(fast->event.column(8).IsNull(0));  // absent
  EXPECT_EQ(fast->request_id, "abc");
  EXPECT_TRUE(fast->return_features);
}

}  // namespace
}  // namespace gyre::api
