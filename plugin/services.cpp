#include "services.hpp"

#include <algorithm>
#include <utility>

namespace akeyless_upstream::plugin {
namespace {

namespace ua = ::spire::plugin::server::upstreamauthority::v1;
namespace cfg = ::spire::service::common::config::v1;
namespace init = ::spire::service::private_::init::v1;
namespace health = ::grpc::health::v1;

// How often long-lived streams look at cancellation and shutdown.
constexpr std::chrono::milliseconds kStreamPoll{100};

bool served_health_name(const std::string& name) {
  return name.empty() || name == "plugin";
}

void add_certificates(
    const std::vector<Certificate>& certificates,
    google::protobuf::RepeatedPtrField<::spire::plugin::types::X509Certificate>* out) {
  for (const Certificate& certificate : certificates) {
    const Bytes der = certificate.der();
    out->Add()->set_asn1(std::string(der.begin(), der.end()));
  }
}

}  // namespace

void ShutdownSignal::request(std::string reason) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!requested_.load()) {
      reason_ = std::move(reason);
      requested_.store(true);
    }
  }
  changed_.notify_all();
}

bool ShutdownSignal::wait_for(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  return changed_.wait_for(lock, timeout, [this] { return requested_.load(); });
}

std::string ShutdownSignal::reason() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return reason_;
}

grpc::Status to_grpc_status(const Error& error) {
  return grpc::Status(static_cast<grpc::StatusCode>(static_cast<int>(error.code())),
                      error.message());
}

Deadline rpc_deadline(const grpc::ServerContext& context) {
  const auto remaining = context.deadline() - std::chrono::system_clock::now();
  // An unset deadline is the far future; keep clear of steady_clock overflow.
  if (remaining > std::chrono::hours(24 * 365)) {
    return Deadline::max();
  }
  return std::chrono::steady_clock::now() +
         std::chrono::duration_cast<std::chrono::steady_clock::duration>(remaining);
}

// == go-plugin framework ==

grpc::Status BrokerService::StartStream(
    grpc::ServerContext* context,
    grpc::ServerReaderWriter<::plugin::ConnInfo, ::plugin::ConnInfo>* stream) {
  logger_.debug("Broker stream opened");
  ::plugin::ConnInfo info;
  // Read returns false when the host closes its side, cancels, or the server shuts down.
  while (!context->IsCancelled() && stream->Read(&info)) {
    logger_.debug("Broker announced a host connection",
                  {{"service_id", static_cast<std::int64_t>(info.service_id())},
                   {"network", info.network()},
                   {"address", info.address()}});
  }
  logger_.debug("Broker stream closed");
  (void)shutdown_;
  return grpc::Status::OK;
}

grpc::Status ControllerService::Shutdown(grpc::ServerContext* /*context*/,
                                         const ::plugin::Empty* /*request*/,
                                         ::plugin::Empty* /*response*/) {
  logger_.debug("Shutdown requested by the host");
  shutdown_.request("GRPCController.Shutdown");
  return grpc::Status::OK;
}

grpc::Status StdioService::StreamStdio(grpc::ServerContext* context,
                                       const google::protobuf::Empty* /*request*/,
                                       grpc::ServerWriter<::plugin::StdioData>* /*writer*/) {
  while (!context->IsCancelled() && !shutdown_.requested()) {
    shutdown_.wait_for(kStreamPoll);
  }
  return grpc::Status::OK;
}

grpc::Status HealthService::Check(grpc::ServerContext* /*context*/,
                                  const health::HealthCheckRequest* request,
                                  health::HealthCheckResponse* response) {
  if (!served_health_name(request->service())) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND,
                        "unknown health service \"" + request->service().substr(0, 200) +
                            "\": this plugin reports \"plugin\" and \"\"");
  }
  response->set_status(health::HealthCheckResponse::SERVING);
  return grpc::Status::OK;
}

grpc::Status HealthService::Watch(grpc::ServerContext* context,
                                  const health::HealthCheckRequest* request,
                                  grpc::ServerWriter<health::HealthCheckResponse>* writer) {
  health::HealthCheckResponse response;
  response.set_status(served_health_name(request->service())
                          ? health::HealthCheckResponse::SERVING
                          : health::HealthCheckResponse::SERVICE_UNKNOWN);
  if (!writer->Write(response)) {
    return grpc::Status::OK;
  }
  while (!context->IsCancelled() && !shutdown_.requested()) {
    shutdown_.wait_for(kStreamPoll);
  }
  return grpc::Status::OK;
}

// == SPIRE's service discovery ==

