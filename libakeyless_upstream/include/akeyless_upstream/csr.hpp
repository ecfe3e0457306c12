#pragma once

// Building PKCS#10 certificate signing requests: for tests, the demo and embedders that need a CSR
// shaped like the one SPIRE Server sends to its UpstreamAuthority.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "akeyless_upstream/encoding.hpp"
#include "akeyless_upstream/private_key.hpp"
#include "akeyless_upstream/result.hpp"

namespace akeyless_upstream {

// RawExtension: an extension given by OID text ("1.2.3.4" or a short name) and its DER value.
struct RawExtension {
  std::string oid;
  bool critical = false;
  Bytes value;
};

// CsrSpec: what goes in the CSR. subject is a list of (attribute short name, value) pairs, one RDN
// each, in order: ("C","US"), ("O","SPIFFE"), ("serialNumber","123"), ("CN", ...).
struct CsrSpec {
  std::vector<std::pair<std::string, std::string>> subject;
  std::vector<std::string> uri_sans;
  std::vector<std::string> dns_sans;
  // Extensions requested besides the SubjectAltName, in order.
  std::vector<RawExtension> extra_extensions;
};

// spire_like_csr_spec: the CSR SPIRE Server (v1.9+) sends with the default ca_subject: subject
// C=US, O=SPIFFE, serialNumber=<random 128-bit decimal>, and one URI SAN spiffe://<trust_domain>.
CsrSpec spire_like_csr_spec(std::string_view trust_domain);

// build_csr_der builds and signs (SHA-384 for P-384, SHA-256 otherwise) a version-1 CSR.
// Errors: kInvalidArgument for an unknown subject attribute or bad OID, kInternal otherwise; both
// with the library's reason.
Result<Bytes> build_csr_der(const PrivateKey& key, const CsrSpec& spec);

}  // namespace akeyless_upstream
