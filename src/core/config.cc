#include "core/config.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <charconv>
#include <fstream>
#include <sstream>

namespace gyre {
namespace {

std::string Describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null: return "null";
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Map: return "a mapping";
    case YAML::NodeType::Scalar: return "'" + node.Scalar() + "'";
    default: return "nothing";
  }
}

}  // namespace

Result<ConfigDocument> ConfigDocument::LoadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound(fmt::format("{}: cannot open configuration file", path));
  std::ostringstream text;
  text << in.rdbuf();
  return LoadString(text.str(), path);
}

Result<ConfigDocument> ConfigDocument::LoadString(const std::string& text, const std::string& name) {
  try {
    return ConfigDocument(YAML::Load(text), name);
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(Located(name, e.mark.line + 1, e.mark.column + 1, "invalid YAML: " + e.msg));
  }
}

ConfigDocument::ConfigDocument(YAML::Node root, std::string name)
    : root_(std::move(root)), name_(std::make_shared<const std::string>(std::move(name))) {}

ConfigObject ConfigDocument::Root() const {
  auto shared = std::make_shared<ConfigObject::Shared>();
  shared->file = name_;
  ConfigObject root(root_, "", shared);
  if (!root_.IsNull() && root_.IsDefined() && !root_.IsMap()) {
    root.Fail(ConfigObject::Mark(root_), "expected a mapping of keys at the top level, got " + Describe(root_));
  }
  return root;
}

ConfigObject::ConfigObject(YAML::Node node, std::string path, std::shared_ptr<Shared> shared)
    : node_(std::move(node)), path_(std::move(path)), shared_(std::move(shared)) {}

YAML::Mark ConfigObject::Mark(const YAML::Node& node) {
  return node.IsDefined() ? node.Mark() : YAML::Mark::null_mark();
}

void ConfigObject::Fail(const YAML::Mark& mark, const std::string& message) {
  if (!shared_->first_error.ok()) return;
  int line = mark.is_null() ? 0 : mark.line + 1;
  int column = mark.is_null() ? 0 : mark.column + 1;
  shared_->first_error = Status::InvalidArgument(Located(*shared_->file, line, column, message));
}

std::string ConfigObject::Path(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }

std::string ConfigObject::Where() const {
  YAML::Mark mark = Mark(node_);
  return Located(*shared_->file, mark.is_null() ? 0 : mark.line + 1, mark.is_null() ? 0 : mark.column + 1, "");
}

std::optional<YAML::Node> ConfigObject::Take(const std::string& key) {
  known_.insert(key);
  if (!node_.IsMap()) return std::nullopt;
  YAML::Node child = node_[key];
  if (!child.IsDefined()) return std::nullopt;
  return child;
}

ConfigLocation ConfigObject::LocationOf(const std::string& key) const {
  YAML::Node child = node_.IsMap() ? node_[key] : YAML::Node();
  YAML::Mark mark = Mark(child.IsDefined() ? child : node_);
  ConfigLocation location;
  location.file = *shared_->file;
  location.line = mark.is_null() ? 0 : mark.line + 1;
  location.column = mark.is_null() ? 0 : mark.column + 1;
  // yaml-cpp tags quoted (non-plain) scalars "!".
  location.quoted = child.IsDefined() && child.IsScalar() && child.Tag() == "!";
  return location;
}

bool ConfigObject::Has(const std::string& key) const { return node_.IsMap() && node_[key].IsDefined(); }

bool ConfigObject::HasMapping(const std::string& key) const { return Has(key) && node_[key].IsMap(); }

void ConfigObject::Error(const std::string& key, const std::string& message) {
  if (key.empty()) {
    Fail(Mark(node_), path_.empty() ? message : fmt::format("'{}': {}", path_, message));
    return;
  }
  YAML::Node child = node_.IsMap() ? node_[key] : YAML::Node();
  Fail(child.IsDefined() ? Mark(child) : Mark(node_), fmt::format("'{}': {}", Path(key), message));
}

void ConfigObject::CheckUnknownKeys() {
  if (checked_ || !node_.IsMap()) return;
  checked_ = true;
  for (const auto& entry : node_) {
    std::string key = entry.first.Scalar();
    if (known_.count(key)) continue;
    std::string where = path_.empty() ? "" : fmt::format(" in '{}'", path_);
    std::string expected =
        known_.empty() ? "no keys are allowed here" : fmt::format("expected one of: {}", fmt::join(known_, ", "));
    Fail(Mark(entry.first), fmt::format("unknown key '{}'{} ({})", key, where, expected));
    return;
  }
}

Status ConfigObject::Finish() {
  CheckUnknownKeys();
  return shared_->first_error;
}

void ConfigObject::Convert(const YAML::Node& node, const std::string& key, std::string* out) {
  if (!node.IsScalar()) return Fail(Mark(node), fmt::format("'{}': expected a string, got {}", Path(key), Describe(node)));
  *out = node.Scalar();
}

