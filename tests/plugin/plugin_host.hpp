#pragma once

// GoPluginHost: a test stand-in for SPIRE's plugin catalog. It launches the plugin binary the way
// go-plugin's client does for SPIRE (environment with the magic cookie and PLUGIN_* variables,
// stdout and stderr pipes), reads and checks the handshake line, dials the unix socket with
// insecure credentials and authority "unused", opens the broker stream and announces a host
// services socket (ConnInfo{1, "unix", path}), opens StreamStdio, and unloads the plugin in
// SPIRE's order (Deinit, broker close, GRPCController.Shutdown). Every stderr line is kept so
// tests can check it against the host's parsing rules.
//
// The plugin binary comes from the AKEYLESS_UPSTREAM_SM environment variable (set by meson).

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <climits>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "config.grpc.pb.h"
#include "grpc_broker.grpc.pb.h"
#include "grpc_controller.grpc.pb.h"
#include "grpc_stdio.grpc.pb.h"
#include "health.grpc.pb.h"
#include "init.grpc.pb.h"
#include "upstreamauthority.grpc.pb.h"

extern char** environ;

namespace plugin_test {

namespace ua = ::spire::plugin::server::upstreamauthority::v1;
namespace cfg = ::spire::service::common::config::v1;
namespace init = ::spire::service::private_::init::v1;
namespace health = ::grpc::health::v1;

// plugin_binary is the path meson passes in AKEYLESS_UPSTREAM_SM.
inline std::string plugin_binary() {
  const char* path = std::getenv("AKEYLESS_UPSTREAM_SM");
  if (path == nullptr) {
    throw std::runtime_error("AKEYLESS_UPSTREAM_SM is not set (meson sets it for the tests)");
  }
  return path;
}

// TempDir is a fresh directory removed with its content at destruction.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "plugin-test-") {
    std::string pattern = (std::filesystem::temp_directory_path() / (prefix + "XXXXXX")).string();
    if (mkdtemp(pattern.data()) == nullptr) {
      throw std::runtime_error("mkdtemp failed");
    }
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// ProcessResult tells how a child ended.
struct ProcessResult {
  bool exited = false;  // exited by itself (else killed by a signal)
  int code = -1;        // exit status when exited, signal number otherwise
};

// LaunchOptions tune how the plugin is started.
struct LaunchOptions {
  std::vector<std::string> args;                               // argv[1..]
  std::vector<std::pair<std::string, std::string>> extra_env;  // appended last (they win)
  bool cookie = true;          // set UpstreamAuthority=UpstreamAuthority
  bool wrap_in_shell = false;  // start via `sh`, so the test can kill the plugin's parent
};

// RunResult is the outcome of running the binary to completion (command-line modes).
struct RunResult {
  ProcessResult status;
  std::string out;
  std::string err;
};

// OutputCollector reads one pipe in a thread: the first line separately (the handshake), and
// the rest as text and as lines.
class OutputCollector {
 public:
  explicit OutputCollector(int fd) : fd_(fd), thread_([this] { run(); }) {}
  ~OutputCollector() {
    if (thread_.joinable()) {
      thread_.join();
    }
    ::close(fd_);
  }
  OutputCollector(const OutputCollector&) = delete;
  OutputCollector& operator=(const OutputCollector&) = delete;

