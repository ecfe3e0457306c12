#pragma once

// PluginCore: the state behind the Config and UpstreamAuthority services, free of gRPC so that
// the `check` command runs the same path. It holds the active configuration (trust domain,
// parsed plugin_data, an authenticated AkeylessClient) and the last upstream material that
// loaded, and swaps the whole configuration at once on every Configure.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "akeyless_upstream/akeyless_client.hpp"
#include "akeyless_upstream/ca_signer.hpp"
#include "akeyless_upstream/result.hpp"
#include "akeyless_upstream/upstream_material.hpp"
#include "log.hpp"
#include "plugin_config.hpp"

namespace akeyless_upstream::plugin {

// parse_trust_domain checks SPIRE's core configuration the way SPIRE's built-in plugins do
// (pluginconf): `present` false means the core configuration itself is missing. Accepts a bare
// name ("example.org") or a SPIFFE ID of the trust domain ("spiffe://example.org"), and returns
// the bare name. Errors: kInvalidArgument "server core configuration is required", "... must
// contain trust_domain", "... trust_domain is malformed: <why>".
Result<std::string> parse_trust_domain(bool present, std::string_view trust_domain);

// connect_to_akeyless builds the auth provider and the client for `config` and logs in once.
// Errors keep the library's code; the message names the gateway, the access id and what to
// check, e.g. "authenticating to the Akeyless gateway https://gw as access id p-xxx failed:
// ...: check access_id and access_key".
Result<std::shared_ptr<AkeylessClient>> connect_to_akeyless(const PluginConfig& config,
                                                            Deadline deadline);

// read_upstream_material reads the certificate item (and the bundle item when configured)
// bypassing the gateway's cache, and validates them with UpstreamMaterial::load. Errors keep the
// library's code; the message names the item and the fix.
Result<UpstreamMaterial> read_upstream_material(AkeylessClient& client, const PluginConfig& config,
                                                Deadline deadline);

// ActiveConfiguration is one applied Configure: immutable except for the last good material.
struct ActiveConfiguration {
  PluginConfig config;
  std::string trust_domain;
  std::shared_ptr<AkeylessClient> client;

  // The material of the last successful read; served when Akeyless is unreachable.
  std::shared_ptr<const UpstreamMaterial> last_good() const;
  void set_last_good(std::shared_ptr<const UpstreamMaterial> material) const;

 private:
  mutable std::mutex last_good_mutex_;
  mutable std::shared_ptr<const UpstreamMaterial> last_good_;
};

// ValidationReport is the answer to Config.Validate.
struct ValidationReport {
  bool valid = true;
  std::vector<std::string> notes;
};

// MintOutcome is a minted CA plus where the upstream material came from.
struct MintOutcome {
  MintedCa minted;
  bool from_cache = false;
};

// CancelCheck reports whether the caller gave up (the gRPC context was cancelled).
using CancelCheck = std::function<bool()>;

class PluginCore {
 public:
  PluginCore(Logger& logger, EnvLookup env) : logger_(logger), env_(std::move(env)) {}

  // configure applies a configuration: parse, connect, read and validate the item once, then
  // swap it in. A failed configure leaves the previous configuration active. Safe to call
  // concurrently with mint (mints see the old or the new configuration, never a mix).
  Status configure(bool core_present, std::string_view trust_domain, std::string_view hcl,
                   Deadline deadline);

  // validate reports every problem of a configuration, with no network access and no change.
  ValidationReport validate(bool core_present, std::string_view trust_domain,
                            std::string_view hcl) const;

  // mint reads the item afresh (falling back to the last good material when Akeyless is
  // unreachable) and signs the CSR. Errors: kFailedPrecondition "not configured" before
  // Configure; kInvalidArgument for a bad CSR or preferred_ttl; kCancelled when `cancelled`
  // turns true; otherwise the library's code.
  Result<MintOutcome> mint(std::span<const std::uint8_t> csr_der, std::int32_t preferred_ttl,
                           Deadline deadline, const CancelCheck& cancelled);

  // active returns the current configuration, or nullptr before Configure.
  std::shared_ptr<const ActiveConfiguration> active() const;

 private:
  Logger& logger_;
  EnvLookup env_;
  std::mutex configure_mutex_;  // one Configure at a time; never held by mint
  mutable std::mutex active_mutex_;
  std::shared_ptr<const ActiveConfiguration> active_;
};

// akeyless_deadline gives now + request_timeout, no later than `outer`.
Deadline akeyless_deadline(std::chrono::milliseconds request_timeout, Deadline outer);

}  // namespace akeyless_upstream::plugin
