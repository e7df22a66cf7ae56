#include "tracking/search_filter.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>

namespace gyre::tracking {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

bool IsWordChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.'; }

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  Status Error(const std::string& what) const {
    return Status::InvalidArgument(
        fmt::format("invalid search expression '{}' at character {}: {}", text_, pos_ + 1, what));
  }

  void SkipSpace() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }
  bool AtEnd() {
    SkipSpace();
    return pos_ >= text_.size();
  }

  // A word of [A-Za-z0-9_.]; empty if none.
  std::string_view Word() {
    SkipSpace();
    size_t start = pos_;
    while (pos_ < text_.size() && IsWordChar(text_[pos_])) ++pos_;
    return text_.substr(start, pos_ - start);
  }

  // Reads a literal quoted with ', " or `, doubling the quote to escape it (SQL style) or a backslash.
  Result<std::string> Quoted() {
    char quote = text_[pos_++];
    std::string out;
    while (pos_ < text_.size()) {
      char c = text_[pos_++];
      if (c == '\\' && pos_ < text_.size()) {
        out += text_[pos_++];
      } else if (c == quote) {
        if (pos_ < text_.size() && text_[pos_] == quote) {
          out += quote;
          ++pos_;
        } else {
          return out;
        }
      } else {
        out += c;
      }
    }
    return Error(fmt::format("unterminated {} quote", quote));
  }

  static bool IsQuote(char c) { return c == '\'' || c == '"' || c == '`'; }

  Result<EntityType> Entity(std::string_view name) {
    std::string n = Lower(name);
    if (n == "metric" || n == "metrics") return EntityType::kMetric;
    if (n == "param" || n == "params" || n == "parameter" || n == "parameters") return EntityType::kParam;
    if (n == "tag" || n == "tags") return EntityType::kTag;
    if (n == "attribute" || n == "attributes" || n == "attr" || n == "run") return EntityType::kAttribute;
    if (n == "dataset" || n == "datasets") return EntityType::kDataset;
    return Error(fmt::format("unknown entity '{}' (expected metrics, params, tags, attributes or datasets)", name));
  }

  // identifier := [entity '.'] key
  Status Identifier(EntityType* entity, std::string* key) {
    SkipSpace();
    if (pos_ < text_.size() && IsQuote(text_[pos_])) {  // a quoted attribute name
      *entity = EntityType::kAttribute;
      GYRE_ASSIGN_OR_RETURN(*key, Quoted());
      return Status::OK();
    }
    size_t start = pos_;
    std::string_view word = Word();
    if (word.empty()) return Error("expected an identifier such as metrics.auc or params.model");
    size_t dot = word.find('.');
    if (dot == std::string_view::npos) {
      *entity = EntityType::kAttribute;
      *key = std::string(word);
      return Status::OK();
    }
    Result<EntityType> e = Entity(word.substr(0, dot));
    if (!e.ok()) {
      pos_ = start;
      return e.status();
    }
    *entity = *e;
    std::string_view rest = word.substr(dot + 1);
    if (rest.empty()) {
      if (pos_ >= text_.size() || !IsQuote(text_[pos_])) return Error("expected a key after the '.'");
      GYRE_ASSIGN_OR_RETURN(*key, Quoted());
    } else {
      *key = std::string(rest);
    }
    return Status::OK();
  }

  Result<CompareOp> Op() {
    SkipSpace();
    auto starts = [&](std::string_view s) { return text_.substr(pos_, s.size()) == s; };
    for (auto [spelling, op] : {std::pair{"!=", CompareOp::kNe},
                                {">=", CompareOp::kGe},
                                {"<=", CompareOp::kLe},
                                {"=", CompareOp::kEq},
                                {">", CompareOp::kGt},
                                {"<", CompareOp::kLt}}) {
      if (starts(spelling)) {
        pos_ += std::string_view(spelling).size();
        return op;
      }
    }
    size_t start = pos_;
    std::string word = Lower(Word());
    if (word == "like") return CompareOp::kLike;
    if (word == "ilike") return CompareOp::kILike;
    if (word == "in") return CompareOp::kIn;
    if (word == "not") {
      if (Lower(Word()) == "in") return CompareOp::kNotIn;
    }
    pos_ = start;
    return Error("expected a comparison operator (=, !=, >, >=, <, <=, LIKE, ILIKE, IN, NOT IN)");
  }

  Status Value(Comparison* c) {
    SkipSpace();
    if (pos_ >= text_.size()) return Error("expected a value");
    char ch = text_[pos_];
    if (c->op == CompareOp::kIn || c->op == CompareOp::kNotIn) {
      if (ch != '(') return Error("expected '(' and a list of quoted strings after IN");
      ++pos_;
      for (;;) {
        SkipSpace();
        if (pos_ >= text_.size() || (text_[pos_] != '\'' && text_[pos_] != '"')) {
          return Error("expected a quoted string in the IN list");
        }
        GYRE_ASSIGN_OR_RETURN(std::string item, Quoted());
        c->list.push_back(std::move(item));
        SkipSpace();
        if (pos_ < text_.size() && text_[pos_] == ',') {
          ++pos_;
          continue;
        }
        if (pos_ < text_.size() && text_[pos_] == ')') {
          ++pos_;
          return Status::OK();
        }
        return Error("expected ',' or ')' in the IN list");
      }
    }
    if (ch == '\'' || ch == '"') {
      GYRE_ASSIGN_OR_RETURN(c->text, Quoted());
      return Status::OK();
    }
    size_t start = pos_;
    if (ch == '-' || ch == '+') ++pos_;
    while (pos_ < text_.size() &&
           (std::isalnum(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '.' ||
            ((text_[pos_] == '-' || text_[pos_] == '+') && (text_[pos_ - 1] == 'e' || text_[pos_ - 1] == 'E')))) {
      ++pos_;
    }
    std::string_view literal = text_.substr(start, pos_ - start);
    std::string_view digits = literal.substr(literal.starts_with('+') ? 1 : 0);
    double v;
    auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
    if (literal.empty() || ec != std::errc() || ptr != digits.data() + digits.size()) {
      pos_ = start;
      return Error("expected a number or a quoted string");
    }
    c->is_number = true;
    c->number = v;
    c->text = std::string(literal);
    return Status::OK();
  }

 private:
  std::string_view text_;
  size_t pos_ = 0;
};

}  // namespace