  // first_line waits for the first complete line (without '\n'); nullopt on timeout or EOF.
  std::optional<std::string> first_line(std::chrono::seconds timeout) {
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait_for(lock, timeout, [this] { return first_done_ || eof_; });
    if (!first_done_) {
      return std::nullopt;
    }
    return first_;
  }
  // join waits for EOF (the writer exited and every copy of the pipe closed).
  void join() {
    if (thread_.joinable()) {
      thread_.join();
    }
  }
  std::string all_text() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return all_;
  }
  // text_after_first_line: everything after the first line.
  std::string text_after_first_line() const {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto newline = all_.find('\n');
    return newline == std::string::npos ? std::string() : all_.substr(newline + 1);
  }
  // lines: every complete line so far, without newlines (a final partial line is included
  // once EOF was seen).
  std::vector<std::string> lines() const {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<std::string> out;
    std::size_t start = 0;
    for (std::size_t i = 0; i < all_.size(); ++i) {
      if (all_[i] == '\n') {
        out.push_back(all_.substr(start, i - start));
        start = i + 1;
      }
    }
    if (eof_ && start < all_.size()) {
      out.push_back(all_.substr(start));
    }
    return out;
  }
  // wait_for_text waits until the output contains `needle`; true when it does.
  bool wait_for_text(const std::string& needle, std::chrono::seconds timeout) {
    std::unique_lock<std::mutex> lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] {
      return all_.find(needle) != std::string::npos || eof_;
    }) && all_.find(needle) != std::string::npos;
  }

 private:
  void run() {
    char buffer[4096];
    for (;;) {
      const ssize_t n = ::read(fd_, buffer, sizeof(buffer));
      if (n < 0 && errno == EINTR) {
        continue;
      }
      std::lock_guard<std::mutex> lock(mutex_);
      if (n <= 0) {
        eof_ = true;
        changed_.notify_all();
        return;
      }
      all_.append(buffer, static_cast<std::size_t>(n));
      if (!first_done_) {
        const auto newline = all_.find('\n');
        if (newline != std::string::npos) {
          first_ = all_.substr(0, newline);
          first_done_ = true;
        }
      }
      changed_.notify_all();
    }
  }

  int fd_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::string all_;
  std::string first_;
  bool first_done_ = false;
  bool eof_ = false;
  std::thread thread_;
};

// spawn_process starts argv with the given environment, stdout and stderr piped. Returns the pid
// and the read ends.
inline pid_t spawn_process(const std::vector<std::string>& argv,
                           const std::vector<std::string>& env, int& out_fd, int& err_fd) {
  int out_pipe[2];
  int err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0) {
    throw std::runtime_error("pipe2 failed");
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
  std::vector<char*> c_argv;
  for (const auto& arg : argv) {
    c_argv.push_back(const_cast<char*>(arg.c_str()));
  }
  c_argv.push_back(nullptr);
  std::vector<char*> c_env;
  for (const auto& entry : env) {
    c_env.push_back(const_cast<char*>(entry.c_str()));
  }
  c_env.push_back(nullptr);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, argv[0].c_str(), &actions, nullptr, c_argv.data(), c_env.data());
  posix_spawn_file_actions_destroy(&actions);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  if (rc != 0) {
    ::close(out_pipe[0]);
    ::close(err_pipe[0]);
    throw std::runtime_error("posix_spawn failed: " + std::to_string(rc));
  }
  out_fd = out_pipe[0];
  err_fd = err_pipe[0];
  return pid;
}

// plugin_environment: the host's environment followed by go-plugin's variables, as go-plugin's
// client builds it (later entries win, so ours replace inherited ones).
inline std::vector<std::string> plugin_environment(const LaunchOptions& options,
                                                   const std::string& tmpdir) {
  std::vector<std::string> env;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    const std::string text = *entry;
    // Drop variables this harness sets itself, so the plugin sees one value only.
    for (const char* own : {"UpstreamAuthority=", "TMPDIR=", "PLUGIN_"}) {
      if (text.rfind(own, 0) == 0) {
        goto skip;
      }
    }
    env.push_back(text);
  skip:;
  }
  env.push_back("TMPDIR=" + tmpdir);
  if (options.cookie) {
    env.push_back("UpstreamAuthority=UpstreamAuthority");
  }
  env.push_back("PLUGIN_MIN_PORT=10000");
  env.push_back("PLUGIN_MAX_PORT=25000");
  env.push_back("PLUGIN_PROTOCOL_VERSIONS=1");
  for (const auto& [name, value] : options.extra_env) {
    env.push_back(name + "=" + value);
  }
  return env;
}

