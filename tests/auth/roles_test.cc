#include "auth/roles.h"

#include <gtest/gtest.h>

#include "auth/auth_mode.h"
#include "auth/secrets.h"

namespace gyre::auth {
namespace {

constexpr Role kRoles[] = {Role::kAnalyst, Role::kScientist, Role::kMlEngineer, Role::kAdmin};

TEST(RolesTest, NamesRoundTrip) {
  for (Role r : kRoles) EXPECT_EQ(ParseRole(RoleName(r)), r);
  EXPECT_FALSE(ParseRole("root").has_value());
  EXPECT_FALSE(ParseRole("Admin").has_value());
}

TEST(RolesTest, EachRoleGrantsWhatProductSays) {
  // analyst: read, label.
  EXPECT_TRUE(RoleAllows(Role::kAnalyst, Permission::kRead));
  EXPECT_TRUE(RoleAllows(Role::kAnalyst, Permission::kLabel));
  EXPECT_FALSE(RoleAllows(Role::kAnalyst, Permission::kTrack));
  EXPECT_FALSE(RoleAllows(Role::kAnalyst, Permission::kPromote));
  // scientist: experiments, runs, features, training, register versions; not aliases or deletions.
  for (Permission p : {Permission::kTrack, Permission::kFeatures, Permission::kTrain, Permission::kRegister,
                       Permission::kScore, Permission::kRead}) {
    EXPECT_TRUE(RoleAllows(Role::kScientist, p)) << PermissionName(p);
  }
  for (Permission p : {Permission::kPromote, Permission::kDeploy, Permission::kDeleteModels, Permission::kAdmin}) {
    EXPECT_FALSE(RoleAllows(Role::kScientist, p)) << PermissionName(p);
  }
  // ml_engineer: + aliases/stages, deployments, approvals, pipelines, model deletion; not admin.
  for (Permission p : {Permission::kPromote, Permission::kDeploy, Permission::kApprove, Permission::kPipelines,
                       Permission::kDeleteModels, Permission::kTrack}) {
    EXPECT_TRUE(RoleAllows(Role::kMlEngineer, p)) << PermissionName(p);
  }
  EXPECT_FALSE(RoleAllows(Role::kMlEngineer, Permission::kAdmin));
  EXPECT_TRUE(RoleAllows(Role::kAdmin, Permission::kAdmin));
  for (Role r : kRoles) EXPECT_TRUE(RoleAllows(r, Permission::kOpen));
}

TEST(SecretsTest, KdfRoundTripWithInteractiveCost) {
  Result<std::string> hash = HashSecret("correct horse", InteractiveKdf());
  ASSERT_TRUE(hash.ok()) << hash.status().ToString();
  EXPECT_TRUE(hash->starts_with("$argon2id$")) << *hash;
  EXPECT_EQ(hash->find("correct horse"), std::string::npos);
  EXPECT_TRUE(VerifySecret("correct horse", *hash));
  EXPECT_FALSE(VerifySecret("correct horsf", *hash));
  EXPECT_FALSE(VerifySecret("", *hash));
  EXPECT_FALSE(VerifySecret("correct horse", "not a hash"));
  // Salted: the same secret hashes differently each time.
  Result<std::string> again = HashSecret("correct horse", kFastKdf);
  ASSERT_TRUE(again.ok());
  EXPECT_NE(*hash, *again);
  EXPECT_TRUE(VerifySecret("correct horse", *again));
}

TEST(SecretsTest, TokensAreRandomAndCarryTheirId) {
  TokenParts a = NewToken(), b = NewToken();
  EXPECT_NE(a.secret, b.secret);
  EXPECT_NE(a.id, b.id);
  EXPECT_EQ(a.secret.size(), 5u + 12u + 1u + 64u);
  EXPECT_EQ(TokenId(a.secret), a.id);
  EXPECT_EQ(TokenId("gyre_abc"), "");
  EXPECT_EQ(TokenId(a.secret.substr(0, a.secret.size() - 1) + "Z"), "");
  EXPECT_EQ(CacheKey(a.secret).size(), 32u);
  EXPECT_NE(CacheKey(a.secret), CacheKey(b.secret));
}

TEST(AuthModeTest, RequiredByDefaultOffLoopback) {
  auto d = DecideServerAuth("", "", "0.0.0.0");
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->required);
  EXPECT_TRUE(d->warning.empty());
  d = DecideServerAuth("", "", "192.168.1.4");
  EXPECT_TRUE(d->required);
  d = DecideServerAuth("", "", "127.0.0.1");
  EXPECT_FALSE(d->required);
  d = DecideServerAuth("", "", "::1");
  EXPECT_FALSE(d->required);
  d = DecideServerAuth("", "", "localhost");
  EXPECT_FALSE(d->required);
  // Off on a public address must be explicit, and warns.
  d = DecideServerAuth("off", "", "0.0.0.0");
  EXPECT_FALSE(d->required);
  EXPECT_NE(d->warning.find("OFF"), std::string::npos);
  d = DecideServerAuth("", "off", "0.0.0.0");
  EXPECT_FALSE(d->required);
  EXPECT_FALSE(d->warning.empty());
  // The flag beats gyre.yaml; required works on loopback too.
  d = DecideServerAuth("required", "off", "127.0.0.1");
  EXPECT_TRUE(d->required);
  d = DecideServerAuth("", "required", "127.0.0.1");
  EXPECT_TRUE(d->required);
  EXPECT_EQ(DecideServerAuth("maybe", "", "127.0.0.1").status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace gyre::auth
