#pragma once

// TestGateway: the Akeyless gateway emulator loaded with the certificate items and access ids
// the plugin tests use, plus helpers that write plugin_data for it and make SPIRE-shaped CSRs.

#include <fstream>
#include <string>

#include <boost/json.hpp>

#include "akeyless_upstream/certificate.hpp"
#include "akeyless_upstream/csr.hpp"
#include "akeyless_upstream/private_key.hpp"
#include "akeyless_upstream/testing/pki.hpp"
#include "emulator_process.hpp"

namespace plugin_test {

// Test credentials. The access key is a secret: tests check it never shows up in the plugin's
// stderr or in any status message.
inline constexpr const char* kAccessId = "p-spire";
inline constexpr const char* kAccessKey = "emu-secret-7Kq2ZxV9";
inline constexpr const char* kDeniedAccessId = "p-denied";
inline constexpr const char* kTrustDomain = "example.org";

// Item names.
inline constexpr const char* kRootItem = "/SPIRE/root-ca";
inline constexpr const char* kOtherRootItem = "/SPIRE/root-b";
inline constexpr const char* kIntermediateItem = "/SPIRE/intermediate";
inline constexpr const char* kBundleItem = "/SPIRE/bundle";
inline constexpr const char* kChainItem = "/SPIRE/intermediate-chain";
inline constexpr const char* kLeafItem = "/SPIRE/leaf";
inline constexpr const char* kStaticItem = "/SPIRE/static";
inline constexpr const char* kShortLivedItem = "/SPIRE/short-lived";

// non_ca_item makes a certificate item whose certificate is a leaf (CA:FALSE).
inline boost::json::object non_ca_item() {
  akeyless_upstream::testing::CaOptions options;
  options.common_name = "not a CA";
  options.is_ca = false;
  auto leaf = akeyless_upstream::testing::make_self_signed(options);
  if (!leaf.ok()) {
    throw std::runtime_error(leaf.error().to_string());
  }
  auto key_pem = leaf->key.to_pkcs8_pem();
  if (!key_pem.ok()) {
    throw std::runtime_error(key_pem.error().to_string());
  }
  return {{"name", kLeafItem},
          {"type", "CERTIFICATE"},
          {"certificate_pem", leaf->certificate.pem()},
          {"private_key_pem", std::string(key_pem->reveal())}};
}

inline std::string gateway_config() {
  boost::json::object config;
  config["token_lifetime_seconds"] = 3600;
  config["access_ids"] = boost::json::array{
      {{"access_id", kAccessId},
       {"access_type", "access_key"},
       {"access_key", kAccessKey},
       {"read", boost::json::array{"/SPIRE/*"}}},
      {{"access_id", kDeniedAccessId},
       {"access_type", "access_key"},
       {"access_key", kAccessKey},
       {"read", boost::json::array{"/OTHER/*"}}},
  };
  config["items"] = boost::json::array{
      {{"name", kRootItem},
       {"type", "CERTIFICATE"},
       {"generate", {{"kind", "root"}, {"key_type", "ec-p256"}, {"common_name", "Test Root A"}}}},
      {{"name", kOtherRootItem},
       {"type", "CERTIFICATE"},
       {"generate", {{"kind", "root"}, {"key_type", "ec-p384"}, {"common_name", "Test Root B"}}}},
      {{"name", kIntermediateItem},
       {"type", "CERTIFICATE"},
       {"generate",
        {{"kind", "intermediate"},
         {"key_type", "ec-p256"},
         {"common_name", "Test Intermediate"},
         {"bundle_item", kBundleItem}}}},
      {{"name", kChainItem},
       {"type", "CERTIFICATE"},
       {"generate",
        {{"kind", "intermediate"},
         {"key_type", "ec-p256"},
         {"common_name", "Test Chain Intermediate"},
         {"bundle_item", "/SPIRE/bundle-2"},
         {"include_chain", true}}}},
      {{"name", kShortLivedItem},
       {"type", "CERTIFICATE"},
       {"generate", {{"kind", "root"}, {"common_name", "Short Lived Root"}, {"ttl_days", 1}}}},
      {{"name", kStaticItem}, {"type", "STATIC_SECRET"}, {"value", "not a certificate"}},
      non_ca_item(),
  };
  return boost::json::serialize(config);
}

// PluginData builds plugin_data text (HCL, as SPIRE re-prints a plugin_data block).
struct PluginData {
  std::string access_id = kAccessId;
  std::string access_key = kAccessKey;
  std::string certificate_name = kRootItem;
  std::string bundle_certificate_name;
  std::string request_timeout = "5s";
};

class TestGateway {
 public:
  TestGateway() : emulator_(gateway_config(), {"--quiet"}) {}

  std::string plugin_data(const PluginData& data) const {
    std::string text = "access_id = \"" + data.access_id + "\"\n\n";
    text += "access_key = \"" + data.access_key + "\"\n\n";
    text += "akeyless_gateway_url = \"" + emulator_.endpoint() + "\"\n\n";
    text += "gateway_ca_bundle_path = \"" + emulator_.ca_path() + "\"\n\n";
    text += "certificate_name = \"" + data.certificate_name + "\"\n\n";
    if (!data.bundle_certificate_name.empty()) {
      text += "bundle_certificate_name = \"" + data.bundle_certificate_name + "\"\n\n";
    }
    text += "request_timeout = \"" + data.request_timeout + "\"\n";
    return text;
  }

  emulator_test::EmulatorProcess& emulator() { return emulator_; }

 private:
  emulator_test::EmulatorProcess emulator_;
};

// SpireCsr is a CSR shaped like SPIRE Server's, with its key.
struct SpireCsr {
  akeyless_upstream::PrivateKey key;
  std::string der;
};

inline SpireCsr make_spire_csr(
    const std::string& trust_domain = kTrustDomain,
    akeyless_upstream::KeyType type = akeyless_upstream::KeyType::kEcP256) {
  auto key = akeyless_upstream::PrivateKey::generate(type);
  if (!key.ok()) {
    throw std::runtime_error(key.error().to_string());
  }
  auto der =
      akeyless_upstream::build_csr_der(*key, akeyless_upstream::spire_like_csr_spec(trust_domain));
  if (!der.ok()) {
    throw std::runtime_error(der.error().to_string());
  }
  return SpireCsr{*key, std::string(der->begin(), der->end())};
}

}  // namespace plugin_test
