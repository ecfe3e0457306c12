// Config and UpstreamAuthority against the gateway emulator, through the go-plugin host: good and
// bad configurations, the minted chain's shape, rotation, outages, bad CSRs, the optional RPCs,
// and re-Configure under concurrent mints. Every stderr line is checked against SPIRE's host
// parsing rules, and the access key must never appear.

#include <atomic>
#include <cstdio>
#include <set>

#include <catch2/catch.hpp>

#include "akeyless_upstream/ca_signer.hpp"
#include "gateway_fixture.hpp"
#include "hclog_rules.hpp"
#include "plugin_host.hpp"

using namespace plugin_test;
using namespace std::chrono_literals;
using akeyless_upstream::Certificate;

namespace {

void check_stderr(const GoPluginHost& host) {
  for (const std::string& line : host.stderr_lines()) {
    INFO("stderr line: " << line.substr(0, 300));
    CHECK(hclog_line_problem(line).empty());
  }
  CHECK(host.stderr_text().find(kAccessKey) == std::string::npos);
}

void check_no_secret(const grpc::Status& status) {
  CHECK(status.error_message().find(kAccessKey) == std::string::npos);
}

std::vector<Certificate> parse_all(
    const google::protobuf::RepeatedPtrField<::spire::plugin::types::X509Certificate>& list) {
  std::vector<Certificate> out;
  for (const auto& entry : list) {
    const std::string& der = entry.asn1();
    auto certificate = Certificate::from_der(std::span<const std::uint8_t>(
        reinterpret_cast<const std::uint8_t*>(der.data()), der.size()));
    REQUIRE(certificate.ok());
    out.push_back(*certificate);
  }
  return out;
}

// MintedShape is a checked mint response.
struct MintedShape {
  std::vector<Certificate> chain;
  std::vector<Certificate> roots;
};

std::string write_pem(const std::string& dir, const std::string& name,
                      const std::vector<Certificate>& certificates) {
  const std::string path = dir + "/" + name;
  std::ofstream(path) << akeyless_upstream::to_pem(certificates);
  return path;
}

// openssl_verifies runs `openssl verify` on the minted CA with the rest of the chain as
// untrusted intermediates and the roots as the only trust anchors: an independent verifier.
bool openssl_verifies(const MintedShape& shape) {
  TempDir dir;
  const std::string roots = write_pem(dir.path(), "roots.pem", shape.roots);
  const std::string leaf = write_pem(dir.path(), "minted.pem", {shape.chain.front()});
  std::string command =
      std::string(std::getenv("OPENSSL_BIN") ? std::getenv("OPENSSL_BIN") : "openssl") +
      " verify -CAfile " + roots;
  if (shape.chain.size() > 1) {
    std::vector<Certificate> rest(shape.chain.begin() + 1, shape.chain.end());
    command += " -untrusted " + write_pem(dir.path(), "rest.pem", rest);
  }
  command += " " + leaf + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) {
    return false;
  }
  std::string output;
  char buffer[512];
  while (fgets(buffer, sizeof(buffer), pipe) != nullptr) {
    output += buffer;
  }
  const int rc = pclose(pipe);
  INFO("openssl: " << output);
  return rc == 0 && output.find(": OK") != std::string::npos;
}

// check_mint_response asserts the shape SPIRE requires of the first (here: only) message.
MintedShape check_mint_response(const std::vector<ua::MintX509CAResponse>& responses,
                                const SpireCsr& csr) {
  REQUIRE(responses.size() == 1);
  MintedShape shape{parse_all(responses[0].x509_ca_chain()),
                    parse_all(responses[0].upstream_x509_roots())};
  REQUIRE_FALSE(shape.chain.empty());
  REQUIRE_FALSE(shape.roots.empty());

  const Certificate& minted = shape.chain.front();
  CHECK(minted.is_ca());
  CHECK(minted.public_key_der() == csr.key.public_key_der());
  CHECK(minted.uri_sans() == std::vector<std::string>{"spiffe://example.org"});
  CHECK_FALSE(minted.authority_key_id().empty());
  for (const Certificate& root : shape.roots) {
    CHECK(root.is_self_signed());
    CHECK_FALSE(root.subject_key_id().empty());
  }
  for (const Certificate& member : shape.chain) {
    CHECK_FALSE(member.is_self_signed());  // no root inside the chain
  }
  std::vector<Certificate> rest(shape.chain.begin() + 1, shape.chain.end());
  CHECK(akeyless_upstream::verify_chain(minted, rest, shape.roots).ok());
  CHECK(openssl_verifies(shape));
  return shape;
}

