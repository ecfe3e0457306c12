#pragma once

// Certificate: an immutable, parsed X.509 certificate, and PEM helpers for lists of them.

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <openssl/x509.h>

#include "akeyless_upstream/encoding.hpp"
#include "akeyless_upstream/result.hpp"

namespace akeyless_upstream {

// TimePoint is the clock every validity check and every minted certificate uses.
using TimePoint = std::chrono::system_clock::time_point;

// Certificate wraps one parsed X509. It is immutable and cheap to copy: copies share the same
// X509 object. A Certificate always holds a certificate (there is no empty state).
class Certificate {
 public:
  // from_der parses exactly one DER certificate; trailing bytes are an error (Go's
  // x509.ParseCertificate, which SPIRE runs on every certificate we return, refuses them too).
  // Errors: kInvalidArgument with the library's reason.
  static Result<Certificate> from_der(std::span<const std::uint8_t> der);

  // adopt takes ownership of a parsed X509 (nullptr is a programming error and aborts).
  static Certificate adopt(X509* certificate);

  // der returns the certificate's DER encoding; pem the same as one "CERTIFICATE" PEM block.
  Bytes der() const;
  std::string pem() const;

  // subject and issuer give the one-line RFC 2253 text, for messages and logs.
  std::string subject() const;
  std::string issuer() const;
  // subject_der and issuer_der give the raw Name encodings; SPIRE links certificates by
  // byte-equal issuer and subject (Go's CertPool), so comparisons use these.
  Bytes subject_der() const;
  Bytes issuer_der() const;

  // serial_hex is the serial number in lower-case hex without leading zero octets.
  std::string serial_hex() const;

  TimePoint not_before() const;
  TimePoint not_after() const;

  // sha256_fingerprint: hex_colon_encode of the SHA-256 of the DER ("AB:CD:...").
  std::string sha256_fingerprint() const;

  // subject_key_id returns the SubjectKeyIdentifier extension's value, empty when absent.
  Bytes subject_key_id() const;
  // authority_key_id returns the AuthorityKeyIdentifier's keyIdentifier, empty when absent.
  Bytes authority_key_id() const;
  // computed_key_id is the RFC 5280 section 4.2.1.2 method 1 key identifier: the SHA-1 of the
  // subjectPublicKey BIT STRING contents, whether or not the certificate carries an SKI.
  Bytes computed_key_id() const;

  // public_key_der returns the SubjectPublicKeyInfo DER.
  Bytes public_key_der() const;

  // uri_sans lists the URI entries of the SubjectAltName extension, in order.
  std::vector<std::string> uri_sans() const;

  // is_self_signed: subject and issuer are byte-equal AND the signature verifies with the
  // certificate's own key. Roots are told apart from intermediates this way, never by position.
  bool is_self_signed() const;

  // is_ca: basicConstraints is present with CA:TRUE.
  bool is_ca() const;
  // allows_cert_sign: keyUsage is absent or contains keyCertSign (RFC 5280 section 4.2.1.3).
  bool allows_cert_sign() const;
  // path_len returns the basicConstraints pathLenConstraint, or -1 when there is none.
  long path_len() const;

  // native exposes the X509 for read-only libcrypto calls; this Certificate keeps ownership.
  X509* native() const noexcept { return x509_.get(); }

  // Two certificates are equal when their DER encodings are.
  friend bool operator==(const Certificate& a, const Certificate& b);

 private:
  explicit Certificate(std::shared_ptr<X509> x509) : x509_(std::move(x509)) {}

  std::shared_ptr<X509> x509_;
};

// parse_certificates_pem parses every "CERTIFICATE" PEM block of `pem`, in order. Blocks of
// other types are skipped (they are not echoed in any message). `what` is a short noun used in
// messages, e.g. "certificate item's certificate_pem" or "roots bundle".
// Errors: kInvalidArgument "<what> contains no CERTIFICATE block" when there is none, or
// "<what>: certificate N does not parse (...)" for a damaged block.
Result<std::vector<Certificate>> parse_certificates_pem(std::string_view pem,
                                                        std::string_view what);

// to_pem concatenates the certificates' PEM blocks, in order.
std::string to_pem(const std::vector<Certificate>& certificates);

}  // namespace akeyless_upstream
