#include "http/tls.h"

#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <spdlog/spdlog.h>

#include <boost/asio/ssl/context.hpp>
#include <ctime>
#include <filesystem>

#include "core/files.h"

namespace gyre::http {
namespace {

namespace ssl = boost::asio::ssl;

template <auto Free>
struct Deleter {
  template <typename T>
  void operator()(T* p) const {
    Free(p);
  }
};
using BioPtr = std::unique_ptr<BIO, Deleter<BIO_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509_free>>;
using KeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>>;

// Mozilla's "intermediate" TLS 1.2 suites: ECDHE/DHE key exchange, AEAD ciphers.
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
    "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305";

// The first queued OpenSSL error's reason ("no start line"), and clears the queue.
std::string TakeOpenSslError() {
  unsigned long first = ERR_get_error();
  ERR_clear_error();
  if (first == 0) return "no details from OpenSSL";
  if (ERR_GET_LIB(first) == ERR_LIB_SSL && ERR_GET_REASON(first) == SSL_R_EE_KEY_TOO_SMALL) {
    return "its key is too small for security level 2: RSA keys need 2048 bits or more";
  }
  if (ERR_GET_LIB(first) == ERR_LIB_SSL && ERR_GET_REASON(first) == SSL_R_CA_MD_TOO_WEAK) {
    return "signed with a digest too weak for security level 2, such as SHA-1";
  }
  const char* reason = ERR_reason_error_string(first);
  return reason != nullptr ? reason : fmt::format("OpenSSL error {:#x}", first);
}

// A passphrase prompt would block on the terminal: report it instead, through *asked.
int RefusePassphrase(char*, int, int, void* asked) {
  *static_cast<bool*>(asked) = true;
  return -1;
}

BioPtr MemoryBio(const std::string& text) {
  return BioPtr(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

Result<std::string> ReadPemFile(std::string_view what, const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return Status::InvalidArgument(fmt::format("{} {}: is a folder, not a PEM file", what, path));
  }
  Result<std::string> text = ReadFileToString(path);
  if (!text.ok()) return Status(text.status().code(), fmt::format("{} {}", what, text.status().message()));
  return text;
}

void WarnIfExpired(X509* cert, const std::string& cert_file) {
  const ASN1_TIME* not_after = X509_get0_notAfter(cert);
  if (X509_cmp_current_time(not_after) >= 0) return;
  std::tm tm{};
  ASN1_TIME_to_tm(not_after, &tm);
  spdlog::warn("TLS certificate {} expired on {:04}-{:02}-{:02}: clients will refuse it", cert_file, tm.tm_year + 1900,
               tm.tm_mon + 1, tm.tm_mday);
}

}  // namespace

Result<std::unique_ptr<ssl::context>> MakeServerTlsContext(const std::string& cert_file, const std::string& key_file) {
  GYRE_ASSIGN_OR_RETURN(std::string cert_pem, ReadPemFile("TLS certificate", cert_file));
  GYRE_ASSIGN_OR_RETURN(std::string key_pem, ReadPemFile("TLS key", key_file));
  ERR_clear_error();

  auto context = std::make_unique<ssl::context>(ssl::context::tls_server);
  SSL_CTX* ctx = context->native_handle();
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(ctx, SSL_OP_NO_SSLv2 | SSL_OP_NO_SSLv3 | SSL_OP_NO_TLSv1 | SSL_OP_NO_TLSv1_1 |
                               SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  // Idle keep-alive connections give their read and write buffers back (about 34 KiB each).
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  if (SSL_CTX_set_cipher_list(ctx, kTls12Ciphers) != 1) {
    return Status::Internal(fmt::format("TLS cipher list refused: {}", TakeOpenSslError()));
  }
  if (SSL_CTX_get_security_level(ctx) < 2) SSL_CTX_set_security_level(ctx, 2);
  SSL_CTX_set_dh_auto(ctx, 1);

  // The certificate chain: the server's certificate, then intermediates, in one PEM file.
  BioPtr cert_bio = MemoryBio(cert_pem);
  X509Ptr cert(PEM_read_bio_X509_AUX(cert_bio.get(), nullptr, nullptr, nullptr));
  if (cert == nullptr) {
    return Status::InvalidArgument(
        fmt::format("TLS certificate {}: no PEM certificate in it ({})", cert_file, TakeOpenSslError()));
  }
  if (SSL_CTX_use_certificate(ctx, cert.get()) != 1) {
    return Status::InvalidArgument(fmt::format("TLS certificate {}: refused ({})", cert_file, TakeOpenSslError()));
  }
  while (X509Ptr extra{PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr)}) {
    if (SSL_CTX_add0_chain_cert(ctx, extra.get()) != 1) {
      return Status::InvalidArgument(fmt::format("TLS certificate {}: an intermediate certificate is refused ({})",
                                                 cert_file, TakeOpenSslError()));
    }
    (void)extra.release();  // owned by the context now
  }
  ERR_clear_error();  // the loop ends on "no start line"

  bool asked_passphrase = false;
  BioPtr key_bio = MemoryBio(key_pem);
  KeyPtr key(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, RefusePassphrase, &asked_passphrase));
  if (key == nullptr) {
    if (asked_passphrase) {
      ERR_clear_error();
      return Status::InvalidArgument(
          fmt::format("TLS key {}: encrypted with a passphrase; gyre reads unencrypted keys only (decrypt it with "
                      "'openssl pkey -in {} -out KEY' and protect the file by its permissions)",
                      key_file, key_file));
    }
    return Status::InvalidArgument(
        fmt::format("TLS key {}: no PEM private key in it ({})", key_file, TakeOpenSslError()));
  }
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    ERR_clear_error();
    return Status::InvalidArgument(fmt::format("TLS key {} does not match the certificate {}", key_file, cert_file));
  }
  if (SSL_CTX_use_PrivateKey(ctx, key.get()) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
    return Status::InvalidArgument(fmt::format("TLS key {}: refused ({})", key_file, TakeOpenSslError()));
  }
  WarnIfExpired(cert.get(), cert_file);
  return context;
}

}  // namespace gyre::http
