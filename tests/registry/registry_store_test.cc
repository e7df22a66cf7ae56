#include "registry/registry_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <set>
#include <thread>

#include "tests/store/store_backends.h"

namespace gyre::registry {
namespace {

std::vector<std::string> Versions(const std::vector<ModelVersion>& versions) {
  std::vector<std::string> out;
  for (const auto& v : versions) out.push_back(v.version);
  return out;
}

std::vector<std::string> Names(const std::vector<RegisteredModel>& models) {
  std::vector<std::string> out;
  for (const auto& m : models) out.push_back(m.name);
  return out;
}

class RegistryStoreTest : public store::testing::BackendTest {
 protected:
  void SetUp() override {
    BackendTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    auto s = RegistryStore::Open(db_.get());
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
  }

  void NewModel(const std::string& name, std::vector<Tag> tags = {}) {
    auto m = store_->CreateRegisteredModel(name, tags, "", "ann");
    ASSERT_TRUE(m.ok()) << m.status().ToString();
  }

  std::string NewVersion(const std::string& name, const std::string& run_id = "", std::vector<Tag> tags = {},
                         const std::string& actor = "bob") {
    CreateModelVersionRequest req;
    req.name = name;
    req.source = "mlflow-artifacts:/0/" + (run_id.empty() ? "norun" : run_id) + "/artifacts/model";
    req.run_id = run_id;
    req.tags = std::move(tags);
    auto v = store_->CreateModelVersion(req, actor);
    EXPECT_TRUE(v.ok()) << v.status().ToString();
    return v.ok() ? v->version : "";
  }

  std::vector<AuditEntry> Audit(AuditQuery q = {}) {
    q.max_results = 1000;
    auto page = store_->QueryAudit(q);
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    return page.ok() ? page->items : std::vector<AuditEntry>{};
  }

  std::unique_ptr<RegistryStore> store_;
};

TEST_P(RegistryStoreTest, RegisteredModelLifecycle) {
  auto created = store_->CreateRegisteredModel("fraud", {{"team", "risk"}, {"area", "ato"}, {"team", "fraud"}},
                                               "detects account takeover", "ann");
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(created->name, "fraud");
  EXPECT_EQ(created->description, "detects account takeover");
  EXPECT_EQ(created->user_id, "ann");
  EXPECT_GT(created->creation_timestamp, 1'600'000'000'000);
  EXPECT_EQ(created->creation_timestamp, created->last_updated_timestamp);
  // One value per key, the last given wins; sorted by key.
  EXPECT_EQ(created->tags, (std::vector<Tag>{{"area", "ato"}, {"team", "fraud"}}));
  EXPECT_TRUE(created->latest_versions.empty());

  auto dup = store_->CreateRegisteredModel("fraud", {}, "", "ann");
  EXPECT_EQ(dup.status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(dup.status().message(), "Registered Model (name=fraud) already exists.");

  auto got = store_->GetRegisteredModel("fraud");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->tags, created->tags);
  auto missing = store_->GetRegisteredModel("nope");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message(), "Registered Model with name=nope not found");
  EXPECT_EQ(store_->GetRegisteredModel("").status().message(), "Registered model name cannot be empty.");
  EXPECT_EQ(store_->CreateRegisteredModel("", {}, "", "ann").status().message(),
            "Registered model name cannot be empty.");

  auto updated = store_->UpdateRegisteredModel("fraud", "v2 of the ATO model", "ann");
  ASSERT_TRUE(updated.ok());
  EXPECT_EQ(updated->description, "v2 of the ATO model");
  EXPECT_GE(updated->last_updated_timestamp, created->last_updated_timestamp);

  ASSERT_TRUE(store_->SetRegisteredModelTag("fraud", {"owner", "risk-team"}, "ann").ok());
  ASSERT_TRUE(store_->DeleteRegisteredModelTag("fraud", "area", "ann").ok());
  ASSERT_TRUE(store_->DeleteRegisteredModelTag("fraud", "never-set", "ann").ok());  // MLflow: not an error
  EXPECT_EQ(store_->GetRegisteredModel("fraud")->tags,
            (std::vector<Tag>{{"owner", "risk-team"}, {"team", "fraud"}}));
  EXPECT_TRUE(store_->SetRegisteredModelTag("nope", {"k", "v"}, "ann").IsNotFound());
  EXPECT_TRUE(store_->DeleteRegisteredModelTag("nope", "k", "ann").IsNotFound());

