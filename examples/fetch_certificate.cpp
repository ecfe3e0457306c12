// fetch_certificate: log in to Akeyless (or an Akeyless Gateway) and print a certificate item.
//
//   fetch_certificate --gateway-url URL --access-type TYPE --access-id ID --name ITEM
//                     [--k8s-auth-config-name N] [--k8s-token-path FILE] [--gcp-audience A]
//                     [--azure-object-id O] [--ca-bundle FILE]
//
// The access key of the api_key method is read from the environment (AKEYLESS_ACCESS_KEY) so it
// never shows in a process listing or shell history. The certificate (chain) PEM goes to stdout;
// a one-line summary of the private key goes to stderr. The key itself is never printed.

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <map>
#include <string>
#include <string_view>

#include "akeyless_upstream/akeyless_client.hpp"
#include "akeyless_upstream/auth_provider.hpp"
#include "akeyless_upstream/private_key.hpp"

namespace aku = akeyless_upstream;

namespace {

constexpr std::string_view kUsage =
    "usage: fetch_certificate --gateway-url URL --access-type TYPE --access-id ID --name ITEM "
    "[--k8s-auth-config-name N] [--k8s-token-path FILE] [--gcp-audience A] "
    "[--azure-object-id O] [--ca-bundle FILE]";

int fail(std::string_view message) {
  std::cerr << "fetch_certificate: " << message << "\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  // == command line: every flag takes one value ==
  const std::map<std::string, std::string> known = {
      {"--gateway-url", ""},  {"--access-type", ""},          {"--access-id", ""},
      {"--name", ""},         {"--k8s-auth-config-name", ""}, {"--k8s-token-path", ""},
      {"--gcp-audience", ""}, {"--azure-object-id", ""},      {"--ca-bundle", ""},
  };
  std::map<std::string, std::string> flags;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      std::cout << kUsage << "\n";
      return 0;
    }
    if (known.count(flag) == 0) {
      return fail("unknown argument '" + flag + "'; " + std::string(kUsage));
    }
    if (i + 1 >= argc) {
      return fail(flag + " needs a value");
    }
    flags[flag] = argv[++i];
  }
  for (const char* required : {"--gateway-url", "--access-type", "--access-id", "--name"}) {
    if (flags[required].empty()) {
      return fail(std::string(required) + " is required; " + std::string(kUsage));
    }
  }

  // == authentication method ==
  aku::AuthConfig auth;
  auth.access_type = flags["--access-type"];
  auth.access_id = flags["--access-id"];
  if (const char* key = std::getenv("AKEYLESS_ACCESS_KEY")) {
    auth.access_key = aku::SecretString(key);
  }
  if (auth.access_type == "api_key" && auth.access_key.empty()) {
    return fail("the api_key method reads its access key from AKEYLESS_ACCESS_KEY, which is unset");
  }
  auth.k8s_auth_config_name = flags["--k8s-auth-config-name"];
  if (!flags["--k8s-token-path"].empty()) {
    auth.k8s_service_account_token_path = flags["--k8s-token-path"];
  }
  if (!flags["--gcp-audience"].empty()) {
    auth.gcp_audience = flags["--gcp-audience"];
  }
  auth.azure_object_id = flags["--azure-object-id"];
  auto provider = aku::make_auth_provider(auth);
  if (!provider.ok()) {
    return fail(provider.error().to_string());
  }

  // == client ==
  aku::AkeylessClientOptions options;
  options.gateway_url = flags["--gateway-url"];
  options.ca_bundle_path = flags["--ca-bundle"];
  auto client = aku::AkeylessClient::create(options, *provider);
  if (!client.ok()) {
    return fail(client.error().to_string());
  }

  // == read the item ==
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  auto value = (*client)->get_certificate_value(flags["--name"], std::nullopt, false, deadline);
  if (!value.ok()) {
    return fail(value.error().to_string());
  }

  // The key is parsed only to describe it; it stays inside libcrypto and the SecretString.
  auto key = aku::PrivateKey::from_pem(value->private_key_pem);
  if (!key.ok()) {
    return fail("the item's private key cannot be used: " + key.error().to_string());
  }
  std::cout << value->certificate_pem;
  if (!value->certificate_pem.empty() && value->certificate_pem.back() != '\n') {
    std::cout << "\n";
  }
  std::cout.flush();
  std::cerr << "private key: " << key->describe() << "\n";
  return std::cout.good() ? 0 : 1;
}
