#include <algorithm>
#include <chrono>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <catch2/catch.hpp>

#include "akeyless_upstream/ca_signer.hpp"
#include "crypto_fixtures.hpp"

namespace aku = akeyless_upstream;
namespace pki = akeyless_upstream::testing;
using namespace crypto_fixtures;
using std::chrono::seconds;

namespace {

std::string describe(const aku::Error& error) {
  return error.to_string();
}

// extension_critical returns 1/0 for a present extension's critical flag, -1 when absent.
int extension_critical(const aku::Certificate& certificate, int nid) {
  int index = X509_get_ext_by_NID(certificate.native(), nid, -1);
  if (index < 0) {
    return -1;
  }
  return X509_EXTENSION_get_critical(X509_get_ext(certificate.native(), index));
}

std::vector<std::string> extension_oids(const aku::Certificate& certificate) {
  std::vector<std::string> oids;
  for (int i = 0; i < X509_get_ext_count(certificate.native()); ++i) {
    char buffer[128];
    OBJ_obj2txt(buffer, sizeof(buffer),
                X509_EXTENSION_get_object(X509_get_ext(certificate.native(), i)), 1);
    oids.emplace_back(buffer);
  }
  return oids;
}

int signature_digest_nid(const aku::Certificate& certificate) {
  int digest = NID_undef;
  int key = NID_undef;
  REQUIRE(OBJ_find_sigid_algs(X509_get_signature_nid(certificate.native()), &digest, &key) == 1);
  return digest;
}

aku::Bytes sha1_of(const aku::Bytes& data) {
  auto digest = aku::sha1(data);
  return aku::Bytes(digest.begin(), digest.end());
}

// extension_value: the DER content of the extension's extnValue OCTET STRING.
aku::Bytes extension_value(const aku::Certificate& certificate, int nid) {
  int index = X509_get_ext_by_NID(certificate.native(), nid, -1);
  REQUIRE(index >= 0);
  const ASN1_OCTET_STRING* value =
      X509_EXTENSION_get_data(X509_get_ext(certificate.native(), index));
  const unsigned char* data = ASN1_STRING_get0_data(value);
  return aku::Bytes(data, data + ASN1_STRING_length(value));
}

// check_minted asserts every field of a minted CA against its CSR and upstream, as SPIRE's
// ValidateUpstreamX509CA and Go's parser would see them.
void check_minted(const aku::MintedCa& minted, const aku::Bytes& csr_der,
                  const aku::UpstreamMaterial& material, aku::TimePoint now, seconds ttl) {
  const aku::Certificate& ca = minted.certificate;
  const aku::Certificate& signing = material.signing_certificate();
  ParsedCsr csr = parse_csr(csr_der);

  // Version 3.
  CHECK(X509_get_version(ca.native()) == 2);

  // Subject: the CSR's raw bytes, found verbatim in both encodings.
  CHECK(ca.subject_der() == csr.subject_der);
  CHECK(contains_bytes(csr_der, csr.subject_der));
  CHECK(contains_bytes(ca.der(), csr.subject_der));

  // Issuer: the signing certificate's raw subject.
  CHECK(ca.issuer_der() == signing.subject_der());

  // Public key: the CSR's SPKI; RSA keeps its NULL parameters.
  CHECK(ca.public_key_der() == csr.public_key_der);
  CHECK(contains_bytes(ca.der(), csr.public_key_der));
  CHECK(contains_bytes(csr_der, csr.public_key_der));  // the CSR's own encoding

  // SKI: SHA-1 of the CSR key's BIT STRING contents; AKI: the signing certificate's SKI.
  CHECK(ca.subject_key_id() == sha1_of(csr.public_key_bits));
  aku::Bytes expected_aki =
      signing.subject_key_id().empty() ? signing.computed_key_id() : signing.subject_key_id();
  CHECK(ca.authority_key_id() == expected_aki);
  CHECK(extension_critical(ca, NID_subject_key_identifier) == 0);
  CHECK(extension_critical(ca, NID_authority_key_identifier) == 0);

  // keyUsage: critical, exactly keyCertSign|cRLSign.
  CHECK(extension_critical(ca, NID_key_usage) == 1);
  CHECK(X509_get_key_usage(ca.native()) == (KU_KEY_CERT_SIGN | KU_CRL_SIGN));

  // basicConstraints: critical CA:TRUE without pathLenConstraint.
  CHECK(extension_critical(ca, NID_basic_constraints) == 1);
  CHECK(ca.is_ca());
  CHECK(ca.path_len() == -1);
  // DER encodes TRUE as FF; Go's parser (and so SPIRE) refuses an 01 content octet, which
  // OpenSSL's own parser would accept. The value is exactly SEQUENCE { BOOLEAN TRUE }.
  CHECK(extension_value(ca, NID_basic_constraints) == aku::Bytes{0x30, 0x03, 0x01, 0x01, 0xFF});

  // Serial: positive, non-zero, a magnitude of at most 128 bits.
  const ASN1_INTEGER* serial = X509_get0_serialNumber(ca.native());
  CHECK(ASN1_STRING_type(serial) == V_ASN1_INTEGER);
  CHECK(ASN1_STRING_length(serial) <= 16);
  CHECK(ASN1_STRING_length(serial) >= 1);
  CHECK(ca.serial_hex().find_first_not_of('0') != std::string::npos);

  // Validity: backdated 10 s; NotAfter now + TTL unless clamped to the signing certificate.
  auto whole_now = std::chrono::time_point_cast<seconds>(now);
  CHECK(ca.not_before() == whole_now - seconds(10));
  if (minted.ttl_clamped) {
    CHECK(ca.not_after() == signing.not_after());
  } else {
    CHECK(ca.not_after() == whole_now + ttl);
  }
  CHECK(ca.not_after() <= signing.not_after());

  // Signature digest: SHA-384 for a P-384 upstream key, SHA-256 otherwise.
  int expected_digest =
      material.signing_key().type() == aku::KeyType::kEcP384 ? NID_sha384 : NID_sha256;
  CHECK(signature_digest_nid(ca) == expected_digest);

  // No extension twice; the URI SAN is copied.
  auto oids = extension_oids(ca);
  CHECK(std::set<std::string>(oids.begin(), oids.end()).size() == oids.size());
  CHECK(ca.uri_sans() == std::vector<std::string>{"spiffe://" + std::string(kTrustDomain)});

  // Response shape.
  REQUIRE_FALSE(minted.chain.empty());
  CHECK(minted.chain.front() == ca);
  CHECK(std::vector<aku::Certificate>(minted.chain.begin() + 1, minted.chain.end()) ==
        material.chain_after_minted());
  CHECK(minted.roots == material.roots());
  for (const auto& root : minted.roots) {
    CHECK(std::find(minted.chain.begin(), minted.chain.end(), root) == minted.chain.end());
  }
}

// check_with_openssl runs the independent verifier over [minted] + chain[1:] to the roots.
void check_with_openssl(const aku::MintedCa& minted) {
  std::vector<aku::Certificate> intermediates(minted.chain.begin() + 1, minted.chain.end());
  auto result = openssl_verify(minted.certificate, intermediates, minted.roots);
  INFO("openssl verify said: " << result.output);
  CHECK(result.exit_status == 0);
  CHECK(result.output.find(": OK") != std::string::npos);
}

}  // namespace

