// serving's deployments (deployments.yaml): models, feature sets, decisions, challengers, logs. Any text
// is parsed or refused with a located error, never a crash.
#include <cstddef>
#include <cstdint>
#include <string>

#include "serving/deployments.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string yaml(reinterpret_cast<const char*>(data), size);
  auto config = gyre::serving::ParseDeployments(yaml, "deployments.yaml", "/nonexistent-gyre-workspace");
  if (config.ok()) {
    for (const auto& d : config->deployments) (void)config->Find(d.name);
  }
  return 0;
}
