// Throwaway certificates for the TLS tests: a self-signed certificate for CN=localhost with subjectAltName
// DNS:localhost and IP:127.0.0.1 (what `openssl req -x509 -newkey ... -subj /CN=localhost -addext
// subjectAltName=DNS:localhost,IP:127.0.0.1` makes), and its key, written as PEM files. ECDSA P-256 keys:
// generated in milliseconds, unlike RSA under the sanitizers.
#pragma once

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>

namespace gyre::http::testing {

struct TestCertificate {
  std::string cert;  // PEM file paths
  std::string key;
};

namespace internal {

struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};

inline void WritePem(const std::string& path, bool (*write)(std::FILE*, void*), void* object) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) throw std::runtime_error("cannot write " + path);
  bool ok = write(f, object);
  std::fclose(f);
  if (!ok) throw std::runtime_error("cannot write PEM to " + path);
}

inline std::unique_ptr<EVP_PKEY, KeyFree> NewKey() {
  std::unique_ptr<EVP_PKEY, KeyFree> key(EVP_EC_gen("P-256"));
  if (!key) throw std::runtime_error("EC key generation failed");
  return key;
}

inline void WriteKey(const std::string& path, EVP_PKEY* key) {
  WritePem(
      path,
      [](std::FILE* f, void* k) {
        return PEM_write_PrivateKey(f, static_cast<EVP_PKEY*>(k), nullptr, nullptr, 0, nullptr, nullptr) == 1;
      },
      key);
}

}  // namespace internal

// Writes <dir>/<name>.pem and <dir>/<name>-key.pem. `days_valid` < 0 makes an expired certificate.
inline TestCertificate MakeTestCertificate(const std::filesystem::path& dir, const std::string& name = "cert",
                                           int days_valid = 1) {
  auto key = internal::NewKey();
  std::unique_ptr<X509, internal::X509Free> cert(X509_new());
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
  long now_offset = days_valid < 0 ? 2L * days_valid * 86400 : 0;
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), now_offset);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(days_valid) * 86400);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* subject = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("localhost"), -1, -1,
                             0);
  X509_set_issuer_name(cert.get(), subject);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
  for (auto [nid, value] : {std::pair{NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1"},
                            std::pair{NID_basic_constraints, "critical,CA:TRUE"}}) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    if (ext == nullptr) throw std::runtime_error("certificate extension refused");
    X509_add_ext(cert.get(), ext, -1);
    X509_EXTENSION_free(ext);
  }
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) throw std::runtime_error("certificate signing failed");

  TestCertificate files{(dir / (name + ".pem")).string(), (dir / (name + "-key.pem")).string()};
  internal::WritePem(
      files.cert, [](std::FILE* f, void* x) { return PEM_write_X509(f, static_cast<X509*>(x)) == 1; }, cert.get());
  internal::WriteKey(files.key, key.get());
  return files;
}

// A fresh key that matches no certificate, written to `path`.
inline void WriteUnrelatedKey(const std::string& path) { internal::WriteKey(path, internal::NewKey().get()); }

}  // namespace gyre::http::testing
