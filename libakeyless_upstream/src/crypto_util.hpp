#pragma once

// Internal helpers shared by the crypto sources. Not installed, not part of the public API.

#include <chrono>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "akeyless_upstream/certificate.hpp"
#include "akeyless_upstream/detail/ossl.hpp"
#include "akeyless_upstream/encoding.hpp"
#include "akeyless_upstream/result.hpp"

namespace akeyless_upstream::detail {

// PemBlock owns what PEM_read_bio allocates. The decoded bytes are cleared before they are freed:
// a block may hold key material, including one skipped while looking for certificates.
struct PemBlock {
  char* name = nullptr;
  char* header = nullptr;
  unsigned char* data = nullptr;
  long size = 0;

  PemBlock() = default;
  PemBlock(const PemBlock&) = delete;
  PemBlock& operator=(const PemBlock&) = delete;
  ~PemBlock() {
    if (data != nullptr) {
      OPENSSL_cleanse(data, static_cast<std::size_t>(size));
    }
    OPENSSL_free(name);
    OPENSSL_free(header);
    OPENSSL_free(data);
  }
};

// read_pem_block reads the next PEM block of `bio` into `block` (which must be empty): true when
// a block was read, false at the end of the input. A malformed block is kInvalidArgument
// "<what>PEM block <number> is malformed (<libcrypto reason>)".
Result<bool> read_pem_block(BIO* bio, PemBlock& block, std::string_view what, int number);

// bio_contents copies what a memory BIO holds.
std::string bio_contents(BIO* bio);

// to_time_t truncates to whole seconds (X.509 times have no fraction).
inline std::time_t to_time_t(TimePoint time) {
  return std::chrono::system_clock::to_time_t(time);
}

// from_asn1_time converts an ASN1_TIME (UTCTime or GeneralizedTime) to a TimePoint.
TimePoint from_asn1_time(const ASN1_TIME* time);

// set_asn1_time sets `target` to `time`, UTCTime up to 2049 and GeneralizedTime after
// (RFC 5280 section 4.1.2.5). Returns false on failure.
bool set_asn1_time(ASN1_TIME* target, TimePoint time);

// format_time gives "2026-01-02T03:04:05Z", for messages.
std::string format_time(TimePoint time);

// random_serial returns a random serial in [1, 2^127 - 1]: 128 random bits with the top bit
// cleared, so the DER INTEGER is positive and at most 16 octets (RFC 5280 section 4.1.2.2
// allows 20; Go 1.23+ rejects negative serials).
Result<Asn1IntegerPtr> random_serial();

// PublicKeyInfo describes a public key: EVP_PKEY_EC with its curve NID, or EVP_PKEY_RSA.
struct PublicKeyInfo {
  int type = 0;       // EVP_PKEY_EC, EVP_PKEY_RSA or another EVP_PKEY_* id
  int curve_nid = 0;  // for EC keys
  int bits = 0;
};
PublicKeyInfo public_key_info(EVP_PKEY* key);

// describe_public_key gives "EC P-256", "EC P-384", "RSA 2048", "EC (other curve)", ...
std::string describe_public_key(const PublicKeyInfo& info);

// supported_key_problem returns why a key is not one the library signs with or for (EC P-256,
// EC P-384, RSA of 2048 bits or more), or nullopt when it is supported.
std::optional<std::string> supported_key_problem(const PublicKeyInfo& info);

// public_key_der: the SubjectPublicKeyInfo DER of a key.
Bytes public_key_der(EVP_PKEY* key);

// make_general_names builds a GeneralNames of URI, DNS and IP entries.
// Errors: kInvalidArgument for an IP address that does not parse.
Result<GeneralNamesPtr> make_general_names(const std::vector<std::string>& uris,
                                           const std::vector<std::string>& dns_names,
                                           const std::vector<std::string>& ip_addresses);

// printable clips text to 200 characters and replaces control and non-ASCII bytes with '?', so
// values copied from input (a CSR's SAN) stay one readable line in a message.
std::string printable(std::string_view text);

}  // namespace akeyless_upstream::detail
