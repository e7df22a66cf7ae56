// The Feast-style feature routes (api/feature_routes.h) end to end: a temp workspace with a small
// features.yaml (a push-only source with declared columns), opened by services::WorkspaceServices as `gyre server` opens it
// (RocksDB online store under .gyre/; gyre.yaml's store.online accepts no "memory"), a real http::Server on
// port 0 and a keep-alive http::Client.
//
// Covered: push then read back (values and PRESENT / NULL_VALUE / NOT_FOUND / OUTSIDE_MAX_AGE), reads as of
// event_timestamps and as of now, full_feature_names, feature_service, Feast's "view:feature" references,
// late and too-late pushes, a retried push (the source's event ids: counted once, reported as duplicates),
// and bad input: every one a 4xx JSON error naming the field, never a 5xx.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <system_error>

#include "api/routes.h"
#include "services/workspace_services.h"
#include "core/time.h"
#include "core/workspace.h"
#include "http/client.h"
#include "http/server.h"

namespace gyre::api {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

// Transactions of users: a count with windows, a sum, a filtered count, a string `last`, and a max_age of
// one day so a read three days later is OUTSIDE_MAX_AGE.
constexpr const char* kFeaturesYaml = R"(entities:
  user: {keys: [user_id]}
sources:
  tx:
    timestamp: time
    allowed_lateness: 10m
    event_id: event_id
    columns: {time: timestamp, user_id: string, amount: float64, ok: bool, country: string, event_id: string}
groups:
  user_tx:
    entity: user
    source: tx
    max_age: 1d
    features:
      tx_count: {agg: count, windows: [1h, 24h]}
      amount_sum: {agg: sum, of: amount, windows: [24h]}
      failed: {agg: count, filter: "not ok", windows: [24h]}
      last_country: {agg: last, of: country}
feature_sets:
  scoring:
    source: tx
    features: [amount_sum_24h, tx_count_1h]
)";

constexpr const char* kT0 = "2026-01-01T00:00:00Z";

int64_t Micros(const std::string& text) {
  Result<TimestampMicros> ts = ParseTimestamp(text);
  EXPECT_TRUE(ts.ok()) << text;
  return ts.ok() ? *ts : 0;
}

// kT0 + seconds, as the text a client sends.
std::string At(int64_t seconds) { return FormatTimestamp(Micros(kT0) + seconds * kMicrosPerSecond); }

struct Reply {
  int status = 0;
  json body;
};