grpc::Status InitService::Init(grpc::ServerContext* /*context*/, const init::InitRequest* request,
                               init::InitResponse* response) {
  std::string host_services;
  for (const std::string& name : request->host_service_names()) {
    if (!host_services.empty()) {
      host_services += ",";
    }
    host_services += name;
  }
  logger_.debug("Init from SPIRE", {{"host_services", host_services}});
  response->add_plugin_service_names(std::string(kUpstreamAuthorityServiceName));
  response->add_plugin_service_names(std::string(kConfigServiceName));
  return grpc::Status::OK;
}

grpc::Status InitService::Deinit(grpc::ServerContext* /*context*/,
                                 const init::DeinitRequest* /*request*/,
                                 init::DeinitResponse* /*response*/) {
  logger_.debug("Deinit from SPIRE");
  return grpc::Status::OK;
}

// == Config ==

grpc::Status ConfigService::Configure(grpc::ServerContext* context,
                                      const cfg::ConfigureRequest* request,
                                      cfg::ConfigureResponse* /*response*/) {
  Status status = core_.configure(request->has_core_configuration(),
                                  request->core_configuration().trust_domain(),
                                  request->hcl_configuration(), rpc_deadline(*context));
  if (!status.ok()) {
    logger_.error("Configure failed", {{"error", status.error().to_string()}});
    return to_grpc_status(status.error());
  }
  return grpc::Status::OK;
}

grpc::Status ConfigService::Validate(grpc::ServerContext* /*context*/,
                                     const cfg::ValidateRequest* request,
                                     cfg::ValidateResponse* response) {
  ValidationReport report =
      core_.validate(request->has_core_configuration(),
                     request->core_configuration().trust_domain(), request->hcl_configuration());
  response->set_valid(report.valid);
  for (std::string& note : report.notes) {
    response->add_notes(std::move(note));
  }
  return grpc::Status::OK;
}

// == UpstreamAuthority ==

grpc::Status UpstreamAuthorityService::MintX509CAAndSubscribe(
    grpc::ServerContext* context, const ua::MintX509CARequest* request,
    grpc::ServerWriter<ua::MintX509CAResponse>* writer) {
  const std::string& csr = request->csr();
  Result<MintOutcome> outcome = core_.mint(
      std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(csr.data()), csr.size()),
      request->preferred_ttl(), rpc_deadline(*context),
      // A passed deadline counts at once: gRPC marks the call cancelled only when its own timer
      // fires, which can be after our Akeyless call gave up at the same deadline.
      [context] {
        return context->IsCancelled() || std::chrono::system_clock::now() >= context->deadline();
      });
  if (!outcome.ok()) {
    const Error& error = outcome.error();
    if (error.code() == ErrorCode::kCancelled) {
      // SPIRE gave up on the call (deadline or shutdown); it retries on its own schedule.
      logger_.debug("MintX509CA abandoned", {{"error", error.to_string()}});
    } else if (error.code() != ErrorCode::kFailedPrecondition ||
               error.message() != "not configured") {
      logger_.error("MintX509CA failed", {{"error", error.to_string()}});
    }
    return to_grpc_status(error);
  }

  // One response, then the stream ends: SPIRE re-mints on its own schedule, and re-reads the
  // item each time, so there is nothing to push in between (as SPIRE's disk plugin does).
  ua::MintX509CAResponse response;
  add_certificates(outcome->minted.chain, response.mutable_x509_ca_chain());
  add_certificates(outcome->minted.roots, response.mutable_upstream_x509_roots());
  if (!writer->Write(response)) {
    return grpc::Status(grpc::StatusCode::CANCELLED,
                        "SPIRE Server closed the stream before the minted CA was sent");
  }
  return grpc::Status::OK;
}

grpc::Status UpstreamAuthorityService::PublishJWTKeyAndSubscribe(
    grpc::ServerContext* /*context*/, const ua::PublishJWTKeyRequest* /*request*/,
    grpc::ServerWriter<ua::PublishJWTKeyResponse>* /*writer*/) {
  if (core_.active() == nullptr) {
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "not configured");
  }
  // UNIMPLEMENTED is the one answer SPIRE treats as "no JWT upstream": it then publishes the key
  // in its own bundle. Any other error would stop SPIRE Server's start.
  return grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "publishing upstream is unsupported");
}

grpc::Status UpstreamAuthorityService::SubscribeToLocalBundle(
    grpc::ServerContext* /*context*/, const ua::SubscribeToLocalBundleRequest* /*request*/,
    grpc::ServerWriter<ua::SubscribeToLocalBundleResponse>* /*writer*/) {
  if (core_.active() == nullptr) {
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "not configured");
  }
  // Any error but UNIMPLEMENTED on the first message shuts SPIRE Server down, so the bundle is
  // not streamed; roots reach SPIRE with every minted CA instead.
  return grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                      "fetching upstream trust bundle is unsupported");
}

}  // namespace akeyless_upstream::plugin
