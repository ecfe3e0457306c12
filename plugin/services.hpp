#pragma once

// The gRPC services the plugin process serves on its unix socket:
//  - go-plugin's framework: GRPCBroker, GRPCController, GRPCStdio, and grpc.health.v1.Health;
//  - SPIRE's: Init (service discovery), Config and UpstreamAuthority.
// Handlers never throw and never block past cancellation or shutdown.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>

#include "config.grpc.pb.h"
#include "grpc_broker.grpc.pb.h"
#include "grpc_controller.grpc.pb.h"
#include "grpc_stdio.grpc.pb.h"
#include "health.grpc.pb.h"
#include "init.grpc.pb.h"
#include "log.hpp"
#include "upstream_core.hpp"
#include "upstreamauthority.grpc.pb.h"

namespace akeyless_upstream::plugin {

// The exact names Init answers with: SPIRE binds the plugin by these, in this order.
inline constexpr std::string_view kUpstreamAuthorityServiceName =
    "spire.plugin.server.upstreamauthority.v1.UpstreamAuthority";
inline constexpr std::string_view kConfigServiceName = "spire.service.common.config.v1.Config";

// ShutdownSignal is raised once, by GRPCController.Shutdown, SIGTERM or the parent's death; the
// main thread waits for it and long-lived streams poll it.
class ShutdownSignal {
 public:
  // request raises the signal; the first reason is kept.
  void request(std::string reason);
  bool requested() const noexcept { return requested_.load(); }
  // wait_for waits up to `timeout`; true when the signal is raised.
  bool wait_for(std::chrono::milliseconds timeout);
  std::string reason() const;

 private:
  std::atomic<bool> requested_{false};
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::string reason_;
};

// BrokerService keeps the host's StartStream open, reading (and logging) the ConnInfo messages
// SPIRE sends for its host services, until the host ends or cancels the stream.
class BrokerService final : public ::plugin::GRPCBroker::Service {
 public:
  BrokerService(Logger& logger, ShutdownSignal& shutdown) : logger_(logger), shutdown_(shutdown) {}

  grpc::Status StartStream(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<::plugin::ConnInfo, ::plugin::ConnInfo>* stream) override;

 private:
  Logger& logger_;
  ShutdownSignal& shutdown_;
};

// ControllerService answers Shutdown at once and raises the signal; the main thread then stops
// the server (stopping it from inside the handler would wait for the handler itself).
class ControllerService final : public ::plugin::GRPCController::Service {
 public:
  ControllerService(Logger& logger, ShutdownSignal& shutdown)
      : logger_(logger), shutdown_(shutdown) {}

  grpc::Status Shutdown(grpc::ServerContext* context, const ::plugin::Empty* request,
                        ::plugin::Empty* response) override;

 private:
  Logger& logger_;
  ShutdownSignal& shutdown_;
};

// StdioService keeps StreamStdio open and sends nothing: the plugin writes nothing to stdout
// after the handshake, and its stderr is JSON the host reads directly.
class StdioService final : public ::plugin::GRPCStdio::Service {
 public:
  explicit StdioService(ShutdownSignal& shutdown) : shutdown_(shutdown) {}

  grpc::Status StreamStdio(grpc::ServerContext* context, const google::protobuf::Empty* request,
                           grpc::ServerWriter<::plugin::StdioData>* writer) override;

 private:
  ShutdownSignal& shutdown_;
};

// HealthService reports "plugin" (go-plugin's name) and "" (the whole server) as SERVING.
class HealthService final : public ::grpc::health::v1::Health::Service {
 public:
  explicit HealthService(ShutdownSignal& shutdown) : shutdown_(shutdown) {}

  grpc::Status Check(grpc::ServerContext* context,
                     const ::grpc::health::v1::HealthCheckRequest* request,
                     ::grpc::health::v1::HealthCheckResponse* response) override;
  grpc::Status Watch(grpc::ServerContext* context,
                     const ::grpc::health::v1::HealthCheckRequest* request,
                     grpc::ServerWriter<::grpc::health::v1::HealthCheckResponse>* writer) override;

 private:
  ShutdownSignal& shutdown_;
};

// InitService answers SPIRE's service discovery.
class InitService final : public ::spire::service::private_::init::v1::Init::Service {
 public:
  explicit InitService(Logger& logger) : logger_(logger) {}

  grpc::Status Init(grpc::ServerContext* context,
                    const ::spire::service::private_::init::v1::InitRequest* request,
                    ::spire::service::private_::init::v1::InitResponse* response) override;
  grpc::Status Deinit(grpc::ServerContext* context,
                      const ::spire::service::private_::init::v1::DeinitRequest* request,
                      ::spire::service::private_::init::v1::DeinitResponse* response) override;

 private:
  Logger& logger_;
};

// ConfigService maps Config.Configure and Config.Validate onto PluginCore.
class ConfigService final : public ::spire::service::common::config::v1::Config::Service {
 public:
  ConfigService(Logger& logger, PluginCore& core) : logger_(logger), core_(core) {}

  grpc::Status Configure(
      grpc::ServerContext* context,
      const ::spire::service::common::config::v1::ConfigureRequest* request,
      ::spire::service::common::config::v1::ConfigureResponse* response) override;
  grpc::Status Validate(grpc::ServerContext* context,
                        const ::spire::service::common::config::v1::ValidateRequest* request,
                        ::spire::service::common::config::v1::ValidateResponse* response) override;

 private:
  Logger& logger_;
  PluginCore& core_;
};

// UpstreamAuthorityService maps the UpstreamAuthority RPCs onto PluginCore.
class UpstreamAuthorityService final
    : public ::spire::plugin::server::upstreamauthority::v1::UpstreamAuthority::Service {
 public:
  UpstreamAuthorityService(Logger& logger, PluginCore& core) : logger_(logger), core_(core) {}

  grpc::Status MintX509CAAndSubscribe(
      grpc::ServerContext* context,
      const ::spire::plugin::server::upstreamauthority::v1::MintX509CARequest* request,
      grpc::ServerWriter<::spire::plugin::server::upstreamauthority::v1::MintX509CAResponse>*
          writer) override;
  grpc::Status PublishJWTKeyAndSubscribe(
      grpc::ServerContext* context,
      const ::spire::plugin::server::upstreamauthority::v1::PublishJWTKeyRequest* request,
      grpc::ServerWriter<::spire::plugin::server::upstreamauthority::v1::PublishJWTKeyResponse>*
          writer) override;
  grpc::Status SubscribeToLocalBundle(
      grpc::ServerContext* context,
      const ::spire::plugin::server::upstreamauthority::v1::SubscribeToLocalBundleRequest* request,
      grpc::ServerWriter<
          ::spire::plugin::server::upstreamauthority::v1::SubscribeToLocalBundleResponse>* writer)
      override;

 private:
  Logger& logger_;
  PluginCore& core_;
};

// to_grpc_status turns a library Error into a gRPC status with the same code (ErrorCode values
// equal gRPC's) and message.
grpc::Status to_grpc_status(const Error& error);

// rpc_deadline converts the call's deadline (infinite when the host set none) to the steady
// clock.
Deadline rpc_deadline(const grpc::ServerContext& context);

}  // namespace akeyless_upstream::plugin