void ConfigObject::Convert(const YAML::Node& node, const std::string& key, int64_t* out) {
  if (node.IsScalar()) {
    const std::string& s = node.Scalar();
    int64_t v;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec == std::errc() && ptr == s.data() + s.size() && !s.empty()) {
      *out = v;
      return;
    }
  }
  Fail(Mark(node), fmt::format("'{}': expected an integer, got {}", Path(key), Describe(node)));
}

void ConfigObject::Convert(const YAML::Node& node, const std::string& key, int* out) {
  int64_t v = *out;
  Convert(node, key, &v);
  if (v < INT32_MIN || v > INT32_MAX) return Fail(Mark(node), fmt::format("'{}': integer out of range", Path(key)));
  *out = static_cast<int>(v);
}

void ConfigObject::Convert(const YAML::Node& node, const std::string& key, double* out) {
  if (node.IsScalar()) {
    const std::string& s = node.Scalar();
    double v;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec == std::errc() && ptr == s.data() + s.size() && !s.empty()) {
      *out = v;
      return;
    }
  }
  Fail(Mark(node), fmt::format("'{}': expected a number, got {}", Path(key), Describe(node)));
}

void ConfigObject::Convert(const YAML::Node& node, const std::string& key, bool* out) {
  if (node.IsScalar()) {
    const std::string& s = node.Scalar();
    if (s == "true" || s == "True" || s == "TRUE") return void(*out = true);
    if (s == "false" || s == "False" || s == "FALSE") return void(*out = false);
  }
  Fail(Mark(node), fmt::format("'{}': expected true or false, got {}", Path(key), Describe(node)));
}

void ConfigObject::Convert(const YAML::Node& node, const std::string& key,
                           std::vector<std::pair<std::string, std::string>>* out) {
  if (!node.IsMap()) {
    return Fail(Mark(node), fmt::format("'{}': expected a mapping of names to values, got {}", Path(key), Describe(node)));
  }
  out->clear();
  for (const auto& entry : node) {
    if (!entry.second.IsScalar()) {
      return Fail(Mark(entry.second), fmt::format("'{}.{}': expected a string, got {}", Path(key),
                                                  entry.first.Scalar(), Describe(entry.second)));
    }
    out->emplace_back(entry.first.Scalar(), entry.second.Scalar());
  }
}

void ConfigObject::Convert(const YAML::Node& node, const std::string& key, std::vector<std::string>* out) {
  if (!node.IsSequence()) {
    return Fail(Mark(node), fmt::format("'{}': expected a list of strings, got {}", Path(key), Describe(node)));
  }
  std::vector<std::string> values;
  for (size_t i = 0; i < node.size(); ++i) {
    if (!node[i].IsScalar()) {
      return Fail(Mark(node[i]), fmt::format("'{}[{}]': expected a string, got {}", Path(key), i, Describe(node[i])));
    }
    values.push_back(node[i].Scalar());
  }
  *out = std::move(values);
}

void ConfigObject::OptionalInRange(const std::string& key, int64_t* out, int64_t min, int64_t max) {
  auto node = Take(key);
  if (!node) return;
  int64_t v = *out;
  Convert(*node, key, &v);
  if (v < min || v > max) {
    return Fail(Mark(*node), fmt::format("'{}': {} is out of range [{}, {}]", Path(key), v, min, max));
  }
  *out = v;
}

void ConfigObject::Object(const std::string& key, const std::function<void(ConfigObject&)>& read) {
  auto node = Take(key);
  if (!node) return;
  if (!node->IsMap()) {
    return Fail(Mark(*node), fmt::format("'{}': expected a mapping, got {}", Path(key), Describe(*node)));
  }
  ConfigObject child(*node, Path(key), shared_);
  read(child);
  child.CheckUnknownKeys();
}

void ConfigObject::Map(const std::string& key,
                       const std::function<void(const std::string& name, ConfigObject&)>& read) {
  auto node = Take(key);
  if (!node) return;
  if (!node->IsMap()) {
    return Fail(Mark(*node), fmt::format("'{}': expected a mapping of names, got {}", Path(key), Describe(*node)));
  }
  for (const auto& entry : *node) {
    std::string name = entry.first.Scalar();
    if (!entry.second.IsMap()) {
      Fail(Mark(entry.second), fmt::format("'{}.{}': expected a mapping, got {}", Path(key), name, Describe(entry.second)));
      return;
    }
    ConfigObject child(entry.second, Path(key) + "." + name, shared_);
    read(name, child);
    child.CheckUnknownKeys();
  }
}

void ConfigObject::List(const std::string& key, const std::function<void(size_t index, ConfigObject&)>& read) {
  auto node = Take(key);
  if (!node) return;
  if (!node->IsSequence()) {
    return Fail(Mark(*node), fmt::format("'{}': expected a list, got {}", Path(key), Describe(*node)));
  }
  for (size_t i = 0; i < node->size(); ++i) {
    YAML::Node item = (*node)[i];
    if (!item.IsMap()) {
      Fail(Mark(item), fmt::format("'{}[{}]': expected a mapping, got {}", Path(key), i, Describe(item)));
      return;
    }
    ConfigObject child(item, fmt::format("{}[{}]", Path(key), i), shared_);
    read(i, child);
    child.CheckUnknownKeys();
  }
}

}  // namespace gyre
