#pragma once

// Shared fixtures for the crypto unit tests: keys and CAs generated once per test run (RSA 4096
// key generation takes seconds), CSR helpers, an independent parser for a few DER fields, and a
// runner for the `openssl verify` command line (path from the OPENSSL_BIN environment variable).

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

#include <openssl/x509.h>
#include <catch2/catch.hpp>

#include "akeyless_upstream/ca_signer.hpp"
#include "akeyless_upstream/certificate.hpp"
#include "akeyless_upstream/csr.hpp"
#include "akeyless_upstream/detail/ossl.hpp"
#include "akeyless_upstream/private_key.hpp"
#include "akeyless_upstream/testing/pki.hpp"
#include "akeyless_upstream/upstream_material.hpp"

namespace crypto_fixtures {

namespace aku = akeyless_upstream;
namespace pki = akeyless_upstream::testing;

inline constexpr std::array<aku::KeyType, 5> kAllKeyTypes = {
    aku::KeyType::kEcP256, aku::KeyType::kEcP384, aku::KeyType::kRsa2048, aku::KeyType::kRsa3072,
    aku::KeyType::kRsa4096};

inline constexpr std::string_view kTrustDomain = "example.org";

// cached_key returns the same generated key for the same (type, slot) for the whole run.
inline const aku::PrivateKey& cached_key(aku::KeyType type, int slot = 0) {
  static std::mutex mutex;
  static std::map<std::pair<aku::KeyType, int>, aku::PrivateKey> keys;
  std::lock_guard lock(mutex);
  auto found = keys.find({type, slot});
  if (found == keys.end()) {
    auto key = aku::PrivateKey::generate(type);
    REQUIRE(key.ok());
    found = keys.emplace(std::pair{type, slot}, std::move(key).value()).first;
  }
  return found->second;
}

// root_ca returns a self-signed root of the given key type (slot 1 keys), made once per run.
inline const pki::IssuedCertificate& root_ca(aku::KeyType type) {
  static std::mutex mutex;
  static std::map<aku::KeyType, pki::IssuedCertificate> roots;
  std::lock_guard lock(mutex);
  auto found = roots.find(type);
  if (found == roots.end()) {
    pki::CaOptions options;
    options.common_name = "Test Root " + std::string(aku::key_type_name(type));
    options.key = cached_key(type, 1);
    auto root = pki::make_self_signed(options);
    REQUIRE(root.ok());
    found = roots.emplace(type, std::move(root).value()).first;
  }
  return found->second;
}

inline pki::IssuedCertificate make_root(const std::string& name,
                                        aku::KeyType type = aku::KeyType::kEcP256) {
  pki::CaOptions options;
  options.common_name = name;
  options.key_type = type;
  auto root = pki::make_self_signed(options);
  REQUIRE(root.ok());
  return std::move(root).value();
}

inline pki::IssuedCertificate make_intermediate(const pki::IssuedCertificate& issuer,
                                                const std::string& name,
                                                aku::KeyType type = aku::KeyType::kEcP256) {
  pki::CaOptions options;
  options.common_name = name;
  options.key_type = type;
  auto intermediate = pki::issue(issuer, options);
  REQUIRE(intermediate.ok());
  return std::move(intermediate).value();
}

inline std::string pkcs8(const aku::PrivateKey& key) {
  auto pem = key.to_pkcs8_pem();
  REQUIRE(pem.ok());
  return std::string(pem->reveal());
}

inline aku::SecretString secret_pkcs8(const aku::PrivateKey& key) {
  auto pem = key.to_pkcs8_pem();
  REQUIRE(pem.ok());
  return std::move(pem).value();
}

// material_for loads an item holding `certificates` (signing first) and the signing key.
inline std::shared_ptr<const aku::UpstreamMaterial> material_for(
    const std::vector<aku::Certificate>& certificates, const aku::PrivateKey& key,
    std::optional<std::string> bundle = std::nullopt) {
  std::optional<std::string_view> bundle_view;
  if (bundle.has_value()) {
    bundle_view = *bundle;
  }
  auto material =
      aku::UpstreamMaterial::load(aku::to_pem(certificates), secret_pkcs8(key), bundle_view);
  INFO((material.ok() ? std::string("loaded") : material.error().to_string()));
  REQUIRE(material.ok());
  return std::make_shared<const aku::UpstreamMaterial>(std::move(material).value());
}

inline aku::Bytes spire_csr(const aku::PrivateKey& key,
                            std::string_view trust_domain = kTrustDomain) {
  auto csr = aku::build_csr_der(key, aku::spire_like_csr_spec(trust_domain));
  REQUIRE(csr.ok());
  return std::move(csr).value();
}

inline aku::Bytes csr_with(const aku::PrivateKey& key, const aku::CsrSpec& spec) {
  auto csr = aku::build_csr_der(key, spec);
  INFO((csr.ok() ? std::string("built") : csr.error().to_string()));
  REQUIRE(csr.ok());
  return std::move(csr).value();
}

// ParsedCsr: fields read back from a CSR DER with libcrypto's parser.
struct ParsedCsr {
  aku::Bytes subject_der;
  aku::Bytes public_key_der;
  aku::Bytes public_key_bits;  // contents of the subjectPublicKey BIT STRING
  int public_key_parameter_type = 0;
};

inline ParsedCsr parse_csr(const aku::Bytes& der) {
  const unsigned char* cursor = der.data();
  aku::detail::X509ReqPtr request(d2i_X509_REQ(nullptr, &cursor, static_cast<long>(der.size())));
  REQUIRE(request);
  ParsedCsr parsed;
  X509_NAME* subject = X509_REQ_get_subject_name(request.get());
  int size = i2d_X509_NAME(subject, nullptr);
  parsed.subject_der.resize(static_cast<std::size_t>(size));
  unsigned char* out = parsed.subject_der.data();
  i2d_X509_NAME(subject, &out);

  aku::detail::EvpPkeyPtr key(X509_REQ_get_pubkey(request.get()));
  REQUIRE(key);
  size = i2d_PUBKEY(key.get(), nullptr);
  parsed.public_key_der.resize(static_cast<std::size_t>(size));
  out = parsed.public_key_der.data();
  i2d_PUBKEY(key.get(), &out);

  const unsigned char* spki_cursor = parsed.public_key_der.data();
  std::unique_ptr<X509_PUBKEY, aku::detail::FreeWith<X509_PUBKEY_free>> spki(
      d2i_X509_PUBKEY(nullptr, &spki_cursor, static_cast<long>(parsed.public_key_der.size())));
  REQUIRE(spki);
  const unsigned char* bits = nullptr;
  int bits_size = 0;
  X509_ALGOR* algorithm = nullptr;
  REQUIRE(X509_PUBKEY_get0_param(nullptr, &bits, &bits_size, &algorithm, spki.get()) == 1);
  parsed.public_key_bits.assign(bits, bits + bits_size);
  const ASN1_OBJECT* object = nullptr;
  const void* parameter = nullptr;
  X509_ALGOR_get0(&object, &parsed.public_key_parameter_type, &parameter, algorithm);
  return parsed;
}

// contains_bytes: whether `needle` occurs in `haystack` as a contiguous run.
inline bool contains_bytes(const aku::Bytes& haystack, const aku::Bytes& needle) {
  return !needle.empty() && std::search(haystack.begin(), haystack.end(), needle.begin(),
                                        needle.end()) != haystack.end();
}

// TempDir: a directory removed at scope exit.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "aku-test-XXXXXX").string();
    char* made = mkdtemp(pattern.data());
    REQUIRE(made != nullptr);
    path_ = made;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }

  std::filesystem::path write(const std::string& name, std::string_view content) const {
    auto file = path_ / name;
    std::ofstream out(file, std::ios::binary);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    return file;
  }
  std::filesystem::path write(const std::string& name, const aku::Bytes& content) const {
    return write(name,
                 std::string_view(reinterpret_cast<const char*>(content.data()), content.size()));
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// CommandResult: exit status and combined output of a child process.
struct CommandResult {
  int exit_status = -1;
  std::string output;
};

// run_command runs argv (no shell) with stdout and stderr captured together.
inline CommandResult run_command(const std::vector<std::string>& argv) {
  CommandResult result;
  int pipe_fds[2];
  REQUIRE(pipe(pipe_fds) == 0);
  pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    dup2(pipe_fds[1], 1);
    dup2(pipe_fds[1], 2);
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    std::vector<char*> args;
    for (const auto& arg : argv) {
      args.push_back(const_cast<char*>(arg.c_str()));
    }
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  close(pipe_fds[1]);
  char buffer[4096];
  for (ssize_t got; (got = read(pipe_fds[0], buffer, sizeof(buffer))) > 0;) {
    result.output.append(buffer, static_cast<std::size_t>(got));
  }
  close(pipe_fds[0]);
  int status = 0;
  waitpid(child, &status, 0);
  result.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

inline std::string openssl_bin() {
  const char* path = std::getenv("OPENSSL_BIN");
  return path != nullptr && *path != '\0' ? std::string(path) : std::string("/usr/bin/openssl");
}

// openssl_verify runs `openssl verify -x509_strict -CAfile roots [-untrusted chain] leaf`, the
// independent check that the minted CA chains to the roots.
inline CommandResult openssl_verify(const aku::Certificate& leaf,
                                    const std::vector<aku::Certificate>& intermediates,
                                    const std::vector<aku::Certificate>& roots) {
  TempDir dir;
  auto roots_file = dir.write("roots.pem", aku::to_pem(roots));
  auto leaf_file = dir.write("minted.pem", leaf.pem());
  std::vector<std::string> argv = {openssl_bin(), "verify", "-x509_strict", "-CAfile",
                                   roots_file.string()};
  if (!intermediates.empty()) {
    auto chain_file = dir.write("chain.pem", aku::to_pem(intermediates));
    argv.insert(argv.end(), {"-untrusted", chain_file.string()});
  }
  argv.push_back(leaf_file.string());
  return run_command(argv);
}

}  // namespace crypto_fixtures
