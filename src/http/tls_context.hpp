#pragma once
// TlsContextProvider: the HTTPS listener's OpenSSL context, built from a PKCS#12 (PFX) file.
// TLS 1.2 and 1.3 only, modern ciphers, ALPN http/1.1, server-side session resumption (tickets).
// reload() builds a new context from the file and swaps it in atomically: new connections use the new
// certificate, open ones keep theirs (each connection holds a shared_ptr to the context it started with).
#include <boost/asio/ssl/context.hpp>

#include <memory>
#include <mutex>
#include <string>

#include "core/error.hpp"

namespace webstream::http {

class TlsContextProvider {
 public:
  // Loads the PFX; Error names the file (never the secret) when it cannot be opened, the secret is
  // wrong, it holds no key/certificate, or the certificate has expired.
  static Result<std::shared_ptr<TlsContextProvider>> load(const std::string& pfx_file, const std::string& secret);

  std::shared_ptr<boost::asio::ssl::context> current() const;
  Status reload(const std::string& pfx_file, const std::string& secret);
  std::string subject() const;  // for logs: the certificate's subject, not secret

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<boost::asio::ssl::context> context_;
  std::string subject_;
};

}  // namespace webstream::http