  // Rename: versions, tags and aliases follow.
  NewVersion("fraud", "run1");
  ASSERT_TRUE(store_->SetRegisteredModelAlias("fraud", "champion", "1", "ann").ok());
  NewModel("other");
  auto clash = store_->RenameRegisteredModel("fraud", "other", "ann");
  EXPECT_EQ(clash.status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(clash.status().message(), "Registered Model (name=other) already exists.");
  auto renamed = store_->RenameRegisteredModel("fraud", "fraud-ato", "ann");
  ASSERT_TRUE(renamed.ok()) << renamed.status().ToString();
  EXPECT_EQ(renamed->name, "fraud-ato");
  EXPECT_EQ(renamed->aliases, (std::vector<RegisteredModelAlias>{{"champion", "1"}}));
  ASSERT_EQ(renamed->latest_versions.size(), 1u);
  EXPECT_EQ(renamed->latest_versions[0].name, "fraud-ato");
  EXPECT_TRUE(store_->GetRegisteredModel("fraud").status().IsNotFound());
  auto v1 = store_->GetModelVersion("fraud-ato", "1");
  ASSERT_TRUE(v1.ok());
  EXPECT_EQ(v1->run_id, "run1");
  EXPECT_EQ(store_->GetModelVersion("fraud", "1").status().message(), "Model Version (name=fraud, version=1) not found");
  EXPECT_TRUE(store_->RenameRegisteredModel("nope", "x", "ann").status().IsNotFound());
  EXPECT_TRUE(store_->RenameRegisteredModel("fraud-ato", "", "ann").status().IsInvalidArgument());

  // Delete takes versions, aliases and tags; the name can be registered again, numbering afresh.
  ASSERT_TRUE(store_->DeleteRegisteredModel("fraud-ato", "ann").ok());
  EXPECT_TRUE(store_->GetRegisteredModel("fraud-ato").status().IsNotFound());
  EXPECT_TRUE(store_->GetModelVersion("fraud-ato", "1").status().IsNotFound());
  EXPECT_TRUE(store_->DeleteRegisteredModel("fraud-ato", "ann").IsNotFound());
  NewModel("fraud-ato");
  EXPECT_EQ(NewVersion("fraud-ato"), "1");
  EXPECT_TRUE(store_->GetRegisteredModel("fraud-ato")->aliases.empty());
  EXPECT_TRUE(store_->GetRegisteredModel("fraud-ato")->tags.empty());
}

TEST_P(RegistryStoreTest, ModelVersionFieldsAndLineage) {
  NewModel("fraud");
  CreateModelVersionRequest req;
  req.name = "fraud";
  req.source = "mlflow-artifacts:/1/abc/artifacts/model";
  req.run_id = "abc";
  req.run_link = "http://gyre/#/runs/abc";
  req.description = "first cut";
  req.tags = {{"validated", "no"}, {"algo", "xgboost"}};
  req.lineage = {"sha256:0f1e", "ato_login_features", "4c1d2e9"};
  auto v = store_->CreateModelVersion(req, "bob");
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->name, "fraud");
  EXPECT_EQ(v->version, "1");
  EXPECT_EQ(v->status, ModelVersionStatus::kReady);
  EXPECT_EQ(ModelVersionStatusName(v->status), "READY");
  EXPECT_EQ(v->current_stage, Stage::kNone);
  EXPECT_EQ(v->user_id, "bob");
  EXPECT_EQ(v->source, req.source);
  EXPECT_EQ(v->run_id, "abc");
  EXPECT_EQ(v->run_link, req.run_link);
  EXPECT_EQ(v->description, "first cut");
  EXPECT_EQ(v->tags, (std::vector<Tag>{{"algo", "xgboost"}, {"validated", "no"}}));
  EXPECT_EQ(v->lineage, (Lineage{"sha256:0f1e", "ato_login_features", "4c1d2e9"}));
  EXPECT_TRUE(v->aliases.empty());

  auto got = store_->GetModelVersion("fraud", "1");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->lineage, v->lineage);
  EXPECT_EQ(got->tags, v->tags);
  EXPECT_EQ(*store_->GetModelVersionDownloadUri("fraud", "1"), req.source);
  EXPECT_TRUE(store_->GetModelVersionDownloadUri("fraud", "2").status().IsNotFound());
  // A new version touches the model.
  EXPECT_EQ(store_->GetRegisteredModel("fraud")->last_updated_timestamp, v->creation_timestamp);

  auto updated = store_->UpdateModelVersion("fraud", "1", "validated on March", "bob");
  ASSERT_TRUE(updated.ok());
  EXPECT_EQ(updated->description, "validated on March");
  ASSERT_TRUE(store_->SetModelVersionTag("fraud", "1", {"validated", "yes"}, "bob").ok());
  ASSERT_TRUE(store_->DeleteModelVersionTag("fraud", "1", "algo", "bob").ok());
  ASSERT_TRUE(store_->DeleteModelVersionTag("fraud", "1", "algo", "bob").ok());
  EXPECT_EQ(store_->GetModelVersion("fraud", "1")->tags, (std::vector<Tag>{{"validated", "yes"}}));

  // Errors, with the messages the MLflow client shows.
  auto missing = store_->GetModelVersion("fraud", "7");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message(), "Model Version (name=fraud, version=7) not found");
  EXPECT_EQ(store_->GetModelVersion("fraud", "abc").status().message(), "Model version must be an integer, got 'abc'");
  EXPECT_EQ(store_->GetModelVersion("fraud", "0").status().message(),
            "Model version must be a positive integer, got '0'");
  EXPECT_EQ(store_->GetModelVersion("fraud", "-1").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->UpdateModelVersion("fraud", "abc", "", "bob").status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(store_->UpdateModelVersion("fraud", "9", "", "bob").status().IsNotFound());
  EXPECT_TRUE(store_->SetModelVersionTag("fraud", "9", {"k", "v"}, "bob").IsNotFound());
  EXPECT_TRUE(store_->DeleteModelVersionTag("fraud", "9", "k", "bob").IsNotFound());
  EXPECT_TRUE(store_->DeleteModelVersion("fraud", "9", "bob").IsNotFound());

  req.name = "nope";
  auto no_model = store_->CreateModelVersion(req, "bob");
  EXPECT_EQ(no_model.status().message(), "Registered Model with name=nope not found");
  req.name = "fraud";
  req.source = "";
  EXPECT_EQ(store_->CreateModelVersion(req, "bob").status().message(),
            "Missing value for required parameter 'source'.");
  req.source = "models/fraud";  // relative: nobody could load it later
  EXPECT_THAT(store_->CreateModelVersion(req, "bob").status().message(),
              ::testing::HasSubstr("'models/fraud' is a relative path"));
  req.source = "s3://bucket/model";
  req.description = std::string(5001, 'd');
  EXPECT_EQ(store_->CreateModelVersion(req, "bob").status().message(),
            "field 'description': 5001 characters long; the limit is 5000");
  req.description = "";
  req.lineage.code_version = std::string(1001, 'c');
  EXPECT_EQ(store_->CreateModelVersion(req, "bob").status().message(),
            "field 'lineage.code_version': 1001 characters long; the limit is 1000");
  req.lineage = {};
  req.tags = {{"big", std::string(5001, 'x')}};
  EXPECT_EQ(store_->CreateModelVersion(req, "bob").status().message(),
            "tag 'big' has a value of 5001 characters; the limit is 5000");
  req.tags = {{"../x", "v"}};
  EXPECT_TRUE(store_->CreateModelVersion(req, "bob").status().IsInvalidArgument());
  req.tags = {};
  req.source = "s3://bucket/" + std::string(10 << 20, 'm');  // was stored whole (issue 20)
  EXPECT_EQ(store_->CreateModelVersion(req, "bob").status().message(),
            "field 'source': 10485772 characters long; the limit is 500");
  req.source = "s3://bucket/model";
  req.run_link = std::string(501, 'l');
  EXPECT_TRUE(store_->CreateModelVersion(req, "bob").status().IsInvalidArgument());
  req.run_link = "";
  EXPECT_TRUE(store_->SetModelVersionTag("fraud", "1", {"", "v"}, "bob").IsInvalidArgument());
  EXPECT_EQ(store_->SetRegisteredModelTag("fraud", {"k", std::string(5001, 'x')}, "bob").message(),
            "tag 'k' has a value of 5001 characters; the limit is 5000");
  EXPECT_EQ(store_->UpdateRegisteredModel("fraud", std::string(5001, 'x'), "bob").status().message(),
            "field 'description': 5001 characters long; the limit is 5000");
  // None of the failed calls created a version.
  EXPECT_EQ(NewVersion("fraud"), "2");
}

