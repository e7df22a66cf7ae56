// models' package descriptor (gyre-model.json: format, features, thresholds, reference distributions):
// parsed or refused, never a crash; a parsed descriptor serializes and parses back.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_util.h"
#include "models/model_package.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto descriptor = gyre::models::ParseDescriptor(text, "gyre-model.json");
  if (!descriptor.ok()) return 0;
  std::string again = gyre::models::SerializeDescriptor(*descriptor);
  auto reparsed = gyre::models::ParseDescriptor(again, "gyre-model.json");
  gyre::fuzz::Check(reparsed.ok(), "a parsed descriptor does not parse back after SerializeDescriptor");
  return 0;
}
