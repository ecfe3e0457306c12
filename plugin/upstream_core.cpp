#include "upstream_core.hpp"

#include <algorithm>
#include <utility>

#include "akeyless_upstream/auth_provider.hpp"
#include "akeyless_upstream/certificate.hpp"

namespace akeyless_upstream::plugin {
namespace {

constexpr std::string_view kSpiffeScheme = "spiffe://";

bool is_unreachable(ErrorCode code) {
  return code == ErrorCode::kUnavailable || code == ErrorCode::kDeadlineExceeded;
}

// gateway_hint names what to check when the gateway cannot be reached at all.
std::string gateway_hint() {
  return "check akeyless_gateway_url, that the gateway is reachable from this host, and that "
         "gateway_ca_bundle_path (or the system trust store) trusts its certificate";
}

// credentials_hint names the keys that make up a login for each access type.
std::string credentials_hint(const AuthConfig& auth) {
  if (auth.access_type == "k8s") {
    return "check access_id, k8s_auth_config_name and the service account token file";
  }
  if (auth.access_type == "gcp") {
    return "check access_id, gcp_audience and that this instance's service account is bound to "
           "the auth method";
  }
  if (auth.access_type == "azure_ad") {
    return "check access_id, azure_object_id and that this VM's managed identity is bound to the "
           "auth method";
  }
  if (auth.access_type == "aws_iam") {
    return "check access_id and that this host's AWS role is bound to the auth method";
  }
  return "check access_id and access_key (or the AKEYLESS_ACCESS_KEY environment variable)";
}

std::string item_hint(ErrorCode code, std::string_view key) {
  switch (code) {
    case ErrorCode::kNotFound:
      return "check " + std::string(key) + " (the item's full path, e.g. /pki/spire-upstream)";
    case ErrorCode::kPermissionDenied:
      return "grant the access id read permission on the item";
    case ErrorCode::kFailedPrecondition:
      return "the item must be a certificate item that holds a private key";
    case ErrorCode::kInvalidArgument:
      return "check akeyless_gateway_url (the v2 API base, e.g. https://gateway:8000/api/v2)";
    case ErrorCode::kUnauthenticated:
      return "the gateway refused the login token; check the access id's auth method";
    default:
      return is_unreachable(code) ? gateway_hint() : "check " + std::string(key);
  }
}

Result<CertificateValue> read_item(AkeylessClient& client, std::string_view name,
                                   std::string_view key, Deadline deadline,
                                   PrivateKeyPolicy key_policy = PrivateKeyPolicy::kRequired) {
  Result<CertificateValue> value =
      client.get_certificate_value(name, std::nullopt, /*ignore_cache=*/true, deadline, key_policy);
  if (!value.ok()) {
    const Error& error = value.error();
    // The client's message already names the item ("reading certificate item '<name>': ...").
    return Error(error.code(), error.message() + ": " + item_hint(error.code(), key));
  }
  return value;
}

bool valid_trust_domain_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
}

}  // namespace

Result<std::string> parse_trust_domain(bool present, std::string_view trust_domain) {
  if (!present) {
    return Error(ErrorCode::kInvalidArgument, "server core configuration is required");
  }
  if (trust_domain.empty()) {
    return Error(ErrorCode::kInvalidArgument,
                 "server core configuration must contain trust_domain");
  }
  std::string_view name = trust_domain;
  if (name.substr(0, kSpiffeScheme.size()) == kSpiffeScheme) {
    name.remove_prefix(kSpiffeScheme.size());
    // A SPIFFE ID of the trust domain itself: "spiffe://td" or "spiffe://td/".
    if (!name.empty() && name.back() == '/') {
      name.remove_suffix(1);
    }
  }
  const auto malformed = [](std::string_view why) {
    return Error(ErrorCode::kInvalidArgument,
                 "server core configuration trust_domain is malformed: " + std::string(why));
  };
  if (name.empty()) {
    return malformed("trust domain is missing");
  }
  if (!std::all_of(name.begin(), name.end(), valid_trust_domain_char)) {
    return malformed(
        "trust domain characters are limited to lowercase letters, numbers, dots, dashes, and "
        "underscores");
  }
  return std::string(name);
}

Deadline akeyless_deadline(std::chrono::milliseconds request_timeout, Deadline outer) {
  const Deadline own = std::chrono::steady_clock::now() + request_timeout;
  return std::min(own, outer);
}

