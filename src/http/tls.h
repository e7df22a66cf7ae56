// TLS for gyre's server: an OpenSSL server context built from a PEM certificate and key (Boost.Asio's
// ssl::context), speaking TLS 1.2 and 1.3 only.
//
//   GYRE_ASSIGN_OR_RETURN(std::unique_ptr<boost::asio::ssl::context> tls,
//                         http::MakeServerTlsContext("/etc/gyre/cert.pem", "/etc/gyre/key.pem"));
//
// Settings: minimum TLS 1.2 (SSLv2/3, TLS 1.0 and 1.1 off); TLS 1.2 cipher suites forward-secret AEAD only
// (Mozilla's "intermediate" list), TLS 1.3 suites OpenSSL's defaults; OpenSSL security level at least 2
// (RSA/DH keys of 2048 bits or more); no compression, no renegotiation.
//
// The context is immutable once made and shared by every connection (OpenSSL's SSL_CTX is thread-safe
// for that use). Server::Create calls this when ServerOptions names a certificate and key.
#pragma once

#include <memory>
#include <string>

#include "core/status.h"

namespace boost::asio::ssl {
class context;
}

namespace gyre::http {

// `cert_file`: PEM, the server's certificate first, then any intermediates. `key_file`: PEM, the
// certificate's private key, unencrypted (PKCS#8, PKCS#1 or SEC1). Errors name the file and what is wrong:
// NotFound (no such file), IOError (unreadable), InvalidArgument (not PEM, no certificate or key in it, a
// passphrase-protected key, a key that does not match the certificate, a key too weak for security
// level 2). An expired certificate is accepted with a warning in the log (clients will refuse it).
Result<std::unique_ptr<boost::asio::ssl::context>> MakeServerTlsContext(const std::string& cert_file,
                                                                        const std::string& key_file);

}  // namespace gyre::http