// wait_for_exit polls waitpid up to `timeout`; nullopt when the process is still running.
inline std::optional<ProcessResult> wait_for_exit(pid_t pid, std::chrono::milliseconds timeout) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int status = 0;
    const pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid) {
      ProcessResult result;
      result.exited = WIFEXITED(status);
      result.code = result.exited ? WEXITSTATUS(status) : WTERMSIG(status);
      return result;
    }
    if (done < 0 || std::chrono::steady_clock::now() >= end) {
      return std::nullopt;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

// run_to_completion runs the binary (command-line modes) and collects its output.
inline RunResult run_to_completion(const LaunchOptions& options,
                                   std::chrono::seconds timeout = std::chrono::seconds(120)) {
  TempDir tmp;
  std::vector<std::string> argv = {plugin_binary()};
  argv.insert(argv.end(), options.args.begin(), options.args.end());
  int out_fd = -1;
  int err_fd = -1;
  const pid_t pid = spawn_process(argv, plugin_environment(options, tmp.path()), out_fd, err_fd);
  OutputCollector out(out_fd);
  OutputCollector err(err_fd);
  std::optional<ProcessResult> status = wait_for_exit(pid, timeout);
  if (!status.has_value()) {
    kill(pid, SIGKILL);
    status = wait_for_exit(pid, std::chrono::seconds(10));
  }
  out.join();
  err.join();
  return RunResult{status.value_or(ProcessResult{}), out.all_text(), err.all_text()};
}

// HostServices stands in for SPIRE's host-services server that the broker announces.
class HostServices {
 public:
  explicit HostServices(const std::string& dir) : path_(dir + "/host-services.sock") {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("unix:" + path_, grpc::InsecureServerCredentials());
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    if (server_ == nullptr) {
      throw std::runtime_error("cannot start the host services server");
    }
  }
  ~HostServices() { server_->Shutdown(std::chrono::system_clock::now()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  health::Health::Service service_;  // any service: SPIRE's are not called by this plugin
  std::unique_ptr<grpc::Server> server_;
};

// GoPluginHost launches the plugin and connects as SPIRE's catalog does.
class GoPluginHost {
 public:
  explicit GoPluginHost(LaunchOptions options = {}) : options_(std::move(options)) {
    std::vector<std::string> argv;
    if (options_.wrap_in_shell) {
      // The shell prints the plugin's pid, then waits: killing the shell orphans the plugin.
      argv = {"/bin/sh", "-c", "\"$0\" & echo \"pid $!\" >&2; wait", plugin_binary()};
    } else {
      argv = {plugin_binary()};
      argv.insert(argv.end(), options_.args.begin(), options_.args.end());
    }
    int out_fd = -1;
    int err_fd = -1;
    pid_ = spawn_process(argv, plugin_environment(options_, tmp_.path()), out_fd, err_fd);
    out_ = std::make_unique<OutputCollector>(out_fd);
    err_ = std::make_unique<OutputCollector>(err_fd);
  }

  ~GoPluginHost() {
    close_streams();
    if (!reaped_) {
      kill(pid_, SIGKILL);
      wait_for_exit(pid_, std::chrono::seconds(10));
    }
    if (plugin_pid_ > 0 && plugin_pid_ != pid_) {
      kill(plugin_pid_, SIGKILL);
    }
  }
  GoPluginHost(const GoPluginHost&) = delete;
  GoPluginHost& operator=(const GoPluginHost&) = delete;

  // read_handshake waits (60 s, go-plugin's StartTimeout) for the first stdout line.
  std::optional<std::string> read_handshake() {
    handshake_ = out_->first_line(std::chrono::seconds(60));
    if (handshake_.has_value()) {
      // "1|1|unix|<path>|grpc|"
      const std::string& line = *handshake_;
      std::vector<std::string> fields;
      std::size_t start = 0;
      for (std::size_t i = 0; i <= line.size(); ++i) {
        if (i == line.size() || line[i] == '|') {
          fields.push_back(line.substr(start, i - start));
          start = i + 1;
        }
      }
      if (fields.size() >= 4) {
        socket_path_ = fields[3];
      }
    }
    return handshake_;
  }

  // connect dials the socket as go-plugin does: plaintext, authority "unused", no size limits.
  void connect() {
    grpc::ChannelArguments args;
    args.SetString(GRPC_ARG_DEFAULT_AUTHORITY, "unused");
    args.SetMaxReceiveMessageSize(INT_MAX);
    args.SetMaxSendMessageSize(INT_MAX);
    channel_ =
        grpc::CreateCustomChannel("unix:" + socket_path_, grpc::InsecureChannelCredentials(), args);
  }

  // start_like_spire: handshake, connect, open the broker stream and send the host services'
  // ConnInfo, open StreamStdio. Throws when the handshake does not come.
  void start_like_spire() {
    if (!read_handshake().has_value()) {
      throw std::runtime_error("no handshake line; stderr: " + err_->all_text());
    }
    connect();
    host_services_ = std::make_unique<HostServices>(tmp_.path());

    broker_context_ = std::make_unique<grpc::ClientContext>();
    broker_stream_ = ::plugin::GRPCBroker::NewStub(channel_)->StartStream(broker_context_.get());
    ::plugin::ConnInfo info;
    info.set_service_id(1);
    info.set_network("unix");
    info.set_address(host_services_->path());
    broker_sent_ = broker_stream_->Write(info);

    stdio_context_ = std::make_unique<grpc::ClientContext>();
    stdio_thread_ = std::thread([this] {
      auto stub = ::plugin::GRPCStdio::NewStub(channel_);
      google::protobuf::Empty empty;
      auto reader = stub->StreamStdio(stdio_context_.get(), empty);
      ::plugin::StdioData data;
      while (reader->Read(&data)) {
        std::lock_guard<std::mutex> lock(stdio_mutex_);
        stdio_messages_ += 1;
      }
      grpc::Status status = reader->Finish();
      std::lock_guard<std::mutex> lock(stdio_mutex_);
      stdio_status_ = status;
    });
  }

  // init calls Init.Init with SPIRE Server's host service names.
  grpc::Status init(init::InitResponse& response) {
    init::InitRequest request;
    request.add_host_service_names("spire.hostservice.server.identityprovider.v1.IdentityProvider");
    request.add_host_service_names("spire.hostservice.server.agentstore.v1.AgentStore");
    request.add_host_service_names("spire.hostservice.common.metrics.v1.Metrics");
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    return init::Init::NewStub(channel_)->Init(&context, request, &response);
  }

  // configure calls Config.Configure (no core configuration when trust_domain is nullopt).
  grpc::Status configure(const std::optional<std::string>& trust_domain, const std::string& hcl) {
    cfg::ConfigureRequest request;
    if (trust_domain.has_value()) {
      request.mutable_core_configuration()->set_trust_domain(*trust_domain);
    }
    request.set_hcl_configuration(hcl);
    cfg::ConfigureResponse response;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(120));
    return cfg::Config::NewStub(channel_)->Configure(&context, request, &response);
  }

  grpc::Status validate(const std::optional<std::string>& trust_domain, const std::string& hcl,
                        cfg::ValidateResponse& response) {
    cfg::ValidateRequest request;
    if (trust_domain.has_value()) {
      request.mutable_core_configuration()->set_trust_domain(*trust_domain);
    }
    request.set_hcl_configuration(hcl);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    return cfg::Config::NewStub(channel_)->Validate(&context, request, &response);
  }

  // mint calls MintX509CAAndSubscribe and reads the stream to its end, as SPIRE's facade reads
  // the first message (then the test checks the stream ended).
  grpc::Status mint(const std::string& csr_der, int preferred_ttl,
                    std::vector<ua::MintX509CAResponse>& responses,
                    std::chrono::milliseconds deadline = std::chrono::seconds(120)) {
    ua::MintX509CARequest request;
    request.set_csr(csr_der);
    request.set_preferred_ttl(preferred_ttl);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + deadline);
    auto reader =
        ua::UpstreamAuthority::NewStub(channel_)->MintX509CAAndSubscribe(&context, request);
    ua::MintX509CAResponse response;
    while (reader->Read(&response)) {
      responses.push_back(response);
    }
    return reader->Finish();
  }

  grpc::Status publish_jwt_key() {
    ua::PublishJWTKeyRequest request;
    request.mutable_jwt_key()->set_key_id("kid");
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    auto reader =
        ua::UpstreamAuthority::NewStub(channel_)->PublishJWTKeyAndSubscribe(&context, request);
    ua::PublishJWTKeyResponse response;
    while (reader->Read(&response)) {
    }
    return reader->Finish();
  }

  grpc::Status subscribe_to_local_bundle() {
    ua::SubscribeToLocalBundleRequest request;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    auto reader =
        ua::UpstreamAuthority::NewStub(channel_)->SubscribeToLocalBundle(&context, request);
    ua::SubscribeToLocalBundleResponse response;
    while (reader->Read(&response)) {
    }
    return reader->Finish();
  }

  grpc::Status health_check(const std::string& service, health::HealthCheckResponse& response) {
    health::HealthCheckRequest request;
    request.set_service(service);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    return health::Health::NewStub(channel_)->Check(&context, request, &response);
  }

  grpc::Status deinit() {
    init::DeinitRequest request;
    init::DeinitResponse response;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    return init::Init::NewStub(channel_)->Deinit(&context, request, &response);
  }

  // close_broker ends the broker stream the way go-plugin's client closes its broker.
  void close_broker() {
    if (broker_stream_ != nullptr) {
      broker_stream_->WritesDone();
      broker_context_->TryCancel();
      broker_stream_->Finish();
      broker_stream_.reset();
    }
  }

  grpc::Status shutdown() {
    ::plugin::Empty request;
    ::plugin::Empty response;
    grpc::ClientContext context;
    // SPIRE sets no timeout here; a generous one keeps a broken plugin from hanging the test.
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    return ::plugin::GRPCController::NewStub(channel_)->Shutdown(&context, request, &response);
  }

  // unload: Deinit, broker close, Shutdown, then wait up to `grace` for the exit, as SPIRE
  // does before it sends SIGKILL.
  std::optional<ProcessResult> unload(std::chrono::milliseconds grace) {
    deinit_status_ = deinit();
    close_broker();
    shutdown_status_ = shutdown();
    return wait_exit(grace);
  }

  std::optional<ProcessResult> wait_exit(std::chrono::milliseconds timeout) {
    std::optional<ProcessResult> result = wait_for_exit(pid_, timeout);
    if (result.has_value()) {
      reaped_ = true;
      close_streams();
    }
    return result;
  }

  void send_signal(int signal_number) { kill(pid_, signal_number); }

  // For wrap_in_shell: the plugin's own pid, announced by the shell on stderr.
  pid_t wrapped_plugin_pid() {
    if (!err_->wait_for_text("pid ", std::chrono::seconds(30))) {
      return -1;
    }
    const std::string text = err_->all_text();
    const auto at = text.find("pid ");
    plugin_pid_ = static_cast<pid_t>(std::stol(text.substr(at + 4)));
    return plugin_pid_;
  }

  // stderr_lines: every line the plugin wrote to stderr so far.
  std::vector<std::string> stderr_lines() const { return err_->lines(); }
  std::string stderr_text() const { return err_->all_text(); }
  // stdout_after_handshake: anything written to stdout after the handshake line.
  std::string stdout_after_handshake() const { return out_->text_after_first_line(); }
  bool wait_for_stderr(const std::string& needle, std::chrono::seconds timeout) {
    return err_->wait_for_text(needle, timeout);
  }

  const std::string& socket_path() const { return socket_path_; }
  const std::string& tmpdir() const { return tmp_.path(); }
  pid_t pid() const { return pid_; }
  bool broker_sent() const { return broker_sent_; }
  const grpc::Status& deinit_status() const { return deinit_status_; }
  const grpc::Status& shutdown_status() const { return shutdown_status_; }
  std::shared_ptr<grpc::Channel> channel() const { return channel_; }
  int stdio_messages() {
    std::lock_guard<std::mutex> lock(stdio_mutex_);
    return stdio_messages_;
  }

 private:
  void close_streams() {
    if (broker_context_ != nullptr) {
      broker_context_->TryCancel();
    }
    if (stdio_context_ != nullptr) {
      stdio_context_->TryCancel();
    }
    if (stdio_thread_.joinable()) {
      stdio_thread_.join();
    }
    if (broker_stream_ != nullptr) {
      broker_stream_->Finish();
      broker_stream_.reset();
    }
  }

  LaunchOptions options_;
  TempDir tmp_;
  pid_t pid_ = -1;
  pid_t plugin_pid_ = -1;
  bool reaped_ = false;
  std::unique_ptr<OutputCollector> out_;
  std::unique_ptr<OutputCollector> err_;
  std::optional<std::string> handshake_;
  std::string socket_path_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<HostServices> host_services_;
  std::unique_ptr<grpc::ClientContext> broker_context_;
  std::unique_ptr<grpc::ClientReaderWriter<::plugin::ConnInfo, ::plugin::ConnInfo>> broker_stream_;
  bool broker_sent_ = false;
  std::unique_ptr<grpc::ClientContext> stdio_context_;
  std::thread stdio_thread_;
  std::mutex stdio_mutex_;
  int stdio_messages_ = 0;
  std::optional<grpc::Status> stdio_status_;
  grpc::Status deinit_status_;
  grpc::Status shutdown_status_;
};

}  // namespace plugin_test
