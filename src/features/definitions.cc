#include "features/definitions.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <set>

#include "core/csv_reader.h"
#include "core/time.h"

namespace gyre::features {
namespace {

struct AggKindInfo {
  AggKind kind;
  std::string_view name;
  bool needs_of;        // a value expression is required
  bool windowed;        // may have windows
};

constexpr AggKindInfo kAggKinds[] = {
    {AggKind::kCount, "count", false, true},
    {AggKind::kSum, "sum", true, true},
    {AggKind::kMean, "mean", true, true},
    {AggKind::kMin, "min", true, true},
    {AggKind::kMax, "max", true, true},
    {AggKind::kStddev, "stddev", true, true},
    {AggKind::kCountDistinct, "count_distinct", true, true},
    {AggKind::kApproxCountDistinct, "approx_count_distinct", true, true},
    {AggKind::kLast, "last", true, true},
    {AggKind::kFirstSeen, "first_seen", false, false},
    {AggKind::kTimeSinceLast, "time_since_last", false, true},
    {AggKind::kIsNew, "is_new", true, false},
    {AggKind::kRatio, "ratio", false, true},
};

const AggKindInfo& InfoOf(AggKind kind) {
  for (const AggKindInfo& info : kAggKinds) {
    if (info.kind == kind) return info;
  }
  return kAggKinds[0];
}

std::string AggKindList() {
  std::string out;
  for (const AggKindInfo& info : kAggKinds) out += (out.empty() ? "" : ", ") + std::string(info.name);
  return out;
}

bool ValidName(std::string_view name) {
  if (name.empty() || !(std::isalpha(static_cast<unsigned char>(name[0])) || name[0] == '_')) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}

std::string Absolute(const std::string& path, const std::string& base_dir) {
  std::filesystem::path p(path);
  return p.is_absolute() ? p.string() : (std::filesystem::path(base_dir) / p).lexically_normal().string();
}

// Resolver for expressions over a source's columns only.
ExprResolver ColumnResolver(const SourceDef& source) {
  return [&source](std::string_view name) -> Result<ExprSlot> {
    int index = source.schema.IndexOf(name);
    if (index < 0) {
      return Status::NotFound(fmt::format("unknown column '{}' in source '{}' (columns: {})", name, source.name,
                                          source.schema.NameList()));
    }
    return SlotForColumn(source.schema, index);
  };
}

// The first records of a CSV file (up to 512 KiB, cut after a line end) read with `options`: enough to
// learn its header and infer its types without reading a big file whole.
Result<CsvReadResult> ReadCsvPrefix(const std::string& path, CsvReadOptions options) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return Status::IOError("cannot open " + path + ": " + std::strerror(errno));
  std::string text(512 * 1024, '\0');
  size_t n = std::fread(text.data(), 1, text.size(), f);
  bool whole = std::feof(f) != 0;
  std::fclose(f);
  text.resize(n);
  if (!whole) {
    size_t end = text.rfind('\n');
    if (end != std::string::npos) text.resize(end + 1);
  }
  options.display_name = path;
  return ReadCsvString(text, options);
}

// The schema of a source: declared columns, else the CSV header with types inferred from a sample.
Status ResolveSchema(SourceDef& source, const std::string& where) {
  if (source.path.empty()) {
    if (source.declared.empty()) {
      return Status::InvalidArgument(where + "source '" + source.name + "' has neither a path nor declared columns");
    }
    std::vector<ColumnSchema> columns;
    for (const CsvColumn& c : source.declared) columns.push_back({c.name, c.type});
    source.schema = Schema(std::move(columns));
  } else {
    CsvReadOptions options;
    options.columns = source.declared;
    options.infer_undeclared = true;
    options.infer_rows = 2'000;
    // Only the schema is needed here; a sample-sized read keeps loading fast for big files.
    Result<CsvReadResult> sample = ReadCsvPrefix(source.path, options);
    if (!sample.ok()) return Status(sample.status().code(), where + sample.status().message());
    source.schema = sample->table.schema();
  }
  source.timestamp_index = source.schema.IndexOf(source.timestamp_column);
  if (source.timestamp_index < 0) {
    return Status::InvalidArgument(fmt::format("{}source '{}': timestamp column '{}' is not among its columns ({})",
                                               where, source.name, source.timestamp_column,
                                               source.schema.NameList()));
  }
  if (source.schema.column(source.timestamp_index).type != ColumnType::kTimestamp) {
    return Status::InvalidArgument(fmt::format("{}source '{}': timestamp column '{}' holds {} values, not timestamps",
                                               where, source.name, source.timestamp_column,
                                               ColumnTypeName(source.schema.column(source.timestamp_index).type)));
  }
  return Status::OK();
}

// The event id column's index; an id must be a string or an integer, whose text names one event exactly
// (a float's text would not).
Status ResolveEventId(SourceDef& source, const std::string& where) {
  if (source.event_id_column.empty()) return Status::OK();
  source.event_id_index = source.schema.IndexOf(source.event_id_column);
  if (source.event_id_index < 0) {
    return Status::InvalidArgument(fmt::format("{}source '{}': event_id column '{}' is not among its columns ({})",
                                               where, source.name, source.event_id_column, source.schema.NameList()));
  }
  const ColumnType type = source.schema.column(source.event_id_index).type;
  if (type != ColumnType::kString && type != ColumnType::kInt64) {
    return Status::InvalidArgument(fmt::format("{}source '{}': event_id column '{}' holds {} values; ids must be "
                                               "strings or integers",
                                               where, source.name, source.event_id_column, ColumnTypeName(type)));
  }
  return Status::OK();
}

std::string LocationText(const ConfigLocation& at) { return Located(at.file, at.line, at.column, ""); }

}  // namespace