TEST_CASE("mint signs SPIRE-shaped CSRs for every pair of upstream and CSR key types",
          "[ca_signer][slow]") {
  for (aku::KeyType upstream_type : kAllKeyTypes) {
    const pki::IssuedCertificate& root = root_ca(upstream_type);
    auto material = material_for({root.certificate}, root.key);
    aku::CaSigner signer(material);
    for (aku::KeyType csr_type : kAllKeyTypes) {
      INFO("upstream " << aku::key_type_name(upstream_type) << ", CSR "
                       << aku::key_type_name(csr_type));
      aku::Bytes csr = spire_csr(cached_key(csr_type));
      auto now = std::chrono::system_clock::now();
      auto minted = signer.mint(csr, kTrustDomain, seconds(86400), now);
      INFO((minted.ok() ? std::string("minted") : describe(minted.error())));
      REQUIRE(minted.ok());
      CHECK_FALSE(minted->ttl_clamped);
      check_minted(*minted, csr, *material, now, seconds(86400));
      check_with_openssl(*minted);
      CHECK(aku::verify_chain(minted->certificate, {}, minted->roots, now).ok());
    }
  }
}

TEST_CASE("mint copies a SPIRE CSR's subject byte for byte, serialNumber attribute included",
          "[ca_signer]") {
  const auto& root = root_ca(aku::KeyType::kEcP256);
  aku::CaSigner signer(material_for({root.certificate}, root.key));
  aku::CsrSpec spec = aku::spire_like_csr_spec(kTrustDomain);
  REQUIRE(spec.subject.size() == 3);
  CHECK(spec.subject[2].first == "serialNumber");
  aku::Bytes csr = csr_with(cached_key(aku::KeyType::kEcP256), spec);

  auto minted = signer.mint(csr, kTrustDomain, seconds(3600));
  REQUIRE(minted.ok());
  CHECK(minted->certificate.subject_der() == parse_csr(csr).subject_der);
  CHECK(minted->certificate.subject() ==
        "serialNumber=" + spec.subject[2].second + ",O=SPIFFE,C=US");
  CHECK(minted->certificate.subject().find("CN=") == std::string::npos);
}

