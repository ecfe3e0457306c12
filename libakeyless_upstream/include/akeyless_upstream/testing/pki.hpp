#pragma once

// Test PKI: fixtures for the unit tests, the Akeyless gateway emulator and the demo. Certificates
// made here follow RFC 5280 closely enough to pass `openssl verify -x509_strict`: critical
// basicConstraints and keyUsage, SKI on every certificate, AKI on every issued one.
// Not for production use: there is no revocation, no policy, no name constraints.

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "akeyless_upstream/certificate.hpp"
#include "akeyless_upstream/private_key.hpp"
#include "akeyless_upstream/result.hpp"

namespace akeyless_upstream::testing {

// CaOptions describes one certificate to make. Despite the name it also describes leaves
// (is_ca = false), e.g. the emulator's TLS server certificate (dns_sans/ip_sans, server_auth).
struct CaOptions {
  std::string common_name;                         // subject is CN=<common_name> only
  KeyType key_type = KeyType::kEcP256;             // type of the new key
  std::chrono::seconds lifetime{365 * 24 * 3600};  // NotAfter = now + lifetime (may be negative)
  std::chrono::seconds backdate{3600};             // NotBefore = now - backdate
  bool is_ca = true;            // basicConstraints CA:TRUE (critical) or CA:FALSE
  std::optional<int> path_len;  // pathLenConstraint for CAs
  bool key_cert_sign = true;    // CA keyUsage keyCertSign|cRLSign; false: digitalSignature only
  bool include_ski = true;      // add a SubjectKeyIdentifier
  std::vector<std::string> dns_sans;  // SubjectAltName dNSName entries
  std::vector<std::string> ip_sans;   // SubjectAltName iPAddress entries ("127.0.0.1", "::1")
  bool server_auth = false;           // extendedKeyUsage serverAuth
  std::vector<std::string> uri_sans;  // SubjectAltName URI entries
  std::optional<PrivateKey> key;      // use this key instead of generating one
  std::optional<TimePoint> now;       // the "now" the validity is computed from
};

// IssuedCertificate: a certificate with its private key.
struct IssuedCertificate {
  Certificate certificate;
  PrivateKey key;
};

// make_self_signed makes a self-signed certificate (a root when is_ca). Errors: kInternal or
// kInvalidArgument (bad SAN text) with the library's reason.
Result<IssuedCertificate> make_self_signed(const CaOptions& options);

// issue makes a certificate for a new key (or options.key) signed by `issuer`. Its AKI is the
// issuer's SKI (or the issuer's computed key id when it has none). Errors as make_self_signed.
Result<IssuedCertificate> issue(const IssuedCertificate& issuer, const CaOptions& options);

}  // namespace akeyless_upstream::testing
