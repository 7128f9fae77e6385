#include "store/postgres/testing/pg_test_server.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>

#include "store/postgres/pg_connection.hpp"

namespace webstream::store::pg::testing {
namespace {

namespace fs = std::filesystem;

std::string find_bindir() {
  if (const char* env = std::getenv("WEBSTREAM_PG_BINDIR"); env && *env) return env;
  std::vector<fs::path> versions;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    if (fs::exists(entry.path() / "bin" / "pg_ctl")) versions.push_back(entry.path() / "bin");
  }
  if (versions.empty()) return "";
  std::sort(versions.begin(), versions.end(), [](const fs::path& a, const fs::path& b) {
    return std::atoi(a.parent_path().filename().c_str()) < std::atoi(b.parent_path().filename().c_str());
  });
  return versions.back().string();
}

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

std::string tail(const std::string& path, std::size_t max = 600) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  auto s = ss.str();
  if (s.size() > max) s = "…" + s.substr(s.size() - max);
  std::replace(s.begin(), s.end(), '\n', ' ');
  return s;
}

// The gtest Environment that stops the shared server when the binary's tests are done.
std::mutex g_mutex;
std::unique_ptr<PgTestServer> g_server;  // GUARDED_BY(g_mutex)
std::optional<Error> g_error;            // GUARDED_BY(g_mutex)

// With a server of the CTest fixture, the databases this process made are dropped and the server stays.
class StopSharedServer final : public ::testing::Environment {
 public:
  void TearDown() override {
    std::lock_guard lock(g_mutex);
    if (g_server) {
      if (!g_server->owned()) g_server->drop_created_databases();  // an owned server goes whole
      g_server->stop();
    }
    g_server.reset();
  }
};
[[maybe_unused]] ::testing::Environment* const g_environment =
    ::testing::AddGlobalTestEnvironment(new StopSharedServer);

}  // namespace

Result<std::unique_ptr<PgTestServer>> PgTestServer::start(bool durable) {
  std::unique_ptr<PgTestServer> s(new PgTestServer());
  s->bindir_ = find_bindir();
  if (s->bindir_.empty()) {
    return Error::internal(
        "PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin (install the postgresql package: "
        "scripts/setup.sh) or set WEBSTREAM_PG_BINDIR");
  }
  char tmpl[] = "/tmp/wspg-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) return Error::internal("cannot create a temp dir for PostgreSQL");
  s->dir_ = tmpl;
  std::string run = "cd " + s->dir_ + " && ";
  if (::geteuid() == 0) {
    // PostgreSQL refuses to run as root: run it as nobody, in a dir nobody owns.
    const passwd* nobody = ::getpwnam("nobody");
    if (nobody == nullptr) return Error::internal("running as root and there is no user 'nobody' to run PostgreSQL");
    if (::chown(s->dir_.c_str(), nobody->pw_uid, nobody->pw_gid) != 0) {
      return Error::internal("cannot chown " + s->dir_ + " to nobody");
    }
    s->as_nobody_ = true;
    run += "runuser -u nobody -- ";
  }
  const std::string log = s->dir_ + "/setup.log";
  const std::string initdb = run + s->bindir_ + "/initdb -D " + s->dir_ + "/data -U postgres -A trust -E UTF8" +
                             " --locale=C --no-sync >" + log + " 2>&1";
  if (std::system(initdb.c_str()) != 0) {
    auto why = tail(log);
    s->stop();
    return Error::internal("initdb failed: " + why);
  }
  // max_connections 400: under CTest the test processes running side by side share one server, each with
  // its pools (some tests open a few gateways' worth).
  for (int attempt = 0; attempt < 3; ++attempt) {
    s->port_ = free_port();
    const std::string options =
        "-p " + std::to_string(s->port_) + " -k " + s->dir_ +
        " -c listen_addresses=127.0.0.1 -c max_connections=400 -c shared_buffers=32MB" +
        std::string(durable ? "" : " -c fsync=off -c synchronous_commit=off -c full_page_writes=off");
    const std::string start = run + s->bindir_ + "/pg_ctl -D " + s->dir_ + "/data -l " + s->dir_ +
                              "/server.log -w -t 60 -o '" + options + "' start >" + log + " 2>&1";
    if (std::system(start.c_str()) == 0) {
      s->running_ = true;
      return s;
    }
  }
  auto why = tail(s->dir_ + "/server.log");
  s->stop();
  return Error::internal("pg_ctl start failed: " + why);
}