TEST_CASE(
    "mint copies requested extensions but keeps basicConstraints, keyUsage, SKI and AKI "
    "its own",
    "[ca_signer]") {
  const auto& root = root_ca(aku::KeyType::kEcP256);
  aku::CaSigner signer(material_for({root.certificate}, root.key));
  aku::CsrSpec spec = aku::spire_like_csr_spec(kTrustDomain);
  // A private extension a credential composer might add, and requests the signer must override:
  // basicConstraints CA:FALSE (30 00), keyUsage digitalSignature (03 02 07 80), an SKI of zeros.
  spec.extra_extensions = {
      {"1.3.6.1.4.1.55555.1.2", false, {0x04, 0x03, 'a', 'b', 'c'}},
      {"basicConstraints", true, {0x30, 0x00}},
      {"keyUsage", true, {0x03, 0x02, 0x07, 0x80}},
      {"subjectKeyIdentifier", false, {0x04, 0x02, 0x00, 0x00}},
  };
  aku::Bytes csr = csr_with(cached_key(aku::KeyType::kEcP256), spec);

  auto now = std::chrono::system_clock::now();
  auto minted = signer.mint(csr, kTrustDomain, seconds(3600), now);
  INFO((minted.ok() ? std::string("minted") : describe(minted.error())));
  REQUIRE(minted.ok());
  check_minted(*minted, csr, signer.material(), now, seconds(3600));
  auto oids = extension_oids(minted->certificate);
  CHECK(std::count(oids.begin(), oids.end(), "1.3.6.1.4.1.55555.1.2") == 1);
  CHECK(std::count(oids.begin(), oids.end(), "2.5.29.19") == 1);
  CHECK(std::count(oids.begin(), oids.end(), "2.5.29.15") == 1);
  CHECK(std::count(oids.begin(), oids.end(), "2.5.29.14") == 1);
  CHECK(std::count(oids.begin(), oids.end(), "2.5.29.17") == 1);
  std::unique_ptr<ASN1_OBJECT, aku::detail::FreeWith<ASN1_OBJECT_free>> custom_oid(
      OBJ_txt2obj("1.3.6.1.4.1.55555.1.2", 1));
  REQUIRE(custom_oid);
  int custom = X509_get_ext_by_OBJ(minted->certificate.native(), custom_oid.get(), -1);
  REQUIRE(custom >= 0);
  const ASN1_OCTET_STRING* value =
      X509_EXTENSION_get_data(X509_get_ext(minted->certificate.native(), custom));
  CHECK(std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(value)),
                    static_cast<std::size_t>(ASN1_STRING_length(value))) ==
        "\x04\x03"
        "abc");
  check_with_openssl(*minted);
}

TEST_CASE(
    "mint with an intermediate upstream and a roots bundle chains minted, intermediate "
    "to the bundle root",
    "[ca_signer]") {
  auto root = make_root("Bundle Root");
  auto intermediate = make_intermediate(root, "Akeyless Intermediate");
  auto material =
      material_for({intermediate.certificate}, intermediate.key, root.certificate.pem());
  aku::CaSigner signer(material);
  aku::Bytes csr = spire_csr(cached_key(aku::KeyType::kEcP256));

  auto now = std::chrono::system_clock::now();
  auto minted = signer.mint(csr, kTrustDomain, seconds(7200), now);
  REQUIRE(minted.ok());
  REQUIRE(minted->chain.size() == 2);
  CHECK(minted->chain[1] == intermediate.certificate);
  REQUIRE(minted->roots.size() == 1);
  CHECK(minted->roots[0] == root.certificate);
  CHECK(minted->certificate.authority_key_id() == intermediate.certificate.subject_key_id());
  check_minted(*minted, csr, *material, now, seconds(7200));
  check_with_openssl(*minted);

  // Without the intermediate, the independent verifier must fail: the chain is needed.
  auto without = openssl_verify(minted->certificate, {}, minted->roots);
  CHECK(without.exit_status != 0);
}

