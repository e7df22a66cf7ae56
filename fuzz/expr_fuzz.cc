// features' expression language (filters, `of:` and derived features in features.yaml): any text is
// compiled or refused with a located error; a compiled expression is evaluated on a row of nulls and on
// a row of values taken from the input's first bytes. Never a crash; the result has the compiled type.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "features/expr.h"
#include "fuzz_util.h"

namespace {

using gyre::Result;
using gyre::Status;
using gyre::features::ExprSlot;
using gyre::features::ExprType;
using gyre::features::ExprValue;

struct Column {
  std::string_view name;
  ExprType type;
};
constexpr Column kColumns[] = {
    {"success", ExprType::kBool},       {"mfa", ExprType::kBool},          {"country", ExprType::kString},
    {"event_type", ExprType::kString},  {"lat", ExprType::kNumber},        {"lon", ExprType::kNumber},
    {"time", ExprType::kTimestamp},     {"last_time", ExprType::kTimestamp}, {"amount", ExprType::kNumber},
    {"failed_1h", ExprType::kNumber},   {"s", ExprType::kString},          {"x", ExprType::kNumber},
};
constexpr size_t kNumColumns = std::size(kColumns);

Result<ExprSlot> Resolve(std::string_view name) {
  for (size_t i = 0; i < kNumColumns; ++i) {
    if (kColumns[i].name == name) return ExprSlot{static_cast<int>(i), kColumns[i].type};
  }
  return Status::NotFound("unknown column '" + std::string(name) + "'");
}

// One value per column from 8 bytes each (fewer bytes: null).
std::vector<ExprValue> Row(const uint8_t* bytes, size_t n, std::vector<std::string>* strings) {
  std::vector<ExprValue> row(kNumColumns);
  strings->assign(kNumColumns, std::string());
  for (size_t i = 0; i < kNumColumns && (i + 1) * 8 <= n; ++i) {
    const uint8_t* b = bytes + i * 8;
    if (b[0] == 0) continue;  // null
    int64_t bits;
    std::memcpy(&bits, b, sizeof(bits));
    switch (kColumns[i].type) {
      case ExprType::kBool: row[i] = ExprValue::Bool((b[1] & 1) != 0); break;
      case ExprType::kString:
        (*strings)[i].assign(reinterpret_cast<const char*>(b + 1), b[0] % 8);
        row[i] = ExprValue::String((*strings)[i]);
        break;
      case ExprType::kNumber: {
        double d;
        std::memcpy(&d, b, sizeof(d));
        row[i] = ExprValue::Number(d);
        break;
      }
      case ExprType::kTimestamp: row[i] = ExprValue::Timestamp(bits); break;
    }
  }
  return row;
}

void CheckType(const ExprValue& v, ExprType type) {
  if (v.is_null()) return;
  using Kind = ExprValue::Kind;
  bool ok = (type == ExprType::kBool && v.kind == Kind::kBool) ||
            (type == ExprType::kNumber && v.kind == Kind::kNumber) ||
            (type == ExprType::kString && v.kind == Kind::kString) ||
            (type == ExprType::kTimestamp && v.kind == Kind::kTimestamp);
  gyre::fuzz::Check(ok, "an expression's value is not of its compiled type");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Layout: one byte n, then n bytes of row values, then the expression's text.
  if (size == 0) return 0;
  size_t n = std::min<size_t>(data[0], size - 1);
  std::string_view text(reinterpret_cast<const char*>(data + 1 + n), size - 1 - n);
  Result<gyre::features::Expr> expr = gyre::features::Expr::Compile(text, Resolve, {"features.yaml", 3, 7});
  if (!expr.ok()) return 0;
  std::vector<ExprValue> nulls(kNumColumns);
  CheckType(expr->Evaluate(nulls), expr->type());
  (void)expr->Test(nulls);
  std::vector<std::string> strings;
  std::vector<ExprValue> row = Row(data + 1, n, &strings);
  CheckType(expr->Evaluate(row), expr->type());
  (void)expr->Test(row);
  return 0;
}
