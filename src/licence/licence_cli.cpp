#include "licence/licence_cli.hpp"

#include <cstdio>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/encoding.hpp"
#include "core/ids.hpp"
#include "licence/file_text.hpp"
#include "licence/licence_file.hpp"
#include "licence/licence_time.hpp"

namespace webstream::licence {
namespace {

constexpr int kOk = 0;
constexpr int kNotValid = 1;
constexpr int kUsage = 2;

const char* const kUsageText =
    "usage: webstream license <command> [options]\n"
    "\n"
    "  issue  --key PRIVATE_KEY_FILE --licensee NAME --max N --expires DATE\n"
    "         [--not-before DATE] [--id ID] [--out FILE]\n"
    "         Signs a licence for N streamers. DATE: YYYY-MM-DD (UTC) or YYYY-MM-DDTHH:MM:SSZ;\n"
    "         --expires YYYY-MM-DD is valid through the end of that day. --not-before defaults to the\n"
    "         start of today (UTC). Writes to FILE, or to stdout.\n"
    "  show   FILE\n"
    "         Verifies FILE with the keys built into this binary and prints it. Exit 0 only when valid.\n"
    "  keygen --out-private FILE [--key-id ID] [--print-public]\n"
    "         Makes a production Ed25519 key pair. FILE (mode 0600) must not exist. Keep it off the\n"
    "         repository; put the public key's line (--print-public) in a keys file and build the gateway\n"
    "         with -DWEBSTREAM_LICENCE_TRUSTED_KEYS_FILE=KEYS_FILE (scripts/package.sh --keys KEYS_FILE).\n";

int usage_error(const std::string& message) {
  std::fprintf(stderr, "webstream license: %s\n%s", message.c_str(), kUsageText);
  return kUsage;
}

// Options "--name value" (and "--flag" for names in `flags`), plus positional arguments.
struct Parsed {
  std::map<std::string, std::string> options;
  std::set<std::string> flags;
  std::vector<std::string> positional;
  std::string error;
};

Parsed parse_args(int argc, char** argv, int start, const std::set<std::string>& valued,
                  const std::set<std::string>& flags) {
  Parsed p;
  for (int i = start; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--", 0) == 0) {
      std::string value;
      bool inline_value = false;
      if (auto eq = arg.find('='); eq != std::string::npos) {
        value = arg.substr(eq + 1);
        arg = arg.substr(0, eq);
        inline_value = true;
      }
      if (flags.count(arg)) {
        p.flags.insert(arg);
      } else if (valued.count(arg)) {
        if (!inline_value) {
          if (i + 1 >= argc) {
            p.error = arg + " needs a value";
            return p;
          }
          value = argv[++i];
        }
        p.options[arg] = value;
      } else {
        p.error = "unknown option " + arg;
        return p;
      }
    } else {
      p.positional.push_back(arg);
    }
  }
  return p;
}

// YYYY-MM-DD (+ `day_offset` days) or a full UTC timestamp.
std::optional<Millis> parse_cli_time(const std::string& text, int day_offset) {
  if (auto date = parse_date(text)) return *date + day_offset * kMillisPerDay;
  return parse_utc_timestamp(text);
}

void print_licence(const LicenceCheck& c) {
  std::printf("licence: %s\n", c.path.c_str());
  if (c.state == LicenceState::kInvalid) {
    std::printf("status: invalid (%s)\n", to_string(c.reason));
  } else {
    std::printf("status: %s\n", c.state == LicenceState::kValid     ? "valid"
                                : c.state == LicenceState::kExpired ? "expired"
                                                                    : "not yet valid");
  }
  if (!c.detail.empty()) std::printf("detail: %s\n", c.detail.c_str());
  if (!c.licence) return;
  const Licence& l = *c.licence;
  std::printf("id: %s\n", l.id.c_str());
  std::printf("licensee: %s\n", l.licensee.c_str());
  std::printf("maxStreamers: %lld\n", static_cast<long long>(l.max_streamers));
  std::printf("notBefore: %s\n", format_utc_timestamp(l.not_before).c_str());
  std::printf("expiresAt: %s\n", format_utc_timestamp(l.expires_at).c_str());
  if (l.issued_at != 0) std::printf("issuedAt: %s\n", format_utc_timestamp(l.issued_at).c_str());
  std::printf("keyId: %s%s\n", l.key_id.c_str(),
              l.development_key ? " (DEVELOPMENT key: for tests and demos only, never for production)" : "");
}

int show(int argc, char** argv) {
  Parsed p = parse_args(argc, argv, 2, {}, {});
  if (!p.error.empty()) return usage_error(p.error);
  if (p.positional.size() != 1) return usage_error("show needs exactly one FILE");
  const std::string& path = p.positional[0];
  FileText file = read_file_text(path, kMaxFileBytes);
  if (file.problem != ReadProblem::kNone) {
    std::fprintf(stderr, "webstream license: cannot read %s\n", file.detail.c_str());
    return kNotValid;
  }
  LicenceCheck c = check_licence_text(file.text, KeyRing::built_in(), SystemClock::instance().now_ms());
  c.path = path;
  print_licence(c);
  return c.state == LicenceState::kValid ? kOk : kNotValid;
}

int issue(int argc, char** argv) {
  Parsed p =
      parse_args(argc, argv, 2, {"--key", "--licensee", "--max", "--expires", "--not-before", "--id", "--out"}, {});
  if (!p.error.empty()) return usage_error(p.error);
  if (!p.positional.empty()) return usage_error("unexpected argument " + p.positional[0]);
  for (const char* required : {"--key", "--licensee", "--max", "--expires"}) {
    if (!p.options.count(required)) return usage_error(std::string("issue needs ") + required);
  }
  Licence l;
  l.licensee = p.options["--licensee"];
  try {
    std::size_t used = 0;
    const std::string& max = p.options["--max"];
    l.max_streamers = std::stoll(max, &used);
    if (used != max.size()) throw std::invalid_argument(max);
  } catch (const std::exception&) {
    return usage_error("--max must be a whole number");
  }
  auto expires = parse_cli_time(p.options["--expires"], 1);
  if (!expires) return usage_error("--expires must be YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ");
  l.expires_at = *expires;
  const Millis now = SystemClock::instance().now_ms();
  if (p.options.count("--not-before")) {
    auto not_before = parse_cli_time(p.options["--not-before"], 0);
    if (!not_before) return usage_error("--not-before must be YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ");
    l.not_before = *not_before;
  } else {
    l.not_before = now - now % kMillisPerDay;
  }
  l.issued_at = now - now % 1000;
  l.id = p.options.count("--id") ? p.options["--id"] : random_id("lic-");
  auto key = read_signing_key(p.options["--key"]);
  if (!key) {
    std::fprintf(stderr, "webstream license: %s\n", key.error().message.c_str());
    return kNotValid;
  }
  auto text = issue_licence(l, *key);
  if (!text) return usage_error(text.error().message);
  if (p.options.count("--out")) {
    if (auto s = write_file_text(p.options["--out"], *text, 0644, false); !s) {
      std::fprintf(stderr, "webstream license: cannot write %s\n", s.error().message.c_str());
      return kNotValid;
    }
    std::fprintf(stderr, "wrote %s: licence %s for %s, %lld streamers, until %s, signed with %s\n",
                 p.options["--out"].c_str(), l.id.c_str(), l.licensee.c_str(), static_cast<long long>(l.max_streamers),
                 format_utc_timestamp(l.expires_at).c_str(), key->key_id.c_str());
  } else {
    std::fwrite(text->data(), 1, text->size(), stdout);
  }
  return kOk;
}

int keygen(int argc, char** argv) {
  Parsed p = parse_args(argc, argv, 2, {"--out-private", "--key-id"}, {"--print-public"});
  if (!p.error.empty()) return usage_error(p.error);
  if (!p.positional.empty()) return usage_error("unexpected argument " + p.positional[0]);
  if (!p.options.count("--out-private")) return usage_error("keygen needs --out-private FILE");
  std::string key_id = p.options.count("--key-id") ? p.options["--key-id"] : random_id("prod-").substr(0, 13);
  if (!valid_key_id(key_id)) return usage_error("--key-id must be 1..64 of [A-Za-z0-9._-]");
  SigningKey key = generate_signing_key(key_id);
  if (auto s = write_file_text(p.options["--out-private"], signing_key_text(key), 0600, true); !s) {
    std::fprintf(stderr, "webstream license: cannot write the private key: %s\n", s.error().message.c_str());
    return kNotValid;
  }
  std::fprintf(stderr, "wrote private key %s (keyId %s, mode 0600): keep it out of the repository\n",
               p.options["--out-private"].c_str(), key_id.c_str());
  if (p.flags.count("--print-public")) {
    const std::string pub = base64url_encode(key.public_key);
    std::printf("keyId: %s\npublicKey: %s\ntrusted keys file line (WEBSTREAM_LICENCE_TRUSTED_KEYS_FILE): %s %s\n",
                key_id.c_str(), pub.c_str(), key_id.c_str(), pub.c_str());
  }
  return kOk;
}

}  // namespace

int run_licence_cli(int argc, char** argv) {
  if (argc < 2) return usage_error("a command is needed");
  const std::string command = argv[1];
  if (command == "--help" || command == "-h" || command == "help") {
    std::fputs(kUsageText, stdout);
    return kOk;
  }
  if (command == "issue") return issue(argc, argv);
  if (command == "show") return show(argc, argv);
  if (command == "keygen") return keygen(argc, argv);
  return usage_error("unknown command '" + command + "'");
}

}  // namespace webstream::licence