class FeatureRoutesTest : public ::testing::Test {
 protected:
  // Subclasses may skip features.yaml.
  virtual bool WithFeatures() const { return true; }

  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "gyre_feature_routes_XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    {
      std::ofstream config(dir_ / "gyre.yaml");
      config << "name: feature-routes-test\nstore:\n  online: rocksdb\n";
      if (WithFeatures()) std::ofstream(dir_ / "features.yaml") << kFeaturesYaml;
    }
    Result<Workspace> ws = Workspace::Open(dir_.string());
    ASSERT_TRUE(ws.ok()) << ws.status().ToString();
    Result<std::unique_ptr<services::WorkspaceServices>> app = services::WorkspaceServices::Open(*ws);
    ASSERT_TRUE(app.ok()) << app.status().ToString();
    app_ = std::move(app).value();
    ASSERT_EQ(app_->online_features() != nullptr, WithFeatures());

    http::ServerOptions options;
    options.port = 0;
    options.threads = 1;
    Result<std::unique_ptr<http::Server>> server = http::Server::Create(options);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(server).value();
    api::AddRoutes(*server_, *app_);
    ASSERT_TRUE(server_->Start().ok());
    Result<std::unique_ptr<http::Client>> client = http::Client::Connect("127.0.0.1", server_->port());
    ASSERT_TRUE(client.ok()) << client.status().ToString();
    client_ = std::move(client).value();
  }

  void TearDown() override {
    client_.reset();
    if (server_) {
      EXPECT_TRUE(server_->Shutdown().ok());
    }
    server_.reset();
    app_.reset();
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }

  Reply PostText(const std::string& path, const std::string& body) {
    Result<http::ClientResponse> response = client_->Request("POST", path, body);
    EXPECT_TRUE(response.ok()) << path << ": " << response.status().ToString();
    if (!response.ok()) return {};
    Reply reply{response->status, json::parse(response->body, nullptr, false)};
    EXPECT_FALSE(reply.body.is_discarded()) << path << " answered a body that is not JSON: " << response->body;
    EXPECT_EQ(response->content_type.substr(0, 16), "application/json") << path;
    return reply;
  }
  Reply Post(const std::string& path, const json& body) { return PostText(path, body.dump()); }

  // Pushes rows to source tx; expects 200 and returns the reply body.
  json Push(const json& df) {
    Reply reply = Post("/push", {{"push_source_name", "tx"}, {"df", df}, {"to", "online"}});
    EXPECT_EQ(reply.status, 200) << reply.body.dump();
    return reply.body;
  }

  // u1: three transactions in two minutes (one failed), last country FR; u2: one with a null country.
  void PushExample() {
    json pushed = Push({{"time", {At(0), At(60), At(120), At(30)}},
                        {"user_id", {"u1", "u1", "u1", "u2"}},
                        {"amount", {10.0, 20.5, 5, 7.25}},
                        {"ok", {true, false, true, true}},
                        {"country", {"DE", "DE", "FR", nullptr}}});
    EXPECT_EQ(pushed, json({{"rows", 4}, {"late", 0}, {"too_late", 0}, {"duplicates", 0}, {"duplicate_rows", json::array()}}));
  }

  // Expects a 4xx whose JSON error names `needle`, and returns it.
  std::string ExpectClientError(const Reply& reply, int status, const std::string& needle) {
    EXPECT_EQ(reply.status, status) << reply.body.dump();
    EXPECT_TRUE(reply.body.is_object() && reply.body.contains("error")) << reply.body.dump();
    std::string error = reply.body.value("error", "");
    EXPECT_THAT(error, HasSubstr(needle));
    EXPECT_NE(reply.body.value("error_code", ""), "INTERNAL");
    return error;
  }

  std::filesystem::path dir_;
  std::unique_ptr<services::WorkspaceServices> app_;
  std::unique_ptr<http::Server> server_;
  std::unique_ptr<http::Client> client_;
};

// results[i] of a /get-online-features reply.
const json& ResultAt(const Reply& reply, size_t i) { return reply.body["results"][i]; }

TEST_F(FeatureRoutesTest, PushThenReadBackWithStatuses) {
  PushExample();
  Reply reply = Post("/get-online-features",
                     {{"features", {"tx_count_1h", "amount_sum_24h", "failed_24h", "last_country", "tx_count_24h"}},
                      {"entities", {{"user_id", {"u1", "u2", "u3"}}}},
                      {"event_timestamps", {At(3630), At(3630), At(3630)}}});
  ASSERT_EQ(reply.status, 200) << reply.body.dump();
  EXPECT_EQ(reply.body["metadata"]["feature_names"],
            json({"user_id", "tx_count_1h", "amount_sum_24h", "failed_24h", "last_country", "tx_count_24h"}));
  ASSERT_EQ(reply.body["results"].size(), 6u);
  // The entity column comes first, as Feast lists it.
  EXPECT_EQ(ResultAt(reply, 0)["values"], json({"u1", "u2", "u3"}));
  EXPECT_EQ(ResultAt(reply, 0)["statuses"], json({"PRESENT", "PRESENT", "PRESENT"}));
  // Windows are [t - 1h, t): as of kT0 + 1h + 30 s, u1's event at kT0 has left the 1h window and u2's at
  // kT0 + 30 s is exactly at its start, so inside.
  EXPECT_EQ(ResultAt(reply, 1)["values"], json({2, 1, 0}));
  EXPECT_EQ(ResultAt(reply, 1)["statuses"], json({"PRESENT", "PRESENT", "NOT_FOUND"}));
  // An unknown key reads the values of an empty history: sum 0, count 0, last null.
  EXPECT_EQ(ResultAt(reply, 2)["values"], json({35.5, 7.25, 0}));
  EXPECT_EQ(ResultAt(reply, 3)["values"], json({1, 0, 0}));
  EXPECT_EQ(ResultAt(reply, 4)["values"], json({"FR", nullptr, nullptr}));
  EXPECT_EQ(ResultAt(reply, 4)["statuses"], json({"PRESENT", "NULL_VALUE", "NOT_FOUND"}));
  EXPECT_EQ(ResultAt(reply, 5)["values"], json({3, 1, 0}));
  for (size_t i = 0; i < 6; ++i) {
    ASSERT_EQ(ResultAt(reply, i)["event_timestamps"].size(), 3u);
    EXPECT_EQ(Micros(ResultAt(reply, i)["event_timestamps"][2]), Micros(kT0) + 3630 * kMicrosPerSecond);
  }
}

