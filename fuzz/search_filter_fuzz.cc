// tracking's MLflow search grammar: a filter string and an order_by clause, as search_runs,
// search_experiments and search_model_versions receive them. Parsed or refused, never a crash; a parsed
// comparison is well formed (IN/NOT IN carry a list, the others a value).
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_util.h"
#include "tracking/search_filter.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace gyre::tracking;
  std::string text(reinterpret_cast<const char*>(data), size);
  auto filter = ParseFilter(text);
  if (filter.ok()) {
    for (const Comparison& c : *filter) {
      (void)CompareOpName(c.op);
      (void)EntityTypeName(c.entity);
      if (c.op != CompareOp::kIn && c.op != CompareOp::kNotIn) {
        gyre::fuzz::Check(c.list.empty(), "a list on a comparison that is not IN");
      }
    }
  }
  auto order = ParseOrderBy(text);
  if (order.ok()) (void)EntityTypeName(order->entity);
  return 0;
}
