#include "akeyless_upstream/ca_signer.hpp"

#include <climits>

#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "akeyless_upstream/detail/ossl.hpp"
#include "crypto_util.hpp"

namespace akeyless_upstream {

using detail::with_crypto_error;

namespace {

constexpr std::string_view kSpiffeScheme = "spiffe://";

// Extensions the signer always sets itself; a CSR's request for them is ignored (SPIRE's
// template sets them too, overriding anything requested).
bool is_signer_owned(int nid) {
  return nid == NID_basic_constraints || nid == NID_key_usage ||
         nid == NID_subject_key_identifier || nid == NID_authority_key_identifier;
}

std::string oid_text(const ASN1_OBJECT* object) {
  char buffer[128];
  int size = OBJ_obj2txt(buffer, sizeof(buffer), object, 0);
  return size > 0 ? std::string(buffer) : std::string("(unprintable OID)");
}

std::string quote_list(const std::vector<std::string>& values) {
  std::string text;
  for (const auto& value : values) {
    if (!text.empty()) {
      text += ", ";
    }
    // Appended piecewise: GCC 12 warns falsely (-Wrestrict) on "\"" + std::string at -O2.
    text += '"';
    text += detail::printable(value);
    text += '"';
  }
  return text;
}

// CheckedCsr: what mint takes from a CSR once its checks passed.
struct CheckedCsr {
  detail::X509ReqPtr request;
  detail::EvpPkeyPtr public_key;
  detail::X509ExtensionStackPtr extensions;  // requested extensions, may be empty
};

// check_csr: SPIRE's x509svid.ParseAndValidateCSR rules: the CSR parses, its signature verifies,
// and it carries exactly one URI SAN equal to the trust domain ID.
Result<CheckedCsr> check_csr(std::span<const std::uint8_t> csr_der,
                             const std::string& trust_domain_id) {
  if (csr_der.empty()) {
    return Error(ErrorCode::kInvalidArgument, "CSR is empty");
  }
  if (csr_der.size() > static_cast<std::size_t>(LONG_MAX)) {
    return Error(ErrorCode::kInvalidArgument, "CSR is too large");
  }
  const unsigned char* cursor = csr_der.data();
  CheckedCsr csr;
  csr.request.reset(d2i_X509_REQ(nullptr, &cursor, static_cast<long>(csr_der.size())));
  if (!csr.request) {
    return Error(ErrorCode::kInvalidArgument,
                 with_crypto_error("CSR does not parse as a DER PKCS#10 request"));
  }
  if (cursor != csr_der.data() + csr_der.size()) {
    return Error(ErrorCode::kInvalidArgument, "CSR has trailing bytes after the request");
  }

  csr.public_key.reset(X509_REQ_get_pubkey(csr.request.get()));
  if (!csr.public_key) {
    return Error(ErrorCode::kInvalidArgument,
                 with_crypto_error("CSR public key is missing or not supported"));
  }
  if (auto problem = detail::supported_key_problem(detail::public_key_info(csr.public_key.get()))) {
    return Error(ErrorCode::kInvalidArgument, "CSR key: " + *problem);
  }
  if (X509_REQ_verify(csr.request.get(), csr.public_key.get()) != 1) {
    return Error(ErrorCode::kInvalidArgument,
                 with_crypto_error("CSR signature does not verify with the CSR's public key"));
  }

  csr.extensions.reset(X509_REQ_get_extensions(csr.request.get()));
  ERR_clear_error();  // a CSR without extensions leaves a harmless error behind on OpenSSL
  if (!csr.extensions) {
    csr.extensions.reset(sk_X509_EXTENSION_new_null());
    if (!csr.extensions) {
      return Error(ErrorCode::kInternal, with_crypto_error("cannot allocate extensions"));
    }
  }

  std::vector<std::string> uris;
  int extension_count = static_cast<int>(sk_X509_EXTENSION_num(csr.extensions.get()));
  for (int i = 0; i < extension_count; ++i) {
    X509_EXTENSION* extension = sk_X509_EXTENSION_value(csr.extensions.get(), i);
    const ASN1_OBJECT* object = X509_EXTENSION_get_object(extension);
    // RFC 5280 section 4.2: a certificate must not include more than one instance of an
    // extension, and Go refuses such a certificate ("duplicate extensions").
    for (int j = 0; j < i; ++j) {
      const ASN1_OBJECT* earlier =
          X509_EXTENSION_get_object(sk_X509_EXTENSION_value(csr.extensions.get(), j));
      if (OBJ_cmp(object, earlier) == 0) {
        return Error(ErrorCode::kInvalidArgument,
                     "CSR requests extension " + oid_text(object) + " more than once");
      }
    }
    if (OBJ_obj2nid(object) != NID_subject_alt_name) {
      continue;
    }
    detail::GeneralNamesPtr names(static_cast<GENERAL_NAMES*>(X509V3_EXT_d2i(extension)));
    if (!names) {
      return Error(ErrorCode::kInvalidArgument,
                   with_crypto_error("CSR subjectAltName extension does not parse"));
    }
    for (std::size_t n = 0; n < static_cast<std::size_t>(sk_GENERAL_NAME_num(names.get())); ++n) {
      const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), n);
      if (name->type == GEN_URI) {
        const ASN1_STRING* text = name->d.uniformResourceIdentifier;
        uris.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(text)),
                          static_cast<std::size_t>(ASN1_STRING_length(text)));
      }
    }
  }

  if (uris.size() != 1) {
    return Error(ErrorCode::kInvalidArgument,
                 "CSR must have exactly one URI SAN (" + trust_domain_id + "); it has " +
                     std::to_string(uris.size()) + (uris.empty() ? "" : ": " + quote_list(uris)));
  }
  if (uris.front() != trust_domain_id) {
    return Error(ErrorCode::kInvalidArgument,
                 "CSR URI SAN \"" + detail::printable(uris.front()) +
                     "\" is not the trust domain ID " + trust_domain_id +
                     "; SPIRE's CA CSR must name exactly the configured trust domain");
  }
  return csr;
}

