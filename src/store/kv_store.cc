#include "store/kv_store.h"

#include <fmt/format.h>

#include <charconv>
#include <filesystem>

#include "core/base64.h"
#include "store/kv_backends.h"

namespace gyre::store {
namespace {

constexpr std::string_view kRedisScheme = "redis://";
constexpr std::string_view kRocksDbScheme = "rocksdb://";

// Decodes %XX escapes; false on a malformed escape.
bool PercentDecode(std::string_view in, std::string* out) {
  out->clear();
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      *out += in[i];
      continue;
    }
    int hi = i + 1 < in.size() ? HexDigitValue(in[i + 1]) : -1;
    int lo = i + 2 < in.size() ? HexDigitValue(in[i + 2]) : -1;
    if (hi < 0 || lo < 0) return false;
    *out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return true;
}

// Parses a decimal number in [lo, hi] that fills all of `text`.
bool ParseInt(std::string_view text, int lo, int hi, int* out) {
  if (text.empty()) return false;
  int v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v < lo || v > hi) return false;
  *out = v;
  return true;
}

}  // namespace

std::string MaskRedisPassword(std::string_view url) {
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return std::string(url);
  std::string_view rest = url.substr(scheme_end + 3);
  size_t at = rest.rfind('@');  // the last '@': a raw password may itself hold '@', ':' or '/'
  if (at == std::string_view::npos) return std::string(url);
  std::string_view userinfo = rest.substr(0, at);
  size_t colon = userinfo.find(':');
  std::string_view user = colon == std::string_view::npos ? std::string_view() : userinfo.substr(0, colon + 1);
  return fmt::format("{}{}****{}", url.substr(0, scheme_end + 3), user, rest.substr(at));
}

Result<RedisEndpoint> ParseRedisUrl(std::string_view url) {
  auto bad = [&](std::string_view why) {
    return Status::InvalidArgument(fmt::format(
        "online store '{}': {} (expected redis://[[USER]:PASSWORD@]HOST[:PORT][/DB])", MaskRedisPassword(url), why));
  };
  if (!url.starts_with(kRedisScheme)) return bad("not a redis:// URL");
  std::string_view rest = url.substr(kRedisScheme.size());

  RedisEndpoint ep;
  size_t at = rest.rfind('@');  // the last '@': a raw password may itself hold '@', ':' or '/'
  if (at != std::string_view::npos) {
    std::string_view userinfo = rest.substr(0, at);
    size_t colon = userinfo.find(':');
    if (colon == std::string_view::npos) return bad("expected [USER]:PASSWORD before '@'");
    if (!PercentDecode(userinfo.substr(0, colon), &ep.user) ||
        !PercentDecode(userinfo.substr(colon + 1), &ep.password)) {
      return bad("malformed %-escape in the user or password");
    }
    if (ep.password.empty()) return bad("empty password before '@'");
    rest = rest.substr(at + 1);
  }
  size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  if (slash != std::string_view::npos) {
    std::string_view db = rest.substr(slash + 1);
    if (!db.empty() && !ParseInt(db, 0, 1 << 30, &ep.db)) {
      return bad(fmt::format("DB '{}' is not a number (query parameters are not supported)", db));
    }
  }
  std::string_view port;
  if (authority.starts_with('[')) {  // [IPv6]:port
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return bad("unclosed '[' in the host");
    ep.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return bad("expected ':PORT' after ']'");
      port = after.substr(1);
      if (port.empty()) return bad("empty port");
    }
  } else {
    size_t colon = authority.find(':');
    ep.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port = authority.substr(colon + 1);
      if (port.empty()) return bad("empty port");
    }
  }
  if (ep.host.empty()) return bad("no host");
  if (!port.empty() && !ParseInt(port, 1, 65535, &ep.port)) {
    return bad(fmt::format("port '{}' is not a number in 1..65535", port));
  }
  ep.display = ep.host.find(':') == std::string::npos ? fmt::format("{}:{}", ep.host, ep.port)
                                                      : fmt::format("[{}]:{}", ep.host, ep.port);
  return ep;
}

std::string PrintableKey(std::string_view key) {
  constexpr size_t kMax = 64;
  std::string out;
  for (size_t i = 0; i < key.size() && i < kMax; ++i) {
    auto c = static_cast<unsigned char>(key[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("\\x{:02x}", c);
    }
  }
  if (key.size() > kMax) out += "...";
  return out;
}

Result<std::unique_ptr<KvStore>> KvStore::Open(std::string_view url, const std::string& state_dir) {
  if (url == "memory") return NewMemoryKvStore();
  if (url.empty() || url == "rocksdb") {
    if (state_dir.empty()) {
      return Status::InvalidArgument("online store 'rocksdb': no state directory to keep it in");
    }
    return OpenRocksDbKvStore((std::filesystem::path(state_dir) / "online").string());
  }
  if (url.starts_with(kRocksDbScheme)) {
    std::filesystem::path path(url.substr(kRocksDbScheme.size()));
    if (path.empty()) return Status::InvalidArgument(fmt::format("online store '{}': no folder", url));
    if (path.is_relative()) {
      if (state_dir.empty()) {
        return Status::InvalidArgument(
            fmt::format("online store '{}': a relative folder needs a state directory", url));
      }
      path = std::filesystem::path(state_dir) / path;
    }
    return OpenRocksDbKvStore(path.lexically_normal().string());
  }
  if (url.starts_with(kRedisScheme)) {
    GYRE_ASSIGN_OR_RETURN(RedisEndpoint endpoint, ParseRedisUrl(url));
    return OpenRedisKvStore(endpoint);
  }
  if (url.starts_with("rediss://")) {
    return Status::Unimplemented(
        fmt::format("online store '{}': Redis over TLS is not supported", MaskRedisPassword(url)));
  }
  return Status::InvalidArgument(fmt::format(
      "online store '{}': expected memory, rocksdb, rocksdb:///PATH or redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]",
      MaskRedisPassword(url)));
}

}  // namespace gyre::store
