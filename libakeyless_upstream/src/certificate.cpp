#include "akeyless_upstream/certificate.hpp"

#include <climits>
#include <cstdlib>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "akeyless_upstream/detail/ossl.hpp"
#include "crypto_util.hpp"

namespace akeyless_upstream {

using detail::BioPtr;
using detail::with_crypto_error;

namespace {

Bytes name_der(X509_NAME* name) {
  int size = i2d_X509_NAME(name, nullptr);
  if (size <= 0) {
    ERR_clear_error();
    return {};
  }
  Bytes der(static_cast<std::size_t>(size));
  unsigned char* cursor = der.data();
  i2d_X509_NAME(name, &cursor);
  return der;
}

std::string name_text(X509_NAME* name) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253) < 0) {
    ERR_clear_error();
    return {};
  }
  return detail::bio_contents(bio.get());
}

Bytes octets(const ASN1_STRING* value) {
  if (value == nullptr) {
    return {};
  }
  const unsigned char* data = ASN1_STRING_get0_data(value);
  return Bytes(data, data + ASN1_STRING_length(value));
}

}  // namespace

Result<Certificate> Certificate::from_der(std::span<const std::uint8_t> der) {
  if (der.empty()) {
    return Error(ErrorCode::kInvalidArgument, "certificate DER is empty");
  }
  if (der.size() > static_cast<std::size_t>(LONG_MAX)) {
    return Error(ErrorCode::kInvalidArgument, "certificate DER is too large");
  }
  const unsigned char* cursor = der.data();
  detail::X509Ptr parsed(d2i_X509(nullptr, &cursor, static_cast<long>(der.size())));
  if (!parsed) {
    return Error(ErrorCode::kInvalidArgument,
                 with_crypto_error("certificate DER does not parse as an X.509 certificate"));
  }
  // Go's x509.ParseCertificate refuses trailing data, and SPIRE parses each certificate we return
  // that way, so trailing bytes are refused here too.
  auto consumed = static_cast<std::size_t>(cursor - der.data());
  if (consumed != der.size()) {
    return Error(ErrorCode::kInvalidArgument, "certificate DER has " +
                                                  std::to_string(der.size() - consumed) +
                                                  " trailing bytes after the certificate");
  }
  return adopt(parsed.release());
}

Certificate Certificate::adopt(X509* certificate) {
  if (certificate == nullptr) {
    std::abort();
  }
  return Certificate(std::shared_ptr<X509>(certificate, X509_free));
}

Bytes Certificate::der() const {
  int size = i2d_X509(x509_.get(), nullptr);
  if (size <= 0) {
    ERR_clear_error();
    return {};
  }
  Bytes der(static_cast<std::size_t>(size));
  unsigned char* cursor = der.data();
  i2d_X509(x509_.get(), &cursor);
  return der;
}

std::string Certificate::pem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), x509_.get()) != 1) {
    ERR_clear_error();
    return {};
  }
  return detail::bio_contents(bio.get());
}

std::string Certificate::subject() const {
  return name_text(X509_get_subject_name(x509_.get()));
}
std::string Certificate::issuer() const {
  return name_text(X509_get_issuer_name(x509_.get()));
}
Bytes Certificate::subject_der() const {
  return name_der(X509_get_subject_name(x509_.get()));
}
Bytes Certificate::issuer_der() const {
  return name_der(X509_get_issuer_name(x509_.get()));
}

std::string Certificate::serial_hex() const {
  const ASN1_INTEGER* serial = X509_get0_serialNumber(x509_.get());
  Bytes magnitude = octets(serial);
  std::size_t first = 0;
  while (first + 1 < magnitude.size() && magnitude[first] == 0) {
    ++first;
  }
  std::string text = ASN1_STRING_type(serial) == V_ASN1_NEG_INTEGER ? "-" : "";
  return text + hex_encode(std::span(magnitude).subspan(first));
}

TimePoint Certificate::not_before() const {
  return detail::from_asn1_time(X509_get0_notBefore(x509_.get()));
}

TimePoint Certificate::not_after() const {
  return detail::from_asn1_time(X509_get0_notAfter(x509_.get()));
}

std::string Certificate::sha256_fingerprint() const {
  Bytes encoded = der();
  return hex_colon_encode(sha256(encoded));
}