std::string_view AggKindName(AggKind kind) { return InfoOf(kind).name; }

ExprType ExprTypeForColumn(ColumnType type) {
  switch (type) {
    case ColumnType::kBool:
      return ExprType::kBool;
    case ColumnType::kString:
      return ExprType::kString;
    case ColumnType::kTimestamp:
      return ExprType::kTimestamp;
    case ColumnType::kInt64:
    case ColumnType::kFloat64:
      break;
  }
  return ExprType::kNumber;
}

ExprSlot SlotForColumn(const Schema& schema, int column) {
  return ExprSlot{column, ExprTypeForColumn(schema.column(column).type)};
}

ExprSource ExprSourceOf(const ConfigLocation& location) {
  return ExprSource{location.file, location.line, location.column + (location.quoted ? 1 : 0)};
}

Result<FeatureRegistry> FeatureRegistry::Load(const std::string& path, const std::string& base_dir) {
  GYRE_ASSIGN_OR_RETURN(ConfigDocument doc, ConfigDocument::LoadFile(path));
  return FromDocument(doc, base_dir);
}

Result<FeatureRegistry> FeatureRegistry::LoadForWorkspace(const std::string& workspace_root,
                                                          const std::string& definitions) {
  std::string path = Absolute(definitions.empty() ? "features.yaml" : definitions, workspace_root);
  if (!std::filesystem::exists(path)) {
    return Status::NotFound("no feature definitions at " + path +
                            " (write one like examples/ato/features.yaml, or pass --definitions FILE)");
  }
  return Load(path, workspace_root);
}

Result<FeatureRegistry> FeatureRegistry::Parse(const std::string& yaml, const std::string& file_name,
                                               const std::string& base_dir) {
  GYRE_ASSIGN_OR_RETURN(ConfigDocument doc, ConfigDocument::LoadString(yaml, file_name));
  return FromDocument(doc, base_dir);
}

