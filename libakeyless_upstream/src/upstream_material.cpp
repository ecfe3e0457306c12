#include "akeyless_upstream/upstream_material.hpp"

#include <openssl/err.h>
#include <openssl/x509.h>

#include "akeyless_upstream/ca_signer.hpp"
#include "crypto_util.hpp"

namespace akeyless_upstream {

namespace {

constexpr std::string_view kCertificateInput = "certificate item's certificate_pem";
constexpr std::string_view kBundleInput = "roots bundle";

bool contains(const std::vector<Certificate>& certificates, const Certificate& certificate) {
  for (const auto& existing : certificates) {
    if (existing == certificate) {
      return true;
    }
  }
  return false;
}

// check_signing_certificate applies the checks SPIRE's own plugins rely on: a CA that may sign
// certificates, within its validity.
Status check_signing_certificate(const Certificate& signing, TimePoint now) {
  std::string who = "signing certificate (" + signing.subject() + ")";
  if (!signing.is_ca()) {
    return Error(ErrorCode::kInvalidArgument,
                 who +
                     " is not a CA: it needs basicConstraints CA:TRUE to sign SPIRE's "
                     "intermediate CA; put the CA certificate first in the certificate item");
  }
  if (!signing.allows_cert_sign()) {
    return Error(ErrorCode::kInvalidArgument,
                 who + " has a keyUsage without keyCertSign, so it may not sign certificates");
  }
  if (now < signing.not_before()) {
    return Error(ErrorCode::kFailedPrecondition,
                 who + " is not valid before " + detail::format_time(signing.not_before()));
  }
  if (now > signing.not_after()) {
    return Error(ErrorCode::kFailedPrecondition, who + " expired at " +
                                                     detail::format_time(signing.not_after()) +
                                                     "; renew the certificate item");
  }
  return Status::success();
}

// check_path_lengths: SPIRE verifies a throwaway SVID below the minted CA with Go, which counts
// the certificates below each CA of the path (Go: TooManyIntermediates; RFC 5280 section
// 4.2.1.9). Below the certificate at index i of the verified path (0 = the signing certificate)
// sit the i certificates before it plus the minted CA, so its pathLenConstraint must be at least
// i + 1. Checking here turns a CA SPIRE would refuse at every mint into one clear load error.
Status check_path_lengths(const std::vector<Certificate>& path) {
  for (std::size_t i = 0; i < path.size(); ++i) {
    long limit = path[i].path_len();
    auto needed = static_cast<long>(i + 1);
    if (limit >= 0 && limit < needed) {
      return Error(ErrorCode::kInvalidArgument,
                   "upstream certificate (" + path[i].subject() + ") has pathLenConstraint " +
                       std::to_string(limit) +
                       ", which leaves no room for the intermediate CA "
                       "SPIRE needs below it (at least " +
                       std::to_string(needed) +
                       " required); reissue the upstream chain with a larger or no path length");
    }
  }
  return Status::success();
}

}  // namespace

Result<UpstreamMaterial> UpstreamMaterial::load(std::string_view certificate_pem,
                                                const SecretString& private_key_pem,
                                                std::optional<std::string_view> roots_bundle_pem,
                                                TimePoint now) {
  // == parse ==
  auto certificates = parse_certificates_pem(certificate_pem, kCertificateInput);
  if (!certificates.ok()) {
    return certificates.error();
  }
  auto key = PrivateKey::from_pem(private_key_pem);
  if (!key.ok()) {
    return key.error().with_context("certificate item's private key");
  }
  const Certificate& signing = certificates->front();

  // == key match (SPIRE: x509util.CertificateMatchesPrivateKey) ==
  if (X509_check_private_key(signing.native(), key->native()) != 1) {
    ERR_clear_error();
    return Error(ErrorCode::kInvalidArgument,
                 "certificate item's private key does not match its first certificate (" +
                     signing.subject() + "); the signing certificate must come first");
  }

  if (auto checked = check_signing_certificate(signing, now); !checked.ok()) {
    return checked.error();
  }

  // == roots and chain ==
  // Roots are told by self-signature, not by position: an item may hold the full chain up to and
  // including its root.
  std::vector<Certificate> roots;
  std::vector<Certificate> chain;
  for (const auto& certificate : *certificates) {
    if (certificate.is_self_signed()) {
      if (!contains(roots, certificate)) {
        roots.push_back(certificate);
      }
    } else {
      chain.push_back(certificate);
    }
  }
  if (roots_bundle_pem.has_value()) {
    auto bundle = parse_certificates_pem(*roots_bundle_pem, kBundleInput);
    if (!bundle.ok()) {
      return bundle.error();
    }
    std::vector<Certificate> bundle_roots;
    for (std::size_t i = 0; i < bundle->size(); ++i) {
      const Certificate& certificate = (*bundle)[i];
      // SPIRE keys roots by SKI and expects trust anchors; an intermediate here would be
      // served as a root.
      if (!certificate.is_self_signed()) {
        return Error(ErrorCode::kInvalidArgument,
                     std::string(kBundleInput) + " certificate " + std::to_string(i + 1) + " (" +
                         certificate.subject() +
                         ") is not self-signed; the bundle must hold root certificates only");
      }
      if (!contains(bundle_roots, certificate)) {
        bundle_roots.push_back(certificate);
      }
    }
    for (auto& root : roots) {
      if (!contains(bundle_roots, root)) {
        bundle_roots.push_back(std::move(root));
      }
    }
    roots = std::move(bundle_roots);
  }
  if (roots.empty()) {
    return Error(ErrorCode::kFailedPrecondition,
                 std::string(kCertificateInput) +
                     " holds no self-signed root certificate and no roots bundle is configured; "
                     "set bundle_certificate_name to the Akeyless certificate item holding the "
                     "root CA, or add the root to the item");
  }

  // == chain self-check (SPIRE: caCert.Verify with the item's certificates and the bundle) ==
  // Not strict: SPIRE's Go verifier accepts, e.g., an upstream CA without an SKI.
  auto path = verified_path(signing, chain, roots, now, VerifyOptions{.x509_strict = false});
  if (!path.ok()) {
    return Error(path.error().code(),
                 "signing certificate (" + signing.subject() +
                     ") does not chain to the roots: " + path.error().message() +
                     "; the certificate item must hold the signing certificate and its "
                     "intermediates, and the roots bundle (bundle_certificate_name) the root");
  }
  if (auto room = check_path_lengths(*path); !room.ok()) {
    return room.error();
  }

  return UpstreamMaterial(signing, std::move(key).value(), std::move(chain), std::move(roots));
}

}  // namespace akeyless_upstream