Status add_extension(X509* certificate, int nid, void* value, bool critical) {
  if (X509_add1_ext_i2d(certificate, nid, value, critical ? 1 : 0, X509V3_ADD_DEFAULT) != 1) {
    return Error(ErrorCode::kInternal, with_crypto_error(std::string("cannot add the ") +
                                                         OBJ_nid2sn(nid) + " extension"));
  }
  return Status::success();
}

}  // namespace

Result<MintedCa> CaSigner::mint(std::span<const std::uint8_t> csr_der,
                                std::string_view trust_domain, std::chrono::seconds preferred_ttl,
                                TimePoint now) const {
  if (!material_) {
    return Error(ErrorCode::kFailedPrecondition, "no upstream material loaded");
  }
  const Certificate& signing = material_->signing_certificate();
  const PrivateKey& signing_key = material_->signing_key();

  // == trust domain and CSR ==
  if (trust_domain.starts_with(kSpiffeScheme)) {
    trust_domain.remove_prefix(kSpiffeScheme.size());
  }
  if (trust_domain.empty() || trust_domain.find('/') != std::string_view::npos) {
    return Error(ErrorCode::kInvalidArgument,
                 "trust domain \"" + detail::printable(trust_domain) +
                     "\" is not a bare trust domain name such as example.org");
  }
  std::string trust_domain_id = std::string(kSpiffeScheme) + std::string(trust_domain);
  auto csr = check_csr(csr_der, trust_domain_id);
  if (!csr.ok()) {
    return csr.error();
  }

  // == validity (SPIRE UpstreamCA.SignCSR) ==
  // TTL 0 means SPIRE's default; NotAfter never passes the signing certificate's, since Go's
  // verifier requires every certificate of the path to be valid.
  std::chrono::seconds ttl =
      preferred_ttl > std::chrono::seconds(0) ? preferred_ttl : kDefaultCaTtl;
  TimePoint whole_now = std::chrono::time_point_cast<std::chrono::seconds>(now);
  TimePoint not_before = whole_now - kCaBackdate;
  TimePoint not_after = whole_now + ttl;
  bool clamped = false;
  if (not_after > signing.not_after()) {
    not_after = signing.not_after();
    clamped = true;
  }
  if (now > signing.not_after() || not_after <= not_before) {
    return Error(ErrorCode::kFailedPrecondition,
                 "signing certificate (" + signing.subject() + ") expired at " +
                     detail::format_time(signing.not_after()) + "; renew the certificate item");
  }

  // == certificate body ==
  detail::X509Ptr certificate(X509_new());
  if (!certificate) {
    return Error(ErrorCode::kInternal, with_crypto_error("cannot allocate a certificate"));
  }
  auto serial = detail::random_serial();
  if (!serial.ok()) {
    return serial.error();
  }
  // Subject and issuer are copied as parsed names; libcrypto keeps and re-emits their original
  // encodings, so the subject is the CSR's raw subject (SPIRE v1.10+: RawSubject) and the issuer
  // the signing certificate's raw subject (Go links certificates by byte-equal names).
  if (X509_set_version(certificate.get(), 2) != 1 ||
      X509_set_serialNumber(certificate.get(), serial->get()) != 1 ||
      X509_set_subject_name(certificate.get(), X509_REQ_get_subject_name(csr->request.get())) !=
          1 ||
      X509_set_issuer_name(certificate.get(), X509_get_subject_name(signing.native())) != 1 ||
      !detail::set_asn1_time(X509_getm_notBefore(certificate.get()), not_before) ||
      !detail::set_asn1_time(X509_getm_notAfter(certificate.get()), not_after) ||
      X509_set_pubkey(certificate.get(), csr->public_key.get()) != 1) {
    return Error(ErrorCode::kInternal, with_crypto_error("cannot fill in the certificate"));
  }

  // == signer-owned extensions (reference: rules for the minted CA) ==
  // basicConstraints: critical CA:TRUE without pathLenConstraint, as Go's template emits.
  detail::BasicConstraintsPtr constraints(BASIC_CONSTRAINTS_new());
  if (!constraints) {
    return Error(ErrorCode::kInternal, with_crypto_error("cannot allocate basicConstraints"));
  }
  // DER (X.690 section 11.1) encodes TRUE as 0xFF; libcrypto writes the field's value as the
  // content octet, and Go's parser (SPIRE) refuses any other value ("invalid basic constraints").
  constraints->ca = 0xFF;
  if (auto added = add_extension(certificate.get(), NID_basic_constraints, constraints.get(), true);
      !added.ok()) {
    return added.error();
  }

  // keyUsage: critical keyCertSign|cRLSign only; SPIRE v1.7.0 rejects digitalSignature.
  std::unique_ptr<ASN1_BIT_STRING, detail::FreeWith<ASN1_BIT_STRING_free>> usage(
      ASN1_BIT_STRING_new());
  if (!usage || ASN1_BIT_STRING_set_bit(usage.get(), 5, 1) != 1 ||  // keyCertSign
      ASN1_BIT_STRING_set_bit(usage.get(), 6, 1) != 1) {            // cRLSign
    return Error(ErrorCode::kInternal, with_crypto_error("cannot build keyUsage"));
  }
  if (auto added = add_extension(certificate.get(), NID_key_usage, usage.get(), true);
      !added.ok()) {
    return added.error();
  }

  // subjectKeyIdentifier: RFC 5280 section 4.2.1.2 method 1 over the CSR key, as SPIRE's
  // GetSubjectKeyID computes it; SPIRE records it as the local authority ID.
  unsigned char key_id[EVP_MAX_MD_SIZE];
  unsigned int key_id_size = 0;
  if (X509_pubkey_digest(certificate.get(), EVP_sha1(), key_id, &key_id_size) != 1) {
    return Error(ErrorCode::kInternal, with_crypto_error("cannot compute the subject key id"));
  }
  detail::Asn1OctetStringPtr subject_key_id(ASN1_OCTET_STRING_new());
  if (!subject_key_id ||
      ASN1_OCTET_STRING_set(subject_key_id.get(), key_id, static_cast<int>(key_id_size)) != 1) {
    return Error(ErrorCode::kInternal, with_crypto_error("cannot build subjectKeyIdentifier"));
  }
  if (auto added =
          add_extension(certificate.get(), NID_subject_key_identifier, subject_key_id.get(), false);
      !added.ok()) {
    return added.error();
  }

  // authorityKeyIdentifier: the signing certificate's SKI (computed the same way when it has
  // none); SPIRE records it as the upstream authority ID used by taint and revoke.
  Bytes authority_id = signing.subject_key_id();
  if (authority_id.empty()) {
    authority_id = signing.computed_key_id();
  }
  detail::AuthorityKeyIdPtr authority(AUTHORITY_KEYID_new());
  if (!authority) {
    return Error(ErrorCode::kInternal, with_crypto_error("cannot allocate authorityKeyIdentifier"));
  }
  authority->keyid = ASN1_OCTET_STRING_new();
  if (authority->keyid == nullptr ||
      ASN1_OCTET_STRING_set(authority->keyid, authority_id.data(),
                            static_cast<int>(authority_id.size())) != 1) {
    return Error(ErrorCode::kInternal, with_crypto_error("cannot build authorityKeyIdentifier"));
  }
  if (auto added =
          add_extension(certificate.get(), NID_authority_key_identifier, authority.get(), false);
      !added.ok()) {
    return added.error();
  }

  // == requested extensions (SPIRE v1.10+: ExtraExtensions = csr.Extensions) ==
  // check_csr refused duplicates, and the signer-owned ones are skipped, so the result holds
  // each extension once.
  int extension_count = static_cast<int>(sk_X509_EXTENSION_num(csr->extensions.get()));
  for (int i = 0; i < extension_count; ++i) {
    X509_EXTENSION* extension = sk_X509_EXTENSION_value(csr->extensions.get(), i);
    if (is_signer_owned(OBJ_obj2nid(X509_EXTENSION_get_object(extension)))) {
      continue;
    }
    if (X509_add_ext(certificate.get(), extension, -1) != 1) {
      return Error(ErrorCode::kInternal, with_crypto_error("cannot copy a requested extension"));
    }
  }

  // == sign: SHA-384 for a P-384 upstream key, SHA-256 otherwise (Go's choice) ==
  if (X509_sign(certificate.get(), signing_key.native(), signature_digest_for(signing_key)) <= 0) {
    return Error(ErrorCode::kInternal, with_crypto_error("cannot sign the CA certificate"));
  }

  // Re-parse from DER so that the returned object is exactly what SPIRE will parse.
  detail::X509Ptr signed_certificate(std::move(certificate));
  int size = i2d_X509(signed_certificate.get(), nullptr);
  if (size <= 0) {
    return Error(ErrorCode::kInternal, with_crypto_error("cannot encode the CA certificate"));
  }
  Bytes der(static_cast<std::size_t>(size));
  unsigned char* cursor = der.data();
  i2d_X509(signed_certificate.get(), &cursor);
  auto minted = Certificate::from_der(der);
  if (!minted.ok()) {
    return Error(ErrorCode::kInternal, "minted CA does not re-parse: " + minted.error().message());
  }

  // == self-check: the path SPIRE's Go verifier will walk ==
  const std::vector<Certificate>& chain_after = material_->chain_after_minted();
  if (auto verified = verify_chain(*minted, chain_after, material_->roots(), now,
                                   VerifyOptions{.x509_strict = false});
      !verified.ok()) {
    return Error(ErrorCode::kFailedPrecondition,
                 "minted CA does not verify to the upstream roots: " + verified.error().message());
  }

  MintedCa result{*minted, {}, material_->roots(), clamped, ttl};
  result.chain.reserve(chain_after.size() + 1);
  result.chain.push_back(*minted);
  result.chain.insert(result.chain.end(), chain_after.begin(), chain_after.end());
  return result;
}

