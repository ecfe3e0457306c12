#pragma once

// CaSigner: mints SPIRE Server's intermediate CA from its CSR with the upstream material, the way
// SPIRE's own disk/awssecret plugins do (x509svid.UpstreamCA.SignCSR), and chain verification.

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "akeyless_upstream/certificate.hpp"
#include "akeyless_upstream/result.hpp"
#include "akeyless_upstream/upstream_material.hpp"

namespace akeyless_upstream {

// kDefaultCaTtl: the TTL used when SPIRE sends preferred_ttl 0 (SPIRE's DefaultUpstreamCATTL).
inline constexpr std::chrono::seconds kDefaultCaTtl{3600};
// kCaBackdate: NotBefore is set this far before now (SPIRE's DefaultUpstreamCABackdate), so that
// a server whose clock is slightly behind still accepts the CA.
inline constexpr std::chrono::seconds kCaBackdate{10};

// MintedCa: the answer to one MintX509CA request.
struct MintedCa {
  Certificate certificate;                // the minted intermediate CA
  std::vector<Certificate> chain;         // minted first, then the material's chain_after_minted
  std::vector<Certificate> roots;         // the material's roots
  bool ttl_clamped = false;               // NotAfter was cut to the signing certificate's NotAfter
  std::chrono::seconds requested_ttl{0};  // the TTL asked for after the 0 → 1 h default
};

class CaSigner {
 public:
  explicit CaSigner(std::shared_ptr<const UpstreamMaterial> material)
      : material_(std::move(material)) {}

  // mint checks the CSR (DER) and signs a CA certificate for it:
  //  - the CSR signature verifies; it carries exactly one URI SAN, equal to spiffe://<trust
  //    domain> (`trust_domain` is the bare name; a "spiffe://" prefix is tolerated);
  //  - subject = the CSR's raw subject bytes; public key = the CSR's; requested extensions are
  //    copied except basicConstraints, keyUsage, SKI and AKI, which are always the signer's:
  //    basicConstraints critical CA:TRUE without pathlen, keyUsage critical keyCertSign|cRLSign,
  //    SKI = SHA-1 of the CSR key, AKI = the signing certificate's key id;
  //  - issuer = the signing certificate's raw subject; random positive 128-bit serial
  //    (as SPIRE's); NotBefore = now - 10 s; NotAfter = now + preferred_ttl (0 → 1 h), clamped to
  //    the signing certificate's NotAfter; SHA-384 for a P-384 upstream key, SHA-256 otherwise.
  // The result is verified through the chain to the roots before it is returned.
  // Errors: kInvalidArgument for a bad CSR (the message names what is wrong), kFailedPrecondition
  // when the signing certificate has expired, kInternal for libcrypto failures.
  Result<MintedCa> mint(std::span<const std::uint8_t> csr_der, std::string_view trust_domain,
                        std::chrono::seconds preferred_ttl,
                        TimePoint now = std::chrono::system_clock::now()) const;

  const UpstreamMaterial& material() const noexcept { return *material_; }

 private:
  std::shared_ptr<const UpstreamMaterial> material_;
};

// VerifyOptions tunes verify_chain.
struct VerifyOptions {
  // x509_strict turns on libcrypto's RFC 5280 strict checks (X509_V_FLAG_X509_STRICT). Loading
  // upstream material turns it off, to accept what SPIRE's Go verifier accepts (e.g. an upstream
  // CA without an SKI).
  bool x509_strict = true;
};

// verify_chain verifies `leaf` through `intermediates` (untrusted) to one of `roots` (trusted,
// self-signed) at time `now` with an X509_STORE. Errors: kInvalidArgument "certificate chain
// does not verify: <reason> at depth N (<subject>)".
Status verify_chain(const Certificate& leaf, const std::vector<Certificate>& intermediates,
                    const std::vector<Certificate>& roots,
                    TimePoint now = std::chrono::system_clock::now(), VerifyOptions options = {});

// verified_path is verify_chain that also returns the path it found: leaf first, the root last.
Result<std::vector<Certificate>> verified_path(const Certificate& leaf,
                                               const std::vector<Certificate>& intermediates,
                                               const std::vector<Certificate>& roots,
                                               TimePoint now = std::chrono::system_clock::now(),
                                               VerifyOptions options = {});

}  // namespace akeyless_upstream
