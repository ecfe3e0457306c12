#include "akeyless_upstream/csr.hpp"

#include <climits>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "akeyless_upstream/detail/ossl.hpp"
#include "crypto_util.hpp"

namespace akeyless_upstream {

using detail::with_crypto_error;

namespace {

std::string random_decimal_128() {
  detail::BignumPtr number(BN_new());
  if (!number || BN_rand(number.get(), 128, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1) {
    ERR_clear_error();
    return "1";
  }
  char* text = BN_bn2dec(number.get());
  if (text == nullptr) {
    ERR_clear_error();
    return "1";
  }
  std::string decimal(text);
  OPENSSL_free(text);
  return decimal;
}

}  // namespace

CsrSpec spire_like_csr_spec(std::string_view trust_domain) {
  // SPIRE's DefaultX509CASubject plus the serialNumber attribute it adds since v1.9.0.
  CsrSpec spec;
  spec.subject = {{"C", "US"}, {"O", "SPIFFE"}, {"serialNumber", random_decimal_128()}};
  spec.uri_sans = {"spiffe://" + std::string(trust_domain)};
  return spec;
}

Result<Bytes> build_csr_der(const PrivateKey& key, const CsrSpec& spec) {
  detail::X509ReqPtr request(X509_REQ_new());
  detail::X509NamePtr subject(X509_NAME_new());
  if (!request || !subject || X509_REQ_set_version(request.get(), 0) != 1) {
    return Error(ErrorCode::kInternal, with_crypto_error("cannot allocate a CSR"));
  }

  for (const auto& [attribute, value] : spec.subject) {
    if (X509_NAME_add_entry_by_txt(subject.get(), attribute.c_str(), MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(value.data()),
                                   static_cast<int>(value.size()), -1, 0) != 1) {
      return Error(ErrorCode::kInvalidArgument,
                   with_crypto_error("CSR subject attribute \"" + detail::printable(attribute) +
                                     "\" cannot be added"));
    }
  }
  if (X509_REQ_set_subject_name(request.get(), subject.get()) != 1 ||
      X509_REQ_set_pubkey(request.get(), key.native()) != 1) {
    return Error(ErrorCode::kInternal, with_crypto_error("cannot fill in the CSR"));
  }

  detail::X509ExtensionStackPtr extensions(sk_X509_EXTENSION_new_null());
  if (!extensions) {
    return Error(ErrorCode::kInternal, with_crypto_error("cannot allocate CSR extensions"));
  }
  if (!spec.uri_sans.empty() || !spec.dns_sans.empty()) {
    auto names = detail::make_general_names(spec.uri_sans, spec.dns_sans, {});
    if (!names.ok()) {
      return names.error();
    }
    detail::X509ExtensionPtr san(X509V3_EXT_i2d(NID_subject_alt_name, 0, names->get()));
    if (!san || sk_X509_EXTENSION_push(extensions.get(), san.get()) == 0) {
      return Error(ErrorCode::kInternal, with_crypto_error("cannot add the CSR subjectAltName"));
    }
    static_cast<void>(san.release());  // the stack owns it now
  }
  for (const auto& extra : spec.extra_extensions) {
    std::unique_ptr<ASN1_OBJECT, detail::FreeWith<ASN1_OBJECT_free>> oid(
        OBJ_txt2obj(extra.oid.c_str(), 0));
    detail::Asn1OctetStringPtr value(ASN1_OCTET_STRING_new());
    if (!oid) {
      return Error(
          ErrorCode::kInvalidArgument,
          with_crypto_error("extension OID \"" + detail::printable(extra.oid) + "\" is not valid"));
    }
    if (!value || ASN1_OCTET_STRING_set(value.get(), extra.value.data(),
                                        static_cast<int>(extra.value.size())) != 1) {
      return Error(ErrorCode::kInternal, with_crypto_error("cannot allocate an extension"));
    }
    detail::X509ExtensionPtr extension(
        X509_EXTENSION_create_by_OBJ(nullptr, oid.get(), extra.critical ? 1 : 0, value.get()));
    if (!extension || sk_X509_EXTENSION_push(extensions.get(), extension.get()) == 0) {
      return Error(ErrorCode::kInternal, with_crypto_error("cannot add a CSR extension"));
    }
    static_cast<void>(extension.release());  // the stack owns it now
  }
  if (sk_X509_EXTENSION_num(extensions.get()) > 0 &&
      X509_REQ_add_extensions(request.get(), extensions.get()) != 1) {
    return Error(ErrorCode::kInternal, with_crypto_error("cannot add the CSR extensions"));
  }

  if (X509_REQ_sign(request.get(), key.native(), signature_digest_for(key)) <= 0) {
    return Error(ErrorCode::kInternal, with_crypto_error("cannot sign the CSR"));
  }
  int size = i2d_X509_REQ(request.get(), nullptr);
  if (size <= 0) {
    return Error(ErrorCode::kInternal, with_crypto_error("cannot encode the CSR"));
  }
  Bytes der(static_cast<std::size_t>(size));
  unsigned char* cursor = der.data();
  i2d_X509_REQ(request.get(), &cursor);
  return der;
}

}  // namespace akeyless_upstream
