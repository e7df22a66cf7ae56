// gyre data profile FILE.csv: the analyst's first look at a CSV file (core/profile.h does the work; this
// file parses flags and formats the result as a text table or JSON).
#include <fmt/format.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "cli/command.h"
#include "core/profile.h"

namespace gyre::cli {
namespace {

struct ProfileFlags {
  std::string file;
  std::string delimiter = ",";
  bool json = false;
  std::string reject;
  int64_t infer_rows = 10'000;
  int top = 5;
};

Result<char> ParseDelimiter(const std::string& text) {
  if (text == "tab" || text == "\\t") return '\t';
  if (text.size() == 1 && text[0] != '"' && text[0] != '\n' && text[0] != '\r') return text[0];
  return Status::InvalidArgument(
      fmt::format("--delimiter: expected one character (or 'tab'), not a quote or line end; got '{}'", text));
}

// Display form of a value for one table cell: control characters escaped, at most `width` characters,
// cut on a UTF-8 character boundary with an ellipsis.
std::string Cell(std::string_view value, size_t width) {
  std::string out;
  for (char c : value) {
    if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else if (c == '\t') out += "\\t";
    else out += c;
  }
  size_t chars = 0, cut = out.size();
  for (size_t i = 0; i < out.size(); ++i) {
    if ((static_cast<unsigned char>(out[i]) & 0xC0) == 0x80) continue;  // UTF-8 continuation byte
    if (chars == width - 1) cut = i;
    if (++chars > width) return out.substr(0, cut) + "\u2026";
  }
  return out;
}

// Characters on screen, counting each UTF-8 sequence once.
size_t DisplayWidth(std::string_view s) {
  return static_cast<size_t>(std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

std::string Number(const std::optional<double>& v) { return v ? fmt::format("{:.6g}", *v) : ""; }

std::string FormatProfileTable(const TableProfile& p) {
  std::string out = fmt::format("{}: {} rows, {} columns", p.source, p.rows, p.columns.size());
  if (!p.reject_path.empty()) {
    out += fmt::format(", {} {} rejected (see {})", p.rejected_rows, p.rejected_rows == 1 ? "row" : "rows",
                       p.reject_path);
  }
  out += "\n\n";

  const std::vector<std::string> header = {"column", "type", "nulls", "null%", "distinct", "min", "max",
                                           "length", "mean", "std", "top values (count)"};
  std::vector<std::vector<std::string>> rows;
  for (const ColumnProfile& c : p.columns) {
    std::string top;
    for (const ValueCount& v : c.top) {
      if (!top.empty()) top += ", ";
      top += fmt::format("{} ({})", Cell(ProfileValueToString(v.value), 24), v.count);
    }
    std::string length;
    if (c.min_length) length = fmt::format("{}-{}", *c.min_length, *c.max_length);
    rows.push_back({Cell(c.name, 24), std::string(ColumnTypeName(c.type)), std::to_string(c.nulls),
                    fmt::format("{:.1f}%", c.null_rate * 100), std::to_string(c.distinct),
                    Cell(ProfileValueToString(c.min), 24), Cell(ProfileValueToString(c.max), 24), length,
                    Number(c.mean), Number(c.stddev), top});
  }
  std::vector<size_t> widths(header.size());
  for (size_t i = 0; i < header.size(); ++i) {
    widths[i] = DisplayWidth(header[i]);
    for (const auto& r : rows) widths[i] = std::max(widths[i], DisplayWidth(r[i]));
  }
  // Counts and statistics read best right-aligned; names, types and values left-aligned.
  const std::vector<bool> right = {false, false, true, true, true, false, false, true, true, true, false};
  auto line = [&](const std::vector<std::string>& cells) {
    std::string s;
    for (size_t i = 0; i < cells.size(); ++i) {
      std::string pad(widths[i] - DisplayWidth(cells[i]), ' ');
      bool last = i + 1 == cells.size();
      s += right[i] ? pad + cells[i] : cells[i] + (last ? "" : pad);
      if (!last) s += "  ";
    }
    return s + "\n";
  };
  out += line(header);
  for (const auto& r : rows) out += line(r);
  return out;
}

void AddProfileCommand(CLI::App& data) {
  auto flags = std::make_shared<ProfileFlags>();
  auto* cmd = data.add_subcommand("profile", "Profile a CSV file: per column type, nulls, distinct values, range, "
                                             "top values, mean and standard deviation");
  cmd->add_option("file", flags->file, "CSV file with a header row")->required();
  cmd->add_option("--delimiter", flags->delimiter, "Field delimiter: one character, or 'tab'")->capture_default_str();
  cmd->add_flag("--json", flags->json, "Print JSON instead of a table");
  cmd->add_option("--reject", flags->reject,
                  "Write malformed records to this CSV file (line, error, record) instead of failing");
  cmd->add_option("--infer-rows", flags->infer_rows, "Records sampled to infer column types (0: all)")
      ->capture_default_str();
  cmd->add_option("--top", flags->top, "Most frequent values shown per column")->capture_default_str()
      ->check(CLI::Range(0, 1000));
  SetAction(cmd, [flags]() -> Status {
    CsvReadOptions read;
    GYRE_ASSIGN_OR_RETURN(read.delimiter, ParseDelimiter(flags->delimiter));
    read.reject_path = flags->reject;
    read.infer_rows = flags->infer_rows;
    ProfileOptions options;
    options.top_k = flags->top;
    GYRE_ASSIGN_OR_RETURN(TableProfile profile, ProfileCsv(flags->file, read, options));
    if (flags->json) {
      fmt::print("{}\n", ProfileToJson(profile).dump(2));
    } else {
      fmt::print("{}", FormatProfileTable(profile));
      std::vector<std::string> warnings = ProfileWarnings(profile);
      if (!warnings.empty()) fmt::print("\n");
      for (const std::string& w : warnings) fmt::print("warning: {}\n", w);
    }
    return Status::OK();
  });
}

}  // namespace

void AddDataCommand(CLI::App& root) {
  auto* data = root.add_subcommand("data", "Inspect data sources");
  data->require_subcommand(1);
  AddProfileCommand(*data);
}

}  // namespace gyre::cli
