#include "licence/signing_key.hpp"

#include <sodium.h>

#include <boost/json.hpp>

#include <mutex>
#include <stdexcept>

#include "core/encoding.hpp"
#include "licence/file_text.hpp"

namespace webstream::licence {

namespace json = boost::json;

void ensure_sodium() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (sodium_init() < 0) throw std::runtime_error("libsodium could not be initialised");
  });
}

bool valid_key_id(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

SigningKey generate_signing_key(std::string key_id) {
  ensure_sodium();
  SigningKey key;
  key.key_id = std::move(key_id);
  key.public_key.resize(crypto_sign_PUBLICKEYBYTES);
  key.secret_key.resize(crypto_sign_SECRETKEYBYTES);
  crypto_sign_keypair(reinterpret_cast<unsigned char*>(key.public_key.data()),
                      reinterpret_cast<unsigned char*>(key.secret_key.data()));
  return key;
}

std::string signing_key_text(const SigningKey& key) {
  json::object o;
  o["format"] = kKeyFormat;
  o["keyId"] = key.key_id;
  o["algorithm"] = "Ed25519";
  o["seed"] = base64url_encode(std::string_view(key.secret_key).substr(0, crypto_sign_SEEDBYTES));
  o["publicKey"] = base64url_encode(key.public_key);
  return json::serialize(o) + "\n";
}

Result<SigningKey> parse_signing_key(std::string_view text) {
  ensure_sodium();
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return Error::invalid("the private key file is not JSON");
  const auto& o = v.as_object();
  auto text_field = [&o](std::string_view name) -> std::string {
    auto it = o.find(name);
    return it != o.end() && it->value().is_string() ? std::string(it->value().get_string()) : std::string();
  };
  if (text_field("format") != kKeyFormat) {
    return Error::invalid("the private key file's format is not " + std::string(kKeyFormat));
  }
  if (text_field("algorithm") != "Ed25519") return Error::invalid("the private key's algorithm is not Ed25519");
  SigningKey key;
  key.key_id = text_field("keyId");
  if (!valid_key_id(key.key_id))
    return Error::invalid("the private key's keyId is missing or not 1..64 of [A-Za-z0-9._-]");
  auto seed = base64url_decode(text_field("seed"));
  if (!seed || seed->size() != crypto_sign_SEEDBYTES) {
    return Error::invalid("the private key's seed is not 32 bytes of base64url");
  }
  key.public_key.resize(crypto_sign_PUBLICKEYBYTES);
  key.secret_key.resize(crypto_sign_SECRETKEYBYTES);
  crypto_sign_seed_keypair(reinterpret_cast<unsigned char*>(key.public_key.data()),
                           reinterpret_cast<unsigned char*>(key.secret_key.data()),
                           reinterpret_cast<const unsigned char*>(seed->data()));
  sodium_memzero(seed->data(), seed->size());
  auto stated = base64url_decode(text_field("publicKey"));
  if (stated && *stated != key.public_key) {
    return Error::invalid("the private key file's publicKey does not belong to its seed");
  }
  return key;
}

Result<SigningKey> read_signing_key(const std::string& path) {
  FileText file = read_file_text(path, 16 * 1024);
  if (file.problem != ReadProblem::kNone) return Error::invalid("cannot read the private key " + file.detail);
  auto key = parse_signing_key(file.text);
  sodium_memzero(file.text.data(), file.text.size());
  if (!key) return Error::invalid(path + ": " + key.error().message);
  return key;
}

}  // namespace webstream::licence