TEST_CASE("mint with a two-level upstream chain serves every non-root certificate of the item",
          "[ca_signer]") {
  auto root = make_root("Deep Root", aku::KeyType::kRsa2048);
  auto middle = make_intermediate(root, "Middle CA", aku::KeyType::kEcP384);
  auto signing = make_intermediate(middle, "Signing CA", aku::KeyType::kEcP256);
  auto material =
      material_for({signing.certificate, middle.certificate, root.certificate}, signing.key);
  CHECK(material->roots() == std::vector<aku::Certificate>{root.certificate});
  aku::CaSigner signer(material);
  aku::Bytes csr = spire_csr(cached_key(aku::KeyType::kRsa2048));

  auto now = std::chrono::system_clock::now();
  auto minted = signer.mint(csr, kTrustDomain, seconds(3600), now);
  REQUIRE(minted.ok());
  REQUIRE(minted->chain.size() == 3);
  CHECK(minted->chain[1] == signing.certificate);
  CHECK(minted->chain[2] == middle.certificate);
  check_minted(*minted, csr, *material, now, seconds(3600));
  check_with_openssl(*minted);
}

TEST_CASE("mint clamps NotAfter to the signing certificate's NotAfter and says so", "[ca_signer]") {
  pki::CaOptions options;
  options.common_name = "Short-lived Root";
  options.lifetime = seconds(1800);
  auto root = pki::make_self_signed(options);
  REQUIRE(root.ok());
  auto material = material_for({root->certificate}, root->key);
  aku::CaSigner signer(material);
  aku::Bytes csr = spire_csr(cached_key(aku::KeyType::kEcP256));

  auto now = std::chrono::system_clock::now();
  auto minted = signer.mint(csr, kTrustDomain, seconds(86400), now);
  REQUIRE(minted.ok());
  CHECK(minted->ttl_clamped);
  CHECK(minted->requested_ttl == seconds(86400));
  CHECK(minted->certificate.not_after() == root->certificate.not_after());
  check_minted(*minted, csr, *material, now, seconds(86400));
  check_with_openssl(*minted);
}

TEST_CASE("mint uses a one-hour TTL when SPIRE sends preferred_ttl 0", "[ca_signer]") {
  const auto& root = root_ca(aku::KeyType::kEcP256);
  auto material = material_for({root.certificate}, root.key);
  aku::CaSigner signer(material);
  aku::Bytes csr = spire_csr(cached_key(aku::KeyType::kEcP256));

  auto now = std::chrono::system_clock::now();
  auto minted = signer.mint(csr, kTrustDomain, seconds(0), now);
  REQUIRE(minted.ok());
  CHECK_FALSE(minted->ttl_clamped);
  CHECK(minted->requested_ttl == seconds(3600));
  CHECK(minted->certificate.not_after() ==
        std::chrono::time_point_cast<seconds>(now) + seconds(3600));
  check_minted(*minted, csr, *material, now, seconds(3600));
}

TEST_CASE("mint signs with SHA-384 for a P-384 upstream key and SHA-256 for P-256 and RSA",
          "[ca_signer]") {
  aku::Bytes csr = spire_csr(cached_key(aku::KeyType::kEcP256));
  for (auto [type, digest] :
       {std::pair{aku::KeyType::kEcP384, NID_sha384}, std::pair{aku::KeyType::kEcP256, NID_sha256},
        std::pair{aku::KeyType::kRsa2048, NID_sha256}}) {
    const auto& root = root_ca(type);
    aku::CaSigner signer(material_for({root.certificate}, root.key));
    auto minted = signer.mint(csr, kTrustDomain, seconds(3600));
    REQUIRE(minted.ok());
    CHECK(signature_digest_nid(minted->certificate) == digest);
  }
}

TEST_CASE("mint derives the AKI from the upstream key when the upstream CA has no SKI",
          "[ca_signer]") {
  pki::CaOptions options;
  options.common_name = "Root Without SKI";
  options.include_ski = false;
  auto root = pki::make_self_signed(options);
  REQUIRE(root.ok());
  REQUIRE(root->certificate.subject_key_id().empty());
  auto material = material_for({root->certificate}, root->key);
  aku::CaSigner signer(material);

  auto minted =
      signer.mint(spire_csr(cached_key(aku::KeyType::kEcP256)), kTrustDomain, seconds(3600));
  REQUIRE(minted.ok());
  CHECK(minted->certificate.authority_key_id() == root->certificate.computed_key_id());
  CHECK(minted->certificate.authority_key_id().size() == 20);
}

