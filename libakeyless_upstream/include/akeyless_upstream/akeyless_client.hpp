#pragma once

// AkeylessClient: logs in to Akeyless (directly or through a Gateway) with an AuthProvider and
// reads certificate items. Every call is a POST of a JSON body carrying the token; tokens are
// reused until shortly before they expire, a 401 triggers one fresh login and a retry, and reads
// are retried with exponential backoff and jitter on transient failures within the caller's
// deadline.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "akeyless_upstream/auth_provider.hpp"
#include "akeyless_upstream/http_client.hpp"
#include "akeyless_upstream/result.hpp"
#include "akeyless_upstream/secret.hpp"

namespace akeyless_upstream {

// AkeylessClientOptions configures a client.
struct AkeylessClientOptions {
  // The v2 API base: https://gw:8000/api/v2, https://gw:8081 or https://api.akeyless.io; a
  // trailing '/' is fine. http:// only for loopback hosts.
  std::string gateway_url;
  // PEM CA bundle that verifies the gateway; empty means the system trust store.
  std::string ca_bundle_path;
  // Cap on each public call, whatever deadline the caller gives.
  std::chrono::milliseconds request_timeout{30000};
  // Token lifetime assumed when /auth gives no expiration.
  std::chrono::seconds default_token_lifetime{900};
  // Responses larger than this are refused.
  std::size_t max_response_bytes = 4 * 1024 * 1024;
};

// CertificateValue is the content of a certificate item: PEM text of the certificate (possibly a
// chain) and of its private key.
struct CertificateValue {
  std::string certificate_pem;
  SecretString private_key_pem;
};

// PrivateKeyPolicy says whether a certificate item read must carry a private key.
enum class PrivateKeyPolicy {
  kRequired,  // the upstream CA's item: certificate and key
  kOptional,  // a certificates-only item, e.g. the roots named by bundle_certificate_name
};

// CertificateChainEntry is one certificate of describe-item's certificate_chain_info.
struct CertificateChainEntry {
  std::string subject;
  std::string issuer;
  std::string not_before;
  std::string not_after;
  std::string serial_number;
  std::string sha_256_fingerprint;
  bool is_ca = false;
};

// ItemDescription is what describe-item says about a certificate item (cheap change hints:
// last_version, modification_date, expiration_date).
struct ItemDescription {
  std::string item_name;
  std::string item_type;
  std::int64_t last_version = 0;
  std::string modification_date;
  std::string expiration_date;
  bool has_private_key = false;
  std::vector<CertificateChainEntry> certificate_chain;
};

// AkeylessClient is thread-safe; concurrent callers share one login.
//
// Errors of every call:
//   kUnauthenticated    401, or /auth refused the credentials;
//   kPermissionDenied   403 or an access-denied reason from the gateway;
//   kNotFound           404 or a "not found" reason;
//   kResourceExhausted  429 (after retries) or a response over max_response_bytes;
//   kFailedPrecondition not a certificate item, or the item has no private key;
//   kUnavailable        5xx, connection or TLS failure, malformed response;
//   kDeadlineExceeded   the deadline (or request_timeout) passed.
// Messages keep the gateway's reason (truncated) and never contain a token, key or body.
class AkeylessClient {
 public:
  // create validates the options (URL form, CA bundle) and builds the transport. Errors:
  // kInvalidArgument naming the bad option.
  static Result<std::shared_ptr<AkeylessClient>> create(AkeylessClientOptions options,
                                                        std::shared_ptr<AuthProvider> auth);

  ~AkeylessClient();
  AkeylessClient(const AkeylessClient&) = delete;
  AkeylessClient& operator=(const AkeylessClient&) = delete;

  // authenticate forces a fresh POST /auth and stores the token.
  Status authenticate(Deadline deadline);

  // get_certificate_value reads the item (`version` absent = latest; `ignore_cache` bypasses the
  // Gateway's cache). Errors as above; kFailedPrecondition when certificate_pem is missing, or
  // private_key_pem is missing and `key` is kRequired. With kOptional (an item that holds only
  // certificates, such as a bundle of roots) private_key_pem is left empty when absent.
  Result<CertificateValue> get_certificate_value(
      std::string_view name, std::optional<int> version, bool ignore_cache, Deadline deadline,
      PrivateKeyPolicy key = PrivateKeyPolicy::kRequired);

  // describe_item reads the item's metadata. kFailedPrecondition when the item is not a
  // certificate item.
  Result<ItemDescription> describe_item(std::string_view name, Deadline deadline);

  // base_url is the normalised base (no trailing '/').
  const std::string& base_url() const;

  struct Impl;

 private:
  explicit AkeylessClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// == wire helpers, exposed for tests ==

// normalize_base_url trims trailing '/' and checks the URL (https, or http to a loopback host).
// Errors: kInvalidArgument naming the fix.
Result<std::string> normalize_base_url(std::string_view gateway_url);

// operation_url gives base + "/" + operation, base trimmed of trailing '/'.
std::string operation_url(std::string_view base_url, std::string_view operation);

// parse_token_expiration reads /auth's `expiration` as JSON text (a quoted RFC 3339 string, a
// quoted or bare number of Unix seconds or milliseconds). Returns nullopt when absent or unusable.
std::optional<std::chrono::system_clock::time_point> parse_token_expiration(
    std::string_view json_value);

// map_gateway_error turns a non-200 answer into an Error: status plus the `error` reason of a
// {"error": "..."} body (or the start of a non-JSON body), for `operation` ("auth",
// "get-certificate-value", ...). See the class comment for the codes.
Error map_gateway_error(std::string_view operation, int status, std::string_view body);

}  // namespace akeyless_upstream
