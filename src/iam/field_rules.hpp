#pragma once
// Field rules for IAM request bodies: what a name, a username, a password, an e-mail address, an id list
// may hold. Each check returns an Error (400 invalid_request) that names the field.
//
// Why no control characters: names, usernames, an app's exe and args, and a workspace's name travel to the
// session host in X-* headers (CONTRACT §8); CR, LF, NUL or any other C0/C1 control must never reach
// a header, a log line or a terminal.
// Thread rules: none (pure functions).
#include <boost/json/object.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace webstream::iam {

// The org bootstrap creates (id and name), where objects of a caller without an org go.
inline constexpr const char* kDefaultOrgId = "default";

inline constexpr std::size_t kMaxNameBytes = 128;
inline constexpr std::size_t kMaxIdBytes = 128;
inline constexpr std::size_t kMaxPasswordBytes = 1024;  // iam/passwords.hpp validate_new_password rules
inline constexpr std::size_t kMaxExeBytes = 1024;
inline constexpr std::size_t kMaxArgsBytes = 4096;
inline constexpr std::size_t kMaxEmailBytes = 254;
inline constexpr std::size_t kMaxListItems = 256;

// True when `s` holds a C0 control (U+0000–U+001F), DEL, or a C1 control (U+0080–U+009F as UTF-8).
bool has_control_characters(std::string_view s);

// A display name: 1..max bytes, no control characters, not only spaces.
Status check_name(std::string_view field, std::string_view value, std::size_t max = kMaxNameBytes);
// A login name: 1..128 bytes, no control characters and no white space.
Status check_username(std::string_view value);
// An e-mail address: empty (none) or up to 254 bytes with one '@' not at either end, no spaces/controls.
Status check_email(std::string_view value);
// Free text that may be empty (an app's args): up to max bytes, no control characters.
Status check_text(std::string_view field, std::string_view value, std::size_t max);

// Reads the optional string `field` of `body` and applies `check` when present.
Result<std::optional<std::string>> read_string(const boost::json::object& body, std::string_view field,
                                               std::size_t max);
// Reads the optional array of strings `field`; each item 1..max bytes without control characters;
// duplicates dropped (first kept).
Result<std::optional<std::vector<std::string>>> read_string_list(const boost::json::object& body,
                                                                 std::string_view field, std::size_t max = kMaxIdBytes);

// Paging query parameters: limit 1..1000 (default 50), offset >= 0 (default 0). "" means absent.
struct Paging {
  std::int64_t limit = 50;
  std::int64_t offset = 0;
};
Result<Paging> read_paging(std::string_view limit, std::string_view offset);

}  // namespace webstream::iam
