#pragma once

// Test harness for the gateway emulator: starts the real emulator process with a temporary state
// directory, waits for its ready line, talks to its admin API, and stops it with SIGTERM. Also a
// minimal raw HTTP(S) client, so tests can send requests the library's client never would
// (wrong method, wrong content type, misspelt keys). Used by tests/emulator and tests/client.
// The emulator binary comes from the AKEYLESS_EMULATOR environment variable (set by meson).

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/json.hpp>

extern char** environ;

namespace emulator_test {

// RawResponse is what came back, or `error` when the exchange failed below HTTP.
struct RawResponse {
  int status = 0;
  std::string content_type;
  std::string body;
  std::string error;

  // json parses the body (throws on invalid JSON; tests expect a JSON body when they call it).
  boost::json::value json() const { return boost::json::parse(body); }
};

// RawRequest is sent as is: nothing is added but Host and Content-Length.
struct RawRequest {
  std::string method = "POST";
  std::string target = "/";
  std::vector<std::pair<std::string, std::string>> headers{{"Content-Type", "application/json"}};
  std::string body;
};

// raw_exchange sends one request to host:port, over TLS (verifying against ca_path and
// `server_name`) when ca_path is non-empty, and reads one response.
inline RawResponse raw_exchange(const std::string& host, unsigned short port,
                                const std::string& ca_path, const RawRequest& request,
                                const std::string& server_name = "127.0.0.1",
                                std::chrono::seconds timeout = std::chrono::seconds(60)) {
  namespace asio = boost::asio;
  namespace beast = boost::beast;
  namespace http = beast::http;
  RawResponse out;
  try {
    asio::io_context context;
    beast::tcp_stream tcp(context);
    tcp.expires_after(timeout);
    tcp.connect(asio::ip::tcp::endpoint(asio::ip::make_address(host), port));

    http::request<http::string_body> message{http::string_to_verb(request.method), request.target,
                                             11};
    message.method_string(request.method);
    message.set(http::field::host, server_name + ":" + std::to_string(port));
    for (const auto& [name, value] : request.headers) {
      message.set(name, value);
    }
    message.body() = request.body;
    message.prepare_payload();
    message.keep_alive(false);

    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    if (ca_path.empty()) {
      http::write(tcp, message);
      http::read(tcp, buffer, parser);
    } else {
      asio::ssl::context tls(asio::ssl::context::tls_client);
      tls.load_verify_file(ca_path);
      tls.set_verify_mode(asio::ssl::verify_peer);
      beast::ssl_stream<beast::tcp_stream&> stream(tcp, tls);
      stream.set_verify_callback(asio::ssl::host_name_verification(server_name));
      if (SSL_set_tlsext_host_name(stream.native_handle(), server_name.c_str()) != 1) {
        out.error = "cannot set SNI";
        return out;
      }
      stream.handshake(asio::ssl::stream_base::client);
      http::write(stream, message);
      http::read(stream, buffer, parser);
    }
    const auto& response = parser.get();
    out.status = static_cast<int>(response.result_int());
    out.content_type = std::string(response[http::field::content_type]);
    out.body = response.body();
  } catch (const std::exception& e) {
    out.error = e.what();
  }
  return out;
}

// EmulatorProcess owns one running emulator.
class EmulatorProcess {
 public:
  // start writes `config_json` (may be empty: no config) into a fresh temporary directory,
  // starts the emulator there and waits (up to 60 s, for liveness only) for its ready line.
  explicit EmulatorProcess(const std::string& config_json,
                           std::vector<std::string> extra_args = {}) {
    const char* binary = std::getenv("AKEYLESS_EMULATOR");
    if (binary == nullptr) {
      throw std::runtime_error("AKEYLESS_EMULATOR is not set (meson sets it for the tests)");
    }
    std::string pattern = (std::filesystem::temp_directory_path() / "emulator-test-XXXXXX");
    if (mkdtemp(pattern.data()) == nullptr) {
      throw std::runtime_error("mkdtemp failed");
    }
    dir_ = pattern;
    state_dir_ = dir_ + "/state";
    stderr_path_ = dir_ + "/emulator.stderr";

    std::vector<std::string> args = {binary, "--state-dir", state_dir_};
    if (!config_json.empty()) {
      std::ofstream(dir_ + "/config.json") << config_json;
      args.push_back("--config");
      args.push_back(dir_ + "/config.json");
    }
    args.insert(args.end(), extra_args.begin(), extra_args.end());

    int out_pipe[2];
    if (pipe2(out_pipe, O_CLOEXEC) != 0) {
      throw std::runtime_error("pipe failed");
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
    posix_spawn_file_actions_addopen(&actions, 2, stderr_path_.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0600);
    std::vector<char*> argv;
    for (auto& arg : args) {
      argv.push_back(arg.data());
    }
    argv.push_back(nullptr);
    int rc = posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(out_pipe[1]);
    if (rc != 0) {
      close(out_pipe[0]);
      throw std::runtime_error("cannot start the emulator " + args[0]);
    }
    stdout_fd_ = out_pipe[0];

    std::string line = read_line(std::chrono::seconds(60));
    if (line.rfind("listening https://127.0.0.1:", 0) != 0) {
      stop();
      throw std::runtime_error("emulator did not become ready; stdout: '" + line +
                               "'; stderr: " + stderr_text());
    }
    endpoint_ = first_line(state_dir_ + "/endpoint");
    metadata_endpoint_ = first_line(state_dir_ + "/metadata-endpoint");
    port_ = port_of(endpoint_);
    metadata_port_ = port_of(metadata_endpoint_);
  }

  ~EmulatorProcess() {
    stop();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  EmulatorProcess(const EmulatorProcess&) = delete;
  EmulatorProcess& operator=(const EmulatorProcess&) = delete;

  // stop sends SIGTERM and reaps the process; returns its wait status (-1 if already stopped).
  int stop() {
    if (pid_ <= 0) {
      return -1;
    }
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = 0;
    if (stdout_fd_ >= 0) {
      close(stdout_fd_);
      stdout_fd_ = -1;
    }
    return status;
  }

  const std::string& endpoint() const { return endpoint_; }
  const std::string& metadata_endpoint() const { return metadata_endpoint_; }
  std::string ca_path() const { return state_dir_ + "/gateway-ca.pem"; }
  const std::string& dir() const { return dir_; }
  unsigned short port() const { return port_; }
  unsigned short metadata_port() const { return metadata_port_; }
  pid_t pid() const { return pid_; }

  std::string stderr_text() const {
    std::ifstream in(stderr_path_);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
  }

  // gateway sends a raw request to the HTTPS port, trusting the emulator's CA.
  RawResponse gateway(const RawRequest& request) const {
    return raw_exchange("127.0.0.1", port_, ca_path(), request);
  }
  // post_json POSTs a JSON body to an operation path on the HTTPS port.
  RawResponse post_json(const std::string& target, const boost::json::value& body) const {
    RawRequest request;
    request.target = target;
    request.body = boost::json::serialize(body);
    return gateway(request);
  }
  // metadata sends a raw request to the plain metadata port.
  RawResponse metadata(const RawRequest& request) const {
    return raw_exchange("127.0.0.1", metadata_port_, "", request);
  }
  // admin calls the admin API over the plain port; throws unless it answers 200.
  boost::json::value admin(const std::string& method, const std::string& path,
                           const boost::json::value& body = boost::json::object()) const {
    RawRequest request;
    request.method = method;
    request.target = path;
    if (method == "POST") {
      request.body = boost::json::serialize(body);
    }
    RawResponse response = metadata(request);
    if (response.status != 200) {
      throw std::runtime_error("admin " + method + " " + path +
                               " failed: " + std::to_string(response.status) + " " + response.body +
                               response.error);
    }
    return response.json();
  }
  // log_entries returns the request log entries whose operation is `operation` (all if empty).
  std::vector<boost::json::object> log_entries(const std::string& operation = "") const {
    std::vector<boost::json::object> out;
    boost::json::value log = admin("GET", "/_emulator/log");
    for (const auto& entry : log.at("entries").as_array()) {
      if (operation.empty() || entry.at("operation").as_string() == operation) {
        out.push_back(entry.as_object());
      }
    }
    return out;
  }
  // add_fault queues a fault (see README.md).
  void add_fault(const boost::json::object& fault) const {
    admin("POST", "/_emulator/faults", fault);
  }

 private:
  std::string read_line(std::chrono::seconds timeout) {
    std::string line;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd fd{stdout_fd_, POLLIN, 0};
      if (poll(&fd, 1, 200) <= 0) {
        continue;
      }
      char c = 0;
      ssize_t n = ::read(stdout_fd_, &c, 1);
      if (n <= 0) {
        break;
      }
      if (c == '\n') {
        break;
      }
      line.push_back(c);
    }
    return line;
  }

  static std::string first_line(const std::string& path) {
    std::ifstream in(path);
    std::string line;
    std::getline(in, line);
    return line;
  }

  static unsigned short port_of(const std::string& url) {
    return static_cast<unsigned short>(std::stoi(url.substr(url.rfind(':') + 1)));
  }

  pid_t pid_ = 0;
  int stdout_fd_ = -1;
  std::string dir_;
  std::string state_dir_;
  std::string stderr_path_;
  std::string endpoint_;
  std::string metadata_endpoint_;
  unsigned short port_ = 0;
  unsigned short metadata_port_ = 0;
};

}  // namespace emulator_test
