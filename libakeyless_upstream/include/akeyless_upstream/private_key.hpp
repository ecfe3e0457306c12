#pragma once

// PrivateKey: an upstream signing key or a test key, held only inside an EVP_PKEY.

#include <cstdint>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

#include <openssl/evp.h>
#include <openssl/objects.h>

#include "akeyless_upstream/encoding.hpp"
#include "akeyless_upstream/result.hpp"
#include "akeyless_upstream/secret.hpp"

namespace akeyless_upstream {

// KeyType: the key types SPIRE's ca_key_type allows plus RSA 3072, for both the upstream key
// and the CSR key.
enum class KeyType { kEcP256, kEcP384, kRsa2048, kRsa3072, kRsa4096 };

// key_type_name: "ec-p256", "ec-p384", "rsa-2048", "rsa-3072", "rsa-4096" (SPIRE's spelling).
std::string_view key_type_name(KeyType type);
// key_type_from_name is the inverse of key_type_name; unknown names give nullopt.
std::optional<KeyType> key_type_from_name(std::string_view name);

// PrivateKey holds an EC P-256, EC P-384 or RSA (2048 bits or more) private key. Copies share
// the same EVP_PKEY. The key material lives only inside libcrypto (which clears it when the
// EVP_PKEY is freed); it can only leave as PEM through to_*_pem(), into a SecretString. A
// PrivateKey cannot be streamed (operator<< is deleted).
class PrivateKey {
 public:
  // from_pem parses a PEM text holding exactly one private key block: "PRIVATE KEY" (PKCS#8),
  // "EC PRIVATE KEY" (SEC1) or "RSA PRIVATE KEY" (PKCS#1), the set SPIRE's disk plugin accepts.
  // Encrypted keys and extra blocks (e.g. EC PARAMETERS) are rejected. The PEM is read in place;
  // no copy of it is made outside libcrypto's own (cleared) buffers.
  // Errors: kInvalidArgument naming the problem, never quoting the input.
  static Result<PrivateKey> from_pem(const SecretString& pem);

  // generate makes a fresh key of the given type. RSA 4096 takes seconds.
  // Errors: kInternal with the library's reason.
  static Result<PrivateKey> generate(KeyType type);

  // adopt takes ownership of an EVP_PKEY. Errors: kInvalidArgument when its type is unsupported.
  static Result<PrivateKey> adopt(EVP_PKEY* key);

  // type gives the key's KeyType; RSA sizes other than 2048/3072/4096 map to nullopt.
  std::optional<KeyType> type() const noexcept { return type_; }

  // describe gives "EC P-256", "EC P-384" or "RSA <bits>".
  std::string describe() const;

  // is_p384 is true for EC P-384 keys, whose signatures use SHA-384 (as Go's x509 does).
  bool is_p384() const noexcept { return curve_nid_ == NID_secp384r1; }

  // to_pkcs8_pem: "PRIVATE KEY" PEM. to_traditional_pem: "EC PRIVATE KEY" (SEC1) or
  // "RSA PRIVATE KEY" (PKCS#1). Errors: kInternal with the library's reason.
  Result<SecretString> to_pkcs8_pem() const;
  Result<SecretString> to_traditional_pem() const;

  // public_key_der: the SubjectPublicKeyInfo DER of the public half.
  Bytes public_key_der() const;

  // native exposes the EVP_PKEY for libcrypto calls; this PrivateKey keeps ownership.
  EVP_PKEY* native() const noexcept { return pkey_.get(); }

 private:
  PrivateKey(std::shared_ptr<EVP_PKEY> pkey, std::optional<KeyType> type, int curve_nid, int bits)
      : pkey_(std::move(pkey)), type_(type), curve_nid_(curve_nid), bits_(bits) {}

  std::shared_ptr<EVP_PKEY> pkey_;
  std::optional<KeyType> type_;
  int curve_nid_ = 0;  // NID of the curve for EC keys, 0 for RSA
  int bits_ = 0;
};

// Printing a private key is a compile error.
std::ostream& operator<<(std::ostream&, const PrivateKey&) = delete;

// signature_digest_for returns the digest a signature by `key` uses: SHA-384 for EC P-384,
// SHA-256 otherwise (the choice Go's x509.CreateCertificate makes, so SPIRE's own plugins and
// ours agree).
const EVP_MD* signature_digest_for(const PrivateKey& key);

}  // namespace akeyless_upstream