// ConfiguredPlugin: a plugin started like SPIRE does, Init'ed and (optionally) configured.
struct ConfiguredPlugin {
  explicit ConfiguredPlugin(TestGateway& gateway) : gateway(gateway) {
    host.start_like_spire();
    init::InitResponse response;
    REQUIRE(host.init(response).ok());
  }
  grpc::Status configure(const PluginData& data) {
    return host.configure(std::string(kTrustDomain), gateway.plugin_data(data));
  }
  grpc::Status mint(const SpireCsr& csr, int ttl, std::vector<ua::MintX509CAResponse>& responses) {
    return host.mint(csr.der, ttl, responses);
  }

  TestGateway& gateway;
  GoPluginHost host;
};

}  // namespace

TEST_CASE("a plugin configured with a root item mints a CA that chains to that root") {
  TestGateway gateway;
  ConfiguredPlugin plugin(gateway);
  grpc::Status configured = plugin.configure(PluginData{});
  INFO(configured.error_message());
  REQUIRE(configured.ok());

  SpireCsr csr = make_spire_csr();
  std::vector<ua::MintX509CAResponse> responses;
  grpc::Status status = plugin.mint(csr, 3600, responses);
  INFO(status.error_message());
  REQUIRE(status.ok());  // one message, then the stream ended with OK
  MintedShape shape = check_mint_response(responses, csr);
  CHECK(shape.chain.size() == 1);  // the signing certificate is the root: nothing in between
  CHECK(shape.roots.size() == 1);
  CHECK(shape.chain[0].issuer_der() == shape.roots[0].subject_der());

  // The info line an operator sees for each mint.
  CHECK(plugin.host.wait_for_stderr("Minted X509 CA", 10s));
  CHECK(plugin.host.stderr_text().find("\"serial\":\"" + shape.chain[0].serial_hex() + "\"") !=
        std::string::npos);
  CHECK(plugin.host.stderr_text().find(shape.roots[0].sha256_fingerprint()) != std::string::npos);

  CHECK(plugin.host.unload(2000ms).has_value());
  check_stderr(plugin.host);
}

TEST_CASE(
    "an item holding intermediate and root gives chain [minted, intermediate] and the root apart") {
  TestGateway gateway;
  ConfiguredPlugin plugin(gateway);
  PluginData data;
  data.certificate_name = kChainItem;
  grpc::Status configured = plugin.configure(data);
  INFO(configured.error_message());
  REQUIRE(configured.ok());

  for (auto type : {akeyless_upstream::KeyType::kEcP256, akeyless_upstream::KeyType::kEcP384,
                    akeyless_upstream::KeyType::kRsa2048}) {
    SpireCsr csr = make_spire_csr(kTrustDomain, type);
    std::vector<ua::MintX509CAResponse> responses;
    grpc::Status status = plugin.mint(csr, 0, responses);
    INFO(status.error_message());
    REQUIRE(status.ok());
    MintedShape shape = check_mint_response(responses, csr);
    REQUIRE(shape.chain.size() == 2);
    CHECK(shape.chain[1].subject().find("Test Chain Intermediate") != std::string::npos);
    CHECK(shape.chain[0].issuer_der() == shape.chain[1].subject_der());
    CHECK(shape.roots.size() == 1);
  }
  check_stderr(plugin.host);
}

