#include <chrono>
#include <ostream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "akeyless_upstream/certificate.hpp"
#include "akeyless_upstream/csr.hpp"
#include "akeyless_upstream/private_key.hpp"
#include "crypto_fixtures.hpp"

namespace aku = akeyless_upstream;
namespace pki = akeyless_upstream::testing;
using namespace crypto_fixtures;
using std::chrono::seconds;

TEST_CASE("certificates round-trip through DER and PEM and compare by encoding", "[certificate]") {
  const auto& root = root_ca(aku::KeyType::kEcP256);
  auto from_der = aku::Certificate::from_der(root.certificate.der());
  REQUIRE(from_der.ok());
  CHECK(*from_der == root.certificate);
  auto parsed = aku::parse_certificates_pem(root.certificate.pem(), "test input");
  REQUIRE(parsed.ok());
  REQUIRE(parsed->size() == 1);
  CHECK(parsed->front() == root.certificate);
  CHECK(aku::to_pem(*parsed) == root.certificate.pem());
}

TEST_CASE("certificate DER with trailing bytes is refused as Go's parser refuses it",
          "[certificate]") {
  aku::Bytes der = root_ca(aku::KeyType::kEcP256).certificate.der();
  der.push_back(0);
  auto parsed = aku::Certificate::from_der(der);
  REQUIRE_FALSE(parsed.ok());
  CHECK(parsed.error().code() == aku::ErrorCode::kInvalidArgument);
  CHECK(parsed.error().message().find("1 trailing bytes") != std::string::npos);
  CHECK_FALSE(aku::Certificate::from_der(aku::Bytes{}).ok());
}

TEST_CASE("certificate accessors report subject, issuer, serial, validity and fingerprint",
          "[certificate]") {
  auto now = std::chrono::time_point_cast<seconds>(std::chrono::system_clock::now());
  pki::CaOptions options;
  options.common_name = "Accessor Root";
  options.now = now;
  options.lifetime = seconds(7200);
  options.backdate = seconds(60);
  auto root = pki::make_self_signed(options);
  REQUIRE(root.ok());
  const aku::Certificate& certificate = root->certificate;

  CHECK(certificate.subject() == "CN=Accessor Root");
  CHECK(certificate.issuer() == "CN=Accessor Root");
  CHECK(certificate.not_before() == now - seconds(60));
  CHECK(certificate.not_after() == now + seconds(7200));
  CHECK(certificate.serial_hex().size() <= 32);
  CHECK_FALSE(certificate.serial_hex().empty());
  auto digest = aku::sha256(certificate.der());
  CHECK(certificate.sha256_fingerprint() == aku::hex_colon_encode(digest));
  CHECK(certificate.sha256_fingerprint().size() == 32 * 3 - 1);
  CHECK(certificate.subject_key_id() == certificate.computed_key_id());
  CHECK(certificate.is_ca());
  CHECK(certificate.allows_cert_sign());
  CHECK(certificate.path_len() == -1);
}

TEST_CASE("is_self_signed needs equal names and a signature by the certificate's own key",
          "[certificate]") {
  auto root = make_root("Same Name");
  CHECK(root.certificate.is_self_signed());
  auto intermediate = make_intermediate(root, "Child");
  CHECK_FALSE(intermediate.certificate.is_self_signed());
  // Self-issued (subject == issuer) but signed by the parent's key: not self-signed.
  auto self_issued = make_intermediate(root, "Same Name");
  CHECK(self_issued.certificate.subject_der() == self_issued.certificate.issuer_der());
  CHECK_FALSE(self_issued.certificate.is_self_signed());
}

TEST_CASE("parse_certificates_pem keeps order, skips other block types, and names the input",
          "[certificate]") {
  auto root = make_root("Order Root");
  auto intermediate = make_intermediate(root, "Order Intermediate");
  std::string text = "leading text\n" + intermediate.certificate.pem() +
                     "-----BEGIN SOMETHING ELSE-----\nAAAA\n-----END SOMETHING ELSE-----\n" +
                     root.certificate.pem();
  auto parsed = aku::parse_certificates_pem(text, "chain file");
  REQUIRE(parsed.ok());
  REQUIRE(parsed->size() == 2);
  CHECK((*parsed)[0] == intermediate.certificate);
  CHECK((*parsed)[1] == root.certificate);

  auto none = aku::parse_certificates_pem("nothing here", "chain file");
  REQUIRE_FALSE(none.ok());
  CHECK(none.error().message() == "chain file contains no CERTIFICATE block");
}

