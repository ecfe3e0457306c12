// The plugin process as SPIRE's catalog sees it: cookie check, handshake, framework services,
// Init/Deinit, unload order, signals, parent death, and the shape of every stderr line. No
// Akeyless gateway is needed here.

#include <sys/stat.h>

#include <fstream>
#include <regex>

#include <catch2/catch.hpp>

#include "hclog_rules.hpp"
#include "plugin_host.hpp"

using namespace plugin_test;
using namespace std::chrono_literals;

namespace {

// check_stderr_lines asserts that every stderr line would be parsed as a JSON log entry by
// SPIRE's host.
void check_stderr_lines(const GoPluginHost& host) {
  const std::vector<std::string> lines = host.stderr_lines();
  for (const std::string& line : lines) {
    INFO("stderr line: " << line.substr(0, 300));
    CHECK(hclog_line_problem(line).empty());
  }
}

bool path_exists(const std::string& path) {
  struct stat info {};
  return ::lstat(path.c_str(), &info) == 0;
}

bool is_socket(const std::string& path) {
  struct stat info {};
  return ::lstat(path.c_str(), &info) == 0 && S_ISSOCK(info.st_mode);
}

}  // namespace

TEST_CASE("without the magic cookie the plugin explains itself on stderr and exits with status 1") {
  LaunchOptions options;
  options.cookie = false;
  RunResult run = run_to_completion(options);
  CHECK(run.status.exited);
  CHECK(run.status.code == 1);
  CHECK(run.out.empty());
  CHECK(run.err.find("not meant to be executed directly") != std::string::npos);
}

TEST_CASE("a wrong cookie value is refused like a missing one") {
  LaunchOptions options;
  options.cookie = false;
  options.extra_env = {{"UpstreamAuthority", "KeyManager"}};
  RunResult run = run_to_completion(options);
  CHECK(run.status.exited);
  CHECK(run.status.code == 1);
  CHECK(run.out.empty());
}

TEST_CASE("--version and --help answer without the cookie") {
  LaunchOptions version;
  version.cookie = false;
  version.args = {"--version"};
  RunResult run = run_to_completion(version);
  CHECK(run.status.exited);
  CHECK(run.status.code == 0);
  CHECK(run.out.rfind("akeyless-upstream-sm ", 0) == 0);

  LaunchOptions help;
  help.cookie = false;
  help.args = {"--help"};
  run = run_to_completion(help);
  CHECK(run.status.code == 0);
  CHECK(run.out.find("check --config FILE --trust-domain") != std::string::npos);
}

TEST_CASE(
    "the handshake line is 1|1|unix|<socket in TMPDIR>|grpc| and the socket already listens") {
  GoPluginHost host;
  std::optional<std::string> line = host.read_handshake();
  REQUIRE(line.has_value());

  const std::regex format(R"(^1\|1\|unix\|([^|]+)\|grpc\|$)");
  std::smatch match;
  REQUIRE(std::regex_match(*line, match, format));
  const std::string path = match[1];
  CHECK(path.rfind(host.tmpdir() + "/plugin", 0) == 0);
  // Listening before printing: the socket exists the moment the line is read.
  CHECK(is_socket(path));

  host.connect();
  init::InitResponse response;
  grpc::Status status = host.init(response);
  CHECK(status.ok());
  check_stderr_lines(host);
}

TEST_CASE("Init answers exactly the UpstreamAuthority and Config service names, in that order") {
  GoPluginHost host;
  host.start_like_spire();
  CHECK(host.broker_sent());

  init::InitResponse response;
  grpc::Status status = host.init(response);
  REQUIRE(status.ok());
  REQUIRE(response.plugin_service_names_size() == 2);
  CHECK(response.plugin_service_names(0) ==
        "spire.plugin.server.upstreamauthority.v1.UpstreamAuthority");
  CHECK(response.plugin_service_names(1) == "spire.service.common.config.v1.Config");
  check_stderr_lines(host);
}

TEST_CASE("health reports \"plugin\" and \"\" as SERVING and other names as not found") {
  GoPluginHost host;
  host.start_like_spire();
  for (const std::string name : {"plugin", ""}) {
    health::HealthCheckResponse response;
    grpc::Status status = host.health_check(name, response);
    INFO("service \"" << name << "\"");
    REQUIRE(status.ok());
    CHECK(response.status() == health::HealthCheckResponse::SERVING);
  }
  health::HealthCheckResponse response;
  CHECK(host.health_check("something.else", response).error_code() == grpc::StatusCode::NOT_FOUND);
}