TEST_F(FeatureRoutesTest, ReadsAsOfEventTimestampsStrictlyBefore) {
  PushExample();
  // One request, three times for the same user: before any event, between events, after all of them.
  Reply reply = Post("/get-online-features", {{"features", {"tx_count_24h", "amount_sum_24h", "last_country"}},
                                              {"entities", {{"user_id", {"u1", "u1", "u1", "u1"}}}},
                                              {"event_timestamps", {At(0), At(60), At(90), At(4 * 24 * 3600)}}});
  ASSERT_EQ(reply.status, 200) << reply.body.dump();
  // The event at exactly t is not seen (strictly before); four days later the key is past max_age (1d).
  EXPECT_EQ(ResultAt(reply, 1)["values"], json({0, 1, 2, nullptr}));
  EXPECT_EQ(ResultAt(reply, 2)["values"], json({0, 10.0, 30.5, nullptr}));
  EXPECT_EQ(ResultAt(reply, 3)["values"][2], "DE");
  EXPECT_EQ(ResultAt(reply, 1)["statuses"][3], "OUTSIDE_MAX_AGE");
  EXPECT_EQ(ResultAt(reply, 3)["statuses"][3], "OUTSIDE_MAX_AGE");
  EXPECT_EQ(Micros(ResultAt(reply, 1)["event_timestamps"][1]), Micros(kT0) + 60 * kMicrosPerSecond);
  // Epoch seconds are accepted too.
  Reply epoch = Post("/get-online-features", {{"features", {"tx_count_24h"}},
                                              {"entities", {{"user_id", {"u1"}}}},
                                              {"event_timestamps", {Micros(kT0) / kMicrosPerSecond + 90}}});
  ASSERT_EQ(epoch.status, 200) << epoch.body.dump();
  EXPECT_EQ(ResultAt(epoch, 1)["values"], json({2}));
}

TEST_F(FeatureRoutesTest, ReadsAsOfNowWithoutEventTimestamps) {
  // Events ten and five minutes ago are inside the 1h window as of now.
  int64_t now = NowMillis() * 1000;
  Push({{"time", {FormatTimestamp(now - 10 * kMicrosPerMinute), FormatTimestamp(now - 5 * kMicrosPerMinute)}},
        {"user_id", {"recent", "recent"}},
        {"amount", {1, 2}}});
  Reply reply = Post("/get-online-features",
                     {{"features", {"tx_count_1h", "amount_sum_24h"}}, {"entities", {{"user_id", {"recent"}}}}});
  ASSERT_EQ(reply.status, 200) << reply.body.dump();
  EXPECT_EQ(ResultAt(reply, 1)["values"], json({2}));
  EXPECT_EQ(ResultAt(reply, 2)["values"], json({3.0}));
  int64_t as_of = Micros(ResultAt(reply, 1)["event_timestamps"][0]);
  EXPECT_GE(as_of, now);
  EXPECT_LT(as_of, now + 60 * kMicrosPerSecond);
}

