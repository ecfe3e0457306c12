#pragma once

// UpstreamMaterial: the upstream CA read from an Akeyless certificate item (and optional roots
// bundle), parsed and validated the way SPIRE's disk and awssecret plugins validate theirs.

#include <chrono>
#include <optional>
#include <string_view>
#include <vector>

#include "akeyless_upstream/certificate.hpp"
#include "akeyless_upstream/private_key.hpp"
#include "akeyless_upstream/result.hpp"
#include "akeyless_upstream/secret.hpp"

namespace akeyless_upstream {

class UpstreamMaterial {
 public:
  // load parses and validates:
  //  - certificate_pem: the item's certificate_pem, one or more CERTIFICATE blocks, the signing
  //    certificate first;
  //  - private_key_pem: the item's private key (PKCS#8, SEC1 or PKCS#1, exactly one block);
  //  - roots_bundle_pem: the separately supplied roots (the Akeyless item named by
  //    bundle_certificate_name), if configured.
  // Checks: the key matches the first certificate; the first certificate is a CA (basicConstraints
  // CA:TRUE, keyUsage absent or with keyCertSign) within its validity at `now`; roots are the
  // self-signed certificates of the item plus every certificate of the bundle (which must all be
  // self-signed); at least one root exists; the signing certificate verifies through the item's
  // certificates to the roots at `now`; no pathLenConstraint on that path forbids the CA that
  // SPIRE keeps below the signing certificate.
  // Errors: kInvalidArgument for unparsable or inconsistent input (naming which input, never
  // quoting key bytes); kFailedPrecondition when the signing certificate is outside its validity
  // or no root is available (the fix: set bundle_certificate_name).
  static Result<UpstreamMaterial> load(std::string_view certificate_pem,
                                       const SecretString& private_key_pem,
                                       std::optional<std::string_view> roots_bundle_pem,
                                       TimePoint now = std::chrono::system_clock::now());

  // signing_certificate and signing_key: the first certificate of the item and its key.
  const Certificate& signing_certificate() const noexcept { return signing_certificate_; }
  const PrivateKey& signing_key() const noexcept { return signing_key_; }

  // chain_after_minted: every non-root certificate of the item in item order, the signing
  // certificate included when it is not itself a root. The minted CA's chain is
  // [minted] + chain_after_minted (SPIRE serves leaf + chain; roots never go in the chain).
  const std::vector<Certificate>& chain_after_minted() const noexcept { return chain_; }

  // roots: the trust anchors (self-signed), deduplicated.
  const std::vector<Certificate>& roots() const noexcept { return roots_; }

 private:
  UpstreamMaterial(Certificate signing_certificate, PrivateKey signing_key,
                   std::vector<Certificate> chain, std::vector<Certificate> roots)
      : signing_certificate_(std::move(signing_certificate)),
        signing_key_(std::move(signing_key)),
        chain_(std::move(chain)),
        roots_(std::move(roots)) {}

  Certificate signing_certificate_;
  PrivateKey signing_key_;
  std::vector<Certificate> chain_;
  std::vector<Certificate> roots_;
};

}  // namespace akeyless_upstream
