// Whether a server checks credentials: `gyre server --auth required|off`, else gyre.yaml's server.auth,
// else required unless the server binds a loopback address (127.0.0.0/8, ::1, localhost). Running without
// authentication on any other address must be asked for explicitly, and earns a warning.
#pragma once

#include <string>

#include "core/status.h"

namespace gyre::auth {

struct AuthDecision {
  bool required = false;
  std::string warning;  // non-empty: print it (authentication off on a non-loopback address)
};

// `flag` and `config` are "required", "off" or empty (not given); the flag wins. InvalidArgument for any
// other value.
Result<AuthDecision> DecideServerAuth(const std::string& flag, const std::string& config, const std::string& host);

// 127.0.0.0/8, ::1 (with or without brackets) and "localhost".
bool IsLoopbackHost(const std::string& host);

}  // namespace gyre::auth
