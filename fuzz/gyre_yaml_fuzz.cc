// core's workspace configuration (gyre.yaml) through Workspace::LoadConfig, the strict YAML reader
// (core/config.h) under it: unknown keys, wrong types and out-of-range values are located errors, any
// text is loaded or refused, never a crash. LoadConfig reads a file, so each input is written to one
// scratch file first.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "core/workspace.h"

namespace {
std::string g_dir;
std::string g_path;
}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  char dir[] = "/tmp/gyre-yaml-fuzz.XXXXXX";
  if (mkdtemp(dir) == nullptr) std::abort();
  g_dir = dir;
  g_path = g_dir + "/gyre.yaml";
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FILE* f = std::fopen(g_path.c_str(), "wb");
  if (f == nullptr) std::abort();
  if (size > 0 && std::fwrite(data, 1, size, f) != size) std::abort();
  std::fclose(f);
  auto config = gyre::Workspace::LoadConfig(g_path, g_dir);
  (void)config;
  return 0;
}
