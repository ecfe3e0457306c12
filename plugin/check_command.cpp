#include "check_command.hpp"

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <string_view>

#include "akeyless_upstream/ca_signer.hpp"
#include "akeyless_upstream/certificate.hpp"
#include "akeyless_upstream/csr.hpp"
#include "akeyless_upstream/private_key.hpp"
#include "log.hpp"
#include "plugin_config.hpp"
#include "upstream_core.hpp"

namespace akeyless_upstream::plugin {
namespace {

// SPIRE Server's default ca_ttl; the report warns when it would be clamped.
constexpr std::chrono::seconds kDefaultSpireCaTtl{24 * 3600};
// An upstream CA that expires sooner than this deserves a warning.
constexpr std::chrono::hours kExpiryWarning{30 * 24};

void usage(std::ostream& out) {
  out << "usage: akeyless-upstream-sm check --config FILE --trust-domain TRUST_DOMAIN "
         "[--ca-ttl SECONDS]\n"
         "  FILE is a plugin_data body or a whole server.conf (its UpstreamAuthority "
         "\"akeyless_sm\" block is used).\n"
         "  --ca-ttl is SPIRE's ca_ttl in seconds (default 86400).\n";
}

int fail(Logger& logger, std::string_view what, const Error& error) {
  logger.error(std::string(what) + ": " + error.message(),
               {{"code", std::string(code_name(error.code()))}});
  std::cout << "RESULT: FAIL (" << what << ")\n";
  return 1;
}

std::string days_left(TimePoint not_after, TimePoint now) {
  const auto hours = std::chrono::duration_cast<std::chrono::hours>(not_after - now).count();
  return std::to_string(hours / 24) + " days";
}

}  // namespace

int run_check(int argc, char** argv) {
  Logger logger(LogFormat::kHuman);
  install_library_log_sinks(&logger);

  // == arguments ==
  std::string config_path;
  std::string trust_domain;
  std::int64_t ca_ttl = kDefaultSpireCaTtl.count();
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--help" || arg == "-h") {
      usage(std::cout);
      return 0;
    }
    if (arg == "--config" && has_value) {
      config_path = argv[++i];
    } else if (arg == "--trust-domain" && has_value) {
      trust_domain = argv[++i];
    } else if (arg == "--ca-ttl" && has_value) {
      try {
        ca_ttl = std::stoll(argv[++i]);
      } catch (...) {
        ca_ttl = -1;
      }
      if (ca_ttl <= 0 || ca_ttl > INT32_MAX) {
        std::cerr << "--ca-ttl must be a positive number of seconds\n";
        return 2;
      }
    } else {
      std::cerr << "unknown or incomplete argument: " << arg << "\n";
      usage(std::cerr);
      return 2;
    }
  }
  if (config_path.empty() || trust_domain.empty()) {
    std::cerr << "check needs --config and --trust-domain\n";
    usage(std::cerr);
    return 2;
  }

  // == configuration ==
  Result<std::string> domain = parse_trust_domain(true, trust_domain);
  if (!domain.ok()) {
    return fail(logger, "trust domain", domain.error());
  }
  std::ifstream file(config_path, std::ios::binary);
  if (!file) {
    return fail(logger, "reading the configuration",
                Error(ErrorCode::kNotFound,
                      "cannot open \"" + config_path + "\": check the path and its permissions"));
  }
  std::stringstream text;
  text << file.rdbuf();
  Result<std::string> plugin_data = plugin_data_from_file(text.str());
  if (!plugin_data.ok()) {
    return fail(logger, "reading the configuration", plugin_data.error());
  }
  Result<PluginConfig> config = parse_plugin_config(*plugin_data, process_env());
  if (!config.ok()) {
    // Every problem at once, so that one run is enough to fix the block.
    for (const std::string& note : validate_plugin_config(*plugin_data, process_env())) {
      logger.error("plugin_data: " + note);
    }
    return fail(logger, "plugin_data is invalid", config.error());
  }

  std::cout << "akeyless-upstream-sm check\n"
            << "  trust domain:      " << *domain << "\n"
            << "  gateway:           " << config->gateway_url << "\n"
            << "  access type:       " << config->auth.access_type << "\n"
            << "  access id:         " << config->auth.access_id << "\n"
            << "  certificate item:  " << config->certificate_name << "\n";
  if (!config->bundle_certificate_name.empty()) {
    std::cout << "  bundle item:       " << config->bundle_certificate_name << "\n";
  }

  // == Akeyless ==
  const auto deadline = [&] { return akeyless_deadline(config->request_timeout, Deadline::max()); };
  Result<std::shared_ptr<AkeylessClient>> client = connect_to_akeyless(*config, deadline());
  if (!client.ok()) {
    return fail(logger, "authentication", client.error());
  }
  std::cout << "  authentication:    ok\n";
  Result<UpstreamMaterial> loaded = read_upstream_material(**client, *config, deadline());
  if (!loaded.ok()) {
    return fail(logger, "certificate item", loaded.error());
  }
  auto material = std::make_shared<const UpstreamMaterial>(std::move(loaded).value());
  const TimePoint now = std::chrono::system_clock::now();
  const Certificate& signer = material->signing_certificate();

  std::cout << "\nUpstream chain (signing certificate first; roots not included):\n";
  if (material->chain_after_minted().empty()) {
    std::cout << "  (none: the signing certificate is itself a root)\n";
  }
  for (const Certificate& certificate : material->chain_after_minted()) {
    std::cout << "  - " << certificate.subject() << "\n"
              << "      issuer:      " << certificate.issuer() << "\n"
              << "      not after:   " << rfc3339_seconds(certificate.not_after()) << "\n";
  }
  std::cout << "Roots:\n";
  for (const Certificate& root : material->roots()) {
    std::cout << "  - " << root.subject() << "\n"
              << "      SHA-256:     " << root.sha256_fingerprint() << "\n"
              << "      not after:   " << rfc3339_seconds(root.not_after()) << "\n";
  }
  std::cout << "Signing certificate expires: " << rfc3339_seconds(signer.not_after()) << " (in "
            << days_left(signer.not_after(), now) << ")\n";

  // == sign a CSR shaped like SPIRE's and verify the result ==
  Result<PrivateKey> key = PrivateKey::generate(KeyType::kEcP256);
  if (!key.ok()) {
    return fail(logger, "test key", key.error());
  }
  Result<Bytes> csr = build_csr_der(*key, spire_like_csr_spec(*domain));
  if (!csr.ok()) {
    return fail(logger, "test CSR", csr.error());
  }
  CaSigner ca_signer(material);
  Result<MintedCa> minted = ca_signer.mint(*csr, *domain, std::chrono::seconds(ca_ttl), now);
  if (!minted.ok()) {
    return fail(logger, "test mint", minted.error());
  }
  std::vector<Certificate> intermediates(minted->chain.begin() + 1, minted->chain.end());
  Status verified = verify_chain(minted->certificate, intermediates, minted->roots, now);
  if (!verified.ok()) {
    return fail(logger, "verifying the test CA", verified.error());
  }
  std::cout << "Test mint: a CA for spiffe://" << *domain << " (serial "
            << minted->certificate.serial_hex() << ", not after "
            << rfc3339_seconds(minted->certificate.not_after()) << ") verifies to the roots\n";

  // == warnings ==
  int warnings = 0;
  const auto warn = [&](const std::string& text) {
    std::cout << "WARNING: " << text << "\n";
    ++warnings;
  };
  if (signer.not_after() - now < kExpiryWarning) {
    warn("the upstream signing certificate expires in " + days_left(signer.not_after(), now) +
         ": rotate the Akeyless certificate item soon");
  }
  if (minted->ttl_clamped) {
    warn("a CA with ca_ttl " + std::to_string(ca_ttl) +
         "s would be clamped to the upstream certificate's expiry: lower ca_ttl or renew the "
         "item");
  }
  for (const Certificate& root : material->roots()) {
    if (root.not_after() - now < kExpiryWarning) {
      warn("root \"" + root.subject() + "\" expires in " + days_left(root.not_after(), now));
    }
  }
  std::cout << "\nRESULT: OK (SPIRE Server would accept this configuration"
            << (warnings > 0 ? ", see warnings" : "") << ")\n";
  return 0;
}

}  // namespace akeyless_upstream::plugin
