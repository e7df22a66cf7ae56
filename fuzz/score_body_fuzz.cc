// POST /v1/score/{deployment}'s body: the fast single-event parser (api/score_body.h) against the general
// path (http::ParseJson + TableFromRecords, which also serves "events" batches). Neither crashes; whenever
// the fast path answers, the general path accepts the body and builds the same row, bit for bit.
#include <bit>
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string_view>

#include "api/json_table.h"
#include "api/score_body.h"
#include "fuzz_util.h"
#include "http/json.h"

namespace {

using gyre::fuzz::Check;

const gyre::Schema& EventSchema() {
  static const gyre::Schema schema({{"event_id", gyre::ColumnType::kInt64},
                                    {"time", gyre::ColumnType::kTimestamp},
                                    {"user_id", gyre::ColumnType::kString},
                                    {"asn", gyre::ColumnType::kInt64},
                                    {"lat", gyre::ColumnType::kFloat64},
                                    {"success", gyre::ColumnType::kBool}});
  return schema;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace gyre;
  std::string_view body(reinterpret_cast<const char*>(data), size);
  std::optional<api::SingleEventBody> fast = api::TryParseSingleEvent(body, EventSchema());

  Result<nlohmann::json> doc = http::ParseJson(body);
  if (!doc.ok() || !doc->is_object()) {
    Check(!fast.has_value(), "the fast path answered a body the general path cannot parse");
    return 0;
  }
  const bool single = doc->contains("event");
  Result<Table> general = Status::InvalidArgument("no events");
  if (single) {
    general = api::TableFromRecords((*doc)["event"], "event", EventSchema());
  } else if (doc->contains("events")) {
    general = api::TableFromRecords((*doc)["events"], "events", EventSchema());
  }
  if (!fast) return 0;
  Check(single && general.ok(), "the fast path answered a body the general path refuses");
  const Table& a = fast->event;
  const Table& b = *general;
  Check(a.num_rows() == 1 && b.num_rows() == 1 && a.num_columns() == b.num_columns(), "tables differ in shape");
  for (int c = 0; c < a.num_columns(); ++c) {
    const Column& x = a.column(c);
    const Column& y = b.column(c);
    Check(x.IsNull(0) == y.IsNull(0), "a value is null on one path only");
    if (x.IsNull(0)) continue;
    if (x.type() == ColumnType::kFloat64) {
      Check(std::bit_cast<uint64_t>(x.Float64(0)) == std::bit_cast<uint64_t>(y.Float64(0)), "float values differ");
    } else {
      Check(x.ValueToString(0) == y.ValueToString(0), "values differ");
    }
  }
  return 0;
}
