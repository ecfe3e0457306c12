#include "crypto_util.hpp"

#include <openssl/bn.h>
#include <openssl/objects.h>
#include <openssl/pem.h>

namespace akeyless_upstream::detail {

std::string bio_contents(BIO* bio) {
  char* data = nullptr;
  long size = BIO_get_mem_data(bio, &data);
  if (size <= 0 || data == nullptr) {
    return {};
  }
  return std::string(data, static_cast<std::size_t>(size));
}

TimePoint from_asn1_time(const ASN1_TIME* time) {
  Asn1TimePtr epoch(ASN1_TIME_set(nullptr, 0));
  int days = 0;
  int seconds = 0;
  if (!epoch || ASN1_TIME_diff(&days, &seconds, epoch.get(), time) != 1) {
    ERR_clear_error();
    return TimePoint{};
  }
  return TimePoint{} + std::chrono::seconds(static_cast<long long>(days) * 86400 + seconds);
}

bool set_asn1_time(ASN1_TIME* target, TimePoint time) {
  return ASN1_TIME_set(target, to_time_t(time)) != nullptr;
}

std::string format_time(TimePoint time) {
  std::time_t seconds = to_time_t(time);
  std::tm parts{};
  gmtime_r(&seconds, &parts);
  char buffer[32];
  std::strftime(buffer, sizeof(buffer), "%Y-%m-%dT%H:%M:%SZ", &parts);
  return buffer;
}

Result<bool> read_pem_block(BIO* bio, PemBlock& block, std::string_view what, int number) {
  if (PEM_read_bio(bio, &block.name, &block.header, &block.data, &block.size) == 1) {
    return true;
  }
  unsigned long code = ERR_peek_last_error();
  if (ERR_GET_LIB(code) == ERR_LIB_PEM && ERR_GET_REASON(code) == PEM_R_NO_START_LINE) {
    ERR_clear_error();  // the normal end of the input
    return false;
  }
  return Error(ErrorCode::kInvalidArgument,
               with_crypto_error(std::string(what) + "PEM block " + std::to_string(number) +
                                 " is malformed"));
}

Result<Asn1IntegerPtr> random_serial() {
  BignumPtr number(BN_new());
  if (!number) {
    return Error(ErrorCode::kInternal, with_crypto_error("cannot allocate a serial number"));
  }
  // Uniform in [1, 2^128 - 1], like SPIRE's x509util.NewSerialNumber. The BIGNUM is unsigned, so
  // the DER INTEGER stays positive (a leading 00 octet when the top bit is set: at most 17
  // octets, within RFC 5280's 20). Retry the (2^-128-likely) zero draw.
  do {
    if (BN_rand(number.get(), 128, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1) {
      return Error(ErrorCode::kInternal, with_crypto_error("cannot draw a random serial number"));
    }
  } while (BN_is_zero(number.get()));
  Asn1IntegerPtr serial(BN_to_ASN1_INTEGER(number.get(), nullptr));
  if (!serial) {
    return Error(ErrorCode::kInternal, with_crypto_error("cannot encode the serial number"));
  }
  return serial;
}

PublicKeyInfo public_key_info(EVP_PKEY* key) {
  PublicKeyInfo info;
  info.type = EVP_PKEY_id(key);
  info.bits = EVP_PKEY_bits(key);
  if (info.type != EVP_PKEY_EC) {
    return info;
  }
  // The curve is read from the SubjectPublicKeyInfo's algorithm parameters (a named-curve OID),
  // which both OpenSSL 3 and BoringSSL expose without deprecated EC_KEY calls.
  Bytes der = public_key_der(key);
  const unsigned char* cursor = der.data();
  std::unique_ptr<X509_PUBKEY, FreeWith<X509_PUBKEY_free>> spki(
      d2i_X509_PUBKEY(nullptr, &cursor, static_cast<long>(der.size())));
  X509_ALGOR* algorithm = nullptr;
  if (!spki || X509_PUBKEY_get0_param(nullptr, nullptr, nullptr, &algorithm, spki.get()) != 1) {
    ERR_clear_error();
    return info;
  }
  const ASN1_OBJECT* object = nullptr;
  int parameter_type = 0;
  const void* parameter = nullptr;
  X509_ALGOR_get0(&object, &parameter_type, &parameter, algorithm);
  if (parameter_type == V_ASN1_OBJECT && parameter != nullptr) {
    info.curve_nid = OBJ_obj2nid(static_cast<const ASN1_OBJECT*>(parameter));
  }
  return info;
}

std::string describe_public_key(const PublicKeyInfo& info) {
  if (info.type == EVP_PKEY_EC) {
    if (info.curve_nid == NID_X9_62_prime256v1) {
      return "EC P-256";
    }
    if (info.curve_nid == NID_secp384r1) {
      return "EC P-384";
    }
    if (info.curve_nid == NID_secp521r1) {
      return "EC P-521";
    }
    return "EC (" + std::to_string(info.bits) + "-bit curve)";
  }
  if (info.type == EVP_PKEY_RSA) {
    return "RSA " + std::to_string(info.bits);
  }
  const char* name = OBJ_nid2sn(info.type);
  return name != nullptr ? std::string(name) : std::string("unknown key type");
}

std::optional<std::string> supported_key_problem(const PublicKeyInfo& info) {
  if (info.type == EVP_PKEY_EC) {
    if (info.curve_nid == NID_X9_62_prime256v1 || info.curve_nid == NID_secp384r1) {
      return std::nullopt;
    }
    return describe_public_key(info) + " keys are not supported; use EC P-256, EC P-384 or RSA";
  }
  if (info.type == EVP_PKEY_RSA) {
    if (info.bits >= 2048) {
      return std::nullopt;
    }
    return describe_public_key(info) + " is too short; use RSA keys of at least 2048 bits";
  }
  return describe_public_key(info) + " keys are not supported; use EC P-256, EC P-384 or RSA";
}

Bytes public_key_der(EVP_PKEY* key) {
  int size = i2d_PUBKEY(key, nullptr);
  if (size <= 0) {
    ERR_clear_error();
    return {};
  }
  Bytes der(static_cast<std::size_t>(size));
  unsigned char* cursor = der.data();
  if (i2d_PUBKEY(key, &cursor) != size) {
    ERR_clear_error();
    return {};
  }
  return der;
}

namespace {

bool push_ia5_name(GENERAL_NAMES* names, int type, const std::string& value) {
  ASN1_IA5STRING* text = ASN1_IA5STRING_new();
  if (text == nullptr || ASN1_STRING_set(text, value.data(), static_cast<int>(value.size())) != 1) {
    ASN1_IA5STRING_free(text);
    return false;
  }
  GENERAL_NAME* name = GENERAL_NAME_new();
  if (name == nullptr) {
    ASN1_IA5STRING_free(text);
    return false;
  }
  GENERAL_NAME_set0_value(name, type, text);
  if (sk_GENERAL_NAME_push(names, name) == 0) {
    GENERAL_NAME_free(name);
    return false;
  }
  return true;
}

}  // namespace

Result<GeneralNamesPtr> make_general_names(const std::vector<std::string>& uris,
                                           const std::vector<std::string>& dns_names,
                                           const std::vector<std::string>& ip_addresses) {
  GeneralNamesPtr names(GENERAL_NAMES_new());
  if (!names) {
    return Error(ErrorCode::kInternal, with_crypto_error("cannot allocate subjectAltName"));
  }
  for (const auto& uri : uris) {
    if (!push_ia5_name(names.get(), GEN_URI, uri)) {
      return Error(ErrorCode::kInternal, with_crypto_error("cannot add a URI SAN"));
    }
  }
  for (const auto& dns : dns_names) {
    if (!push_ia5_name(names.get(), GEN_DNS, dns)) {
      return Error(ErrorCode::kInternal, with_crypto_error("cannot add a DNS SAN"));
    }
  }
  for (const auto& ip : ip_addresses) {
    ASN1_OCTET_STRING* address = a2i_IPADDRESS(ip.c_str());
    if (address == nullptr) {
      ERR_clear_error();
      return Error(ErrorCode::kInvalidArgument,
                   "IP SAN \"" + printable(ip) + "\" is not an IPv4 or IPv6 address");
    }
    GENERAL_NAME* name = GENERAL_NAME_new();
    if (name == nullptr) {
      ASN1_OCTET_STRING_free(address);
      return Error(ErrorCode::kInternal, with_crypto_error("cannot add an IP SAN"));
    }
    GENERAL_NAME_set0_value(name, GEN_IPADD, address);
    if (sk_GENERAL_NAME_push(names.get(), name) == 0) {
      GENERAL_NAME_free(name);
      return Error(ErrorCode::kInternal, with_crypto_error("cannot add an IP SAN"));
    }
  }
  return names;
}

std::string printable(std::string_view text) {
  constexpr std::size_t kMaxLength = 200;
  std::string out;
  for (char c : text.substr(0, kMaxLength)) {
    auto byte = static_cast<unsigned char>(c);
    out += (byte >= 0x20 && byte < 0x7f) ? c : '?';
  }
  if (text.size() > kMaxLength) {
    out += "...";
  }
  return out;
}

}  // namespace akeyless_upstream::detail