TEST_CASE("a TTL beyond the upstream certificate's expiry is clamped and logged as a warning") {
  TestGateway gateway;
  ConfiguredPlugin plugin(gateway);
  PluginData data;
  data.certificate_name = kShortLivedItem;
  REQUIRE(plugin.configure(data).ok());

  SpireCsr csr = make_spire_csr();
  std::vector<ua::MintX509CAResponse> responses;
  REQUIRE(plugin.mint(csr, 7 * 24 * 3600, responses).ok());
  MintedShape shape = check_mint_response(responses, csr);
  CHECK(shape.chain[0].not_after() <= shape.roots[0].not_after());
  CHECK(plugin.host.wait_for_stderr("clamped", 10s));
  CHECK(plugin.host.stderr_text().find("\"@level\":\"warn\"") != std::string::npos);
  check_stderr(plugin.host);
}

TEST_CASE("a rotated certificate item is used by the next mint without a restart") {
  TestGateway gateway;
  ConfiguredPlugin plugin(gateway);
  REQUIRE(plugin.configure(PluginData{}).ok());

  SpireCsr csr = make_spire_csr();
  std::vector<ua::MintX509CAResponse> before;
  REQUIRE(plugin.mint(csr, 3600, before).ok());
  MintedShape first = check_mint_response(before, csr);

  gateway.emulator().admin("POST", "/_emulator/items/rotate", {{"name", kRootItem}});

  std::vector<ua::MintX509CAResponse> after;
  REQUIRE(plugin.mint(csr, 3600, after).ok());
  MintedShape second = check_mint_response(after, csr);
  CHECK(second.roots[0].sha256_fingerprint() != first.roots[0].sha256_fingerprint());
  check_stderr(plugin.host);
}

TEST_CASE("bad credentials fail Configure with UNAUTHENTICATED and a message naming the fix") {
  TestGateway gateway;
  ConfiguredPlugin plugin(gateway);
  PluginData data;
  data.access_key = "wrong-key-not-the-secret";
  grpc::Status status = plugin.configure(data);
  CHECK(status.error_code() == grpc::StatusCode::UNAUTHENTICATED);
  CHECK(status.error_message().find("authenticating to the Akeyless gateway") != std::string::npos);
  CHECK(status.error_message().find("as access id p-spire failed") != std::string::npos);
  CHECK(status.error_message().find("check access_id and access_key") != std::string::npos);
  CHECK(status.error_message().find("wrong-key-not-the-secret") == std::string::npos);
  CHECK(plugin.host.stderr_text().find("wrong-key-not-the-secret") == std::string::npos);
  check_no_secret(status);

  // A failed Configure leaves the plugin unconfigured.
  std::vector<ua::MintX509CAResponse> responses;
  CHECK(plugin.mint(make_spire_csr(), 0, responses).error_code() ==
        grpc::StatusCode::FAILED_PRECONDITION);
  check_stderr(plugin.host);
}

TEST_CASE("Configure names the item and the fix when the item cannot be used") {
  TestGateway gateway;
  ConfiguredPlugin plugin(gateway);

  SECTION("an unknown item is NOT_FOUND") {
    PluginData data;
    data.certificate_name = "/SPIRE/does-not-exist";
    grpc::Status status = plugin.configure(data);
    CHECK(status.error_code() == grpc::StatusCode::NOT_FOUND);
    CHECK(status.error_message().find("certificate item '/SPIRE/does-not-exist'") !=
          std::string::npos);
    CHECK(status.error_message().find("check certificate_name") != std::string::npos);
  }
  SECTION("an item whose certificate is not a CA is refused as upstream CA") {
    PluginData data;
    data.certificate_name = kLeafItem;
    grpc::Status status = plugin.configure(data);
    CHECK_FALSE(status.ok());
    CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(status.error_message().find("cannot be used as the upstream CA") != std::string::npos);
    CHECK(status.error_message().find(kLeafItem) != std::string::npos);
  }
  SECTION("a static secret is not a certificate item") {
    PluginData data;
    data.certificate_name = kStaticItem;
    grpc::Status status = plugin.configure(data);
    CHECK_FALSE(status.ok());
    CHECK(status.error_message().find(kStaticItem) != std::string::npos);
  }
  SECTION("an access id without read permission is PERMISSION_DENIED") {
    PluginData data;
    data.access_id = kDeniedAccessId;
    grpc::Status status = plugin.configure(data);
    CHECK(status.error_code() == grpc::StatusCode::PERMISSION_DENIED);
    CHECK(status.error_message().find("grant the access id read permission") != std::string::npos);
  }
  std::vector<ua::MintX509CAResponse> responses;
  CHECK(plugin.mint(make_spire_csr(), 0, responses).error_code() ==
        grpc::StatusCode::FAILED_PRECONDITION);
  check_stderr(plugin.host);
}

