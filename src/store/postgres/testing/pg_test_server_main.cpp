// pg_test_server: the CTest fixture that gives a whole test run one throwaway PostgreSQL (pg_test_server.hpp).
//   pg_test_server start STATE_FILE   starts a server, writes STATE_FILE, exits leaving the server up
//   pg_test_server stop STATE_FILE    stops the server STATE_FILE describes, removes its dir and STATE_FILE
// `start` first stops a server a previous, interrupted run left behind in the same STATE_FILE.
#include <cstdio>
#include <filesystem>
#include <string>

#include "store/postgres/testing/pg_test_server.hpp"

namespace {

using webstream::store::pg::testing::PgTestServer;

void stop_described(const std::string& state_file) {
  auto server = PgTestServer::attach(state_file);
  if (server.ok()) {
    (*server)->take_ownership();
    (*server)->stop();
  }
  std::error_code ec;
  std::filesystem::remove(state_file, ec);
}

}  // namespace

int main(int argc, char** argv) {
  const std::string verb = argc == 3 ? argv[1] : "";
  if (verb != "start" && verb != "stop") {
    std::fprintf(stderr, "usage: pg_test_server start|stop STATE_FILE\n");
    return 2;
  }
  const std::string state_file = argv[2];
  if (verb == "stop") {
    stop_described(state_file);
    return 0;
  }
  if (std::filesystem::exists(state_file)) stop_described(state_file);
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(state_file).parent_path(), ec);
  auto server = PgTestServer::start();
  if (!server.ok()) {
    std::fprintf(stderr, "cannot start the test PostgreSQL: %s\n", server.error().message.c_str());
    return 1;
  }
  if (auto written = (*server)->write_state(state_file); !written.ok()) {
    std::fprintf(stderr, "%s\n", written.error().message.c_str());
    (*server)->take_ownership();
    return 1;  // the destructor stops the server
  }
  std::printf("test PostgreSQL on 127.0.0.1:%d, state in %s\n", (*server)->port(), state_file.c_str());
  return 0;
}
