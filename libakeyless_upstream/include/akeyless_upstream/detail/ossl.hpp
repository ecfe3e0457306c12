#pragma once

// Owning handles for libcrypto objects, with our own deleters so that the same code builds
// against OpenSSL 3 and BoringSSL (BoringSSL's bssl::UniquePtr does not exist in OpenSSL).

#include <memory>
#include <string>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace akeyless_upstream::detail {

template <auto FreeFn>
struct FreeWith {
  template <typename T>
  void operator()(T* ptr) const noexcept {
    FreeFn(ptr);
  }
};

using BioPtr = std::unique_ptr<BIO, FreeWith<BIO_free>>;
using BignumPtr = std::unique_ptr<BIGNUM, FreeWith<BN_free>>;
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, FreeWith<EVP_PKEY_free>>;
using EvpPkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, FreeWith<EVP_PKEY_CTX_free>>;
using EvpMdCtxPtr = std::unique_ptr<EVP_MD_CTX, FreeWith<EVP_MD_CTX_free>>;
using X509Ptr = std::unique_ptr<X509, FreeWith<X509_free>>;
using X509ReqPtr = std::unique_ptr<X509_REQ, FreeWith<X509_REQ_free>>;
using X509NamePtr = std::unique_ptr<X509_NAME, FreeWith<X509_NAME_free>>;
using X509ExtensionPtr = std::unique_ptr<X509_EXTENSION, FreeWith<X509_EXTENSION_free>>;
using X509StorePtr = std::unique_ptr<X509_STORE, FreeWith<X509_STORE_free>>;
using X509StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, FreeWith<X509_STORE_CTX_free>>;
using Asn1IntegerPtr = std::unique_ptr<ASN1_INTEGER, FreeWith<ASN1_INTEGER_free>>;
using Asn1OctetStringPtr = std::unique_ptr<ASN1_OCTET_STRING, FreeWith<ASN1_OCTET_STRING_free>>;
using Asn1TimePtr = std::unique_ptr<ASN1_TIME, FreeWith<ASN1_TIME_free>>;
using GeneralNamesPtr = std::unique_ptr<GENERAL_NAMES, FreeWith<GENERAL_NAMES_free>>;
using BasicConstraintsPtr = std::unique_ptr<BASIC_CONSTRAINTS, FreeWith<BASIC_CONSTRAINTS_free>>;
using AuthorityKeyIdPtr = std::unique_ptr<AUTHORITY_KEYID, FreeWith<AUTHORITY_KEYID_free>>;

struct X509StackFree {
  void operator()(STACK_OF(X509) * stack) const noexcept { sk_X509_pop_free(stack, X509_free); }
};
using X509StackPtr = std::unique_ptr<STACK_OF(X509), X509StackFree>;

struct X509ExtensionStackFree {
  void operator()(STACK_OF(X509_EXTENSION) * stack) const noexcept {
    sk_X509_EXTENSION_pop_free(stack, X509_EXTENSION_free);
  }
};
using X509ExtensionStackPtr = std::unique_ptr<STACK_OF(X509_EXTENSION), X509ExtensionStackFree>;

// take_crypto_error drains this thread's libcrypto error queue and returns its reasons joined by
// "; " (empty when the queue was empty). Call it right after a failing libcrypto call, so the
// library's own reason reaches the caller's message.
inline std::string take_crypto_error() {
  std::string text;
  for (unsigned long code = ERR_get_error(); code != 0; code = ERR_get_error()) {
    char buffer[256];
    ERR_error_string_n(code, buffer, sizeof(buffer));
    if (!text.empty()) {
      text += "; ";
    }
    text += buffer;
  }
  return text;
}

// with_crypto_error appends the drained libcrypto reason to a message: "<message> (<reason>)".
inline std::string with_crypto_error(std::string message) {
  std::string reason = take_crypto_error();
  if (!reason.empty()) {
    message += " (";
    message += reason;
    message += ")";
  }
  return message;
}

}  // namespace akeyless_upstream::detail
