#include "akeyless_upstream/testing/pki.hpp"

#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "../crypto_util.hpp"
#include "akeyless_upstream/detail/ossl.hpp"

namespace akeyless_upstream::testing {

using detail::with_crypto_error;

namespace {

Status add_extension(X509* certificate, int nid, void* value, bool critical) {
  if (X509_add1_ext_i2d(certificate, nid, value, critical ? 1 : 0, X509V3_ADD_DEFAULT) != 1) {
    return Error(ErrorCode::kInternal, with_crypto_error(std::string("cannot add the ") +
                                                         OBJ_nid2sn(nid) + " extension"));
  }
  return Status::success();
}

Status add_key_id(X509* certificate, int nid, const Bytes& key_id) {
  detail::Asn1OctetStringPtr octets(ASN1_OCTET_STRING_new());
  if (!octets ||
      ASN1_OCTET_STRING_set(octets.get(), key_id.data(), static_cast<int>(key_id.size())) != 1) {
    return Error(ErrorCode::kInternal, with_crypto_error("cannot build a key identifier"));
  }
  if (nid == NID_subject_key_identifier) {
    return add_extension(certificate, nid, octets.get(), false);
  }
  detail::AuthorityKeyIdPtr authority(AUTHORITY_KEYID_new());
  if (!authority) {
    return Error(ErrorCode::kInternal, with_crypto_error("cannot build a key identifier"));
  }
  authority->keyid = octets.release();
  return add_extension(certificate, nid, authority.get(), false);
}

// make builds one certificate; `issuer` null means self-signed.
Result<IssuedCertificate> make(const CaOptions& options, const IssuedCertificate* issuer) {
  // == key ==
  std::optional<PrivateKey> key = options.key;
  if (!key.has_value()) {
    auto generated = PrivateKey::generate(options.key_type);
    if (!generated.ok()) {
      return generated.error();
    }
    key = std::move(generated).value();
  }

  // == body ==
  detail::X509Ptr certificate(X509_new());
  detail::X509NamePtr subject(X509_NAME_new());
  auto serial = detail::random_serial();
  if (!serial.ok()) {
    return serial.error();
  }
  if (!certificate || !subject ||
      X509_NAME_add_entry_by_NID(subject.get(), NID_commonName, MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(options.common_name.data()),
                                 static_cast<int>(options.common_name.size()), -1, 0) != 1) {
    return Error(ErrorCode::kInternal, with_crypto_error("cannot build the subject"));
  }
  TimePoint now = options.now.value_or(std::chrono::system_clock::now());
  X509_NAME* issuer_name =
      issuer != nullptr ? X509_get_subject_name(issuer->certificate.native()) : subject.get();
  if (X509_set_version(certificate.get(), 2) != 1 ||
      X509_set_serialNumber(certificate.get(), serial->get()) != 1 ||
      X509_set_subject_name(certificate.get(), subject.get()) != 1 ||
      X509_set_issuer_name(certificate.get(), issuer_name) != 1 ||
      !detail::set_asn1_time(X509_getm_notBefore(certificate.get()), now - options.backdate) ||
      !detail::set_asn1_time(X509_getm_notAfter(certificate.get()), now + options.lifetime) ||
      X509_set_pubkey(certificate.get(), key->native()) != 1) {
    return Error(ErrorCode::kInternal, with_crypto_error("cannot fill in the certificate"));
  }

  // == extensions: what `openssl verify -x509_strict` expects ==
  detail::BasicConstraintsPtr constraints(BASIC_CONSTRAINTS_new());
  if (!constraints) {
    return Error(ErrorCode::kInternal, with_crypto_error("cannot allocate basicConstraints"));
  }
  // DER TRUE is 0xFF (X.690 section 11.1); Go refuses any other content octet.
  constraints->ca = options.is_ca ? 0xFF : 0;
  if (options.is_ca && options.path_len.has_value()) {
    constraints->pathlen = ASN1_INTEGER_new();
    if (constraints->pathlen == nullptr ||
        ASN1_INTEGER_set(constraints->pathlen, *options.path_len) != 1) {
      return Error(ErrorCode::kInternal, with_crypto_error("cannot set pathLenConstraint"));
    }
  }
  if (auto added = add_extension(certificate.get(), NID_basic_constraints, constraints.get(), true);
      !added.ok()) {
    return added.error();
  }

  std::unique_ptr<ASN1_BIT_STRING, detail::FreeWith<ASN1_BIT_STRING_free>> usage(
      ASN1_BIT_STRING_new());
  if (!usage) {
    return Error(ErrorCode::kInternal, with_crypto_error("cannot allocate keyUsage"));
  }
  bool usage_ok = true;
  if (options.is_ca && options.key_cert_sign) {
    usage_ok = ASN1_BIT_STRING_set_bit(usage.get(), 5, 1) == 1 &&  // keyCertSign
               ASN1_BIT_STRING_set_bit(usage.get(), 6, 1) == 1;    // cRLSign
  } else {
    usage_ok = ASN1_BIT_STRING_set_bit(usage.get(), 0, 1) == 1;  // digitalSignature
    if (!options.is_ca && key->type() != KeyType::kEcP256 && key->type() != KeyType::kEcP384) {
      usage_ok = usage_ok && ASN1_BIT_STRING_set_bit(usage.get(), 2, 1) == 1;  // keyEncipherment
    }
  }
  if (!usage_ok) {
    return Error(ErrorCode::kInternal, with_crypto_error("cannot build keyUsage"));
  }
  if (auto added = add_extension(certificate.get(), NID_key_usage, usage.get(), true);
      !added.ok()) {
    return added.error();
  }

  if (options.include_ski) {
    unsigned char key_id[EVP_MAX_MD_SIZE];
    unsigned int key_id_size = 0;
    if (X509_pubkey_digest(certificate.get(), EVP_sha1(), key_id, &key_id_size) != 1) {
      return Error(ErrorCode::kInternal, with_crypto_error("cannot compute the key id"));
    }
    Bytes own_id(key_id, key_id + key_id_size);
    if (auto added = add_key_id(certificate.get(), NID_subject_key_identifier, own_id);
        !added.ok()) {
      return added.error();
    }
    if (issuer == nullptr) {
      if (auto added = add_key_id(certificate.get(), NID_authority_key_identifier, own_id);
          !added.ok()) {
        return added.error();
      }
    }
  }
  if (issuer != nullptr) {
    Bytes authority_id = issuer->certificate.subject_key_id();
    if (authority_id.empty()) {
      authority_id = issuer->certificate.computed_key_id();
    }
    if (auto added = add_key_id(certificate.get(), NID_authority_key_identifier, authority_id);
        !added.ok()) {
      return added.error();
    }
  }

  if (!options.uri_sans.empty() || !options.dns_sans.empty() || !options.ip_sans.empty()) {
    auto names = detail::make_general_names(options.uri_sans, options.dns_sans, options.ip_sans);
    if (!names.ok()) {
      return names.error();
    }
    if (auto added = add_extension(certificate.get(), NID_subject_alt_name, names->get(), false);
        !added.ok()) {
      return added.error();
    }
  }

  if (options.server_auth) {
    std::unique_ptr<EXTENDED_KEY_USAGE, detail::FreeWith<EXTENDED_KEY_USAGE_free>> purposes(
        sk_ASN1_OBJECT_new_null());
    ASN1_OBJECT* server_auth = OBJ_nid2obj(NID_server_auth);
    if (!purposes || server_auth == nullptr ||
        sk_ASN1_OBJECT_push(purposes.get(), OBJ_dup(server_auth)) == 0) {
      return Error(ErrorCode::kInternal, with_crypto_error("cannot build extendedKeyUsage"));
    }
    if (auto added = add_extension(certificate.get(), NID_ext_key_usage, purposes.get(), false);
        !added.ok()) {
      return added.error();
    }
  }

  // == sign ==
  const PrivateKey& signer = issuer != nullptr ? issuer->key : *key;
  if (X509_sign(certificate.get(), signer.native(), signature_digest_for(signer)) <= 0) {
    return Error(ErrorCode::kInternal, with_crypto_error("cannot sign the certificate"));
  }
  return IssuedCertificate{Certificate::adopt(certificate.release()), std::move(*key)};
}

}  // namespace

Result<IssuedCertificate> make_self_signed(const CaOptions& options) {
  return make(options, nullptr);
}

Result<IssuedCertificate> issue(const IssuedCertificate& issuer, const CaOptions& options) {
  return make(options, &issuer);
}

}  // namespace akeyless_upstream::testing
