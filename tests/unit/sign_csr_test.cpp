// Runs the sign_csr example end to end (path from SIGN_CSR_BIN) on fixtures made at test time and
// checks its outputs with `openssl verify -x509_strict`.

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "crypto_fixtures.hpp"

namespace aku = akeyless_upstream;
using namespace crypto_fixtures;

namespace {

std::string sign_csr_bin() {
  const char* path = std::getenv("SIGN_CSR_BIN");
  REQUIRE(path != nullptr);
  return path;
}

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::string csr_pem(const aku::Bytes& der) {
  std::string body = aku::base64_encode(der);
  std::string pem = "-----BEGIN CERTIFICATE REQUEST-----\n";
  for (std::size_t i = 0; i < body.size(); i += 64) {
    pem += body.substr(i, 64) + "\n";
  }
  return pem + "-----END CERTIFICATE REQUEST-----\n";
}

std::size_t line_count(const std::string& text) {
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

}  // namespace

TEST_CASE("sign_csr mints a CA whose chain and roots files verify with openssl", "[sign_csr]") {
  TempDir dir;
  auto root = make_root("CLI Root", aku::KeyType::kEcP384);
  auto intermediate = make_intermediate(root, "CLI Intermediate", aku::KeyType::kRsa2048);
  auto cert = dir.write("upstream.pem", intermediate.certificate.pem());
  auto key = dir.write("upstream.key", pkcs8(intermediate.key));
  auto bundle = dir.write("bundle.pem", root.certificate.pem());
  aku::Bytes csr = spire_csr(cached_key(aku::KeyType::kEcP256));
  auto chain_out = dir.path() / "chain.pem";
  auto roots_out = dir.path() / "roots.pem";

  for (bool as_pem : {true, false}) {
    INFO((as_pem ? "PEM CSR" : "DER CSR"));
    auto csr_file = as_pem ? dir.write("csr.pem", csr_pem(csr)) : dir.write("csr.der", csr);
    auto result = run_command(
        {sign_csr_bin(), "--upstream-cert", cert.string(), "--upstream-key", key.string(),
         "--bundle", bundle.string(), "--csr", csr_file.string(), "--trust-domain", "example.org",
         "--ttl", "600", "--out-chain", chain_out.string(), "--out-roots", roots_out.string()});
    INFO("sign_csr said: " << result.output);
    REQUIRE(result.exit_status == 0);

    auto chain = aku::parse_certificates_pem(read_text(chain_out), "chain output");
    auto roots = aku::parse_certificates_pem(read_text(roots_out), "roots output");
    REQUIRE(chain.ok());
    REQUIRE(roots.ok());
    REQUIRE(chain->size() == 2);
    CHECK((*chain)[1] == intermediate.certificate);
    CHECK(*roots == std::vector<aku::Certificate>{root.certificate});
    CHECK((*chain)[0].uri_sans() == std::vector<std::string>{"spiffe://example.org"});
    CHECK((*chain)[0].not_after() - (*chain)[0].not_before() == std::chrono::seconds(610));

    auto verified =
        run_command({openssl_bin(), "verify", "-x509_strict", "-CAfile", roots_out.string(),
                     "-untrusted", chain_out.string(), chain_out.string()});
    INFO("openssl verify said: " << verified.output);
    CHECK(verified.exit_status == 0);
    CHECK(verified.output.find(": OK") != std::string::npos);
  }
}

TEST_CASE("sign_csr fails with exit status 1 and one line naming the problem", "[sign_csr]") {
  TempDir dir;
  const auto& root = root_ca(aku::KeyType::kEcP256);
  auto cert = dir.write("upstream.pem", root.certificate.pem());
  auto key = dir.write("upstream.key", pkcs8(root.key));
  auto csr = dir.write("csr.der", spire_csr(cached_key(aku::KeyType::kEcP256)));
  auto other_csr =
      dir.write("other.der", spire_csr(cached_key(aku::KeyType::kEcP256), "other.org"));
  auto garbage = dir.write("garbage.pem", std::string("not a key"));
  std::string out_chain = (dir.path() / "chain.pem").string();
  std::string out_roots = (dir.path() / "roots.pem").string();

  auto arguments = [&](const std::string& cert_path, const std::string& key_path,
                       const std::string& csr_path) {
    return std::vector<std::string>{sign_csr_bin(), "--upstream-cert", cert_path, "--upstream-key",
                                    key_path,       "--csr",           csr_path,  "--trust-domain",
                                    "example.org",  "--out-chain",     out_chain, "--out-roots",
                                    out_roots};
  };
  struct Case {
    std::string name;
    std::vector<std::string> argv;
    std::string fragment;
  };
  auto with_flag = arguments(cert.string(), key.string(), csr.string());
  with_flag.push_back("--colour");
  with_flag.push_back("blue");
  auto bad_ttl = arguments(cert.string(), key.string(), csr.string());
  bad_ttl.insert(bad_ttl.end(), {"--ttl", "soon"});
  std::vector<Case> cases = {
      {"unknown flag", with_flag, "unknown flag --colour"},
      {"missing flag", {sign_csr_bin(), "--csr", csr.string()}, "missing required flag"},
      {"missing file", arguments((dir.path() / "absent.pem").string(), key.string(), csr.string()),
       "cannot open upstream certificate file"},
      {"garbage key", arguments(cert.string(), garbage.string(), csr.string()),
       "private key PEM contains no key block"},
      {"wrong trust domain", arguments(cert.string(), key.string(), other_csr.string()),
       "is not the trust domain ID"},
      {"bad ttl", bad_ttl, "--ttl must be"},
  };
  for (const auto& test : cases) {
    INFO(test.name);
    auto result = run_command(test.argv);
    INFO("output: " << result.output);
    CHECK(result.exit_status == 1);
    CHECK(line_count(result.output) == 1);
    CHECK(result.output.rfind("sign_csr: ", 0) == 0);
    CHECK(result.output.find(test.fragment) != std::string::npos);
    CHECK(result.output.find("PRIVATE KEY") == std::string::npos);
  }
}