Result<FeatureRegistry> FeatureRegistry::FromDocument(const ConfigDocument& doc, const std::string& base_dir) {
  FeatureRegistry registry;
  ConfigObject root = doc.Root();
  std::map<std::string, int, std::less<>> entity_index, source_index;

  root.Map("entities", [&](const std::string& name, ConfigObject& obj) {
    EntityDef entity{name, {}};
    obj.Required("keys", &entity.keys);
    if (!ValidName(name)) obj.Error("", "entity names are letters, digits and _");
    if (obj.Has("keys") && (entity.keys.empty() || entity.keys.size() > 4)) obj.Error("keys", "expected 1 to 4 key columns");
    entity_index[name] = static_cast<int>(registry.entities_.size());
    registry.entities_.push_back(std::move(entity));
  });

  // Sources: schemas are resolved after the whole file was read, so YAML errors come first.
  std::vector<std::string> source_where;
  std::vector<std::string> event_id_where;  // "file:line:col: " of each source's event_id value
  root.Map("sources", [&](const std::string& name, ConfigObject& obj) {
    SourceDef source;
    source.name = name;
    obj.Optional("path", &source.path);
    if (!source.path.empty()) source.path = Absolute(source.path, base_dir);
    obj.Required("timestamp", &source.timestamp_column);
    std::string lateness = "0s";
    obj.Optional("allowed_lateness", &lateness);
    if (lateness != "0s" && lateness != "0") {
      Result<int64_t> d = ParseDuration(lateness);
      if (d.ok()) source.allowed_lateness = *d; else obj.Error("allowed_lateness", d.status().message());
    }
    obj.Optional("event_id", &source.event_id_column);
    std::string retention;
    obj.Optional("event_id_retention", &retention);
    source.event_id_retention = source.allowed_lateness + kDefaultEventIdMargin;
    if (!retention.empty()) {
      Result<int64_t> d = ParseDuration(retention);
      if (!d.ok()) {
        obj.Error("event_id_retention", d.status().message());
      } else if (*d < source.allowed_lateness) {
        // Shorter would forget an id while a repeat of its event could still be accepted as merely late.
        obj.Error("event_id_retention", "must be at least the source's allowed_lateness");
      } else {
        source.event_id_retention = *d;
      }
      if (source.event_id_column.empty()) obj.Error("event_id_retention", "needs 'event_id' (the id column)");
    }
    if (obj.Has("event_id") && source.event_id_column.empty()) obj.Error("event_id", "expected a column name");
    std::string skew;
    obj.Optional("future_skew", &skew);
    if (skew == "off") {
      source.future_skew = SourceDef::kNoFutureLimit;
    } else if (!skew.empty()) {
      Result<int64_t> d = ParseDuration(skew);
      if (d.ok()) source.future_skew = *d; else obj.Error("future_skew", d.status().message() + " (or 'off')");
    }
    std::vector<std::pair<std::string, std::string>> columns;
    obj.Optional("columns", &columns);
    for (const auto& [column, type_name] : columns) {
      Result<ColumnType> type = ParseColumnType(type_name);
      if (!type.ok()) {
        obj.Error("columns", "column '" + column + "': " + type.status().message());
      } else {
        source.declared.push_back(CsvColumn{column, *type});
      }
    }
    source_where.push_back(obj.Where());
    event_id_where.push_back(obj.Has("event_id") ? LocationText(obj.LocationOf("event_id")) : obj.Where());
    source_index[name] = static_cast<int>(registry.sources_.size());
    registry.sources_.push_back(std::move(source));
  });

  // Groups are read as YAML first and compiled after the sources' schemas are known.
  struct PendingAggregation {
    AggregationDef def;
    std::vector<std::string> windows;
    std::string horizon;
    std::string filter_text;
    ExprSource filter_where;
    std::string where;  // of the aggregation, for messages
  };
  struct PendingGroup {
    GroupDef def;
    std::string entity, source, where;
    std::vector<PendingAggregation> aggregations;
  };
  std::vector<PendingGroup> pending_groups;
  root.Map("groups", [&](const std::string& name, ConfigObject& obj) {
    PendingGroup group;
    group.def.name = name;
    group.where = obj.Where();
    obj.Required("entity", &group.entity);
    obj.Required("source", &group.source);
    for (auto [key, out] : {std::pair{"max_age", &group.def.max_age}, std::pair{"ttl", &group.def.ttl}}) {
      std::string text;
      obj.Optional(key, &text);
      if (text.empty() || text == "lifetime") continue;
      Result<int64_t> d = ParseDuration(text);
      if (d.ok()) *out = *d; else obj.Error(key, d.status().message());
    }
    obj.Map("features", [&](const std::string& feature, ConfigObject& f) {
      PendingAggregation agg;
      agg.def.name = feature;
      agg.where = f.Where();
      std::string kind;
      f.Required("agg", &kind);
      bool known = false;
      for (const AggKindInfo& info : kAggKinds) {
        if (info.name == kind) {
          agg.def.kind = info.kind;
          known = true;
        }
      }
      if (!known && f.Has("agg")) f.Error("agg", "unknown aggregation '" + kind + "' (expected one of: " + AggKindList() + ")");
      f.Optional("of", &agg.def.of_text);
      agg.def.of_where = ExprSourceOf(f.LocationOf("of"));
      f.Optional("filter", &agg.filter_text);
      agg.filter_where = ExprSourceOf(f.LocationOf("filter"));
      f.Optional("windows", &agg.windows);
      f.Optional("horizon", &agg.horizon);
      int64_t precision = agg.def.precision;
      f.OptionalInRange("precision", &precision, 4, 14);
      agg.def.precision = static_cast<int>(precision);
      if (known) {
        const AggKindInfo& info = InfoOf(agg.def.kind);
        if (info.needs_of && agg.def.of_text.empty()) f.Error("", "aggregation '" + kind + "' needs 'of' (the value aggregated)");
        if (!info.needs_of && !agg.def.of_text.empty()) f.Error("of", "aggregation '" + kind + "' takes no 'of'");
        if (!info.windowed && !agg.windows.empty()) f.Error("windows", "aggregation '" + kind + "' has no windows");
        if (agg.def.kind == AggKind::kIsNew && agg.horizon.empty()) f.Error("", "is_new needs 'horizon' (e.g. 90d)");
        if (agg.def.kind != AggKind::kIsNew && !agg.horizon.empty()) f.Error("horizon", "only is_new takes a horizon");
      }
      group.aggregations.push_back(std::move(agg));
    });
    pending_groups.push_back(std::move(group));
  });

  struct PendingDerived {
    DerivedDef def;
    std::string source;
  };
  std::vector<PendingDerived> pending_derived;
  root.Map("derived", [&](const std::string& name, ConfigObject& obj) {
    PendingDerived d;
    d.def.name = name;
    obj.Required("source", &d.source);
    obj.Required("expr", &d.def.text);
    d.def.where = ExprSourceOf(obj.LocationOf("expr"));
    pending_derived.push_back(std::move(d));
  });

  struct PendingSet {
    FeatureSetDef def;
    std::string source, where;
    std::vector<std::string> features;
  };
  std::vector<PendingSet> pending_sets;
  root.Map("feature_sets", [&](const std::string& name, ConfigObject& obj) {
    PendingSet set;
    set.def.name = name;
    set.where = obj.Where();
    obj.Optional("description", &set.def.description);
    obj.Required("source", &set.source);
    obj.Required("features", &set.features);
    obj.Object("label", [&](ConfigObject& label) {
      LabelDef def;
      label.Required("path", &def.path);
      def.path = Absolute(def.path, base_dir);
      label.Required("key", &def.key);
      label.Required("column", &def.column);
      if (label.Has("default")) {
        double value = 0;
        label.Optional("default", &value);
        def.default_value = value;
      }
      set.def.label = std::move(def);
    });
    pending_sets.push_back(std::move(set));
  });
  GYRE_RETURN_IF_ERROR(root.Finish());

  // ---- Cross references, schemas and expressions.
  for (size_t i = 0; i < registry.sources_.size(); ++i) {
    GYRE_RETURN_IF_ERROR(ResolveSchema(registry.sources_[i], source_where[i]));
    GYRE_RETURN_IF_ERROR(ResolveEventId(registry.sources_[i], event_id_where[i]));
  }
  auto add_feature = [&](FeatureDef feature, const std::string& where) -> Status {
    if (!ValidName(feature.name)) {
      return Status::InvalidArgument(where + "feature name '" + feature.name + "' must be letters, digits and _");
    }
    if (registry.feature_index_.count(feature.name) != 0) {
      return Status::InvalidArgument(where + "feature '" + feature.name + "' is defined twice (names are global)");
    }
    registry.feature_index_[feature.name] = static_cast<int>(registry.features_.size());
    registry.features_.push_back(std::move(feature));
    return Status::OK();
  };

  for (PendingGroup& pending : pending_groups) {
    GroupDef& group = pending.def;
    auto entity = entity_index.find(pending.entity);
    if (entity == entity_index.end()) {
      return Status::InvalidArgument(pending.where + "group '" + group.name + "': unknown entity '" + pending.entity + "'");
    }
    auto source = source_index.find(pending.source);
    if (source == source_index.end()) {
      return Status::InvalidArgument(pending.where + "group '" + group.name + "': unknown source '" + pending.source + "'");
    }
    group.entity = entity->second;
    group.source = source->second;
    const SourceDef& src = registry.sources_[group.source];
    for (const std::string& key : registry.entities_[group.entity].keys) {
      if (src.schema.IndexOf(key) < 0) {
        return Status::InvalidArgument(fmt::format("{}group '{}': source '{}' has no column '{}' (entity '{}' key; "
                                                   "columns: {})", pending.where, group.name, src.name, key,
                                                   pending.entity, src.schema.NameList()));
      }
    }
    int64_t longest = 0;
    int group_index = static_cast<int>(registry.groups_.size());
    for (PendingAggregation& agg : pending.aggregations) {
      AggregationDef& def = agg.def;
      if (!def.of_text.empty()) {
        GYRE_ASSIGN_OR_RETURN(Expr of, Expr::Compile(def.of_text, ColumnResolver(src), def.of_where));
        if (of.type() == ExprType::kString && (def.kind == AggKind::kSum || def.kind == AggKind::kMean ||
                                                def.kind == AggKind::kMin || def.kind == AggKind::kMax ||
                                                def.kind == AggKind::kStddev)) {
          return Status::InvalidArgument(fmt::format("{}:{}:{}: {} of '{}' needs numbers, but it is a string",
                                                     def.of_where.file, def.of_where.line, def.of_where.column,
                                                     AggKindName(def.kind), def.of_text));
        }
        def.of = std::move(of);
      }
      if (!agg.filter_text.empty()) {
        GYRE_ASSIGN_OR_RETURN(Expr filter, Expr::Compile(agg.filter_text, ColumnResolver(src), agg.filter_where));
        if (filter.type() != ExprType::kBool) {
          return Status::InvalidArgument(fmt::format("{}:{}:{}: a filter must be true or false, but '{}' is a {}",
                                                     agg.filter_where.file, agg.filter_where.line,
                                                     agg.filter_where.column, agg.filter_text,
                                                     ExprTypeName(filter.type())));
        }
        def.filter = std::move(filter);
      }
      std::vector<int64_t> windows;
      std::vector<std::string> suffixes;  // as written: `24h` names x_24h, not x_1d
      for (const std::string& w : agg.windows) {
        suffixes.push_back(w);
        if (w == "lifetime") {
          windows.push_back(kLifetime);
          continue;
        }
        Result<int64_t> d = ParseDuration(w);
        if (!d.ok()) return Status::InvalidArgument(agg.where + "feature '" + def.name + "': " + d.status().message());
        windows.push_back(*d);
      }
      if (def.kind == AggKind::kIsNew) {
        Result<int64_t> d = ParseDuration(agg.horizon);
        if (!d.ok()) return Status::InvalidArgument(agg.where + "feature '" + def.name + "': " + d.status().message());
        windows.push_back(*d);
      }
      if (windows.empty()) windows.push_back(kLifetime);
      if (std::set<int64_t>(windows.begin(), windows.end()).size() != windows.size()) {
        return Status::InvalidArgument(agg.where + "feature '" + def.name + "': a window is listed twice");
      }
      def.windows = windows;
      int agg_index = static_cast<int>(group.aggregations.size());
      for (size_t w = 0; w < windows.size(); ++w) {
        int64_t window = windows[w];
        if (window != kLifetime) longest = std::max(longest, window);
        FeatureDef feature;
        feature.name = (def.kind == AggKind::kIsNew || window == kLifetime) ? def.name : def.name + "_" + suffixes[w];
        feature.type = def.kind == AggKind::kLast ? def.of->type() : ExprType::kNumber;
        feature.group = group_index;
        feature.aggregation = agg_index;
        feature.window = window;
        group.features.push_back(static_cast<int>(registry.features_.size()));
        GYRE_RETURN_IF_ERROR(add_feature(std::move(feature), agg.where));
      }
      group.aggregations.push_back(std::move(def));
    }
    group.horizon = longest + src.allowed_lateness;
    registry.groups_.push_back(std::move(group));
  }

  for (PendingDerived& pending : pending_derived) {
    auto source = source_index.find(pending.source);
    std::string where = Located(pending.def.where.file, pending.def.where.line, pending.def.where.column, "");
    if (source == source_index.end()) {
      return Status::InvalidArgument(where + "derived feature '" + pending.def.name + "': unknown source '" +
                                     pending.source + "'");
    }
    pending.def.source = source->second;
    FeatureDef feature;
    feature.name = pending.def.name;
    feature.derived = static_cast<int>(registry.derived_.size());
    registry.derived_.push_back(pending.def);
    GYRE_RETURN_IF_ERROR(add_feature(std::move(feature), where));
  }
  // Derived expressions are compiled once all feature names exist; the type of each is recorded.
  for (size_t i = 0; i < registry.derived_.size(); ++i) {
    DerivedDef& def = registry.derived_[i];
    const Schema& schema = registry.sources_[def.source].schema;
    std::set<int> inputs;
    ExprResolver resolve = [&](std::string_view name) -> Result<ExprSlot> {
      int column = schema.IndexOf(name);
      if (column >= 0) return SlotForColumn(schema, column);
      auto it = registry.feature_index_.find(name);
      if (it == registry.feature_index_.end() || registry.features_[it->second].derived >= 0) {
        return Status::NotFound(fmt::format("unknown name '{}': not a column of source '{}' ({}) nor an aggregated "
                                            "feature", name, registry.sources_[def.source].name, schema.NameList()));
      }
      inputs.insert(it->second);
      return ExprSlot{schema.size() + it->second, registry.features_[it->second].type};
    };
    GYRE_ASSIGN_OR_RETURN(Expr expr, Expr::Compile(def.text, resolve, def.where));
    def.inputs.assign(inputs.begin(), inputs.end());
    registry.features_[registry.feature_index_[def.name]].type = expr.type();
  }

  for (PendingSet& pending : pending_sets) {
    FeatureSetDef& set = pending.def;
    auto source = source_index.find(pending.source);
    if (source == source_index.end()) {
      return Status::InvalidArgument(pending.where + "feature set '" + set.name + "': unknown source '" +
                                     pending.source + "'");
    }
    set.source = source->second;
    const SourceDef& src = registry.sources_[set.source];
    for (const std::string& name : pending.features) {
      Result<int> feature = registry.FindFeature(name);
      if (!feature.ok()) {
        return Status::InvalidArgument(pending.where + "feature set '" + set.name + "': " + feature.status().message());
      }
      const FeatureDef& def = registry.features_[*feature];
      if (def.derived >= 0 && registry.derived_[def.derived].source != set.source) {
        return Status::InvalidArgument(fmt::format("{}feature set '{}': derived feature '{}' is defined on source "
                                                   "'{}', not '{}'", pending.where, set.name, name,
                                                   registry.sources_[registry.derived_[def.derived].source].name,
                                                   src.name));
      }
      if (def.group >= 0) {
        const GroupDef& group = registry.groups_[def.group];
        for (const std::string& key : registry.entities_[group.entity].keys) {
          if (src.schema.IndexOf(key) < 0) {
            return Status::InvalidArgument(fmt::format("{}feature set '{}': feature '{}' is keyed by '{}', which "
                                                       "source '{}' lacks", pending.where, set.name, name, key, src.name));
          }
        }
      }
      set.features.push_back(*feature);
    }
    registry.feature_sets_.push_back(std::move(set));
  }
  return registry;
}

