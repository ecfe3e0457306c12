#pragma once

// PluginConfig: what the plugin's plugin_data (SPIRE's hcl_configuration) means. The keys are a
// superset of Akeyless's own akeyless_sm plugin (access_id, access_key, akeyless_gateway_url,
// certificate_name, k8s_auth_config_name, gcp_audience, azure_object_id), so an existing
// server.conf works unchanged; docs/configuration.md lists every key.
//
// Messages name the key, its line and column and the fix; they never contain the access key
// (nor any other value that could be secret).

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "akeyless_upstream/auth_provider.hpp"
#include "akeyless_upstream/result.hpp"

namespace akeyless_upstream::plugin {

// EnvLookup reads one environment variable; nullopt when it is not set. Tests pass a fake.
using EnvLookup = std::function<std::optional<std::string>(std::string_view name)>;

// process_env reads the real environment (std::getenv).
EnvLookup process_env();

// kAccessKeyEnv names the variable that may hold the API key instead of plugin_data, to keep it
// out of server.conf. When both are set, plugin_data's access_key wins.
inline constexpr std::string_view kAccessKeyEnv = "AKEYLESS_ACCESS_KEY";

// kPluginName is the name Akeyless's documentation gives the plugin in server.conf:
// `UpstreamAuthority "akeyless_sm" { ... }`.
inline constexpr std::string_view kPluginName = "akeyless_sm";

// PluginConfig is a validated configuration.
struct PluginConfig {
  AuthConfig auth;                                   // access_type and its keys
  std::string gateway_url;                           // akeyless_gateway_url (required)
  std::string certificate_name;                      // certificate_name (required)
  std::string bundle_certificate_name;               // optional; empty = none
  std::string gateway_ca_bundle_path;                // optional; empty = the system trust store
  std::chrono::milliseconds request_timeout{30000};  // request_timeout
};

// parse_plugin_config reads plugin_data (HCL v1 block form, quoted-key form, or JSON) and
// validates it. `env` is consulted for AKEYLESS_ACCESS_KEY. Errors: kInvalidArgument with the
// first problem found, followed by " (and N more problems)" when there are others
// (validate_plugin_config lists them all).
Result<PluginConfig> parse_plugin_config(std::string_view hcl_text, const EnvLookup& env);

// validate_plugin_config returns every problem in plugin_data, in the order found; empty means
// valid. It has no side effects (it reads gateway_ca_bundle_path only to check it is readable).
std::vector<std::string> validate_plugin_config(std::string_view hcl_text, const EnvLookup& env);

// plugin_data_from_file serves `check --config FILE`. FILE is either a plugin_data body or a
// whole server.conf (HCL or JSON); from the latter it takes `plugins { UpstreamAuthority
// "<plugin_name>" { plugin_data ... } }`, or the content of its plugin_data_file. The result is
// text that parse_plugin_config accepts; for an inline plugin_data it is padded so that lines
// and columns in messages match FILE. Errors: kInvalidArgument for a syntax error or a
// server.conf without that plugin, kNotFound when plugin_data_file cannot be read.
Result<std::string> plugin_data_from_file(std::string_view file_text,
                                          std::string_view plugin_name = kPluginName);

// parse_duration reads request_timeout's text form: a Go duration ("30s", "1m30s", "500ms",
// "1.5h"; units ns us µs ms s m h) or whole seconds ("30"). Errors: kInvalidArgument.
Result<std::chrono::milliseconds> parse_duration(std::string_view text);

}  // namespace akeyless_upstream::plugin
