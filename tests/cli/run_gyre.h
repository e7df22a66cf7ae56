// Runs the built `gyre` binary as a user would, for the CLI tests.
#pragma once

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

namespace gyre::testing {

inline const std::string kGyre = std::string(GYRE_BINARY_DIR) + "/gyre";

struct RunResult {
  int exit_code = -1;
  std::string out;  // stdout and stderr together
};

// `args` are passed through the shell.
inline RunResult RunGyre(const std::string& args) {
  RunResult r;
  std::string cmd = kGyre + " " + args + " 2>&1";
  FILE* pipe = ::popen(cmd.c_str(), "r");
  if (pipe == nullptr) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) r.out.append(buf.data(), n);
  int status = ::pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

}  // namespace gyre::testing