TEST_CASE(
    "before Configure every UpstreamAuthority RPC answers FAILED_PRECONDITION not configured") {
  GoPluginHost host;
  host.start_like_spire();

  std::vector<ua::MintX509CAResponse> responses;
  grpc::Status mint = host.mint("not a csr", 0, responses);
  CHECK(mint.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(mint.error_message() == "not configured");
  CHECK(responses.empty());

  grpc::Status jwt = host.publish_jwt_key();
  CHECK(jwt.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(jwt.error_message() == "not configured");

  grpc::Status bundle = host.subscribe_to_local_bundle();
  CHECK(bundle.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  check_stderr_lines(host);
}

TEST_CASE(
    "unloading in SPIRE's order ends the process within the 2 s grace and removes the socket") {
  GoPluginHost host;
  host.start_like_spire();
  init::InitResponse init_response;
  REQUIRE(host.init(init_response).ok());
  const std::string socket = host.socket_path();
  REQUIRE(is_socket(socket));

  std::optional<ProcessResult> result = host.unload(2000ms);
  CHECK(host.deinit_status().ok());
  CHECK(host.shutdown_status().ok());
  REQUIRE(result.has_value());  // exited before SPIRE would have sent SIGKILL
  CHECK(result->exited);
  CHECK(result->code == 0);
  CHECK_FALSE(path_exists(socket));
  // Nothing but the handshake ever reaches stdout.
  CHECK(host.stdout_after_handshake().empty());
  // The stdio stream carried nothing.
  CHECK(host.stdio_messages() == 0);
  check_stderr_lines(host);
}

TEST_CASE("SIGINT is ignored: the plugin keeps serving") {
  GoPluginHost host;
  host.start_like_spire();
  host.send_signal(SIGINT);
  // Liveness only: give a (wrongly) terminating process time to go away.
  std::this_thread::sleep_for(500ms);
  CHECK_FALSE(host.wait_exit(100ms).has_value());
  init::InitResponse response;
  CHECK(host.init(response).ok());
  CHECK(host.unload(2000ms).has_value());
}

TEST_CASE("SIGTERM stops the plugin and removes its socket") {
  GoPluginHost host;
  host.start_like_spire();
  const std::string socket = host.socket_path();
  host.send_signal(SIGTERM);
  std::optional<ProcessResult> result = host.wait_exit(10s);
  REQUIRE(result.has_value());
  CHECK(result->exited);
  CHECK_FALSE(path_exists(socket));
  check_stderr_lines(host);
}

TEST_CASE("the plugin exits and removes its socket when its parent process dies") {
  LaunchOptions options;
  options.wrap_in_shell = true;
  GoPluginHost shell(options);
  REQUIRE(shell.read_handshake().has_value());
  const pid_t plugin = shell.wrapped_plugin_pid();
  REQUIRE(plugin > 0);
  const std::string socket = shell.socket_path();
  REQUIRE(is_socket(socket));

  shell.send_signal(SIGKILL);  // the shell is the plugin's parent
  REQUIRE(shell.wait_exit(10s).has_value());

  // The orphan is reparented and reaped elsewhere; its socket going away shows it shut down.
  const auto end = std::chrono::steady_clock::now() + 10s;
  while (path_exists(socket) && std::chrono::steady_clock::now() < end) {
    std::this_thread::sleep_for(20ms);
  }
  CHECK_FALSE(path_exists(socket));
  bool gone = false;
  while (!gone && std::chrono::steady_clock::now() < end) {
    std::ifstream stat("/proc/" + std::to_string(plugin) + "/stat");
    std::string content;
    std::getline(stat, content);
    const auto close_paren = content.rfind(')');
    gone = !stat || content.empty() ||
           (close_paren != std::string::npos && content.size() > close_paren + 2 &&
            content[close_paren + 2] == 'Z');
    if (!gone) {
      std::this_thread::sleep_for(20ms);
    }
  }
  CHECK(gone);
}

TEST_CASE("Validate returns notes, not an RPC error, and touches no network") {
  GoPluginHost host;
  host.start_like_spire();

  SECTION("a configuration without trust domain and with a bad key") {
    cfg::ValidateResponse response;
    grpc::Status status = host.validate(std::nullopt, "bogus_key = \"x\"\n", response);
    REQUIRE(status.ok());
    CHECK_FALSE(response.valid());
    REQUIRE(response.notes_size() >= 2);
    CHECK(response.notes(0) == "server core configuration is required");
  }
  SECTION("a complete configuration pointing at an unroutable gateway is valid") {
    cfg::ValidateResponse response;
    const std::string hcl =
        "access_id = \"p-abc\"\naccess_key = \"validate-secret\"\n"
        "akeyless_gateway_url = \"https://192.0.2.1:8000/api/v2\"\n"
        "certificate_name = \"/pki/ca\"\n";
    grpc::Status status = host.validate(std::string("example.org"), hcl, response);
    REQUIRE(status.ok());
    CHECK(response.valid());
    CHECK(response.notes_size() == 0);
    CHECK(host.stderr_text().find("validate-secret") == std::string::npos);
  }
  check_stderr_lines(host);
}

TEST_CASE("Configure rejects a missing trust domain the way SPIRE's built-in plugins do") {
  GoPluginHost host;
  host.start_like_spire();
  const std::string hcl = "access_id = \"p-abc\"\n";

  grpc::Status none = host.configure(std::nullopt, hcl);
  CHECK(none.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(none.error_message() == "server core configuration is required");

  grpc::Status empty = host.configure(std::string(""), hcl);
  CHECK(empty.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(empty.error_message() == "server core configuration must contain trust_domain");

  grpc::Status malformed = host.configure(std::string("Bad Domain"), hcl);
  CHECK(malformed.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(malformed.error_message().rfind("server core configuration trust_domain is malformed: ",
                                        0) == 0);
  check_stderr_lines(host);
}

TEST_CASE("Configure with an unknown plugin_data key fails with INVALID_ARGUMENT naming the key") {
  GoPluginHost host;
  host.start_like_spire();
  grpc::Status status = host.configure(
      std::string("example.org"),
      "access_id = \"p-abc\"\naccess_key = \"k\"\nakeyless_gateway_url = \"https://gw\"\n"
      "certificate_name = \"/c\"\nno_such_key = 1\n");
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(status.error_message().find("no_such_key") != std::string::npos);
  check_stderr_lines(host);
}