TEST_CASE("mint accepts the trust domain with or without the spiffe:// scheme", "[ca_signer]") {
  const auto& root = root_ca(aku::KeyType::kEcP256);
  aku::CaSigner signer(material_for({root.certificate}, root.key));
  aku::Bytes csr = spire_csr(cached_key(aku::KeyType::kEcP256));
  CHECK(signer.mint(csr, "example.org", seconds(60)).ok());
  CHECK(signer.mint(csr, "spiffe://example.org", seconds(60)).ok());
}

TEST_CASE("mint rejects bad CSRs with INVALID_ARGUMENT and a message naming the problem",
          "[ca_signer]") {
  const auto& root = root_ca(aku::KeyType::kEcP256);
  aku::CaSigner signer(material_for({root.certificate}, root.key));
  const aku::PrivateKey& key = cached_key(aku::KeyType::kEcP256);

  auto expect_rejected = [&](const aku::Bytes& csr, const std::string& fragment) {
    auto minted = signer.mint(csr, kTrustDomain, seconds(3600));
    REQUIRE_FALSE(minted.ok());
    INFO("message: " << minted.error().message());
    CHECK(minted.error().code() == aku::ErrorCode::kInvalidArgument);
    CHECK(minted.error().message().find(fragment) != std::string::npos);
  };

  SECTION("a CSR whose signature does not verify") {
    aku::Bytes csr = spire_csr(key);
    csr[csr.size() - 3] ^= 0x01;  // inside the signature BIT STRING
    expect_rejected(csr, "CSR signature does not verify");
  }
  SECTION("a CSR signed by another key than the one it carries") {
    // Swap in the public key of another CSR: the structure stays valid, the signature does not.
    aku::Bytes csr = spire_csr(key);
    aku::Bytes other = spire_csr(cached_key(aku::KeyType::kEcP256, 2));
    ParsedCsr mine = parse_csr(csr);
    ParsedCsr theirs = parse_csr(other);
    auto at =
        std::search(csr.begin(), csr.end(), mine.public_key_der.begin(), mine.public_key_der.end());
    REQUIRE(at != csr.end());
    std::copy(theirs.public_key_der.begin(), theirs.public_key_der.end(), at);
    expect_rejected(csr, "CSR signature does not verify");
  }
  SECTION("a CSR without a URI SAN") {
    aku::CsrSpec spec = aku::spire_like_csr_spec(kTrustDomain);
    spec.uri_sans.clear();
    expect_rejected(csr_with(key, spec), "exactly one URI SAN");
  }
  SECTION("a CSR with only a DNS SAN") {
    aku::CsrSpec spec = aku::spire_like_csr_spec(kTrustDomain);
    spec.uri_sans.clear();
    spec.dns_sans = {"example.org"};
    expect_rejected(csr_with(key, spec), "it has 0");
  }
  SECTION("a CSR with two URI SANs") {
    aku::CsrSpec spec = aku::spire_like_csr_spec(kTrustDomain);
    spec.uri_sans.push_back("spiffe://example.org/extra");
    expect_rejected(csr_with(key, spec), "it has 2");
  }
  SECTION("a CSR whose URI SAN names another trust domain") {
    expect_rejected(spire_csr(key, "other.example"),
                    "\"spiffe://other.example\" is not the "
                    "trust domain ID spiffe://example.org");
  }
  SECTION("a CSR whose URI SAN has a trailing slash") {
    aku::CsrSpec spec = aku::spire_like_csr_spec(kTrustDomain);
    spec.uri_sans = {"spiffe://example.org/"};
    expect_rejected(csr_with(key, spec), "is not the trust domain ID");
  }
  SECTION("a CSR whose URI SAN is a workload path in the trust domain") {
    aku::CsrSpec spec = aku::spire_like_csr_spec(kTrustDomain);
    spec.uri_sans = {"spiffe://example.org/workload"};
    expect_rejected(csr_with(key, spec), "is not the trust domain ID");
  }
  SECTION("a CSR requesting the same extension twice") {
    aku::CsrSpec spec = aku::spire_like_csr_spec(kTrustDomain);
    spec.extra_extensions = {{"1.3.6.1.4.1.55555.9", false, {0x05, 0x00}},
                             {"1.3.6.1.4.1.55555.9", false, {0x05, 0x00}}};
    expect_rejected(csr_with(key, spec), "more than once");
  }
  SECTION("bytes that are not a CSR") {
    expect_rejected(aku::Bytes{0x30, 0x03, 0x02, 0x01, 0x00}, "does not parse");
  }
  SECTION("an empty CSR") {
    expect_rejected(aku::Bytes{}, "CSR is empty");
  }
  SECTION("a CSR followed by trailing bytes") {
    aku::Bytes csr = spire_csr(key);
    csr.push_back(0x00);
    expect_rejected(csr, "trailing bytes");
  }
}

