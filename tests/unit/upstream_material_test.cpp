#include <chrono>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "akeyless_upstream/upstream_material.hpp"
#include "crypto_fixtures.hpp"

namespace aku = akeyless_upstream;
namespace pki = akeyless_upstream::testing;
using namespace crypto_fixtures;
using std::chrono::seconds;

namespace {

std::string load_error(std::string_view certificates, const aku::SecretString& key,
                       std::optional<std::string_view> bundle, aku::ErrorCode expected_code) {
  auto material = aku::UpstreamMaterial::load(certificates, key, bundle);
  REQUIRE_FALSE(material.ok());
  INFO("message: " << material.error().message());
  CHECK(material.error().code() == expected_code);
  return material.error().message();
}

bool has(const std::string& text, std::string_view fragment) {
  return text.find(fragment) != std::string::npos;
}

// base64 lines of a PEM body (the key bytes a message must never echo).
std::vector<std::string> body_lines(std::string_view pem) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < pem.size()) {
    std::size_t end = pem.find('\n', start);
    if (end == std::string_view::npos) {
      end = pem.size();
    }
    std::string line(pem.substr(start, end - start));
    if (!line.empty() && line.rfind("-----", 0) != 0) {
      lines.push_back(line.substr(0, 16));
    }
    start = end + 1;
  }
  return lines;
}

}  // namespace

TEST_CASE("load accepts a self-signed root item and serves it as the only root",
          "[upstream_material]") {
  const auto& root = root_ca(aku::KeyType::kEcP256);
  auto material = material_for({root.certificate}, root.key);
  CHECK(material->signing_certificate() == root.certificate);
  CHECK(material->chain_after_minted().empty());
  CHECK(material->roots() == std::vector<aku::Certificate>{root.certificate});
  CHECK(material->signing_key().public_key_der() == root.key.public_key_der());
}

TEST_CASE("load reads the key as PKCS#8, SEC1 or PKCS#1", "[upstream_material]") {
  for (aku::KeyType type : {aku::KeyType::kEcP256, aku::KeyType::kEcP384, aku::KeyType::kRsa2048}) {
    const auto& root = root_ca(type);
    auto pkcs8 = root.key.to_pkcs8_pem();
    auto traditional = root.key.to_traditional_pem();
    REQUIRE(pkcs8.ok());
    REQUIRE(traditional.ok());
    CHECK(has(std::string(traditional->reveal()),
              type == aku::KeyType::kRsa2048 ? "BEGIN RSA PRIVATE KEY" : "BEGIN EC PRIVATE KEY"));
    for (const aku::SecretString* pem : {&*pkcs8, &*traditional}) {
      auto material = aku::UpstreamMaterial::load(root.certificate.pem(), *pem, std::nullopt);
      INFO((material.ok() ? std::string("loaded") : material.error().to_string()));
      REQUIRE(material.ok());
      CHECK(material->signing_key().type() == type);
    }
  }
}

TEST_CASE("load with an intermediate and a roots bundle serves the intermediate in the chain",
          "[upstream_material]") {
  auto root = make_root("Bundle Root");
  auto intermediate = make_intermediate(root, "Item Intermediate");
  auto material =
      material_for({intermediate.certificate}, intermediate.key, root.certificate.pem());
  CHECK(material->chain_after_minted() == std::vector<aku::Certificate>{intermediate.certificate});
  CHECK(material->roots() == std::vector<aku::Certificate>{root.certificate});
}

TEST_CASE("load tells roots by self-signature: a full-chain item keeps its root out of the chain",
          "[upstream_material]") {
  auto root = make_root("Item Root");
  auto intermediate = make_intermediate(root, "Item Intermediate");
  // The root is listed first after the signing certificate, then a duplicate of the
  // intermediate's issuer order would not matter: position does not decide.
  auto material = material_for({intermediate.certificate, root.certificate}, intermediate.key);
  CHECK(material->chain_after_minted() == std::vector<aku::Certificate>{intermediate.certificate});
  CHECK(material->roots() == std::vector<aku::Certificate>{root.certificate});

  SECTION("and a bundle adds its roots to the item's self-signed ones") {
    auto other_root = make_root("Other Bundle Root");
    auto with_bundle = material_for({intermediate.certificate, root.certificate}, intermediate.key,
                                    other_root.certificate.pem());
    CHECK(with_bundle->roots().size() == 2);
    CHECK(with_bundle->chain_after_minted() ==
          std::vector<aku::Certificate>{intermediate.certificate});
  }
}

TEST_CASE(
    "load refuses an intermediate item without roots and says to set "
    "bundle_certificate_name",
    "[upstream_material]") {
  auto root = make_root("Missing Root");
  auto intermediate = make_intermediate(root, "Lonely Intermediate");
  auto message = load_error(intermediate.certificate.pem(), secret_pkcs8(intermediate.key),
                            std::nullopt, aku::ErrorCode::kFailedPrecondition);
  CHECK(has(message, "bundle_certificate_name"));
  CHECK(has(message, "no self-signed root"));
}