Result<std::shared_ptr<AkeylessClient>> connect_to_akeyless(const PluginConfig& config,
                                                            Deadline deadline) {
  Result<std::shared_ptr<AuthProvider>> provider = make_auth_provider(config.auth);
  if (!provider.ok()) {
    return provider.error().with_context("configuring Akeyless authentication");
  }

  AkeylessClientOptions options;
  options.gateway_url = config.gateway_url;
  options.ca_bundle_path = config.gateway_ca_bundle_path;
  options.request_timeout = config.request_timeout;
  Result<std::shared_ptr<AkeylessClient>> client =
      AkeylessClient::create(std::move(options), std::move(provider).value());
  if (!client.ok()) {
    return client.error().with_context("configuring the Akeyless client");
  }

  Status login = (*client)->authenticate(deadline);
  if (!login.ok()) {
    const Error& error = login.error();
    const std::string hint = is_unreachable(error.code()) ? gateway_hint()
                             : error.code() == ErrorCode::kInvalidArgument
                                 ? item_hint(error.code(), "")
                                 : credentials_hint(config.auth);
    return Error(error.code(), "authenticating to the Akeyless gateway " + config.gateway_url +
                                   " as access id " + config.auth.access_id +
                                   " failed: " + error.message() + ": " + hint);
  }
  return client;
}

Result<UpstreamMaterial> read_upstream_material(AkeylessClient& client, const PluginConfig& config,
                                                Deadline deadline) {
  Result<CertificateValue> item =
      read_item(client, config.certificate_name, "certificate_name", deadline);
  if (!item.ok()) {
    return item.error();
  }

  std::optional<std::string> bundle_pem;
  // The bundle item usually holds only the root certificates; a key there is not needed (and is
  // ignored).
  if (!config.bundle_certificate_name.empty()) {
    Result<CertificateValue> bundle =
        read_item(client, config.bundle_certificate_name, "bundle_certificate_name", deadline,
                  PrivateKeyPolicy::kOptional);
    if (!bundle.ok()) {
      return bundle.error();
    }
    bundle_pem = std::move(bundle->certificate_pem);
  }

  std::optional<std::string_view> bundle_view;
  if (bundle_pem.has_value()) {
    bundle_view = *bundle_pem;
  }
  Result<UpstreamMaterial> material =
      UpstreamMaterial::load(item->certificate_pem, item->private_key_pem, bundle_view);
  if (!material.ok()) {
    return Error(material.error().code(),
                 "certificate item \"" + config.certificate_name +
                     "\" cannot be used as the upstream CA: " + material.error().message());
  }
  return material;
}

std::shared_ptr<const UpstreamMaterial> ActiveConfiguration::last_good() const {
  std::lock_guard<std::mutex> lock(last_good_mutex_);
  return last_good_;
}

void ActiveConfiguration::set_last_good(std::shared_ptr<const UpstreamMaterial> material) const {
  std::lock_guard<std::mutex> lock(last_good_mutex_);
  last_good_ = std::move(material);
}

std::shared_ptr<const ActiveConfiguration> PluginCore::active() const {
  std::lock_guard<std::mutex> lock(active_mutex_);
  return active_;
}

Status PluginCore::configure(bool core_present, std::string_view trust_domain, std::string_view hcl,
                             Deadline deadline) {
  std::lock_guard<std::mutex> serialize(configure_mutex_);

  // == core configuration ==
  Result<std::string> domain = parse_trust_domain(core_present, trust_domain);
  if (!domain.ok()) {
    return domain.error();
  }

  // == plugin_data ==
  Result<PluginConfig> config = parse_plugin_config(hcl, env_);
  if (!config.ok()) {
    // Messages about the block as a whole already start with "plugin_data".
    const Error& error = config.error();
    return error.message().starts_with("plugin_data")
               ? error
               : error.with_context("plugin_data is invalid");
  }

  // == log in and read the item once, so that a bad setup fails SPIRE's start right here ==
  Result<std::shared_ptr<AkeylessClient>> client =
      connect_to_akeyless(*config, akeyless_deadline(config->request_timeout, deadline));
  if (!client.ok()) {
    return client.error();
  }
  Result<UpstreamMaterial> material = read_upstream_material(
      **client, *config, akeyless_deadline(config->request_timeout, deadline));
  if (!material.ok()) {
    return material.error();
  }
  auto shared_material = std::make_shared<const UpstreamMaterial>(std::move(material).value());

  // == swap ==
  auto next = std::make_shared<ActiveConfiguration>();
  next->config = std::move(config).value();
  next->trust_domain = std::move(domain).value();
  next->client = std::move(client).value();
  next->set_last_good(shared_material);
  {
    std::lock_guard<std::mutex> lock(active_mutex_);
    active_ = next;
  }

  const Certificate& signer = shared_material->signing_certificate();
  logger_.info("Configured Akeyless upstream authority",
               {{"trust_domain", next->trust_domain},
                {"gateway_url", next->config.gateway_url},
                {"access_type", next->config.auth.access_type},
                {"access_id", next->config.auth.access_id},
                {"certificate_name", next->config.certificate_name},
                {"bundle_certificate_name", next->config.bundle_certificate_name},
                {"upstream_subject", signer.subject()},
                {"upstream_fingerprint", signer.sha256_fingerprint()},
                {"upstream_not_after", rfc3339_seconds(signer.not_after())},
                {"roots", static_cast<std::int64_t>(shared_material->roots().size())}});
  return Status::success();
}

