#include "auth/secrets.h"

#include <sodium.h>

#include <cstdlib>

namespace gyre::auth {

namespace {

constexpr std::string_view kPrefix = "gyre_";
constexpr size_t kIdHex = 12;
constexpr size_t kSecretHex = 64;

void InitSodium() {
  // sodium_init is safe to call repeatedly and from several threads; a negative result means no entropy
  // source: nothing here may then run.
  static const int ok = sodium_init();
  if (ok < 0) std::abort();
}

std::string RandomHex(size_t bytes) {
  std::string raw(bytes, '\0');
  randombytes_buf(raw.data(), raw.size());
  std::string hex(bytes * 2 + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), reinterpret_cast<const unsigned char*>(raw.data()), raw.size());
  hex.pop_back();
  return hex;
}

bool IsLowerHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

KdfCost InteractiveKdf() { return {crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE}; }

Result<std::string> HashSecret(std::string_view secret, KdfCost cost) {
  InitSodium();
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, secret.data(), secret.size(), cost.ops, cost.mem_bytes,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return Status::ResourceExhausted("Argon2id could not get its memory to hash a secret");
  }
  return std::string(out);
}

bool VerifySecret(std::string_view secret, const std::string& hash) {
  InitSodium();
  if (hash.size() >= crypto_pwhash_STRBYTES) return false;
  return crypto_pwhash_str_verify(hash.c_str(), secret.data(), secret.size()) == 0;
}

TokenParts NewToken() {
  InitSodium();
  TokenParts t;
  t.id = RandomHex(kIdHex / 2);
  t.secret = std::string(kPrefix) + t.id + "_" + RandomHex(kSecretHex / 2);
  return t;
}

std::string_view TokenId(std::string_view token) {
  if (token.size() != kPrefix.size() + kIdHex + 1 + kSecretHex || !token.starts_with(kPrefix)) return {};
  std::string_view id = token.substr(kPrefix.size(), kIdHex);
  if (token[kPrefix.size() + kIdHex] != '_' || !IsLowerHex(id) ||
      !IsLowerHex(token.substr(kPrefix.size() + kIdHex + 1))) {
    return {};
  }
  return id;
}

std::string CacheKey(std::string_view token) {
  InitSodium();
  std::string key(crypto_generichash_BYTES, '\0');
  crypto_generichash(reinterpret_cast<unsigned char*>(key.data()), key.size(),
                     reinterpret_cast<const unsigned char*>(token.data()), token.size(), nullptr, 0);
  return key;
}

}  // namespace gyre::auth