TEST_CASE("a bad CSR is refused with INVALID_ARGUMENT") {
  TestGateway gateway;
  ConfiguredPlugin plugin(gateway);
  REQUIRE(plugin.configure(PluginData{}).ok());

  SECTION("bytes that are not a CSR") {
    SpireCsr garbage{make_spire_csr().key, "this is not DER"};
    std::vector<ua::MintX509CAResponse> responses;
    grpc::Status status = plugin.mint(garbage, 0, responses);
    CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(responses.empty());
  }
  SECTION("a CSR for another trust domain") {
    std::vector<ua::MintX509CAResponse> responses;
    grpc::Status status = plugin.mint(make_spire_csr("other.org"), 0, responses);
    CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(responses.empty());
  }
  SECTION("an empty CSR") {
    SpireCsr empty{make_spire_csr().key, ""};
    std::vector<ua::MintX509CAResponse> responses;
    CHECK(plugin.mint(empty, 0, responses).error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  }
  SECTION("a negative preferred_ttl") {
    std::vector<ua::MintX509CAResponse> responses;
    CHECK(plugin.mint(make_spire_csr(), -5, responses).error_code() ==
          grpc::StatusCode::INVALID_ARGUMENT);
  }
  check_stderr(plugin.host);
}

TEST_CASE(
    "when the gateway goes down after a good Configure, mints use the last item read and warn") {
  TestGateway gateway;
  ConfiguredPlugin plugin(gateway);
  PluginData data;
  data.request_timeout = "3s";
  REQUIRE(plugin.configure(data).ok());

  gateway.emulator().stop();

  SpireCsr csr = make_spire_csr();
  std::vector<ua::MintX509CAResponse> responses;
  grpc::Status status = plugin.mint(csr, 3600, responses);
  INFO(status.error_message());
  REQUIRE(status.ok());
  check_mint_response(responses, csr);
  REQUIRE(plugin.host.wait_for_stderr("Akeyless is unreachable", 10s));
  bool warned = false;
  for (const std::string& line : plugin.host.stderr_lines()) {
    if (line.find("Akeyless is unreachable") != std::string::npos) {
      warned = line.find("\"@level\":\"warn\"") != std::string::npos &&
               line.find("\"error\":\"") != std::string::npos;
    }
  }
  CHECK(warned);
  CHECK(plugin.host.stderr_text().find("\"source\":\"cache\"") != std::string::npos);
  check_stderr(plugin.host);
}

TEST_CASE(
    "when the gateway is down before any good Configure, Configure fails and mints are refused") {
  TestGateway gateway;
  ConfiguredPlugin plugin(gateway);
  gateway.emulator().stop();
  PluginData data;
  data.request_timeout = "3s";
  grpc::Status status = plugin.configure(data);
  CHECK((status.error_code() == grpc::StatusCode::UNAVAILABLE ||
         status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED));
  CHECK(status.error_message().find("check akeyless_gateway_url") != std::string::npos);

  std::vector<ua::MintX509CAResponse> responses;
  grpc::Status mint = plugin.mint(make_spire_csr(), 0, responses);
  CHECK(mint.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  check_stderr(plugin.host);
}

TEST_CASE("a gateway answer that is not an outage fails the mint instead of using the cache") {
  TestGateway gateway;
  ConfiguredPlugin plugin(gateway);
  REQUIRE(plugin.configure(PluginData{}).ok());
  gateway.emulator().add_fault({{"operation", "get-certificate-value"},
                                {"kind", "status"},
                                {"status", 403},
                                {"error", "access denied"}});
  std::vector<ua::MintX509CAResponse> responses;
  grpc::Status status = plugin.mint(make_spire_csr(), 0, responses);
  CHECK(status.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  CHECK(status.error_message().find(kRootItem) != std::string::npos);
  CHECK(responses.empty());
  check_stderr(plugin.host);
}

TEST_CASE("the optional RPCs answer UNIMPLEMENTED once configured") {
  TestGateway gateway;
  ConfiguredPlugin plugin(gateway);
  REQUIRE(plugin.configure(PluginData{}).ok());
  grpc::Status jwt = plugin.host.publish_jwt_key();
  CHECK(jwt.error_code() == grpc::StatusCode::UNIMPLEMENTED);
  grpc::Status bundle = plugin.host.subscribe_to_local_bundle();
  CHECK(bundle.error_code() == grpc::StatusCode::UNIMPLEMENTED);
  check_stderr(plugin.host);
}

TEST_CASE("re-Configure swaps the whole configuration while mints run concurrently") {
  TestGateway gateway;
  ConfiguredPlugin plugin(gateway);
  REQUIRE(plugin.configure(PluginData{}).ok());

  // Each mint must be consistent: its chain verifies to the roots it came with, and those roots
  // are one item's or the other's, never a mix.
  std::atomic<bool> stop{false};
  std::atomic<int> minted{0};
  std::atomic<int> failures{0};
  std::mutex roots_mutex;
  std::set<std::string> root_fingerprints;
  std::vector<std::thread> minters;
  for (int t = 0; t < 2; ++t) {
    minters.emplace_back([&] {
      SpireCsr csr = make_spire_csr();
      while (!stop.load()) {
        std::vector<ua::MintX509CAResponse> responses;
        grpc::Status status = plugin.mint(csr, 600, responses);
        if (!status.ok() || responses.size() != 1 || responses[0].upstream_x509_roots_size() != 1) {
          failures += 1;
          continue;
        }
        std::vector<Certificate> chain;
        std::vector<Certificate> roots;
        for (const auto& entry : responses[0].x509_ca_chain()) {
          const std::string& der = entry.asn1();
          chain.push_back(*Certificate::from_der(std::span<const std::uint8_t>(
              reinterpret_cast<const std::uint8_t*>(der.data()), der.size())));
        }
        const std::string& root_der = responses[0].upstream_x509_roots(0).asn1();
        roots.push_back(*Certificate::from_der(std::span<const std::uint8_t>(
            reinterpret_cast<const std::uint8_t*>(root_der.data()), root_der.size())));
        std::vector<Certificate> rest(chain.begin() + 1, chain.end());
        if (!akeyless_upstream::verify_chain(chain[0], rest, roots).ok()) {
          failures += 1;
          continue;
        }
        std::lock_guard<std::mutex> lock(roots_mutex);
        root_fingerprints.insert(roots[0].sha256_fingerprint());
        minted += 1;
      }
    });
  }

  for (int round = 0; round < 6; ++round) {
    PluginData data;
    data.certificate_name = round % 2 == 0 ? kOtherRootItem : kRootItem;
    grpc::Status status = plugin.configure(data);
    INFO(status.error_message());
    CHECK(status.ok());
  }
  // Let the minters see the final configuration too.
  const auto end = std::chrono::steady_clock::now() + 60s;
  while (minted.load() < 6 && std::chrono::steady_clock::now() < end) {
    std::this_thread::sleep_for(50ms);
  }
  stop = true;
  for (std::thread& minter : minters) {
    minter.join();
  }
  CHECK(failures.load() == 0);
  CHECK(minted.load() >= 6);
  CHECK(root_fingerprints.size() >= 1);
  CHECK(root_fingerprints.size() <= 2);
  check_stderr(plugin.host);
}

TEST_CASE(
    "a gateway that hangs during a mint is treated as an outage once request_timeout passes") {
  TestGateway gateway;
  ConfiguredPlugin plugin(gateway);
  PluginData data;
  data.request_timeout = "2s";
  REQUIRE(plugin.configure(data).ok());
  gateway.emulator().add_fault(
      {{"operation", "get-certificate-value"}, {"kind", "hang"}, {"count", 0}});

  SpireCsr csr = make_spire_csr();
  std::vector<ua::MintX509CAResponse> responses;
  grpc::Status status = plugin.mint(csr, 600, responses);
  INFO(status.error_message());
  REQUIRE(status.ok());
  check_mint_response(responses, csr);
  CHECK(plugin.host.wait_for_stderr("Akeyless is unreachable", 10s));
  gateway.emulator().admin("POST", "/_emulator/faults/clear");
  check_stderr(plugin.host);
}

TEST_CASE("a failed re-Configure keeps the previous configuration serving") {
  TestGateway gateway;
  ConfiguredPlugin plugin(gateway);
  REQUIRE(plugin.configure(PluginData{}).ok());

  PluginData bad;
  bad.access_key = "a-wrong-key";
  CHECK(plugin.configure(bad).error_code() == grpc::StatusCode::UNAUTHENTICATED);

  SpireCsr csr = make_spire_csr();
  std::vector<ua::MintX509CAResponse> responses;
  grpc::Status status = plugin.mint(csr, 600, responses);
  INFO(status.error_message());
  REQUIRE(status.ok());
  MintedShape shape = check_mint_response(responses, csr);
  CHECK(shape.roots[0].subject().find("Test Root A") != std::string::npos);
  check_stderr(plugin.host);
}

TEST_CASE("a mint that SPIRE gives up on is abandoned without a CA being minted") {
  TestGateway gateway;
  ConfiguredPlugin plugin(gateway);
  PluginData data;
  data.request_timeout = "30s";
  REQUIRE(plugin.configure(data).ok());
  gateway.emulator().add_fault(
      {{"operation", "get-certificate-value"}, {"kind", "hang"}, {"count", 0}});

  std::vector<ua::MintX509CAResponse> responses;
  grpc::Status status = plugin.host.mint(make_spire_csr().der, 600, responses, 500ms);
  CHECK(status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED);
  CHECK(responses.empty());
  // The handler follows the call's deadline instead of request_timeout, sees the cancellation
  // and stops before signing.
  CHECK(plugin.host.wait_for_stderr("MintX509CA abandoned", 20s));
  CHECK(plugin.host.stderr_text().find("Minted X509 CA") == std::string::npos);

  gateway.emulator().admin("POST", "/_emulator/faults/clear");
  SpireCsr csr = make_spire_csr();
  std::vector<ua::MintX509CAResponse> later;
  REQUIRE(plugin.mint(csr, 600, later).ok());
  check_mint_response(later, csr);
  check_stderr(plugin.host);
}

TEST_CASE("Validate checks a configuration without contacting the gateway") {
  TestGateway gateway;
  ConfiguredPlugin plugin(gateway);
  gateway.emulator().admin("POST", "/_emulator/log/clear");

  cfg::ValidateResponse good;
  REQUIRE(plugin.host.validate(std::string(kTrustDomain), gateway.plugin_data(PluginData{}), good)
              .ok());
  CHECK(good.valid());
  CHECK(good.notes_size() == 0);

  cfg::ValidateResponse bad;
  REQUIRE(plugin.host.validate(std::string(""), "certificate_name = 5\n", bad).ok());
  CHECK_FALSE(bad.valid());
  REQUIRE(bad.notes_size() >= 2);
  CHECK(bad.notes(0) == "server core configuration must contain trust_domain");

  CHECK(gateway.emulator().log_entries().empty());
  // And nothing was applied: the plugin is still unconfigured.
  std::vector<ua::MintX509CAResponse> responses;
  CHECK(plugin.mint(make_spire_csr(), 0, responses).error_code() ==
        grpc::StatusCode::FAILED_PRECONDITION);
  check_stderr(plugin.host);
}