Result<std::vector<Comparison>> ParseFilter(const std::string& filter) {
  std::vector<Comparison> out;
  Parser p(filter);
  if (p.AtEnd()) return out;
  for (;;) {
    Comparison c;
    GYRE_RETURN_IF_ERROR(p.Identifier(&c.entity, &c.key));
    GYRE_ASSIGN_OR_RETURN(c.op, p.Op());
    GYRE_RETURN_IF_ERROR(p.Value(&c));
    if (c.text.size() > kMaxFilterValueLength) {
      return Status::InvalidArgument(fmt::format("invalid filter: the value compared with '{}' has {} characters; at "
                                                 "most {} are allowed", c.key, c.text.size(), kMaxFilterValueLength));
    }
    if (c.list.size() > kMaxFilterListValues) {
      return Status::InvalidArgument(fmt::format("invalid filter: the list compared with '{}' has {} values; at most "
                                                 "{} are allowed", c.key, c.list.size(), kMaxFilterListValues));
    }
    for (const std::string& v : c.list) {
      if (v.size() > kMaxFilterValueLength) {
        return Status::InvalidArgument(fmt::format("invalid filter: a value in the list compared with '{}' has {} "
                                                   "characters; at most {} are allowed", c.key, v.size(),
                                                   kMaxFilterValueLength));
      }
    }
    out.push_back(std::move(c));
    if (out.size() > kMaxFilterComparisons) {
      return Status::InvalidArgument(fmt::format("invalid filter: more than {} comparisons; at most {} are allowed",
                                                 kMaxFilterComparisons, kMaxFilterComparisons));
    }
    if (p.AtEnd()) return out;
    std::string word = Lower(p.Word());
    if (word != "and") {
      return p.Error(word == "or" ? "OR is not supported; combine comparisons with AND"
                                  : "expected AND between comparisons");
    }
  }
}

Result<OrderBy> ParseOrderBy(const std::string& clause) {
  Parser p(clause);
  OrderBy order;
  GYRE_RETURN_IF_ERROR(p.Identifier(&order.entity, &order.key));
  if (p.AtEnd()) return order;
  std::string dir = Lower(p.Word());
  if (dir == "asc") {
    order.ascending = true;
  } else if (dir == "desc") {
    order.ascending = false;
  } else {
    return p.Error("expected ASC or DESC after the order-by key");
  }
  if (!p.AtEnd()) return p.Error("unexpected text after ASC/DESC");
  return order;
}

Result<std::vector<OrderBy>> ParseOrderByList(const std::vector<std::string>& clauses) {
  if (clauses.size() > kMaxOrderByTerms) {
    return Status::InvalidArgument(fmt::format("invalid order_by: {} clauses; at most {} are allowed", clauses.size(),
                                               kMaxOrderByTerms));
  }
  std::vector<OrderBy> out;
  out.reserve(clauses.size());
  for (const std::string& clause : clauses) {
    GYRE_ASSIGN_OR_RETURN(OrderBy o, ParseOrderBy(clause));
    out.push_back(std::move(o));
  }
  return out;
}

std::string_view CompareOpName(CompareOp op) {
  switch (op) {
    case CompareOp::kEq:
      return "=";
    case CompareOp::kNe:
      return "!=";
    case CompareOp::kGt:
      return ">";
    case CompareOp::kGe:
      return ">=";
    case CompareOp::kLt:
      return "<";
    case CompareOp::kLe:
      return "<=";
    case CompareOp::kLike:
      return "LIKE";
    case CompareOp::kILike:
      return "ILIKE";
    case CompareOp::kIn:
      return "IN";
    case CompareOp::kNotIn:
      return "NOT IN";
  }
  return "?";
}

std::string_view EntityTypeName(EntityType type) {
  switch (type) {
    case EntityType::kMetric:
      return "metric";
    case EntityType::kParam:
      return "param";
    case EntityType::kTag:
      return "tag";
    case EntityType::kAttribute:
      return "attribute";
    case EntityType::kDataset:
      return "dataset";
  }
  return "?";
}

}  // namespace gyre::tracking
