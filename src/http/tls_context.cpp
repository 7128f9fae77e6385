#include "http/tls_context.hpp"

#include <openssl/err.h>
#include <openssl/pkcs12.h>
#include <openssl/provider.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>

namespace webstream::http {
namespace {

// PFX files exported by Windows tools often use RC2/3DES (legacy algorithms): OpenSSL 3 only reads them
// with the legacy provider loaded (and the default one kept). Loaded once for the life of the process and
// unloaded at exit, before OpenSSL's own exit-time cleanup (atexit runs handlers in reverse order, and OpenSSL
// registered its cleanup when the first load initialised it): without the unload, OpenSSL's cleanup left the
// legacy provider's child library context behind, which LeakSanitizer reported whenever the process returned
// from main after reading a PFX (`webstream config check`, a gateway refusing its PFX: e2e test_config_check,
// test_tls and test_example_config on the asan build).
OSSL_PROVIDER* g_legacy_provider = nullptr;
OSSL_PROVIDER* g_default_provider = nullptr;

void unload_providers() {
  if (g_legacy_provider) OSSL_PROVIDER_unload(g_legacy_provider);
  if (g_default_provider) OSSL_PROVIDER_unload(g_default_provider);
  g_legacy_provider = nullptr;
  g_default_provider = nullptr;
}

void load_legacy_provider_once() {
  static const bool loaded = [] {
    g_legacy_provider = OSSL_PROVIDER_load(nullptr, "legacy");
    g_default_provider = OSSL_PROVIDER_load(nullptr, "default");
    ERR_clear_error();
    std::atexit(unload_providers);
    return true;
  }();
  (void)loaded;
}

int select_alpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in, unsigned int inlen,
                void*) {
  static const unsigned char kHttp11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, outlen, kHttp11, sizeof kHttp11, in, inlen) == OPENSSL_NPN_NEGOTIATED) {
    *out = selected;
    return SSL_TLSEXT_ERR_OK;
  }
  return SSL_TLSEXT_ERR_NOACK;  // a client without http/1.1 in its list still gets HTTP/1.1
}

struct Loaded {
  std::shared_ptr<boost::asio::ssl::context> context;
  std::string subject;
};

Result<Loaded> build(const std::string& file, const std::string& secret) {
  load_legacy_provider_once();
  std::ifstream in(file, std::ios::binary);
  if (!in) return Error::internal("cannot read PFX certificate file " + file);
  const std::string der((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  PKCS12* p12 = d2i_PKCS12(nullptr, &p, static_cast<long>(der.size()));
  if (!p12) return Error::internal("PFX certificate file " + file + " is not a PKCS#12 file");
  EVP_PKEY* key = nullptr;
  X509* cert = nullptr;
  STACK_OF(X509)* chain = nullptr;
  const int ok = PKCS12_parse(p12, secret.c_str(), &key, &cert, &chain);
  PKCS12_free(p12);
  ERR_clear_error();
  auto cleanup = [&] {
    EVP_PKEY_free(key);
    X509_free(cert);
    sk_X509_pop_free(chain, X509_free);
  };
  if (!ok) {
    cleanup();
    return Error::internal("cannot open PFX certificate file " + file +
                           " with the configured serverPfxSecret (wrong secret or damaged file)");
  }
  if (!key || !cert) {
    cleanup();
    return Error::internal("PFX certificate file " + file + " holds no private key and certificate");
  }
  if (X509_cmp_current_time(X509_get0_notAfter(cert)) <= 0) {
    cleanup();
    return Error::internal("the certificate in " + file + " has expired");
  }
  auto ctx = std::make_shared<boost::asio::ssl::context>(boost::asio::ssl::context::tls_server);
  SSL_CTX* native = ctx->native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  SSL_CTX_set_max_proto_version(native, TLS1_3_VERSION);
  SSL_CTX_set_options(native, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  SSL_CTX_set_cipher_list(native,
                          "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
                          "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305");
  SSL_CTX_set_session_cache_mode(native, SSL_SESS_CACHE_SERVER);
  SSL_CTX_set_alpn_select_cb(native, select_alpn, nullptr);
  bool good = SSL_CTX_use_certificate(native, cert) == 1 && SSL_CTX_use_PrivateKey(native, key) == 1;
  for (int i = 0; good && chain && i < sk_X509_num(chain); ++i) {
    X509* extra = sk_X509_value(chain, i);
    X509_up_ref(extra);
    if (SSL_CTX_add_extra_chain_cert(native, extra) != 1) {
      X509_free(extra);
      good = false;
    }
  }
  good = good && SSL_CTX_check_private_key(native) == 1;
  char subject[512] = {0};
  X509_NAME_oneline(X509_get_subject_name(cert), subject, sizeof subject - 1);
  cleanup();
  ERR_clear_error();
  if (!good) return Error::internal("the key and certificate in " + file + " do not form a usable pair");
  return Loaded{std::move(ctx), subject};
}
}  // namespace

Result<std::shared_ptr<TlsContextProvider>> TlsContextProvider::load(const std::string& pfx_file,
                                                                     const std::string& secret) {
  auto loaded = build(pfx_file, secret);
  if (!loaded) return loaded.error();
  auto provider = std::make_shared<TlsContextProvider>();
  provider->context_ = std::move(loaded->context);
  provider->subject_ = std::move(loaded->subject);
  return provider;
}

std::shared_ptr<boost::asio::ssl::context> TlsContextProvider::current() const {
  std::lock_guard lock(mutex_);
  return context_;
}

Status TlsContextProvider::reload(const std::string& pfx_file, const std::string& secret) {
  auto loaded = build(pfx_file, secret);
  if (!loaded) return loaded.error();
  std::lock_guard lock(mutex_);
  context_ = std::move(loaded->context);
  subject_ = std::move(loaded->subject);
  return Status::success();
}

std::string TlsContextProvider::subject() const {
  std::lock_guard lock(mutex_);
  return subject_;
}

}  // namespace webstream::http