TEST_CASE("load refuses a bundle that does not hold the intermediate's root",
          "[upstream_material]") {
  auto root = make_root("Real Root");
  auto wrong_root = make_root("Wrong Root");
  auto intermediate = make_intermediate(root, "Intermediate");
  auto message = load_error(intermediate.certificate.pem(), secret_pkcs8(intermediate.key),
                            wrong_root.certificate.pem(), aku::ErrorCode::kInvalidArgument);
  CHECK(has(message, "does not chain to the roots"));
}

TEST_CASE("load refuses a bundle holding a certificate that is not self-signed",
          "[upstream_material]") {
  auto root = make_root("Root");
  auto intermediate = make_intermediate(root, "Intermediate");
  auto message = load_error(intermediate.certificate.pem(), secret_pkcs8(intermediate.key),
                            aku::to_pem({root.certificate, intermediate.certificate}),
                            aku::ErrorCode::kInvalidArgument);
  CHECK(has(message, "roots bundle certificate 2"));
  CHECK(has(message, "not self-signed"));
}

TEST_CASE("load refuses a key that does not match the first certificate", "[upstream_material]") {
  const auto& root = root_ca(aku::KeyType::kEcP256);
  auto message =
      load_error(root.certificate.pem(), secret_pkcs8(cached_key(aku::KeyType::kEcP256, 2)),
                 std::nullopt, aku::ErrorCode::kInvalidArgument);
  CHECK(has(message, "does not match its first certificate"));

  SECTION("including a key of another type") {
    auto rsa = load_error(root.certificate.pem(), secret_pkcs8(cached_key(aku::KeyType::kRsa2048)),
                          std::nullopt, aku::ErrorCode::kInvalidArgument);
    CHECK(has(rsa, "does not match"));
  }
}

TEST_CASE("load refuses an upstream certificate that may not sign CAs", "[upstream_material]") {
  SECTION("not a CA") {
    pki::CaOptions options;
    options.common_name = "Leaf Pretending";
    options.is_ca = false;
    auto leaf = pki::make_self_signed(options);
    REQUIRE(leaf.ok());
    auto message = load_error(leaf->certificate.pem(), secret_pkcs8(leaf->key), std::nullopt,
                              aku::ErrorCode::kInvalidArgument);
    CHECK(has(message, "is not a CA"));
  }
  SECTION("a CA whose keyUsage lacks keyCertSign") {
    pki::CaOptions options;
    options.common_name = "CA Without CertSign";
    options.key_cert_sign = false;
    auto ca = pki::make_self_signed(options);
    REQUIRE(ca.ok());
    auto message = load_error(ca->certificate.pem(), secret_pkcs8(ca->key), std::nullopt,
                              aku::ErrorCode::kInvalidArgument);
    CHECK(has(message, "keyCertSign"));
  }
  SECTION("a CA with pathLenConstraint 0") {
    auto root = make_root("Root");
    pki::CaOptions options;
    options.common_name = "Pathlen Zero";
    options.path_len = 0;
    auto ca = pki::issue(root, options);
    REQUIRE(ca.ok());
    auto message = load_error(ca->certificate.pem(), secret_pkcs8(ca->key), root.certificate.pem(),
                              aku::ErrorCode::kInvalidArgument);
    CHECK(has(message, "pathLenConstraint 0"));
  }
}

TEST_CASE("load checks that every path length in the upstream chain leaves room for SPIRE's CA",
          "[upstream_material]") {
  // Below the root sit the signing intermediate and SPIRE's minted CA: two intermediates.
  for (int root_path_len : {1, 2}) {
    INFO("root pathlen " << root_path_len);
    pki::CaOptions root_options;
    root_options.common_name = "Constrained Root";
    root_options.path_len = root_path_len;
    auto root = pki::make_self_signed(root_options);
    REQUIRE(root.ok());
    pki::CaOptions signing_options;
    signing_options.common_name = "Signing Intermediate";
    signing_options.path_len = 1;  // exactly enough for SPIRE's CA below it
    auto signing = pki::issue(*root, signing_options);
    REQUIRE(signing.ok());
    auto material = aku::UpstreamMaterial::load(
        signing->certificate.pem(), secret_pkcs8(signing->key), root->certificate.pem());
    if (root_path_len == 1) {
      REQUIRE_FALSE(material.ok());
      CHECK(material.error().code() == aku::ErrorCode::kInvalidArgument);
      CHECK(has(material.error().message(), "(CN=Constrained Root) has pathLenConstraint 1"));
      CHECK(has(material.error().message(), "at least 2 required"));
    } else {
      REQUIRE(material.ok());
    }
  }
}