Result<int> FeatureRegistry::FindSource(std::string_view name) const {
  for (size_t i = 0; i < sources_.size(); ++i) {
    if (sources_[i].name == name) return static_cast<int>(i);
  }
  std::string names;
  for (const SourceDef& s : sources_) names += (names.empty() ? "" : ", ") + s.name;
  return Status::NotFound(fmt::format("unknown source '{}' (sources: {})", name, names));
}

Result<int> FeatureRegistry::FindGroup(std::string_view name) const {
  for (size_t i = 0; i < groups_.size(); ++i) {
    if (groups_[i].name == name) return static_cast<int>(i);
  }
  std::string names;
  for (const GroupDef& g : groups_) names += (names.empty() ? "" : ", ") + g.name;
  return Status::NotFound(fmt::format("no feature group '{}' (groups: {})", name, names));
}

Result<int> FeatureRegistry::FindFeatureSet(std::string_view name) const {
  for (size_t i = 0; i < feature_sets_.size(); ++i) {
    if (feature_sets_[i].name == name) return static_cast<int>(i);
  }
  std::string names;
  for (const FeatureSetDef& s : feature_sets_) names += (names.empty() ? "" : ", ") + s.name;
  return Status::NotFound(fmt::format("unknown feature set '{}' (feature sets: {})", name, names));
}

