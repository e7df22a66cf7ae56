#include "auth/auth_store.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "core/base64.h"
#include "tests/store/store_backends.h"

namespace gyre::auth {
namespace {

class AuthStoreTest : public store::testing::BackendTest {
 protected:
  void SetUp() override {
    BackendTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    AuthStore::Options options;
    options.kdf = kFastKdf;
    auto s = AuthStore::Open(db_.get(), options);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
  }
  std::unique_ptr<AuthStore> store_;
};

TEST_P(AuthStoreTest, AddUserGivesAWorkingToken) {
  auto ann = store_->AddUser("ann", Role::kScientist);
  ASSERT_TRUE(ann.ok()) << ann.status().ToString();
  EXPECT_EQ(ann->info.user, "ann");
  EXPECT_EQ(TokenId(ann->token), ann->info.id);
  auto who = store_->AuthenticateToken(ann->token);
  ASSERT_TRUE(who.ok()) << who.status().ToString();
  EXPECT_EQ(who->user, "ann");
  EXPECT_EQ(who->role, Role::kScientist);
  EXPECT_EQ(who->token_id, ann->info.id);
  // Cached verdict: the same answer again.
  EXPECT_EQ(store_->AuthenticateToken(ann->token)->user, "ann");

  EXPECT_EQ(store_->AddUser("ann", Role::kAdmin).status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(store_->AddUser("bad name", Role::kAdmin).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->AddUser("", Role::kAdmin).status().code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(store_->AddUser("bob", Role::kAnalyst).ok());
  auto users = store_->ListUsers();
  ASSERT_TRUE(users.ok());
  ASSERT_EQ(users->size(), 2u);
  EXPECT_EQ((*users)[0].name, "ann");
  EXPECT_EQ((*users)[1].role, Role::kAnalyst);
}

TEST_P(AuthStoreTest, TheHashIsStoredNeverTheToken) {
  auto ann = store_->AddUser("ann", Role::kScientist);
  ASSERT_TRUE(ann.ok());
  auto rows = db_->Query("SELECT secret_hash FROM auth_tokens");
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_TRUE(rows->Text(0, 0).starts_with("$argon2id$"));
  EXPECT_EQ(rows->Text(0, 0).find(ann->token.substr(18)), std::string::npos);
}

TEST_P(AuthStoreTest, WrongTokensAreRefused) {
  auto ann = store_->AddUser("ann", Role::kScientist);
  ASSERT_TRUE(ann.ok());
  std::string forged = ann->token;
  forged.back() = forged.back() == '0' ? '1' : '0';  // right id, wrong secret
  EXPECT_EQ(store_->AuthenticateToken(forged).status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(store_->AuthenticateToken("").status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(store_->AuthenticateToken("gyre_000000000000_" + std::string(64, 'a')).status().code(),
            StatusCode::kPermissionDenied);
  // The right token still works after the failures (failures are not cached).
  EXPECT_TRUE(store_->AuthenticateToken(ann->token).ok());
}

TEST_P(AuthStoreTest, RevokeStopsATokenAtOnceAndKeepsOthers) {
  auto ann = store_->AddUser("ann", Role::kMlEngineer);
  ASSERT_TRUE(ann.ok());
  auto second = store_->CreateToken("ann");
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  ASSERT_TRUE(store_->AuthenticateToken(ann->token).ok());  // now cached
  ASSERT_TRUE(store_->RevokeToken(ann->info.id).ok());
  EXPECT_EQ(store_->AuthenticateToken(ann->token).status().code(), StatusCode::kPermissionDenied);
  EXPECT_TRUE(store_->AuthenticateToken(second->token).ok());
  EXPECT_TRUE(store_->RevokeToken(ann->info.id).ok());  // idempotent
  EXPECT_EQ(store_->RevokeToken("ffffffffffff").code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->CreateToken("nobody").status().code(), StatusCode::kNotFound);

  auto tokens = store_->ListTokens();
  ASSERT_TRUE(tokens.ok());
  ASSERT_EQ(tokens->size(), 2u);
  int revoked = 0;
  for (const TokenInfo& t : *tokens) revoked += t.revoked_ms.has_value() ? 1 : 0;
  EXPECT_EQ(revoked, 1);
  EXPECT_EQ(store_->ListTokens("ann")->size(), 2u);
  EXPECT_EQ(store_->ListTokens("bob")->size(), 0u);
}

TEST_P(AuthStoreTest, RevocationByAnotherProcessEndsWithTheCacheTtl) {
  AuthStore::Options options;
  options.kdf = kFastKdf;
  options.cache_ttl_ms = 50;
  auto server = AuthStore::Open(db_.get(), options);  // the server's store; store_ plays the CLI
  ASSERT_TRUE(server.ok());
  auto ann = store_->AddUser("ann", Role::kAnalyst);
  ASSERT_TRUE(ann.ok());
  ASSERT_TRUE((*server)->AuthenticateToken(ann->token).ok());
  ASSERT_TRUE(store_->RevokeToken(ann->info.id).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(80));
  EXPECT_EQ((*server)->AuthenticateToken(ann->token).status().code(), StatusCode::kPermissionDenied);
}

TEST_P(AuthStoreTest, BasicCredentialsNeedTheUsersOwnToken) {
  auto ann = store_->AddUser("ann", Role::kScientist);
  auto bob = store_->AddUser("bob", Role::kAdmin);
  ASSERT_TRUE(ann.ok() && bob.ok());
  auto basic = [](const std::string& user, const std::string& password) {
    return ParseAuthorization("Basic " + Base64Encode(user + ":" + password));
  };
  auto ok = store_->Authenticate(basic("ann", ann->token));
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->user, "ann");
  EXPECT_EQ(store_->Authenticate(basic("ann", "wrong")).status().code(), StatusCode::kPermissionDenied);
  // Claiming to be bob with ann's token is refused, and so is ann with bob's.
  EXPECT_EQ(store_->Authenticate(basic("bob", ann->token)).status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(store_->Authenticate(basic("ann", bob->token)).status().code(), StatusCode::kPermissionDenied);
  auto bearer = store_->Authenticate(ParseAuthorization("bearer " + bob->token));
  ASSERT_TRUE(bearer.ok());
  EXPECT_EQ(bearer->role, Role::kAdmin);
}

TEST_P(AuthStoreTest, AuditedRequestsAreAppendOnlyNewestFirst) {
  for (int i = 0; i < 3; ++i) {
    AuditedRequest r{1000 + i, i == 1 ? "eve" : "sam", "POST", "/api/2.0/mlflow/runs/create",
                     "/api/2.0/mlflow/runs/create", 200, "req-" + std::to_string(i)};
    ASSERT_TRUE(store_->RecordRequest(r).ok());
  }
  AuditedRequest long_target{2000, "sam", "PUT", "/a/{path...}", "/a/" + std::string(5000, 'x'), 200, "req-long"};
  ASSERT_TRUE(store_->RecordRequest(long_target).ok());
  auto all = store_->ListRequests({});
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->size(), 4u);
  EXPECT_EQ((*all)[0].request_id, "req-long");
  EXPECT_EQ((*all)[0].target.size(), 2048u) << "targets are cut at 2048 bytes";
  EXPECT_EQ((*all)[3].request_id, "req-0");
  RequestAuditQuery between;
  between.since = 1001;
  between.until = 2000;
  auto window = store_->ListRequests(between);
  ASSERT_TRUE(window.ok());
  ASSERT_EQ(window->size(), 2u);
  EXPECT_EQ((*window)[0].time_ms, 1002);
  RequestAuditQuery by_eve;
  by_eve.actor = "eve";
  auto eve = store_->ListRequests(by_eve);
  ASSERT_TRUE(eve.ok());
  ASSERT_EQ(eve->size(), 1u);
  EXPECT_EQ((*eve)[0].request_id, "req-1");
  RequestAuditQuery none;
  none.max_results = 0;
  auto bad = store_->ListRequests(none);
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  // The database itself refuses to rewrite history.
  EXPECT_FALSE(db_->Execute("UPDATE auth_request_audit SET actor = 'mallory'").ok());
  EXPECT_FALSE(db_->Execute("DELETE FROM auth_request_audit").ok());
  auto after = store_->ListRequests({});
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->size(), 4u);
}

TEST(ParseAuthorizationTest, Schemes) {
  EXPECT_EQ(ParseAuthorization(std::nullopt).kind, Credentials::Kind::kNone);
  Credentials c = ParseAuthorization("Bearer  abc ");
  EXPECT_EQ(c.kind, Credentials::Kind::kBearer);
  EXPECT_EQ(c.secret, "abc");
  c = ParseAuthorization("Basic " + Base64Encode("ann:pa:ss"));
  EXPECT_EQ(c.kind, Credentials::Kind::kBasic);
  EXPECT_EQ(c.user, "ann");
  EXPECT_EQ(c.secret, "pa:ss");
  EXPECT_EQ(ParseAuthorization("Basic !!!").kind, Credentials::Kind::kMalformed);
  EXPECT_EQ(ParseAuthorization("Basic " + Base64Encode("nocolon")).kind, Credentials::Kind::kMalformed);
  EXPECT_EQ(ParseAuthorization("Digest x").kind, Credentials::Kind::kMalformed);
}

INSTANTIATE_TEST_SUITE_P(Backends, AuthStoreTest, ::testing::ValuesIn(store::testing::Backends()),
                         store::testing::BackendName);

}  // namespace
}  // namespace gyre::auth
