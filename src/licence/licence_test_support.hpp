#pragma once
// Test helpers for the licence tests: a key pair made on the spot, licences signed with it, temp dirs.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "licence/file_text.hpp"
#include "licence/licence_file.hpp"
#include "licence/licence_time.hpp"

namespace webstream::licence::testing {

// FakeClock's default start (2023-11-14T22:13:20Z) sits inside [kNotBefore, kExpiresAt).
inline Millis kNotBefore = *parse_utc_timestamp("2023-01-01T00:00:00Z");
inline Millis kExpiresAt = *parse_utc_timestamp("2024-01-01T00:00:00Z");

struct TestKeys {
  SigningKey key = generate_signing_key("test-1");
  SigningKey other = generate_signing_key("test-1");  // same id, different key: a forged signature
  KeyRing ring{{TrustedKey{.key_id = "test-1", .public_key = key.public_key, .development = false}}};
};

inline Licence licence_fields(std::int64_t max, Millis not_before = kNotBefore, Millis expires_at = kExpiresAt) {
  Licence l;
  l.id = "lic-test";
  l.licensee = "Example Ltd";
  l.max_streamers = max;
  l.not_before = not_before;
  l.expires_at = expires_at;
  l.issued_at = not_before;
  return l;
}

inline std::string signed_text(const SigningKey& key, const Licence& fields) {
  auto text = issue_licence(fields, key);
  EXPECT_TRUE(text.ok());
  return text.ok() ? text.value() : std::string();
}

// A directory under the system temp dir, removed with the object.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "webstream-licence-XXXXXX").string();
    path_ = mkdtemp(pattern.data()) ? pattern : std::string();
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  std::string write(const std::string& name, const std::string& text) const {
    const std::string p = file(name);
    EXPECT_TRUE(write_file_text(p, text, 0644, false).ok());
    return p;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace webstream::licence::testing
