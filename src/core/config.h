// Strict YAML configuration reading: every workspace file (gyre.yaml, sources, features, deployments...)
// is read through ConfigObject, so they all fail the same way.
//
// Contract: an unknown key, a missing required key, or a value of the wrong type is an error that names
// the file, line and column, and the key's dotted path:
//   gyre.yaml:4:3: unknown key 'prot' in 'server' (expected one of: host, port, threads, ...)
//   gyre.yaml:5:9: 'server.port': expected an integer, got 'eighty'
// Reading collects only the first error; a reader declares every key it knows and then calls Finish(),
// which reports keys nobody asked for. Usage:
//
//   GYRE_ASSIGN_OR_RETURN(ConfigDocument doc, ConfigDocument::LoadFile(path));
//   ConfigObject root = doc.Root();
//   root.Optional("name", &config.name);
//   root.Object("server", [&](ConfigObject& server) { server.Optional("port", &config.port); });
//   GYRE_RETURN_IF_ERROR(root.Finish());
//
// Not thread-safe; a ConfigObject is a short-lived view used by one reader.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/status.h"

namespace gyre {

class ConfigObject;

// Where a value starts in its file (1-based; 0 when unknown). `quoted` is true for a quoted scalar, whose
// text starts one column after the quote.
struct ConfigLocation {
  std::string file;
  int line = 0;
  int column = 0;
  bool quoted = false;
};

// A parsed YAML file. Syntax errors name file:line:column.
class ConfigDocument {
 public:
  static Result<ConfigDocument> LoadFile(const std::string& path);
  // `name` is used in messages in place of a file path.
  static Result<ConfigDocument> LoadString(const std::string& text, const std::string& name);

  // The top-level mapping. A document that is empty yields an empty object; one whose top level is not a
  // mapping yields an object whose Finish() reports that.
  ConfigObject Root() const;
  const std::string& name() const { return *name_; }

 private:
  ConfigDocument(YAML::Node root, std::string name);
  YAML::Node root_;
  std::shared_ptr<const std::string> name_;
};

class ConfigObject {
 public:
  // Supported value types: std::string, int64_t, int, double, bool, std::vector<std::string>, and
  // std::vector<std::pair<std::string, std::string>> for a mapping of names to scalars (in file order).
  // Optional leaves *out untouched when the key is absent (so defaults set beforehand survive).
  template <typename T>
  void Optional(const std::string& key, T* out) {
    if (auto node = Take(key)) Convert(*node, key, out);
  }
  template <typename T>
  void Required(const std::string& key, T* out) {
    if (auto node = Take(key)) {
      Convert(*node, key, out);
    } else {
      Fail(Mark(node_), "missing required key '" + Path(key) + "'");
    }
  }
  // An integer that must lie in [min, max].
  void OptionalInRange(const std::string& key, int64_t* out, int64_t min, int64_t max);

  // A nested mapping; `read` is called only when the key is present. Unknown keys inside are checked.
  void Object(const std::string& key, const std::function<void(ConfigObject&)>& read);
  // A mapping from user-chosen names to objects (e.g. `features: {name: {...}}`).
  void Map(const std::string& key, const std::function<void(const std::string& name, ConfigObject&)>& read);
  // A sequence of mappings.
  void List(const std::string& key, const std::function<void(size_t index, ConfigObject&)>& read);

  bool Has(const std::string& key) const;
  // True when `key` is present and its value is a mapping (for keys that take a list or a mapping).
  bool HasMapping(const std::string& key) const;
  // The location of `key`'s value (of the object itself when the key is absent), for messages about its
  // contents, e.g. an expression inside a string.
  ConfigLocation LocationOf(const std::string& key) const;
  // The dotted path of `key` in this object, e.g. "groups.user.features.x.filter".
  std::string Path(const std::string& key) const;
  // Where this object starts, "file:line:column", for messages about the object as a whole.
  std::string Where() const;
  // Records an error about `key` (or about the object when key is empty), e.g. a cross-field rule.
  void Error(const std::string& key, const std::string& message);

  // Returns the first error, or an error for the first key nobody read.
  Status Finish();

 private:
  friend class ConfigDocument;
  struct Shared {
    std::shared_ptr<const std::string> file;
    Status first_error;
  };
  ConfigObject(YAML::Node node, std::string path, std::shared_ptr<Shared> shared);

  std::optional<YAML::Node> Take(const std::string& key);
  static YAML::Mark Mark(const YAML::Node& node);
  void Fail(const YAML::Mark& mark, const std::string& message);
  void CheckUnknownKeys();

  void Convert(const YAML::Node& node, const std::string& key, std::string* out);
  void Convert(const YAML::Node& node, const std::string& key, int64_t* out);
  void Convert(const YAML::Node& node, const std::string& key, int* out);
  void Convert(const YAML::Node& node, const std::string& key, double* out);
  void Convert(const YAML::Node& node, const std::string& key, bool* out);
  void Convert(const YAML::Node& node, const std::string& key, std::vector<std::string>* out);
  void Convert(const YAML::Node& node, const std::string& key, std::vector<std::pair<std::string, std::string>>* out);

  YAML::Node node_;
  std::string path_;  // dotted path of this object, "" at the root
  std::shared_ptr<Shared> shared_;
  std::set<std::string> known_;
  bool checked_ = false;
};

}  // namespace gyre