Bytes Certificate::subject_key_id() const {
  return octets(X509_get0_subject_key_id(x509_.get()));
}

Bytes Certificate::authority_key_id() const {
  return octets(X509_get0_authority_key_id(x509_.get()));
}

Bytes Certificate::computed_key_id() const {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (X509_pubkey_digest(x509_.get(), EVP_sha1(), digest, &size) != 1) {
    ERR_clear_error();
    return {};
  }
  return Bytes(digest, digest + size);
}

Bytes Certificate::public_key_der() const {
  X509_PUBKEY* key = X509_get_X509_PUBKEY(x509_.get());
  int size = i2d_X509_PUBKEY(key, nullptr);
  if (size <= 0) {
    ERR_clear_error();
    return {};
  }
  Bytes der(static_cast<std::size_t>(size));
  unsigned char* cursor = der.data();
  i2d_X509_PUBKEY(key, &cursor);
  return der;
}

std::vector<std::string> Certificate::uri_sans() const {
  std::vector<std::string> uris;
  detail::GeneralNamesPtr names(static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(x509_.get(), NID_subject_alt_name, nullptr, nullptr)));
  if (!names) {
    ERR_clear_error();
    return uris;
  }
  for (std::size_t i = 0; i < static_cast<std::size_t>(sk_GENERAL_NAME_num(names.get())); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
    if (name->type == GEN_URI) {
      Bytes text = octets(name->d.uniformResourceIdentifier);
      uris.emplace_back(text.begin(), text.end());
    }
  }
  return uris;
}

bool Certificate::is_self_signed() const {
  if (subject_der() != issuer_der()) {
    return false;
  }
  detail::EvpPkeyPtr key(X509_get_pubkey(x509_.get()));
  bool verifies = key && X509_verify(x509_.get(), key.get()) == 1;
  ERR_clear_error();
  return verifies;
}

bool Certificate::is_ca() const {
  detail::BasicConstraintsPtr constraints(static_cast<BASIC_CONSTRAINTS*>(
      X509_get_ext_d2i(x509_.get(), NID_basic_constraints, nullptr, nullptr)));
  ERR_clear_error();
  return constraints && constraints->ca;
}

bool Certificate::allows_cert_sign() const {
  // X509_get_key_usage reports every bit set when the extension is absent.
  return (X509_get_key_usage(x509_.get()) & KU_KEY_CERT_SIGN) != 0;
}

long Certificate::path_len() const {
  return X509_get_pathlen(x509_.get());
}

bool operator==(const Certificate& a, const Certificate& b) {
  return a.x509_ == b.x509_ || a.der() == b.der();
}

Result<std::vector<Certificate>> parse_certificates_pem(std::string_view pem,
                                                        std::string_view what) {
  std::string subject(what);
  if (pem.empty()) {
    return Error(ErrorCode::kInvalidArgument,
                 subject + " is empty; expected one or more CERTIFICATE PEM blocks");
  }
  if (pem.size() > static_cast<std::size_t>(INT_MAX)) {
    return Error(ErrorCode::kInvalidArgument, subject + " is too large");
  }
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) {
    return Error(ErrorCode::kInternal, with_crypto_error("cannot read " + subject));
  }

  std::vector<Certificate> certificates;
  for (int block_index = 1;; ++block_index) {
    detail::PemBlock block;
    Result<bool> read = detail::read_pem_block(bio.get(), block, subject + ": ", block_index);
    if (!read.ok()) {
      return read.error();
    }
    if (!*read) {
      break;
    }
    if (std::string_view(block.name) != "CERTIFICATE") {
      continue;
    }
    auto certificate = Certificate::from_der(
        std::span<const std::uint8_t>(block.data, static_cast<std::size_t>(block.size)));
    if (!certificate.ok()) {
      return certificate.error().with_context(subject + ": certificate " +
                                              std::to_string(certificates.size() + 1));
    }
    certificates.push_back(std::move(certificate).value());
  }

  if (certificates.empty()) {
    return Error(ErrorCode::kInvalidArgument, subject + " contains no CERTIFICATE block");
  }
  return certificates;
}

std::string to_pem(const std::vector<Certificate>& certificates) {
  std::string text;
  for (const auto& certificate : certificates) {
    text += certificate.pem();
  }
  return text;
}

}  // namespace akeyless_upstream