TEST_P(RegistryStoreTest, VersionNumbersAreNeverReused) {
  NewModel("fraud");
  EXPECT_EQ(NewVersion("fraud"), "1");
  EXPECT_EQ(NewVersion("fraud"), "2");
  EXPECT_EQ(NewVersion("fraud"), "3");
  ASSERT_TRUE(store_->DeleteModelVersion("fraud", "3", "bob").ok());
  ASSERT_TRUE(store_->DeleteModelVersion("fraud", "1", "bob").ok());
  EXPECT_TRUE(store_->GetModelVersion("fraud", "3").status().IsNotFound());
  EXPECT_EQ(NewVersion("fraud"), "4");
  SearchModelVersionsRequest req;
  req.filter = "name = 'fraud'";
  req.order_by = {"version_number ASC"};
  EXPECT_EQ(Versions(store_->SearchModelVersions(req)->items), (std::vector<std::string>{"2", "4"}));
  // Numbering is per model.
  NewModel("promo");
  EXPECT_EQ(NewVersion("promo"), "1");
}

TEST_P(RegistryStoreTest, StagesLatestVersionsAndArchiving) {
  NewModel("fraud");
  for (int i = 0; i < 5; ++i) NewVersion("fraud");
  auto moved = store_->TransitionModelVersionStage("fraud", "1", "production", false, "ann");
  ASSERT_TRUE(moved.ok()) << moved.status().ToString();
  EXPECT_EQ(moved->current_stage, Stage::kProduction);
  ASSERT_TRUE(store_->TransitionModelVersionStage("fraud", "2", "STAGING", false, "ann").ok());
  ASSERT_TRUE(store_->TransitionModelVersionStage("fraud", "3", "Production", false, "ann").ok());
  ASSERT_TRUE(store_->TransitionModelVersionStage("fraud", "4", "archived", false, "ann").ok());
  EXPECT_EQ(store_->GetModelVersion("fraud", "2")->current_stage, Stage::kStaging);

  // No stages: the latest of every stage, None included, in stage order.
  auto all = store_->GetLatestVersions("fraud", {});
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_EQ(Versions(*all), (std::vector<std::string>{"5", "2", "3", "4"}));
  EXPECT_EQ((*all)[2].current_stage, Stage::kProduction);
  EXPECT_EQ(Versions(*store_->GetLatestVersions("fraud", {"Production"})), (std::vector<std::string>{"3"}));
  EXPECT_EQ(Versions(*store_->GetLatestVersions("fraud", {"production", "none"})),
            (std::vector<std::string>{"5", "3"}));
  EXPECT_EQ(Versions(store_->GetRegisteredModel("fraud")->latest_versions),
            (std::vector<std::string>{"5", "2", "3", "4"}));
  auto bad = store_->GetLatestVersions("fraud", {"Prod"});
  EXPECT_EQ(bad.status().message(),
            "Invalid Model Version stage: Prod. Value must be one of None, Staging, Production, Archived.");
  EXPECT_TRUE(store_->GetLatestVersions("nope", {}).status().IsNotFound());
  EXPECT_EQ(store_->TransitionModelVersionStage("fraud", "1", "Live", false, "ann").status().message(),
            "Invalid Model Version stage: Live. Value must be one of None, Staging, Production, Archived.");
  EXPECT_TRUE(store_->TransitionModelVersionStage("fraud", "9", "Staging", false, "ann").status().IsNotFound());

  // archive_existing_versions: the other Production versions go to Archived; others stay.
  auto promoted = store_->TransitionModelVersionStage("fraud", "5", "Production", true, "ann");
  ASSERT_TRUE(promoted.ok()) << promoted.status().ToString();
  EXPECT_EQ(promoted->current_stage, Stage::kProduction);
  EXPECT_EQ(store_->GetModelVersion("fraud", "1")->current_stage, Stage::kArchived);
  EXPECT_EQ(store_->GetModelVersion("fraud", "3")->current_stage, Stage::kArchived);
  EXPECT_EQ(store_->GetModelVersion("fraud", "2")->current_stage, Stage::kStaging);
  EXPECT_EQ(Versions(*store_->GetLatestVersions("fraud", {})), (std::vector<std::string>{"2", "5", "4"}));
  auto not_active = store_->TransitionModelVersionStage("fraud", "2", "Archived", true, "ann");
  EXPECT_EQ(not_active.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(not_active.status().message(),
            "Model version transition cannot archive existing model versions because 'Archived' is not an Active "
            "stage. Valid stages are Staging, Production");
  EXPECT_EQ(store_->GetModelVersion("fraud", "2")->current_stage, Stage::kStaging);

  // A deleted version leaves the latest-versions view.
  ASSERT_TRUE(store_->DeleteModelVersion("fraud", "5", "ann").ok());
  EXPECT_EQ(Versions(*store_->GetLatestVersions("fraud", {})), (std::vector<std::string>{"2", "4"}));
}

TEST_P(RegistryStoreTest, AliasesMoveAndGoWithTheirVersion) {
  NewModel("fraud");
  for (int i = 0; i < 3; ++i) NewVersion("fraud");
  ASSERT_TRUE(store_->SetRegisteredModelAlias("fraud", "champion", "1", "ann").ok());
  ASSERT_TRUE(store_->SetRegisteredModelAlias("fraud", "challenger", "2", "ann").ok());
  EXPECT_EQ(store_->GetModelVersion("fraud", "1")->aliases, (std::vector<std::string>{"champion"}));
  EXPECT_EQ(store_->GetRegisteredModel("fraud")->aliases,
            (std::vector<RegisteredModelAlias>{{"challenger", "2"}, {"champion", "1"}}));
  auto champ = store_->GetModelVersionByAlias("fraud", "champion");
  ASSERT_TRUE(champ.ok()) << champ.status().ToString();
  EXPECT_EQ(champ->version, "1");
  EXPECT_EQ(champ->aliases, (std::vector<std::string>{"champion"}));

  // Moving: champion now on 2, alongside challenger.
  ASSERT_TRUE(store_->SetRegisteredModelAlias("fraud", "champion", "2", "ann").ok());
  EXPECT_EQ(store_->GetModelVersionByAlias("fraud", "champion")->version, "2");
  EXPECT_EQ(store_->GetModelVersion("fraud", "2")->aliases, (std::vector<std::string>{"challenger", "champion"}));
  EXPECT_TRUE(store_->GetModelVersion("fraud", "1")->aliases.empty());
  SearchModelVersionsRequest search;
  search.filter = "name = 'fraud' AND version_number = 2";
  EXPECT_EQ(store_->SearchModelVersions(search)->items.at(0).aliases,
            (std::vector<std::string>{"challenger", "champion"}));

  // Validation and missing things.
  EXPECT_EQ(store_->SetRegisteredModelAlias("fraud", "v3", "3", "ann").message(), "Version alias name 'v3' is reserved.");
  EXPECT_EQ(store_->SetRegisteredModelAlias("fraud", "3", "3", "ann").message(), "Version alias name '3' is reserved.");
  EXPECT_EQ(store_->SetRegisteredModelAlias("fraud", "latest", "3", "ann").message(),
            "'latest' alias name (case insensitive) is reserved.");
  EXPECT_EQ(store_->SetRegisteredModelAlias("fraud", "", "3", "ann").message(),
            "Registered model alias name cannot be empty.");
  EXPECT_EQ(store_->SetRegisteredModelAlias("fraud", "champion", "abc", "ann").message(),
            "Model version must be an integer, got 'abc'");
  EXPECT_EQ(store_->SetRegisteredModelAlias("fraud", "champion", "9", "ann").message(),
            "Model Version (name=fraud, version=9) not found");
  EXPECT_TRUE(store_->SetRegisteredModelAlias("nope", "champion", "1", "ann").IsNotFound());
  auto none = store_->GetModelVersionByAlias("fraud", "shadow");
  EXPECT_EQ(none.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(none.status().message(), "Registered model alias shadow not found.");

  // Deleting the version removes the aliases pointing at it, and only those.
  ASSERT_TRUE(store_->SetRegisteredModelAlias("fraud", "shadow", "3", "ann").ok());
  ASSERT_TRUE(store_->DeleteModelVersion("fraud", "2", "ann").ok());
  EXPECT_EQ(store_->GetModelVersionByAlias("fraud", "champion").status().message(),
            "Registered model alias champion not found.");
  EXPECT_EQ(store_->GetRegisteredModel("fraud")->aliases, (std::vector<RegisteredModelAlias>{{"shadow", "3"}}));

  ASSERT_TRUE(store_->DeleteRegisteredModelAlias("fraud", "shadow", "ann").ok());
  ASSERT_TRUE(store_->DeleteRegisteredModelAlias("fraud", "shadow", "ann").ok());  // MLflow: not an error
  EXPECT_TRUE(store_->GetRegisteredModel("fraud")->aliases.empty());
  EXPECT_TRUE(store_->DeleteRegisteredModelAlias("nope", "shadow", "ann").IsNotFound());
}

TEST_P(RegistryStoreTest, ResolvesModelUris) {
  NewModel("fraud");
  for (int i = 0; i < 4; ++i) NewVersion("fraud");
  ASSERT_TRUE(store_->TransitionModelVersionStage("fraud", "2", "Production", false, "ann").ok());
  ASSERT_TRUE(store_->TransitionModelVersionStage("fraud", "3", "Production", false, "ann").ok());
  ASSERT_TRUE(store_->TransitionModelVersionStage("fraud", "4", "Archived", false, "ann").ok());
  ASSERT_TRUE(store_->SetRegisteredModelAlias("fraud", "champion", "2", "ann").ok());

  auto resolve = [&](const std::string& uri) -> std::string {
    auto v = store_->ResolveModelUri(uri);
    EXPECT_TRUE(v.ok()) << uri << ": " << v.status().ToString();
    return v.ok() ? v->version : "";
  };
  EXPECT_EQ(resolve("models:/fraud/1"), "1");
  EXPECT_EQ(resolve("models:/fraud@champion"), "2");
  EXPECT_EQ(resolve("models:/fraud/Production"), "3");
  EXPECT_EQ(resolve("models:/fraud/production"), "3");
  EXPECT_EQ(resolve("models:/fraud/None"), "1");
  EXPECT_EQ(resolve("models:/fraud/latest"), "4");  // the highest version, whatever its stage

  auto err = [&](const std::string& uri) { return store_->ResolveModelUri(uri).status(); };
  EXPECT_EQ(err("models:/fraud/9").message(), "model URI 'models:/fraud/9': Model Version (name=fraud, version=9) not found");
  EXPECT_TRUE(err("models:/fraud/9").IsNotFound());
  EXPECT_EQ(err("models:/fraud@shadow").message(),
            "model URI 'models:/fraud@shadow': Registered model alias shadow not found.");
  EXPECT_EQ(err("models:/fraud/Staging").message(),
            "model URI 'models:/fraud/Staging': No versions of model with name 'fraud' and stage 'Staging' found");
  EXPECT_EQ(err("models:/nope/latest").message(), "model URI 'models:/nope/latest': Registered Model with name=nope not found");
  EXPECT_TRUE(err("models:/fraud/0").IsInvalidArgument());
  EXPECT_TRUE(err("models:/fraud").IsInvalidArgument());
  EXPECT_NE(err("fraud/1").message().find("'fraud/1'"), std::string::npos);
  NewModel("empty");
  EXPECT_EQ(err("models:/empty/latest").message(), "model URI 'models:/empty/latest': Registered model 'empty' has no versions");
}

TEST_P(RegistryStoreTest, SearchRegisteredModels) {
  for (const char* name : {"ato-login", "ato-payment", "promo-abuse", "ATO-legacy", "chargeback", "ato-device", "zeta"}) {
    NewModel(name, {{"team", std::string(name).find("ato") == 0 ? "risk" : "other"}});
  }
  ASSERT_TRUE(store_->SetRegisteredModelTag("zeta", {"tier", "gold"}, "ann").ok());
  auto names = [&](SearchRegisteredModelsRequest req) {
    auto page = store_->SearchRegisteredModels(req);
    EXPECT_TRUE(page.ok()) << req.filter << ": " << page.status().ToString();
    return page.ok() ? Names(page->items) : std::vector<std::string>{};
  };
  SearchRegisteredModelsRequest req;
  // Default order: name ASC (byte order: upper case first).
  EXPECT_EQ(names(req), (std::vector<std::string>{"ATO-legacy", "ato-device", "ato-login", "ato-payment", "chargeback",
                                                  "promo-abuse", "zeta"}));
  req.filter = "name = 'zeta'";
  EXPECT_EQ(names(req), (std::vector<std::string>{"zeta"}));
  req.filter = "name LIKE 'ato-%'";
  EXPECT_EQ(names(req), (std::vector<std::string>{"ato-device", "ato-login", "ato-payment"}));
  req.filter = "name ILIKE 'ato-%'";
  EXPECT_EQ(names(req), (std::vector<std::string>{"ATO-legacy", "ato-device", "ato-login", "ato-payment"}));
  req.filter = "name != 'zeta' AND name LIKE '%a%'";
  EXPECT_EQ(names(req), (std::vector<std::string>{"ATO-legacy", "ato-device", "ato-login", "ato-payment",
                                                  "chargeback", "promo-abuse"}));
  req.filter = "tags.team = 'risk'";
  EXPECT_EQ(names(req), (std::vector<std::string>{"ato-device", "ato-login", "ato-payment"}));
  req.filter = "tags.team = 'other' AND tags.`tier` = 'gold'";
  EXPECT_EQ(names(req), (std::vector<std::string>{"zeta"}));
  req.filter = "tags.team != 'risk' AND name LIKE 'p%'";
  EXPECT_EQ(names(req), (std::vector<std::string>{"promo-abuse"}));

  req.filter = "name LIKE 'ato-%'";
  req.order_by = {"name DESC"};
  EXPECT_EQ(names(req), (std::vector<std::string>{"ato-payment", "ato-login", "ato-device"}));
  std::this_thread::sleep_for(std::chrono::milliseconds(3));  // timestamps are milliseconds
  ASSERT_TRUE(store_->UpdateRegisteredModel("ato-device", "touched last", "ann").ok());
  req.order_by = {"last_updated_timestamp DESC"};
  EXPECT_EQ(names(req).at(0), "ato-device");
  req.order_by = {"creation_timestamp ASC"};
  EXPECT_EQ(names(req).size(), 3u);

  // Paging covers every model exactly once.
  req = {};
  req.max_results = 3;
  std::vector<std::string> seen;
  int pages = 0;
  for (;;) {
    auto page = store_->SearchRegisteredModels(req);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    EXPECT_LE(page->items.size(), 3u);
    for (const auto& n : Names(page->items)) seen.push_back(n);
    ++pages;
    if (page->next_page_token.empty()) break;
    req.page_token = page->next_page_token;
  }
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(seen.size(), 7u);
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), 7u);
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));

  // Errors.
  req = {};
  req.filter = "run_id = 'x'";
  EXPECT_TRUE(store_->SearchRegisteredModels(req).status().IsInvalidArgument());
  req.filter = "name > 'a'";
  EXPECT_TRUE(store_->SearchRegisteredModels(req).status().IsInvalidArgument());
  req.filter = "name = 'a' OR name = 'b'";
  EXPECT_TRUE(store_->SearchRegisteredModels(req).status().IsInvalidArgument());
  req.filter = "";
  req.order_by = {"version_number"};
  EXPECT_TRUE(store_->SearchRegisteredModels(req).status().IsInvalidArgument());
  req.order_by = {"name", "name DESC"};
  EXPECT_TRUE(store_->SearchRegisteredModels(req).status().IsInvalidArgument());
  req.order_by = {};
  req.max_results = 1001;
  EXPECT_EQ(store_->SearchRegisteredModels(req).status().message(),
            "Invalid value for request parameter max_results. It must be at most 1000, but got value 1001");
  req.max_results = 10;
  req.page_token = "not-a-token";
  EXPECT_TRUE(store_->SearchRegisteredModels(req).status().IsInvalidArgument());
}

