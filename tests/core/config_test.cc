#include "core/config.h"

#include <gtest/gtest.h>

namespace gyre {
namespace {

struct Server {
  std::string host = "127.0.0.1";
  int64_t port = 8080;
  bool tls = false;
  double ratio = 0.5;
  std::vector<std::string> tags;
};

Status Read(const std::string& yaml, Server* out, std::string* name = nullptr) {
  GYRE_ASSIGN_OR_RETURN(ConfigDocument doc, ConfigDocument::LoadString(yaml, "gyre.yaml"));
  ConfigObject root = doc.Root();
  std::string ignored;
  root.Required("name", name ? name : &ignored);
  root.Object("server", [&](ConfigObject& s) {
    s.Optional("host", &out->host);
    s.OptionalInRange("port", &out->port, 1, 65535);
    s.Optional("tls", &out->tls);
    s.Optional("ratio", &out->ratio);
    s.Optional("tags", &out->tags);
  });
  return root.Finish();
}

TEST(ConfigTest, ReadsTypedValuesAndKeepsDefaults) {
  Server s;
  std::string name;
  ASSERT_TRUE(Read("name: ato\nserver:\n  port: 9000\n  tls: true\n  tags: [a, b]\n", &s, &name).ok());
  EXPECT_EQ(name, "ato");
  EXPECT_EQ(s.port, 9000);
  EXPECT_TRUE(s.tls);
  EXPECT_EQ(s.host, "127.0.0.1");
  EXPECT_DOUBLE_EQ(s.ratio, 0.5);
  EXPECT_EQ(s.tags, (std::vector<std::string>{"a", "b"}));
}

TEST(ConfigTest, UnknownKeyNamesKeyLineAndColumn) {
  Server s;
  Status st = Read("name: ato\nserver:\n  host: h\n  prot: 80\n", &s);
  ASSERT_TRUE(st.IsInvalidArgument());
  EXPECT_EQ(st.message(),
            "gyre.yaml:4:3: unknown key 'prot' in 'server' (expected one of: host, port, ratio, tags, tls)");
}

TEST(ConfigTest, UnknownTopLevelKey) {
  Server s;
  Status st = Read("name: ato\nsevrer: {}\n", &s);
  EXPECT_NE(st.message().find("gyre.yaml:2:1: unknown key 'sevrer' (expected one of: name, server)"), std::string::npos)
      << st.message();
}

TEST(ConfigTest, WrongTypesNameTheDottedKey) {
  Server s;
  EXPECT_EQ(Read("name: a\nserver:\n  port: eighty\n", &s).message(),
            "gyre.yaml:3:9: 'server.port': expected an integer, got 'eighty'");
  EXPECT_EQ(Read("name: a\nserver:\n  port: 70000\n", &s).message(),
            "gyre.yaml:3:9: 'server.port': 70000 is out of range [1, 65535]");
  EXPECT_EQ(Read("name: a\nserver:\n  tls: maybe\n", &s).message(),
            "gyre.yaml:3:8: 'server.tls': expected true or false, got 'maybe'");
  EXPECT_EQ(Read("name: a\nserver:\n  ratio: [1]\n", &s).message(),
            "gyre.yaml:3:10: 'server.ratio': expected a number, got a list");
  EXPECT_EQ(Read("name: a\nserver: 5\n", &s).message(), "gyre.yaml:2:9: 'server': expected a mapping, got '5'");
  EXPECT_EQ(Read("name: a\nserver:\n  tags: [a, [b]]\n", &s).message(),
            "gyre.yaml:3:13: 'server.tags[1]': expected a string, got a list");
}

TEST(ConfigTest, MissingRequiredKey) {
  Server s;
  Status st = Read("server: {}\n", &s);
  EXPECT_EQ(st.message(), "gyre.yaml:1:1: missing required key 'name'");
}

TEST(ConfigTest, SyntaxErrorNamesLineAndColumn) {
  Result<ConfigDocument> doc = ConfigDocument::LoadString("name: a\nserver: [1, 2\n", "bad.yaml");
  ASSERT_FALSE(doc.ok());
  EXPECT_EQ(doc.status().message().rfind("bad.yaml:", 0), 0u) << doc.status().message();
  EXPECT_NE(doc.status().message().find("invalid YAML"), std::string::npos);
}

TEST(ConfigTest, TopLevelMustBeAMapping) {
  Server s;
  EXPECT_NE(Read("- a\n- b\n", &s).message().find("expected a mapping of keys at the top level"), std::string::npos);
}

TEST(ConfigTest, MapsAndListsCheckTheirChildren) {
  auto doc = ConfigDocument::LoadString(
      "features:\n  failed_1h: {window: 1h}\n  bad: {windw: 2h}\nsteps:\n  - {run: a}\n", "f.yaml");
  ASSERT_TRUE(doc.ok());
  ConfigObject root = doc->Root();
  std::vector<std::string> seen;
  root.Map("features", [&](const std::string& name, ConfigObject& f) {
    std::string w;
    f.Optional("window", &w);
    seen.push_back(name);
  });
  root.List("steps", [&](size_t, ConfigObject& step) {
    std::string run;
    step.Required("run", &run);
  });
  Status st = root.Finish();
  EXPECT_EQ(st.message(), "f.yaml:3:9: unknown key 'windw' in 'features.bad' (expected one of: window)");
}

TEST(ConfigTest, CrossFieldErrorsPointAtTheKey) {
  auto doc = ConfigDocument::LoadString("a: 1\nb: 2\n", "x.yaml");
  ASSERT_TRUE(doc.ok());
  ConfigObject root = doc->Root();
  int64_t a = 0, b = 0;
  root.Optional("a", &a);
  root.Optional("b", &b);
  if (b > a) root.Error("b", "must not exceed 'a'");
  EXPECT_EQ(root.Finish().message(), "x.yaml:2:4: 'b': must not exceed 'a'");
}

TEST(ConfigTest, MissingFileIsNotFound) {
  EXPECT_TRUE(ConfigDocument::LoadFile("/nonexistent/gyre.yaml").status().IsNotFound());
}

}  // namespace
}  // namespace gyre