Result<int> FeatureRegistry::FindFeature(std::string_view name) const {
  std::string_view bare = name;
  std::string_view group;
  if (size_t colon = name.find(':'); colon != std::string_view::npos) {
    group = name.substr(0, colon);
    bare = name.substr(colon + 1);
  }
  auto it = feature_index_.find(bare);
  if (it != feature_index_.end()) {
    const FeatureDef& def = features_[it->second];
    std::string_view owner = def.group >= 0 ? std::string_view(groups_[def.group].name) : std::string_view("derived");
    if (group.empty() || group == owner) return it->second;
  }
  return Status::NotFound(fmt::format("unknown feature '{}' ({} features are defined; `gyre features list` shows them)",
                                      name, features_.size()));
}

Result<Expr> FeatureRegistry::CompileDerived(int derived, const Schema& schema, std::string_view schema_name) const {
  const DerivedDef& def = derived_[derived];
  ExprResolver resolve = [&](std::string_view name) -> Result<ExprSlot> {
    int column = schema.IndexOf(name);
    if (column >= 0) return SlotForColumn(schema, column);
    auto it = feature_index_.find(name);
    if (it != feature_index_.end() && features_[it->second].derived < 0) {
      return ExprSlot{schema.size() + it->second, features_[it->second].type};
    }
    return Status::NotFound(fmt::format("derived feature '{}' needs column '{}', which {} lacks (columns: {})",
                                        def.name, name, schema_name, schema.NameList()));
  };
  return Expr::Compile(def.text, resolve, def.where);
}

}  // namespace gyre::features