ValidationReport PluginCore::validate(bool core_present, std::string_view trust_domain,
                                      std::string_view hcl) const {
  ValidationReport report;
  Result<std::string> domain = parse_trust_domain(core_present, trust_domain);
  if (!domain.ok()) {
    report.notes.push_back(domain.error().message());
  }
  for (std::string& note : validate_plugin_config(hcl, env_)) {
    report.notes.push_back(std::move(note));
  }
  report.valid = report.notes.empty();
  return report;
}

Result<MintOutcome> PluginCore::mint(std::span<const std::uint8_t> csr_der,
                                     std::int32_t preferred_ttl, Deadline deadline,
                                     const CancelCheck& cancelled) {
  std::shared_ptr<const ActiveConfiguration> current = active();
  if (current == nullptr) {
    return Error(ErrorCode::kFailedPrecondition, "not configured");
  }
  if (preferred_ttl < 0) {
    return Error(ErrorCode::kInvalidArgument,
                 "preferred_ttl is negative (" + std::to_string(preferred_ttl) +
                     " seconds): send 0 for the default or a positive number of seconds");
  }
  if (csr_der.empty()) {
    return Error(ErrorCode::kInvalidArgument, "the request carries no CSR");
  }

  // == fresh read of the item, so that a rotated item is used without a restart ==
  bool from_cache = false;
  std::shared_ptr<const UpstreamMaterial> material;
  Result<UpstreamMaterial> fresh =
      read_upstream_material(*current->client, current->config,
                             akeyless_deadline(current->config.request_timeout, deadline));
  if (cancelled()) {
    return Error(ErrorCode::kCancelled, "the request was cancelled by SPIRE Server");
  }
  if (fresh.ok()) {
    material = std::make_shared<const UpstreamMaterial>(std::move(fresh).value());
    current->set_last_good(material);
  } else if (is_unreachable(fresh.error().code()) && current->last_good() != nullptr) {
    material = current->last_good();
    from_cache = true;
    logger_.warn("Akeyless is unreachable; signing with the last certificate item read",
                 {{"certificate_name", current->config.certificate_name},
                  {"error", fresh.error().to_string()}});
  } else {
    return fresh.error();
  }

  // == sign ==
  CaSigner signer(material);
  Result<MintedCa> minted =
      signer.mint(csr_der, current->trust_domain, std::chrono::seconds(preferred_ttl));
  if (!minted.ok()) {
    return minted.error().with_context("minting the X509 CA");
  }
  MintOutcome outcome{std::move(minted).value(), from_cache};

  const Certificate& upstream = material->signing_certificate();
  if (outcome.minted.ttl_clamped) {
    logger_.warn(
        "Requested X509 CA TTL exceeds the upstream certificate's lifetime; clamped",
        {{"requested_ttl_seconds", static_cast<std::int64_t>(outcome.minted.requested_ttl.count())},
         {"not_after", rfc3339_seconds(outcome.minted.certificate.not_after())},
         {"upstream_not_after", rfc3339_seconds(upstream.not_after())}});
  }
  logger_.info("Minted X509 CA",
               {{"serial", outcome.minted.certificate.serial_hex()},
                {"not_after", rfc3339_seconds(outcome.minted.certificate.not_after())},
                {"trust_domain", current->trust_domain},
                {"upstream_fingerprint", upstream.sha256_fingerprint()},
                {"certificate_name", current->config.certificate_name},
                {"source", outcome.from_cache ? "cache" : "akeyless"}});
  return outcome;
}

}  // namespace akeyless_upstream::plugin