Status verify_chain(const Certificate& leaf, const std::vector<Certificate>& intermediates,
                    const std::vector<Certificate>& roots, TimePoint now, VerifyOptions options) {
  auto path = verified_path(leaf, intermediates, roots, now, options);
  if (!path.ok()) {
    return path.error();
  }
  return Status::success();
}

Result<std::vector<Certificate>> verified_path(const Certificate& leaf,
                                               const std::vector<Certificate>& intermediates,
                                               const std::vector<Certificate>& roots, TimePoint now,
                                               VerifyOptions options) {
  if (roots.empty()) {
    return Error(ErrorCode::kInvalidArgument, "certificate chain does not verify: no roots given");
  }
  detail::X509StorePtr store(X509_STORE_new());
  detail::X509StackPtr untrusted(sk_X509_new_null());
  detail::X509StoreCtxPtr context(X509_STORE_CTX_new());
  if (!store || !untrusted || !context) {
    return Error(ErrorCode::kInternal, with_crypto_error("cannot allocate a verifier"));
  }
  for (const auto& root : roots) {
    if (X509_STORE_add_cert(store.get(), root.native()) != 1) {
      // A duplicate root is harmless; anything else is not.
      unsigned long code = ERR_peek_last_error();
      if (ERR_GET_REASON(code) != X509_R_CERT_ALREADY_IN_HASH_TABLE) {
        return Error(ErrorCode::kInternal, with_crypto_error("cannot add a root to the verifier"));
      }
      ERR_clear_error();
    }
  }
  for (const auto& intermediate : intermediates) {
    X509_up_ref(intermediate.native());
    if (sk_X509_push(untrusted.get(), intermediate.native()) == 0) {
      X509_free(intermediate.native());
      return Error(ErrorCode::kInternal, with_crypto_error("cannot add an intermediate"));
    }
  }
  if (X509_STORE_CTX_init(context.get(), store.get(), leaf.native(), untrusted.get()) != 1) {
    return Error(ErrorCode::kInternal, with_crypto_error("cannot start chain verification"));
  }
  X509_STORE_CTX_set_time(context.get(), 0, detail::to_time_t(now));
  if (options.x509_strict) {
    X509_VERIFY_PARAM_set_flags(X509_STORE_CTX_get0_param(context.get()), X509_V_FLAG_X509_STRICT);
  }

  if (X509_verify_cert(context.get()) != 1) {
    int error = X509_STORE_CTX_get_error(context.get());
    int depth = X509_STORE_CTX_get_error_depth(context.get());
    X509* failing = X509_STORE_CTX_get_current_cert(context.get());
    std::string where = "at depth " + std::to_string(depth);
    if (failing != nullptr) {
      X509_up_ref(failing);
      where += " (" + Certificate::adopt(failing).subject() + ")";
    }
    ERR_clear_error();
    return Error(ErrorCode::kInvalidArgument, std::string("certificate chain does not verify: ") +
                                                  X509_verify_cert_error_string(error) + " " +
                                                  where);
  }

  detail::X509StackPtr chain(X509_STORE_CTX_get1_chain(context.get()));
  if (!chain) {
    return Error(ErrorCode::kInternal, with_crypto_error("cannot read the verified path"));
  }
  std::vector<Certificate> path;
  auto count = static_cast<std::size_t>(sk_X509_num(chain.get()));
  for (std::size_t i = 0; i < count; ++i) {
    X509* certificate = sk_X509_value(chain.get(), i);
    X509_up_ref(certificate);
    path.push_back(Certificate::adopt(certificate));
  }
  return path;
}

}  // namespace akeyless_upstream