TEST_F(FeatureRoutesTest, FullFeatureNamesFeatureServiceAndFeastReferences) {
  PushExample();
  json entities = {{"user_id", {"u1"}}};
  json times = {At(3600)};
  Reply full = Post("/get-online-features", {{"features", {"tx_count_1h", "user_tx:amount_sum_24h"}},
                                             {"entities", entities},
                                             {"event_timestamps", times},
                                             {"full_feature_names", true}});
  ASSERT_EQ(full.status, 200) << full.body.dump();
  EXPECT_EQ(full.body["metadata"]["feature_names"],
            json({"user_id", "user_tx__tx_count_1h", "user_tx__amount_sum_24h"}));
  EXPECT_EQ(ResultAt(full, 2)["values"], json({35.5}));

  Reply short_names = Post("/get-online-features", {{"features", {"user_tx:amount_sum_24h"}},
                                                    {"entities", entities},
                                                    {"event_timestamps", times},
                                                    {"full_feature_names", false}});
  ASSERT_EQ(short_names.status, 200) << short_names.body.dump();
  EXPECT_EQ(short_names.body["metadata"]["feature_names"], json({"user_id", "amount_sum_24h"}));

  // A feature service reads the set's features in the set's order.
  Reply service = Post("/get-online-features",
                       {{"feature_service", "scoring"}, {"entities", entities}, {"event_timestamps", times}});
  ASSERT_EQ(service.status, 200) << service.body.dump();
  EXPECT_EQ(service.body["metadata"]["feature_names"], json({"user_id", "amount_sum_24h", "tx_count_1h"}));
  EXPECT_EQ(ResultAt(service, 1)["values"], json({35.5}));
  EXPECT_EQ(ResultAt(service, 2)["values"], json({3}));

  ExpectClientError(Post("/get-online-features", {{"feature_service", "nope"}, {"entities", entities}}), 400, "nope");
}

TEST_F(FeatureRoutesTest, PushCountsLateAndTooLateEvents) {
  PushExample();
  // u1's newest event is at +120 s; lateness allowed: 10 minutes.
  EXPECT_EQ(Push({{"time", {At(100), At(120 - 11 * 60)}}, {"user_id", {"u1", "u1"}}, {"amount", {1, 1000}}}),
            json({{"rows", 2}, {"late", 1}, {"too_late", 1}, {"duplicates", 0}, {"duplicate_rows", json::array()}}));
  Reply reply = Post("/get-online-features", {{"features", {"tx_count_24h", "amount_sum_24h"}},
                                              {"entities", {{"user_id", {"u1"}}}},
                                              {"event_timestamps", {At(3600)}}});
  ASSERT_EQ(reply.status, 200) << reply.body.dump();
  // The late event counts, the dropped one does not.
  EXPECT_EQ(ResultAt(reply, 1)["values"], json({4}));
  EXPECT_EQ(ResultAt(reply, 2)["values"], json({36.5}));
  // Values of other JSON types convert to the declared column types: a number user id, amounts as text.
  EXPECT_EQ(Push({{"time", {At(0)}}, {"user_id", {42}}, {"amount", {"2.5"}}, {"ok", {"false"}}}),
            json({{"rows", 1}, {"late", 0}, {"too_late", 0}, {"duplicates", 0}, {"duplicate_rows", json::array()}}));
  Reply numeric = Post("/get-online-features", {{"features", {"failed_24h", "amount_sum_24h"}},
                                                {"entities", {{"user_id", {"42"}}}},
                                                {"event_timestamps", {At(60)}}});
  ASSERT_EQ(numeric.status, 200) << numeric.body.dump();
  EXPECT_EQ(ResultAt(numeric, 1)["values"], json({1}));
  EXPECT_EQ(ResultAt(numeric, 2)["values"], json({2.5}));
}

