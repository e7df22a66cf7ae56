#include "auth/auth_mode.h"

#include <fmt/format.h>

namespace gyre::auth {

bool IsLoopbackHost(const std::string& host) {
  return host == "localhost" || host == "::1" || host == "[::1]" || host.starts_with("127.");
}

Result<AuthDecision> DecideServerAuth(const std::string& flag, const std::string& config, const std::string& host) {
  for (const std::string* v : {&flag, &config}) {
    if (!v->empty() && *v != "required" && *v != "off") {
      return Status::InvalidArgument(fmt::format("auth mode '{}': expected required or off", *v));
    }
  }
  const std::string& chosen = !flag.empty() ? flag : config;
  AuthDecision d;
  d.required = chosen.empty() ? !IsLoopbackHost(host) : chosen == "required";
  if (!d.required && !IsLoopbackHost(host)) {
    d.warning = fmt::format(
        "authentication is OFF on {}, a non-loopback address: anyone who can reach this port can read, change "
        "and delete runs and models and move aliases. Use --auth required (the default here) with API tokens "
        "(gyre users add), or bind 127.0.0.1.",
        host);
  }
  return d;
}

}  // namespace gyre::auth
