#include "iam/iam_cli.hpp"

#include <sodium.h>

#include <algorithm>
#include <iostream>
#include <map>

#include "core/ids.hpp"
#include "iam/field_rules.hpp"
#include "iam/user_service.hpp"
#include "store/sqlite/sqlite_iam_store.hpp"

namespace webstream::iam {

namespace {

constexpr int kOk = 0;
constexpr int kFailed = 1;
constexpr int kUsage = 2;

constexpr const char* kUsageText =
    "usage: webstream iam user create --username U --password-stdin [--role admin|org-admin|user]... [--org ID]\n"
    "       webstream iam user reset-password --username U --password-stdin\n"
    "       webstream iam user list\n"
    "       webstream iam user enable|disable --username U\n"
    "Passwords are read from the first line of standard input.\n";

struct Options {
  std::string username;
  std::vector<std::string> roles;
  std::string org;
  bool password_stdin = false;
};

// Parses "--name value" and "--name=value" options after the sub-command. Error text on failure.
Result<Options> parse_options(const std::vector<std::string>& args, std::size_t from) {
  Options o;
  for (std::size_t i = from; i < args.size(); ++i) {
    std::string name = args[i];
    std::string value;
    bool has_value = false;
    if (const auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_value = true;
    }
    if (name == "--password-stdin") {
      o.password_stdin = true;
      continue;
    }
    if (name != "--username" && name != "--role" && name != "--org") {
      return Error::invalid("unknown option " + name);
    }
    if (!has_value) {
      if (i + 1 >= args.size()) return Error::invalid(name + " needs a value");
      value = args[++i];
    }
    if (name == "--username") o.username = value;
    if (name == "--role") o.roles.push_back(value);
    if (name == "--org") o.org = value;
  }
  return o;
}

// Every CLI change is audited as "cli".
const AuditActor kCli{"cli", "cli"};

Result<std::string> read_password(std::istream& in) {
  std::string line;
  std::getline(in, line);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  if (auto s = validate_new_password(line, "password"); !s) {
    sodium_memzero(line.data(), line.size());
    return s.error();
  }
  return line;
}

// The org named by --org (an id, else a name), or "default" (created when missing).
Result<std::string> resolve_org(store::IamStore& store, const Clock& clock, const std::string& named) {
  if (!named.empty()) {
    if (auto by_id = store.get_org(named)) return by_id->id;
    if (auto by_name = store.find_org_by_name(named)) return by_name->id;
    return Error::not_found("not_found", "no org '" + named + "'");
  }
  if (auto found = store.get_org(kDefaultOrgId)) return found->id;
  const Millis now = clock.now_ms();
  store::OrgRow org{kDefaultOrgId, kDefaultOrgId, std::nullopt, now, now};
  store::AuditRow a{random_id("aud_"), now, "cli", "cli", "create", "org", org.id, org.id};
  if (auto s = store.create_org(org, a); !s) return s.error();
  return org.id;
}

int fail(std::ostream& err, const Error& e) {
  err << "webstream iam: " << e.message << "\n";
  return e.status == 400 ? kUsage : kFailed;
}

int create_user(const Options& o, const UserService& users, store::IamStore& store, const Clock& clock,
                std::istream& in, std::ostream& out, std::ostream& err) {
  if (o.username.empty() || !o.password_stdin) {
    err << "webstream iam user create: --username and --password-stdin are required\n" << kUsageText;
    return kUsage;
  }
  if (auto s = check_username(o.username); !s) return fail(err, s.error());
  for (const auto& r : o.roles) {
    if (!is_user_role(r)) {
      err << "webstream iam: --role must be admin, org-admin or user\n";
      return kUsage;
    }
  }
  auto password = read_password(in);
  if (!password) return fail(err, password.error());
  auto org = resolve_org(store, clock, o.org);
  if (!org) {
    sodium_memzero(password->data(), password->size());
    return fail(err, org.error());
  }
  NewUser user;
  user.org_id = *org;
  user.username = o.username;
  user.roles = o.roles;  // none: the service's default, "user"
  auto created = users.create(std::move(user), *password, kCli);
  sodium_memzero(password->data(), password->size());
  if (!created) return fail(err, created.error());
  out << "created user " << created->username << " (" << created->id << ") in org " << created->org_id << "\n";
  return kOk;
}

int change_user(const std::string& what, const Options& o, const UserService& users, store::IamStore& store,
                std::istream& in, std::ostream& out, std::ostream& err) {
  if (o.username.empty() || (what == "reset-password" && !o.password_stdin)) {
    err << "webstream iam user " << what << ": --username"
        << (what == "reset-password" ? " and --password-stdin are" : " is") << " required\n"
        << kUsageText;
    return kUsage;
  }
  auto user = store.find_user_by_username(o.username);
  if (!user)
    return fail(err,
                user.error().status == 404 ? Error{404, "not_found", "no user '" + o.username + "'"} : user.error());
  auto changed = [&]() -> Status {
    if (what != "reset-password") {
      auto row = users.set_disabled(*user, what == "disable", kCli);
      return row ? Status::success() : Status(row.error());
    }
    auto password = read_password(in);
    if (!password) return password.error();
    auto done = users.set_password(*user, *password, kCli);
    sodium_memzero(password->data(), password->size());
    return done;
  }();
  if (!changed) return fail(err, changed.error());
  out << (what == "reset-password" ? "password reset for "
          : what == "disable"      ? "disabled "
                                   : "enabled ")
      << user->username << " (" << user->id << ")\n";
  return kOk;
}

int list_users(store::IamStore& store, std::ostream& out, std::ostream& err) {
  out << "id\tusername\torg\troles\tdisabled\n";
  for (std::int64_t offset = 0;; offset += 1000) {
    auto page = store.list_users(store::ListQuery{std::nullopt, 1000, offset});
    if (!page) return fail(err, page.error());
    for (const auto& u : page->items) {
      std::string roles;
      for (const auto& r : u.roles) roles += (roles.empty() ? "" : ",") + r;
      out << u.id << '\t' << u.username << '\t' << u.org_id << '\t' << roles << '\t' << (u.disabled ? "yes" : "no")
          << '\n';
    }
    if (page->items.size() < 1000) break;
  }
  return kOk;
}

}  // namespace

int run_iam_command(const std::vector<std::string>& args, store::IamStore& store, const PasswordHasher& passwords,
                    const Clock& clock, std::istream& in, std::ostream& out, std::ostream& err) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    (args.empty() ? err : out) << kUsageText;
    return args.empty() ? kUsage : kOk;
  }
  if (args[0] != "user" || args.size() < 2) {
    err << "webstream iam: unknown command\n" << kUsageText;
    return kUsage;
  }
  const std::string& what = args[1];
  auto options = parse_options(args, 2);
  if (!options) {
    err << "webstream iam: " << options.error().message << "\n" << kUsageText;
    return kUsage;
  }
  const UserService users(store, passwords, clock);  // no gateway to tell: the cutoff is now + 1 s
  if (what == "create") return create_user(*options, users, store, clock, in, out, err);
  if (what == "reset-password" || what == "enable" || what == "disable") {
    return change_user(what, *options, users, store, in, out, err);
  }
  if (what == "list") return list_users(store, out, err);
  err << "webstream iam: unknown command 'user " << what << "'\n" << kUsageText;
  return kUsage;
}

int run_iam_cli(int argc, char** argv, const std::string& store_path, PasswordParams params) {
  std::vector<std::string> args(argv + (argc > 0 ? 1 : 0), argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    (args.empty() ? std::cerr : std::cout) << kUsageText;  // no store needed
    return args.empty() ? kUsage : kOk;
  }
  auto db = store::SqliteDb::open(store_path);
  if (!db) {
    std::cerr << "webstream iam: " << db.error().message << "\n";
    return kFailed;
  }
  auto store = store::SqliteIamStore::open(**db);
  if (!store) {
    std::cerr << "webstream iam: " << store.error().message << "\n";
    return kFailed;
  }
  PasswordHasher passwords(params);
  return run_iam_command(args, **store, passwords, SystemClock::instance(), std::cin, std::cout, std::cerr);
}

}  // namespace webstream::iam