Result<PgTestServer*> PgTestServer::shared() {
  std::lock_guard lock(g_mutex);
  if (g_server) return g_server.get();
  if (g_error) return *g_error;
  const char* state = std::getenv("WEBSTREAM_TEST_PG_SERVER");
  auto started = state != nullptr && *state != '\0' ? attach(state) : start();
  if (!started) {
    g_error = started.error();
    return started.error();
  }
  g_server = std::move(started.value());
  return g_server.get();
}

Result<std::unique_ptr<PgTestServer>> PgTestServer::attach(const std::string& state_file) {
  std::ifstream in(state_file);
  if (!in) {
    return Error::internal("no test PostgreSQL state in " + state_file +
                           " (is the CTest fixture pg_test_server.start run?)");
  }
  std::unique_ptr<PgTestServer> s(new PgTestServer());
  std::string line;
  while (std::getline(in, line)) {
    const auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    const auto key = line.substr(0, eq);
    const auto value = line.substr(eq + 1);
    if (key == "dir") s->dir_ = value;
    if (key == "bindir") s->bindir_ = value;
    if (key == "port") s->port_ = std::atoi(value.c_str());
    if (key == "as_nobody") s->as_nobody_ = value == "1";
  }
  if (s->dir_.empty() || s->bindir_.empty() || s->port_ <= 0 || s->port_ > 65535) {
    s->dir_.clear();  // nothing of ours to remove
    return Error::internal("malformed test PostgreSQL state in " + state_file);
  }
  s->running_ = true;
  s->owned_ = false;
  return s;
}

Status PgTestServer::write_state(const std::string& state_file) {
  const auto partial = state_file + ".partial";
  {
    std::ofstream out(partial, std::ios::trunc);
    out << "dir=" << dir_ << "\nbindir=" << bindir_ << "\nport=" << port_ << "\nas_nobody=" << (as_nobody_ ? 1 : 0)
        << "\n";
    if (!out.flush()) return Error::internal("cannot write " + partial);
  }
  std::error_code ec;
  fs::rename(partial, state_file, ec);  // a reader sees the whole file or none
  if (ec) return Error::internal("cannot rename " + partial + ": " + ec.message());
  owned_ = false;
  return {};
}

void PgTestServer::drop_created_databases() {
  if (!running_ || created_.empty()) return;
  auto admin = PgConnection::open(conninfo("postgres"), "test server");
  if (!admin) return;  // the server is gone: nothing left to drop
  for (const auto& name : created_) {
    try {
      (*admin)->exec_script("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
    } catch (const PgError&) {
      // Best effort: the fixture's stop step removes the whole server anyway.
    }
  }
  created_.clear();
}

PgTestServer::~PgTestServer() { stop(); }

std::string PgTestServer::conninfo(const std::string& dbname) const {
  return "host=" + dir_ + " port=" + std::to_string(port_) + " user=postgres dbname=" + dbname;
}

std::string PgTestServer::tcp_conninfo(const std::string& dbname) const {
  return "host=127.0.0.1 port=" + std::to_string(port_) + " user=postgres dbname=" + dbname;
}

Result<std::string> PgTestServer::create_database() {
  // Numbered per process, not per object: two objects on one server (a test attached beside the shared one) must
  // not make the same name.
  static std::atomic<int> next_db{0};
  const std::string name = "t" + std::to_string(::getpid()) + "_" + std::to_string(++next_db);
  auto admin = PgConnection::open(conninfo("postgres"), "test server");
  if (!admin) return admin.error();
  try {
    (*admin)->exec_script("CREATE DATABASE " + name + " TEMPLATE template0");
    created_.push_back(name);
  } catch (const PgError& e) {
    return Error::internal("CREATE DATABASE failed: " + e.message);
  }
  return conninfo(name);
}

void PgTestServer::stop() {
  if (dir_.empty()) return;
  if (!owned_) {  // another process's server (attached) or one handed over by write_state(): leave it up
    dir_.clear();
    return;
  }
  if (running_) {
    std::string run = "cd " + dir_ + " && ";
    if (as_nobody_) run += "runuser -u nobody -- ";
    const std::string cmd = run + bindir_ + "/pg_ctl -D " + dir_ + "/data -m immediate -w stop >/dev/null 2>&1";
    [[maybe_unused]] const int rc = std::system(cmd.c_str());
    running_ = false;
  }
  std::error_code ec;
  fs::remove_all(dir_, ec);
  dir_.clear();
}

Result<std::string> fresh_database() {
  auto server = PgTestServer::shared();
  if (!server) return Error::internal("cannot start the test PostgreSQL: " + server.error().message);
  return (*server)->create_database();
}

}  // namespace webstream::store::pg::testing
