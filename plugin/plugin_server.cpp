#include "plugin_server.hpp"

#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <chrono>
#include <climits>
#include <memory>
#include <thread>

#include <grpcpp/grpcpp.h>

#include "akeyless_upstream/version.hpp"
#include "handshake.hpp"
#include "services.hpp"

namespace akeyless_upstream::plugin {
namespace {

// How often the main thread checks that its parent is still SPIRE.
constexpr std::chrono::milliseconds kParentPoll{500};
// The host kills the plugin 2 s after Shutdown; stop well within that.
constexpr std::chrono::milliseconds kGracefulStop{500};
constexpr std::chrono::milliseconds kExitWatchdog{1500};

// block_termination_signals makes SIGTERM (and the parent-death signal) wait for sigwait in a
// dedicated thread. It runs before any other thread exists, so gRPC's threads inherit the mask
// and the signal is never delivered to a thread that cannot handle it.
sigset_t block_termination_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

void start_signal_thread(sigset_t set, ShutdownSignal& shutdown) {
  std::thread([set, &shutdown] {
    for (;;) {
      int signal_number = 0;
      if (sigwait(&set, &signal_number) == 0) {
        shutdown.request(signal_number == SIGTERM ? "SIGTERM" : "SIGHUP");
      }
    }
  }).detach();
}

}  // namespace

int run_plugin_server(Logger& logger) {
  // == process set-up, before any thread starts ==
  // A Ctrl-C in a terminal reaches the whole process group; SPIRE unloads its plugins itself,
  // in order, so the plugin ignores SIGINT as go-plugin's servers do.
  signal(SIGINT, SIG_IGN);
  signal(SIGPIPE, SIG_IGN);
  const sigset_t termination = block_termination_signals();
  const pid_t parent = getppid();
  // Exit with SPIRE. SPIRE asks for SIGKILL on its side; SIGTERM here lets the socket be removed.
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (getppid() != parent) {
    return 1;  // the parent died before the request above took effect
  }

  // Deliberately never freed: the detached signal thread may use it until the process ends.
  ShutdownSignal& shutdown = *new ShutdownSignal();
  start_signal_thread(termination, shutdown);
  install_library_log_sinks(&logger);

  // == listen ==
  Result<std::string> socket_path = make_socket_path();
  if (!socket_path.ok()) {
    logger.error("Cannot create the plugin socket", {{"error", socket_path.error().message()}});
    return 1;
  }

  PluginCore core(logger, process_env());
  BrokerService broker(logger, shutdown);
  ControllerService controller(logger, shutdown);
  StdioService stdio(shutdown);
  HealthService health(shutdown);
  InitService init(logger);
  ConfigService config(logger, core);
  UpstreamAuthorityService upstream_authority(logger, core);

  grpc::ServerBuilder builder;
  // Plaintext on a unix socket only the plugin's user can reach: SPIRE turns go-plugin's
  // AutoMTLS off.
  builder.AddListeningPort("unix:" + *socket_path, grpc::InsecureServerCredentials());
  builder.SetMaxReceiveMessageSize(INT_MAX);
  builder.SetMaxSendMessageSize(INT_MAX);
  builder.RegisterService(&broker);
  builder.RegisterService(&controller);
  builder.RegisterService(&stdio);
  builder.RegisterService(&health);
  builder.RegisterService(&init);
  builder.RegisterService(&config);
  builder.RegisterService(&upstream_authority);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr) {
    logger.error("Cannot listen on the plugin socket", {{"path", *socket_path}});
    unlink(socket_path->c_str());
    return 1;
  }

  // == handshake: only now that the socket listens ==
  Status written = write_handshake(handshake_line(*socket_path));
  if (!written.ok()) {
    logger.error("Cannot write the handshake", {{"error", written.error().message()}});
    server->Shutdown(std::chrono::system_clock::now());
    unlink(socket_path->c_str());
    return 1;
  }
  logger.debug("Plugin serving", {{"socket", *socket_path}, {"version", std::string(kVersion)}});

  // == serve until told to stop ==
  while (!shutdown.wait_for(kParentPoll)) {
    if (getppid() != parent) {
      shutdown.request("parent process exited");
    }
  }
  logger.debug("Plugin stopping", {{"reason", shutdown.reason()}});

  // Whatever happens below, the process is gone before the host's 2 s grace period ends.
  const std::string path_copy = *socket_path;
  std::thread([path_copy] {
    std::this_thread::sleep_for(kExitWatchdog);
    unlink(path_copy.c_str());
    _exit(0);
  }).detach();

  server->Shutdown(std::chrono::system_clock::now() + kGracefulStop);
  server->Wait();
  unlink(socket_path->c_str());
  return 0;
}

}  // namespace akeyless_upstream::plugin