TEST_P(RegistryStoreTest, SearchModelVersions) {
  NewModel("fraud");
  NewModel("promo");
  NewVersion("fraud", "run-a", {{"validated", "yes"}});  // fraud 1
  NewVersion("fraud", "run-b");                           // fraud 2
  NewVersion("promo", "run-a");                           // promo 1
  NewVersion("fraud", "run-c", {{"validated", "no"}});   // fraud 3
  NewVersion("promo", "run-d");                           // promo 2
  NewVersion("fraud", "run-e");                           // fraud 4
  CreateModelVersionRequest lineage_req;
  lineage_req.name = "promo";
  lineage_req.source = "s3://models/promo/3";
  lineage_req.lineage = {"sha256:aa", "promo_features", "deadbeef"};
  ASSERT_TRUE(store_->CreateModelVersion(lineage_req, "bob").ok());  // promo 3

  auto keys = [&](SearchModelVersionsRequest req) {
    auto page = store_->SearchModelVersions(req);
    EXPECT_TRUE(page.ok()) << req.filter << ": " << page.status().ToString();
    std::vector<std::string> out;
    if (page.ok()) {
      for (const auto& v : page->items) out.push_back(v.name + "/" + v.version);
    }
    return out;
  };
  SearchModelVersionsRequest req;
  req.order_by = {"name ASC", "version_number ASC"};
  EXPECT_EQ(keys(req), (std::vector<std::string>{"fraud/1", "fraud/2", "fraud/3", "fraud/4", "promo/1", "promo/2",
                                                 "promo/3"}));
  req.filter = "name = 'fraud'";
  EXPECT_EQ(keys(req), (std::vector<std::string>{"fraud/1", "fraud/2", "fraud/3", "fraud/4"}));
  req.filter = "run_id = 'run-a'";
  EXPECT_EQ(keys(req), (std::vector<std::string>{"fraud/1", "promo/1"}));
  req.filter = "run_id IN ('run-b', 'run-d', 'zzz')";
  EXPECT_EQ(keys(req), (std::vector<std::string>{"fraud/2", "promo/2"}));
  req.filter = "name = 'fraud' AND version_number > 2";
  EXPECT_EQ(keys(req), (std::vector<std::string>{"fraud/3", "fraud/4"}));
  req.filter = "version_number >= 2.5 AND version_number < 4";
  EXPECT_EQ(keys(req), (std::vector<std::string>{"fraud/3", "promo/3"}));
  req.filter = "source_path = 's3://models/promo/3'";
  EXPECT_EQ(keys(req), (std::vector<std::string>{"promo/3"}));
  req.filter = "source_path LIKE '%run-a%'";
  EXPECT_EQ(keys(req), (std::vector<std::string>{"fraud/1", "promo/1"}));
  req.filter = "tags.validated = 'yes'";
  EXPECT_EQ(keys(req), (std::vector<std::string>{"fraud/1"}));
  req.filter = "tags.validated ILIKE '%'";
  EXPECT_EQ(keys(req), (std::vector<std::string>{"fraud/1", "fraud/3"}));
  req.filter = "feature_set = 'promo_features' AND code_version = 'deadbeef'";
  EXPECT_EQ(keys(req), (std::vector<std::string>{"promo/3"}));

  // Default order: last updated first, so a touched version leads.
  std::this_thread::sleep_for(std::chrono::milliseconds(3));  // timestamps are milliseconds
  ASSERT_TRUE(store_->UpdateModelVersion("fraud", "2", "touched", "bob").ok());
  req = {};
  auto all = keys(req);
  ASSERT_EQ(all.size(), 7u);
  EXPECT_EQ(all[0], "fraud/2");
  req.order_by = {"version_number DESC"};
  EXPECT_EQ(keys(req), (std::vector<std::string>{"fraud/4", "fraud/3", "promo/3", "fraud/2", "promo/2", "fraud/1",
                                                 "promo/1"}));

  // Paging covers every version exactly once.
  req = {};
  req.max_results = 2;
  std::vector<std::string> seen;
  for (;;) {
    auto page = store_->SearchModelVersions(req);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    for (const auto& v : page->items) seen.push_back(v.name + "/" + v.version);
    if (page->next_page_token.empty()) break;
    req.page_token = page->next_page_token;
  }
  EXPECT_EQ(seen, all);

  // Errors.
  req = {};
  req.filter = "version_number = 'two'";
  EXPECT_TRUE(store_->SearchModelVersions(req).status().IsInvalidArgument());
  req.filter = "name > 3";
  EXPECT_TRUE(store_->SearchModelVersions(req).status().IsInvalidArgument());
  req.filter = "metrics.auc > 0.9";
  EXPECT_TRUE(store_->SearchModelVersions(req).status().IsInvalidArgument());
  req.filter = "stage = 'Production'";
  EXPECT_TRUE(store_->SearchModelVersions(req).status().IsInvalidArgument());
  req.filter = "tags.validated IN ('yes')";
  EXPECT_TRUE(store_->SearchModelVersions(req).status().IsInvalidArgument());
  req.filter = "";
  req.order_by = {"run_id"};
  EXPECT_TRUE(store_->SearchModelVersions(req).status().IsInvalidArgument());
  req.order_by = {};
  req.max_results = 0;
  EXPECT_TRUE(store_->SearchModelVersions(req).status().IsInvalidArgument());
}