// A private key (and the secret its PEM travels in) cannot be written to a stream by mistake.
template <typename T>
concept Streamable = requires(std::ostream& out, const T& value) {
  out << value;
};
static_assert(!Streamable<aku::PrivateKey>);
static_assert(!Streamable<aku::SecretString>);
static_assert(Streamable<std::string>);

TEST_CASE("key types have SPIRE's names and generated keys describe themselves", "[private_key]") {
  for (aku::KeyType type : kAllKeyTypes) {
    CHECK(aku::key_type_from_name(aku::key_type_name(type)) == type);
    CHECK(cached_key(type).type() == type);
  }
  CHECK_FALSE(aku::key_type_from_name("ec-p521").has_value());
  CHECK(cached_key(aku::KeyType::kEcP256).describe() == "EC P-256");
  CHECK(cached_key(aku::KeyType::kEcP384).describe() == "EC P-384");
  CHECK(cached_key(aku::KeyType::kRsa3072).describe() == "RSA 3072");
}

TEST_CASE("private keys round-trip through PKCS#8 and traditional PEM", "[private_key]") {
  for (aku::KeyType type : {aku::KeyType::kEcP256, aku::KeyType::kRsa2048}) {
    const aku::PrivateKey& key = cached_key(type);
    for (auto pem : {key.to_pkcs8_pem(), key.to_traditional_pem()}) {
      REQUIRE(pem.ok());
      auto parsed = aku::PrivateKey::from_pem(*pem);
      REQUIRE(parsed.ok());
      CHECK(parsed->public_key_der() == key.public_key_der());
      CHECK(parsed->type() == type);
    }
  }
}

TEST_CASE("the SPIRE-like CSR spec has SPIRE's default subject and one URI SAN", "[csr]") {
  aku::CsrSpec spec = aku::spire_like_csr_spec("example.org");
  REQUIRE(spec.subject.size() == 3);
  CHECK(spec.subject[0] == std::pair<std::string, std::string>{"C", "US"});
  CHECK(spec.subject[1] == std::pair<std::string, std::string>{"O", "SPIFFE"});
  CHECK(spec.subject[2].first == "serialNumber");
  CHECK(spec.subject[2].second.find_first_not_of("0123456789") == std::string::npos);
  CHECK(spec.subject[2].second.size() <= 39);  // 2^128 has 39 decimal digits
  CHECK(spec.uri_sans == std::vector<std::string>{"spiffe://example.org"});
  CHECK(aku::spire_like_csr_spec("example.org").subject[2].second != spec.subject[2].second);
}

TEST_CASE("build_csr_der refuses an unknown subject attribute", "[csr]") {
  aku::CsrSpec spec;
  spec.subject = {{"notAnAttribute", "x"}};
  auto csr = aku::build_csr_der(cached_key(aku::KeyType::kEcP256), spec);
  REQUIRE_FALSE(csr.ok());
  CHECK(csr.error().code() == aku::ErrorCode::kInvalidArgument);
}

TEST_CASE("the test PKI makes TLS server certificates with SANs that chain to their CA",
          "[testing_pki]") {
  auto root = make_root("TLS Root");
  pki::CaOptions options;
  options.common_name = "localhost";
  options.is_ca = false;
  options.dns_sans = {"localhost"};
  options.ip_sans = {"127.0.0.1", "::1"};
  options.server_auth = true;
  auto server = pki::issue(root, options);
  REQUIRE(server.ok());
  CHECK_FALSE(server->certificate.is_ca());
  CHECK(server->certificate.authority_key_id() == root.certificate.subject_key_id());
  auto verified = openssl_verify(server->certificate, {}, {root.certificate});
  INFO(verified.output);
  CHECK(verified.exit_status == 0);

  options.ip_sans = {"not-an-ip"};
  auto bad = pki::issue(root, options);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().code() == aku::ErrorCode::kInvalidArgument);
}