// A client that timed out pushes its batch again: the events are acknowledged, reported as duplicates, and
// counted once. Rows without an id (null) are counted each time, as before ids existed.
TEST_F(FeatureRoutesTest, ARetriedPushCountsEachEventOnce) {
  const json batch = {{"time", {At(0), At(60), At(60)}},
                      {"user_id", {"u7", "u7", "u7"}},
                      {"amount", {1, 2, 2}},
                      {"event_id", {"e1", "e2", "e2"}}};  // e2 delivered twice in one batch
  EXPECT_EQ(Push(batch), json({{"rows", 3}, {"late", 0}, {"too_late", 0}, {"duplicates", 1},
                               {"duplicate_rows", {2}}}));
  EXPECT_EQ(Push(batch), json({{"rows", 3}, {"late", 0}, {"too_late", 0}, {"duplicates", 3},
                               {"duplicate_rows", {0, 1, 2}}}));
  EXPECT_EQ(Push({{"time", {At(90)}}, {"user_id", {"u7"}}, {"amount", {10}}, {"event_id", {nullptr}}}),
            json({{"rows", 1}, {"late", 0}, {"too_late", 0}, {"duplicates", 0}, {"duplicate_rows", json::array()}}));
  Reply reply = Post("/get-online-features", {{"features", {"tx_count_24h", "amount_sum_24h"}},
                                              {"entities", {{"user_id", {"u7"}}}},
                                              {"event_timestamps", {At(3600)}}});
  ASSERT_EQ(reply.status, 200) << reply.body.dump();
  EXPECT_EQ(ResultAt(reply, 1)["values"], json({3}));
  EXPECT_EQ(ResultAt(reply, 2)["values"], json({13}));
}

TEST_F(FeatureRoutesTest, BadReadsAre400sNamingTheField) {
  PushExample();
  json entities = {{"user_id", {"u1"}}};
  ExpectClientError(PostText("/get-online-features", R"({"features": ["tx_count_1h"], "entities": )"), 400,
                    "request body");
  ExpectClientError(PostText("/get-online-features", "[1, 2]"), 400, "request body: expected an object");
  std::string unknown = ExpectClientError(
      Post("/get-online-features", {{"features", {"tx_count_1h", "no_such_feature"}}, {"entities", entities}}), 400,
      "features[1]");
  EXPECT_THAT(unknown, HasSubstr("no_such_feature"));
  ExpectClientError(Post("/get-online-features", {{"features", json::array()}, {"entities", entities}}), 400,
                    "no features");
  ExpectClientError(Post("/get-online-features", {{"features", {"tx_count_1h", 3}}, {"entities", entities}}), 400,
                    "features");
  ExpectClientError(Post("/get-online-features", {{"entities", entities}}), 400, "features");
  ExpectClientError(Post("/get-online-features", {{"features", {"tx_count_1h"}}}), 400, "entities");
  // The entity key is missing: the request has other columns only.
  std::string missing_key = ExpectClientError(
      Post("/get-online-features", {{"features", {"tx_count_1h"}}, {"entities", {{"country", {"DE"}}}}}), 400,
      "user_id");
  EXPECT_THAT(missing_key, HasSubstr("country"));
  ExpectClientError(Post("/get-online-features", {{"features", {"tx_count_1h"}}, {"entities", {{"user_id", "u1"}}}}),
                    400, "entities.user_id");
  ExpectClientError(Post("/get-online-features", {{"features", {"tx_count_1h"}},
                                                  {"entities", {{"user_id", {"u1", "u2"}}, {"country", {"DE"}}}}}),
                    400, "but other columns have");
  ExpectClientError(Post("/get-online-features",
                         {{"features", {"tx_count_1h"}}, {"entities", entities}, {"event_timestamps", {At(0), At(1)}}}),
                    400, "event_timestamps");
  ExpectClientError(Post("/get-online-features",
                         {{"features", {"tx_count_1h"}}, {"entities", entities}, {"event_timestamps", {"yesterday"}}}),
                    400, "event_timestamps[0]");
  ExpectClientError(Post("/get-online-features",
                         {{"features", {"tx_count_1h"}}, {"entities", entities}, {"full_feature_names", "yes"}}),
                    400, "full_feature_names");
}

