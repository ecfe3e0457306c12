#include "akeyless_upstream/private_key.hpp"

#include <climits>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "akeyless_upstream/detail/ossl.hpp"
#include "crypto_util.hpp"

namespace akeyless_upstream {

using detail::BioPtr;
using detail::EvpPkeyPtr;
using detail::with_crypto_error;

namespace {

enum class KeyBlockKind { kPkcs8, kSec1, kPkcs1, kEncrypted, kEcParameters, kOther };

KeyBlockKind classify(std::string_view name) {
  if (name == "PRIVATE KEY") {
    return KeyBlockKind::kPkcs8;
  }
  if (name == "EC PRIVATE KEY") {
    return KeyBlockKind::kSec1;
  }
  if (name == "RSA PRIVATE KEY") {
    return KeyBlockKind::kPkcs1;
  }
  if (name == "ENCRYPTED PRIVATE KEY") {
    return KeyBlockKind::kEncrypted;
  }
  if (name == "EC PARAMETERS") {
    return KeyBlockKind::kEcParameters;
  }
  return KeyBlockKind::kOther;
}

// decode_key turns one block's DER into an EVP_PKEY. Messages never quote the input; libcrypto's
// reasons are codes and names, not data.
Result<EvpPkeyPtr> decode_key(KeyBlockKind kind, const unsigned char* data, long size) {
  const unsigned char* cursor = data;
  EvpPkeyPtr key;
  if (kind == KeyBlockKind::kPkcs8) {
    std::unique_ptr<PKCS8_PRIV_KEY_INFO, detail::FreeWith<PKCS8_PRIV_KEY_INFO_free>> info(
        d2i_PKCS8_PRIV_KEY_INFO(nullptr, &cursor, size));
    if (info) {
      key.reset(EVP_PKCS82PKEY(info.get()));
    }
  } else {
    int type = kind == KeyBlockKind::kSec1 ? EVP_PKEY_EC : EVP_PKEY_RSA;
    key.reset(d2i_PrivateKey(type, nullptr, &cursor, size));
  }
  if (!key) {
    const char* format = kind == KeyBlockKind::kPkcs8  ? "PKCS#8"
                         : kind == KeyBlockKind::kSec1 ? "SEC1 EC"
                                                       : "PKCS#1 RSA";
    return Error(ErrorCode::kInvalidArgument,
                 with_crypto_error(std::string("the ") + format + " key block does not decode"));
  }
  return key;
}

Result<SecretString> drain_secret(BIO* bio) {
  char* data = nullptr;
  long size = BIO_get_mem_data(bio, &data);
  if (size <= 0 || data == nullptr) {
    return Error(ErrorCode::kInternal, "key encoding produced no output");
  }
  SecretString secret(std::string_view(data, static_cast<std::size_t>(size)));
  OPENSSL_cleanse(data, static_cast<std::size_t>(size));
  return secret;
}

}  // namespace

std::string_view key_type_name(KeyType type) {
  switch (type) {
    case KeyType::kEcP256:
      return "ec-p256";
    case KeyType::kEcP384:
      return "ec-p384";
    case KeyType::kRsa2048:
      return "rsa-2048";
    case KeyType::kRsa3072:
      return "rsa-3072";
    case KeyType::kRsa4096:
      return "rsa-4096";
  }
  return "unknown";
}

std::optional<KeyType> key_type_from_name(std::string_view name) {
  for (KeyType type : {KeyType::kEcP256, KeyType::kEcP384, KeyType::kRsa2048, KeyType::kRsa3072,
                       KeyType::kRsa4096}) {
    if (key_type_name(type) == name) {
      return type;
    }
  }
  return std::nullopt;
}

Result<PrivateKey> PrivateKey::from_pem(const SecretString& pem) {
  constexpr std::string_view kExpected = "expected one PKCS#8, SEC1 or PKCS#1 PEM key block";
  if (pem.empty()) {
    return Error(ErrorCode::kInvalidArgument,
                 "private key PEM is empty; " + std::string(kExpected));
  }
  if (pem.size() > static_cast<std::size_t>(INT_MAX)) {
    return Error(ErrorCode::kInvalidArgument, "private key PEM is too large");
  }
  // A read-only memory BIO over the secret's own buffer: the PEM text is not copied.
  BioPtr bio(BIO_new_mem_buf(pem.reveal().data(), static_cast<int>(pem.size())));
  if (!bio) {
    return Error(ErrorCode::kInternal, with_crypto_error("cannot read the private key PEM"));
  }

  // SPIRE's disk plugin requires exactly one PEM block, of one of the three key types
  // (pkg/common/pemutil); the same rule applies here.
  std::optional<EvpPkeyPtr> key;
  int blocks = 0;
  for (;;) {
    detail::PemBlock block;
    Result<bool> read = detail::read_pem_block(bio.get(), block, "private key ", blocks + 1);
    if (!read.ok()) {
      return read.error();
    }
    if (!*read) {
      break;
    }
    ++blocks;
    KeyBlockKind kind = classify(block.name);
    if (kind == KeyBlockKind::kEncrypted ||
        std::string_view(block.header).find("ENCRYPTED") != std::string_view::npos) {
      return Error(ErrorCode::kInvalidArgument,
                   "encrypted private keys are not supported; store the key unencrypted");
    }
    if (kind == KeyBlockKind::kEcParameters) {
      return Error(ErrorCode::kInvalidArgument, "private key PEM holds an EC parameters block; " +
                                                    std::string(kExpected) + " and nothing else");
    }
    if (kind == KeyBlockKind::kOther) {
      return Error(
          ErrorCode::kInvalidArgument,
          "private key PEM holds a block of an unsupported type; " + std::string(kExpected));
    }
    if (key.has_value()) {
      continue;  // counted; reported below
    }
    auto decoded = decode_key(kind, block.data, block.size);
    if (!decoded.ok()) {
      return decoded.error().with_context("private key PEM");
    }
    key = std::move(decoded).value();
  }

  if (!key.has_value()) {
    return Error(ErrorCode::kInvalidArgument,
                 "private key PEM contains no key block; " + std::string(kExpected));
  }
  if (blocks != 1) {
    return Error(ErrorCode::kInvalidArgument,
                 "private key PEM must hold exactly one key block; "
                 "it holds " +
                     std::to_string(blocks));
  }
  return adopt(key->release());
}

Result<PrivateKey> PrivateKey::generate(KeyType type) {
  bool is_ec = type == KeyType::kEcP256 || type == KeyType::kEcP384;
  detail::EvpPkeyCtxPtr context(EVP_PKEY_CTX_new_id(is_ec ? EVP_PKEY_EC : EVP_PKEY_RSA, nullptr));
  if (!context || EVP_PKEY_keygen_init(context.get()) != 1) {
    return Error(ErrorCode::kInternal, with_crypto_error("cannot start key generation"));
  }
  int configured = 0;
  switch (type) {
    case KeyType::kEcP256:
      configured = EVP_PKEY_CTX_set_ec_paramgen_curve_nid(context.get(), NID_X9_62_prime256v1);
      break;
    case KeyType::kEcP384:
      configured = EVP_PKEY_CTX_set_ec_paramgen_curve_nid(context.get(), NID_secp384r1);
      break;
    case KeyType::kRsa2048:
      configured = EVP_PKEY_CTX_set_rsa_keygen_bits(context.get(), 2048);
      break;
    case KeyType::kRsa3072:
      configured = EVP_PKEY_CTX_set_rsa_keygen_bits(context.get(), 3072);
      break;
    case KeyType::kRsa4096:
      configured = EVP_PKEY_CTX_set_rsa_keygen_bits(context.get(), 4096);
      break;
  }
  EVP_PKEY* generated = nullptr;
  if (configured <= 0 || EVP_PKEY_keygen(context.get(), &generated) != 1) {
    return Error(
        ErrorCode::kInternal,
        with_crypto_error("cannot generate a " + std::string(key_type_name(type)) + " key"));
  }
  return adopt(generated);
}

Result<PrivateKey> PrivateKey::adopt(EVP_PKEY* key) {
  std::shared_ptr<EVP_PKEY> owned(key, EVP_PKEY_free);
  if (!owned) {
    return Error(ErrorCode::kInvalidArgument, "no private key given");
  }
  detail::PublicKeyInfo info = detail::public_key_info(key);
  if (auto problem = detail::supported_key_problem(info)) {
    return Error(ErrorCode::kInvalidArgument, *problem);
  }
  std::optional<KeyType> type;
  if (info.type == EVP_PKEY_EC) {
    type = info.curve_nid == NID_secp384r1 ? KeyType::kEcP384 : KeyType::kEcP256;
  } else if (info.bits == 2048) {
    type = KeyType::kRsa2048;
  } else if (info.bits == 3072) {
    type = KeyType::kRsa3072;
  } else if (info.bits == 4096) {
    type = KeyType::kRsa4096;
  }
  return PrivateKey(std::move(owned), type, info.type == EVP_PKEY_EC ? info.curve_nid : 0,
                    info.bits);
}

std::string PrivateKey::describe() const {
  detail::PublicKeyInfo info;
  info.type = curve_nid_ != 0 ? EVP_PKEY_EC : EVP_PKEY_RSA;
  info.curve_nid = curve_nid_;
  info.bits = bits_;
  return detail::describe_public_key(info);
}

Result<SecretString> PrivateKey::to_pkcs8_pem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PKCS8PrivateKey(bio.get(), pkey_.get(), nullptr, nullptr, 0, nullptr,
                                            nullptr) != 1) {
    return Error(ErrorCode::kInternal, with_crypto_error("cannot encode the key as PKCS#8"));
  }
  return drain_secret(bio.get());
}

Result<SecretString> PrivateKey::to_traditional_pem() const {
  unsigned char* der = nullptr;
  int size = i2d_PrivateKey(pkey_.get(), &der);
  if (size <= 0 || der == nullptr) {
    return Error(ErrorCode::kInternal, with_crypto_error("cannot encode the key"));
  }
  BioPtr bio(BIO_new(BIO_s_mem()));
  const char* name = curve_nid_ != 0 ? "EC PRIVATE KEY" : "RSA PRIVATE KEY";
  bool written = bio && PEM_write_bio(bio.get(), name, "", der, size) > 0;
  OPENSSL_cleanse(der, static_cast<std::size_t>(size));
  OPENSSL_free(der);
  if (!written) {
    return Error(ErrorCode::kInternal, with_crypto_error("cannot encode the key as PEM"));
  }
  return drain_secret(bio.get());
}

Bytes PrivateKey::public_key_der() const {
  return detail::public_key_der(pkey_.get());
}

const EVP_MD* signature_digest_for(const PrivateKey& key) {
  return key.is_p384() ? EVP_sha384() : EVP_sha256();
}

}  // namespace akeyless_upstream