// A realistic sequence, checked entry by entry.
TEST_P(RegistryStoreTest, AuditTrailRecordsEveryChange) {
  ASSERT_TRUE(store_->CreateRegisteredModel("fraud", {{"team", "risk"}}, "ATO model", "ann").ok());
  CreateModelVersionRequest req;
  req.name = "fraud";
  req.source = "s3://m/1";
  req.run_id = "r1";
  req.lineage = {"sha256:01", "ato_features", "c0ffee"};
  ASSERT_TRUE(store_->CreateModelVersion(req, "bob").ok());
  req.source = "s3://m/2";
  req.run_id = "r2";
  req.lineage = {};
  ASSERT_TRUE(store_->CreateModelVersion(req, "bob").ok());
  ASSERT_TRUE(store_->SetRegisteredModelAlias("fraud", "champion", "1", "carol").ok());
  ASSERT_TRUE(store_->SetRegisteredModelAlias("fraud", "champion", "1", "carol").ok());  // no change, no entry
  ASSERT_TRUE(store_->SetRegisteredModelAlias("fraud", "champion", "2", "carol").ok());
  ASSERT_TRUE(store_->TransitionModelVersionStage("fraud", "1", "Production", false, "dave").ok());
  ASSERT_TRUE(store_->TransitionModelVersionStage("fraud", "2", "production", true, "dave").ok());
  ASSERT_TRUE(store_->DeleteModelVersion("fraud", "1", "").ok());
  // Failed calls leave no trace.
  EXPECT_FALSE(store_->SetRegisteredModelAlias("fraud", "champion", "1", "eve").ok());
  EXPECT_FALSE(store_->DeleteModelVersion("fraud", "1", "eve").ok());

  std::vector<AuditEntry> log = Audit();
  ASSERT_EQ(log.size(), 8u);
  for (size_t i = 1; i < log.size(); ++i) {
    EXPECT_GT(log[i - 1].id, log[i].id) << "newest first";
    EXPECT_GE(log[i - 1].timestamp, log[i].timestamp);
  }
  for (const auto& e : log) {
    EXPECT_EQ(e.model_name, "fraud");
    EXPECT_GT(e.timestamp, 1'600'000'000'000);
  }
  auto check = [&](size_t newest_first_index, std::string action, std::string actor, std::optional<std::string> version,
                   std::optional<std::string> alias, std::string before, std::string after) {
    SCOPED_TRACE("entry " + std::to_string(newest_first_index) + " " + action);
    const AuditEntry& e = log.at(newest_first_index);
    EXPECT_EQ(e.action, action);
    EXPECT_EQ(e.actor, actor);
    EXPECT_EQ(e.version, version);
    EXPECT_EQ(e.alias, alias);
    EXPECT_EQ(e.before, before);
    EXPECT_EQ(e.after, after);
  };
  check(7, "model.create", "ann", {}, {}, "", R"({"description":"ATO model","name":"fraud","tags":{"team":"risk"}})");
  check(6, "version.create", "bob", "1", {}, "",
        R"({"current_stage":"None","lineage":{"code_version":"c0ffee","feature_set":"ato_features",)"
        R"("training_data_fingerprint":"sha256:01"},"run_id":"r1","source":"s3://m/1","version":"1"})");
  check(5, "version.create", "bob", "2", {}, "",
        R"({"current_stage":"None","run_id":"r2","source":"s3://m/2","version":"2"})");
  check(4, "alias.set", "carol", "1", "champion", "", R"({"version":"1"})");
  check(3, "alias.set", "carol", "2", "champion", R"({"version":"1"})", R"({"version":"2"})");
  check(2, "version.stage", "dave", "1", {}, R"({"stage":"None"})", R"({"stage":"Production"})");
  check(1, "version.stage", "dave", "2", {}, R"({"stage":"None"})",
        R"({"archived_versions":["1"],"stage":"Production"})");
  check(0, "version.delete", "unknown", "1", {}, R"({"current_stage":"Archived","lineage":{"code_version":"c0ffee",)"
        R"("feature_set":"ato_features","training_data_fingerprint":"sha256:01"},"run_id":"r1","source":"s3://m/1",)"
        R"("version":"1"})", "");

  // Filters.
  AuditQuery q;
  q.action = "alias.set";
  EXPECT_EQ(Audit(q).size(), 2u);
  q = {};
  q.model_name = "other";
  EXPECT_TRUE(Audit(q).empty());
  q.model_name = "fraud";
  EXPECT_EQ(Audit(q).size(), 8u);
  q = {};
  q.since = log[3].timestamp;
  for (const auto& e : Audit(q)) EXPECT_GE(e.timestamp, log[3].timestamp);
  q = {};
  q.until = log[7].timestamp;
  EXPECT_TRUE(Audit(q).empty());
  q.until = log[0].timestamp + 1;
  EXPECT_EQ(Audit(q).size(), 8u);

  // Keyset paging: every entry once, newest first, and unaffected by entries appended meanwhile.
  q = {};
  q.max_results = 3;
  std::vector<int64_t> ids;
  for (int page_no = 0;; ++page_no) {
    auto page = store_->QueryAudit(q);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    for (const auto& e : page->items) ids.push_back(e.id);
    if (page_no == 0) {
      ASSERT_TRUE(store_->SetRegisteredModelTag("fraud", {"k", "v"}, "ann").ok());
    }
    if (page->next_page_token.empty()) break;
    q.page_token = page->next_page_token;
  }
  std::vector<int64_t> expected;
  for (const auto& e : log) expected.push_back(e.id);
  EXPECT_EQ(ids, expected);
  q = {};
  q.page_token = "garbage";
  EXPECT_TRUE(store_->QueryAudit(q).status().IsInvalidArgument());
  q.page_token = "";
  q.max_results = 0;
  EXPECT_TRUE(store_->QueryAudit(q).status().IsInvalidArgument());
}

TEST_P(RegistryStoreTest, AuditCoversRenamesTagsAndDeletes) {
  NewModel("fraud");
  NewVersion("fraud");
  ASSERT_TRUE(store_->UpdateRegisteredModel("fraud", "d1", "ann").ok());
  ASSERT_TRUE(store_->UpdateRegisteredModel("fraud", "d1", "ann").ok());  // unchanged: no entry
  ASSERT_TRUE(store_->SetRegisteredModelTag("fraud", {"k", "v1"}, "ann").ok());
  ASSERT_TRUE(store_->SetRegisteredModelTag("fraud", {"k", "v2"}, "ann").ok());
  ASSERT_TRUE(store_->DeleteRegisteredModelTag("fraud", "k", "ann").ok());
  ASSERT_TRUE(store_->SetModelVersionTag("fraud", "1", {"ok", "yes"}, "ann").ok());
  ASSERT_TRUE(store_->DeleteModelVersionTag("fraud", "1", "ok", "ann").ok());
  ASSERT_TRUE(store_->UpdateModelVersion("fraud", "1", "vd", "ann").ok());
  ASSERT_TRUE(store_->SetRegisteredModelAlias("fraud", "champion", "1", "ann").ok());
  ASSERT_TRUE(store_->DeleteRegisteredModelAlias("fraud", "champion", "ann").ok());
  ASSERT_TRUE(store_->RenameRegisteredModel("fraud", "fraud-v2", "ann").ok());
  ASSERT_TRUE(store_->SetRegisteredModelAlias("fraud-v2", "champion", "1", "ann").ok());

  std::vector<std::pair<std::string, std::string>> got;
  AuditQuery by_new_name;
  by_new_name.model_name = "fraud-v2";  // includes the entries from before the rename
  for (const auto& e : Audit(by_new_name)) got.push_back({e.action, e.before + " -> " + e.after});
  std::vector<std::pair<std::string, std::string>> want = {
      {"alias.set", R"( -> {"version":"1"})"},
      {"model.rename", R"({"name":"fraud"} -> {"name":"fraud-v2"})"},
      {"alias.delete", R"({"version":"1"} -> )"},
      {"alias.set", R"( -> {"version":"1"})"},
      {"version.update", R"({"description":""} -> {"description":"vd"})"},
      {"version.tag.delete", R"({"key":"ok","value":"yes"} -> )"},
      {"version.tag.set", R"( -> {"key":"ok","value":"yes"})"},
      {"model.tag.delete", R"({"key":"k","value":"v2"} -> )"},
      {"model.tag.set", R"({"key":"k","value":"v1"} -> {"key":"k","value":"v2"})"},
      {"model.tag.set", R"( -> {"key":"k","value":"v1"})"},
      {"model.update", R"({"description":""} -> {"description":"d1"})"},
      {"version.create", R"( -> {"current_stage":"None","source":"mlflow-artifacts:/0/norun/artifacts/model",)"
                         R"("version":"1"})"},
      {"model.create", R"( -> {"name":"fraud"})"}};
  EXPECT_EQ(got, want);
  // Paging by model name walks the same entries, each once, across both of the name's meanings.
  std::vector<std::pair<std::string, std::string>> paged;
  by_new_name.max_results = 4;
  for (;;) {
    auto page = store_->QueryAudit(by_new_name);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    for (const auto& e : page->items) paged.push_back({e.action, e.before + " -> " + e.after});
    if (page->next_page_token.empty()) break;
    by_new_name.page_token = page->next_page_token;
  }
  EXPECT_EQ(paged, want);
  AuditQuery tag_sets;
  tag_sets.model_name = "fraud-v2";
  tag_sets.action = "model.tag.set";
  EXPECT_EQ(Audit(tag_sets).size(), 2u);

  ASSERT_TRUE(store_->DeleteRegisteredModel("fraud-v2", "zed").ok());
  AuditQuery deletes;
  deletes.action = "model.delete";
  auto entries = Audit(deletes);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].actor, "zed");
  EXPECT_EQ(entries[0].model_name, "fraud-v2");
  EXPECT_EQ(entries[0].before, R"({"aliases":{"champion":"1"},"description":"d1","name":"fraud-v2","versions":["1"]})");
  EXPECT_EQ(entries[0].after, "");
  // The log outlives the model. With the model gone, its name finds the entries recorded under that name.
  AuditQuery after_delete;
  after_delete.model_name = "fraud-v2";
  EXPECT_EQ(Audit(after_delete).size(), 2u);  // alias.set and model.delete were recorded as fraud-v2
  EXPECT_EQ(Audit().size(), 14u);
}