TEST_CASE("mint rejects an empty or path-carrying trust domain", "[ca_signer]") {
  const auto& root = root_ca(aku::KeyType::kEcP256);
  aku::CaSigner signer(material_for({root.certificate}, root.key));
  aku::Bytes csr = spire_csr(cached_key(aku::KeyType::kEcP256));
  for (std::string_view trust_domain : {"", "spiffe://", "example.org/path"}) {
    auto minted = signer.mint(csr, trust_domain, seconds(60));
    REQUIRE_FALSE(minted.ok());
    CHECK(minted.error().code() == aku::ErrorCode::kInvalidArgument);
  }
}

TEST_CASE("mint refuses with FAILED_PRECONDITION once the signing certificate has expired",
          "[ca_signer]") {
  const auto& root = root_ca(aku::KeyType::kEcP256);
  aku::CaSigner signer(material_for({root.certificate}, root.key));
  aku::Bytes csr = spire_csr(cached_key(aku::KeyType::kEcP256));
  auto later = root.certificate.not_after() + seconds(5);
  auto minted = signer.mint(csr, kTrustDomain, seconds(60), later);
  REQUIRE_FALSE(minted.ok());
  CHECK(minted.error().code() == aku::ErrorCode::kFailedPrecondition);
  CHECK(minted.error().message().find("expired") != std::string::npos);
}

TEST_CASE("verify_chain reports why a chain fails", "[ca_signer]") {
  auto root = make_root("Verify Root");
  auto other_root = make_root("Unrelated Root");
  auto intermediate = make_intermediate(root, "Verify Intermediate");

  CHECK(aku::verify_chain(intermediate.certificate, {}, {root.certificate}).ok());
  auto wrong_root = aku::verify_chain(intermediate.certificate, {}, {other_root.certificate});
  REQUIRE_FALSE(wrong_root.ok());
  CHECK(wrong_root.error().code() == aku::ErrorCode::kInvalidArgument);
  CHECK(wrong_root.error().message().find("does not verify") != std::string::npos);

  auto too_late = aku::verify_chain(intermediate.certificate, {}, {root.certificate},
                                    intermediate.certificate.not_after() + seconds(60));
  REQUIRE_FALSE(too_late.ok());
  CHECK(too_late.error().message().find("expired") != std::string::npos);

  auto no_roots = aku::verify_chain(intermediate.certificate, {}, {});
  CHECK_FALSE(no_roots.ok());
}

TEST_CASE("one signer mints concurrently from several threads", "[ca_signer]") {
  auto root = make_root("Concurrent Root");
  auto intermediate = make_intermediate(root, "Concurrent Intermediate");
  aku::CaSigner signer(
      material_for({intermediate.certificate}, intermediate.key, root.certificate.pem()));
  aku::Bytes csr = spire_csr(cached_key(aku::KeyType::kEcP256));

  constexpr int kThreads = 4;
  constexpr int kMintsPerThread = 10;
  std::vector<std::vector<aku::Result<aku::MintedCa>>> results(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kMintsPerThread; ++i) {
        results[t].push_back(signer.mint(csr, kTrustDomain, seconds(600)));
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }

  std::set<std::string> serials;
  for (const auto& per_thread : results) {
    REQUIRE(per_thread.size() == kMintsPerThread);
    for (const auto& minted : per_thread) {
      REQUIRE(minted.ok());
      CHECK(aku::verify_chain(minted->certificate, {intermediate.certificate}, {root.certificate})
                .ok());
      serials.insert(minted->certificate.serial_hex());
    }
  }
  CHECK(serials.size() == kThreads * kMintsPerThread);  // serials are random, never reused
}
