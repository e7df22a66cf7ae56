// Secrets: libsodium's Argon2id for stored hashes, its CSPRNG for new tokens, BLAKE2b for cache keys.
//
// API tokens read "gyre_<id>_<secret>": <id> is 12 hex digits, public (it finds the token's row and is what
// `gyre tokens list|revoke` show), <secret> 64 hex digits (32 random bytes). Only an Argon2id hash of the
// whole token is stored. Thread-safe (libsodium is initialised once, on first use).
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace gyre::auth {

// Argon2id cost. Interactive (libsodium's OPSLIMIT/MEMLIMIT_INTERACTIVE: 2 passes over 64 MiB, tens of ms)
// is the default; tests may pass kFastKdf.
struct KdfCost {
  unsigned long long ops;
  size_t mem_bytes;
};
KdfCost InteractiveKdf();
inline constexpr KdfCost kFastKdf{1, 8 << 10};  // libsodium's minimum: for tests only

// crypto_pwhash_str: an encoded "$argon2id$v=19$m=...,t=...,p=1$salt$hash" string with its own salt.
// ResourceExhausted if the memory cannot be had.
Result<std::string> HashSecret(std::string_view secret, KdfCost cost);
// Constant-time check of `secret` against HashSecret's output. False on any mismatch or malformed hash.
bool VerifySecret(std::string_view secret, const std::string& hash);

struct TokenParts {
  std::string id;      // 12 hex digits
  std::string secret;  // the whole token text, "gyre_<id>_<64 hex digits>"
};
// A new random token.
TokenParts NewToken();
// The id of a well-formed token, or empty when `token` is not one (then no row can match it).
std::string_view TokenId(std::string_view token);

// BLAKE2b-256 of `token`: the in-memory cache's key (so the cache never holds a token itself).
std::string CacheKey(std::string_view token);

}  // namespace gyre::auth