TEST_P(RegistryStoreTest, ConcurrentVersionCreationGetsConsecutiveNumbers) {
  NewModel("fraud");
  NewModel("promo");
  constexpr int kThreads = 4, kPerThread = 8;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  std::vector<std::vector<std::string>> numbers(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        CreateModelVersionRequest req;
        req.name = t % 2 == 0 || i % 2 == 0 ? "fraud" : "promo";
        req.source = "s3://m";
        auto v = store_->CreateModelVersion(req, "t" + std::to_string(t));
        if (!v.ok()) {
          ++failures;
          ADD_FAILURE() << v.status().ToString();
        } else if (req.name == "fraud") {
          numbers[t].push_back(v->version);
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_EQ(failures.load(), 0);
  std::set<int> fraud;
  size_t fraud_count = 0;
  for (const auto& list : numbers) {
    for (const auto& n : list) {
      fraud.insert(std::stoi(n));
      ++fraud_count;
    }
  }
  // 2 threads all fraud (16) + 2 threads half fraud (8) = 24 distinct, consecutive from 1.
  EXPECT_EQ(fraud_count, 24u);
  ASSERT_EQ(fraud.size(), 24u);
  EXPECT_EQ(*fraud.begin(), 1);
  EXPECT_EQ(*fraud.rbegin(), 24);
  SearchModelVersionsRequest req;
  req.filter = "name = 'promo'";
  EXPECT_EQ(store_->SearchModelVersions(req)->items.size(), 8u);
  AuditQuery q;
  q.action = "version.create";
  EXPECT_EQ(Audit(q).size(), 32u);
}

TEST_P(RegistryStoreTest, DatabaseRefusesToChangeAuditEntries) {
  NewModel("fraud");
  NewVersion("fraud");
  std::vector<AuditEntry> before = Audit();
  ASSERT_EQ(before.size(), 2u);
  EXPECT_FALSE(db_->Execute("UPDATE registry_audit SET actor = 'mallory'").ok());
  EXPECT_FALSE(db_->Execute("DELETE FROM registry_audit").ok());
  if (db_->dialect() == store::Dialect::kPostgres) {
    EXPECT_FALSE(db_->Execute("TRUNCATE registry_audit").ok());
  }
  EXPECT_EQ(Audit(), before);
  // Deleting the model leaves its entries and adds one.
  ASSERT_TRUE(store_->DeleteRegisteredModel("fraud", "ann").ok());
  EXPECT_EQ(Audit().size(), 3u);
}

TEST_P(RegistryStoreTest, OpenIsIdempotent) {
  NewModel("fraud");
  auto again = RegistryStore::Open(db_.get());
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE((*again)->GetRegisteredModel("fraud").ok());
}

INSTANTIATE_TEST_SUITE_P(Backends, RegistryStoreTest, ::testing::ValuesIn(store::testing::Backends()),
                         store::testing::BackendName);

}  // namespace
}  // namespace gyre::registry