TEST_CASE("load refuses an expired or not yet valid upstream certificate", "[upstream_material]") {
  pki::CaOptions options;
  options.common_name = "Expired Root";
  options.backdate = seconds(7200);
  options.lifetime = seconds(-3600);
  auto expired = pki::make_self_signed(options);
  REQUIRE(expired.ok());
  auto message = load_error(expired->certificate.pem(), secret_pkcs8(expired->key), std::nullopt,
                            aku::ErrorCode::kFailedPrecondition);
  CHECK(has(message, "expired at"));
  CHECK(has(message, "renew"));

  const auto& root = root_ca(aku::KeyType::kEcP256);
  auto early =
      aku::UpstreamMaterial::load(root.certificate.pem(), secret_pkcs8(root.key), std::nullopt,
                                  root.certificate.not_before() - seconds(60));
  REQUIRE_FALSE(early.ok());
  CHECK(early.error().code() == aku::ErrorCode::kFailedPrecondition);
  CHECK(has(early.error().message(), "not valid before"));
}

TEST_CASE("load refuses garbage and empty inputs and names which input was wrong",
          "[upstream_material]") {
  const auto& root = root_ca(aku::KeyType::kEcP256);
  const std::string certificate = root.certificate.pem();
  const aku::SecretString key = secret_pkcs8(root.key);

  SECTION("empty certificate_pem") {
    CHECK(has(load_error("", key, std::nullopt, aku::ErrorCode::kInvalidArgument),
              "certificate item's certificate_pem is empty"));
  }
  SECTION("garbage certificate_pem") {
    CHECK(has(load_error("not a pem at all", key, std::nullopt, aku::ErrorCode::kInvalidArgument),
              "certificate item's certificate_pem contains no CERTIFICATE block"));
  }
  SECTION("a CERTIFICATE block that is not a certificate") {
    std::string broken = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
    CHECK(has(load_error(broken, key, std::nullopt, aku::ErrorCode::kInvalidArgument),
              "certificate item's certificate_pem: certificate 1"));
  }
  SECTION("a CERTIFICATE block with broken base64") {
    std::string broken = "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n";
    CHECK(has(load_error(broken, key, std::nullopt, aku::ErrorCode::kInvalidArgument),
              "certificate item's certificate_pem"));
  }
  SECTION("empty private key") {
    auto message = load_error(certificate, aku::SecretString(), std::nullopt,
                              aku::ErrorCode::kInvalidArgument);
    CHECK(has(message, "private key PEM is empty"));
  }
  SECTION("garbage private key") {
    auto message = load_error(certificate, aku::SecretString("garbage"), std::nullopt,
                              aku::ErrorCode::kInvalidArgument);
    CHECK(has(message, "private key PEM contains no key block"));
  }
  SECTION("a certificate given as the private key") {
    auto message = load_error(certificate, aku::SecretString(certificate), std::nullopt,
                              aku::ErrorCode::kInvalidArgument);
    CHECK(has(message, "unsupported type"));
  }
  SECTION("empty roots bundle") {
    CHECK(has(load_error(certificate, key, std::string_view(), aku::ErrorCode::kInvalidArgument),
              "roots bundle is empty"));
  }
  SECTION("garbage roots bundle") {
    CHECK(has(
        load_error(certificate, key, std::string_view("junk"), aku::ErrorCode::kInvalidArgument),
        "roots bundle contains no CERTIFICATE block"));
  }
}

TEST_CASE("private key errors never contain PRIVATE KEY text or key bytes",
          "[upstream_material][secrets]") {
  const auto& root = root_ca(aku::KeyType::kEcP256);
  const std::string pem = pkcs8(root.key);
  const std::string sec1(root.key.to_traditional_pem()->reveal());
  const std::size_t body = pem.find('\n') + 1;

  std::vector<std::string> bad_keys = {
      // a damaged body
      pem.substr(0, body) + "AAAA" + pem.substr(body + 4),
      // truncated
      pem.substr(0, pem.size() / 2),
      // two keys
      pem + sec1,
      // an EC PARAMETERS block before the key
      "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n" + sec1,
      // encrypted
      "-----BEGIN ENCRYPTED PRIVATE KEY-----\n" + pem.substr(body),
      // a key in an unexpected block type
      "-----BEGIN OPENSSH PRIVATE KEY-----\n" + pem.substr(body, pem.find("-----END") - body) +
          "-----END OPENSSH PRIVATE KEY-----\n",
      // SEC1 body labelled as RSA
      "-----BEGIN RSA PRIVATE KEY-----\n" +
          sec1.substr(sec1.find('\n') + 1, sec1.find("-----END") - sec1.find('\n') - 1) +
          "-----END RSA PRIVATE KEY-----\n",
  };
  for (std::size_t i = 0; i < bad_keys.size(); ++i) {
    INFO("bad key " << i);
    aku::SecretString secret(bad_keys[i]);
    auto key = aku::PrivateKey::from_pem(secret);
    REQUIRE_FALSE(key.ok());
    auto material = aku::UpstreamMaterial::load(root.certificate.pem(), secret, std::nullopt);
    REQUIRE_FALSE(material.ok());
    for (const std::string& message : {key.error().message(), material.error().message()}) {
      CHECK(message.find("PRIVATE KEY") == std::string::npos);
      for (const auto& line : body_lines(bad_keys[i])) {
        CHECK(message.find(line) == std::string::npos);
      }
    }
  }
}