TEST_F(FeatureRoutesTest, BadPushesAre400sNamingTheField) {
  json good_df = {{"time", {At(0)}}, {"user_id", {"u1"}}, {"amount", {1.0}}};
  ExpectClientError(PostText("/push", R"({"push_source_name": "tx", "df": {"time": [)"), 400, "request body");
  ExpectClientError(Post("/push", {{"push_source_name", "no_such_source"}, {"df", good_df}}), 400, "no_such_source");
  ExpectClientError(Post("/push", {{"df", good_df}}), 400, "push_source_name");
  ExpectClientError(Post("/push", {{"push_source_name", "tx"}}), 400, "df");
  ExpectClientError(Post("/push", {{"push_source_name", "tx"}, {"df", {{"time", {At(0)}}, {"nope", {1}}}}}), 400,
                    "df.nope");
  EXPECT_EQ(
      ExpectClientError(
          Post("/push", {{"push_source_name", "tx"},
                         {"df", {{"time", {At(0), At(1)}}, {"user_id", {"u1", "u1"}}, {"amount", {1.5, "abc"}}}}}),
          400, "field 'df.amount[1]': expected a number, got a string"),
      "field 'df.amount[1]': expected a number, got a string \"abc\"");
  ExpectClientError(
      Post("/push", {{"push_source_name", "tx"}, {"df", {{"time", {At(0)}}, {"user_id", {"u1"}}, {"ok", {"maybe"}}}}}),
      400, "df.ok[0]");
  ExpectClientError(Post("/push", {{"push_source_name", "tx"},
                                   {"df", {{"time", {At(0), At(1)}}, {"user_id", {"u1"}}, {"amount", {1, 2}}}}}),
                    400, "but other columns have");
  ExpectClientError(
      Post("/push", {{"push_source_name", "tx"}, {"df", {{"time", {At(0), "not a time"}}, {"user_id", {"u1", "u1"}}}}}),
      400, "df.time[1]");
  // The event time is missing: no time column, or a null in it.
  ExpectClientError(Post("/push", {{"push_source_name", "tx"}, {"df", {{"user_id", {"u1"}}, {"amount", {1}}}}}), 400,
                    "df.time[0]");
  EXPECT_THAT(ExpectClientError(Post("/push", {{"push_source_name", "tx"},
                                               {"df", {{"time", {At(0), nullptr}}, {"user_id", {"u1", "u2"}}}}}),
                                400, "df.time[1]"),
              HasSubstr("event time is missing"));
  ExpectClientError(Post("/push", {{"push_source_name", "tx"}, {"df", json::array({1, 2})}}), 400, "df");
  ExpectClientError(Post("/push", {{"push_source_name", "tx"}, {"df", good_df}, {"to", "offline"}}), 400, "to");
  ExpectClientError(Post("/push", {{"push_source_name", "tx"}, {"df", good_df}, {"to", "online_and_offline"}}), 400,
                    "online");

  // None of the refused pushes left state behind.
  Reply reply = Post("/get-online-features", {{"features", {"tx_count_24h"}},
                                              {"entities", {{"user_id", {"u1", "u2"}}}},
                                              {"event_timestamps", {At(3600), At(3600)}}});
  ASSERT_EQ(reply.status, 200) << reply.body.dump();
  EXPECT_EQ(ResultAt(reply, 1)["values"], json({0, 0}));
  EXPECT_EQ(ResultAt(reply, 1)["statuses"], json({"NOT_FOUND", "NOT_FOUND"}));
}

class NoFeaturesTest : public FeatureRoutesTest {
 protected:
  bool WithFeatures() const override { return false; }
};

TEST_F(NoFeaturesTest, RoutesAnswer404SayingThereAreNoDefinitions) {
  ExpectClientError(Post("/get-online-features", {{"features", {"x"}}, {"entities", {{"user_id", {"u1"}}}}}), 404,
                    "features.yaml");
  Reply push = Post("/push", {{"push_source_name", "tx"}, {"df", {{"time", {At(0)}}}}});
  EXPECT_EQ(ExpectClientError(push, 404, "features.yaml"),
            "this workspace has no feature definitions (features.yaml); online features are off");
  EXPECT_EQ(push.body.value("error_code", ""), "NOT_FOUND");
}

}  // namespace
}  // namespace gyre::api
