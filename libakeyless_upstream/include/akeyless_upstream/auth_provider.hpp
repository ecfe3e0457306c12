#pragma once

// AuthProvider: one class per Akeyless machine authentication method (api_key, k8s, gcp,
// azure_ad, aws_iam) behind one interface. A provider builds the JSON body of POST /auth, which
// may mean asking a cloud metadata service for an identity or re-reading the Kubernetes service
// account token; it never sends /auth itself (AkeylessClient does).

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "akeyless_upstream/http_client.hpp"
#include "akeyless_upstream/result.hpp"
#include "akeyless_upstream/secret.hpp"
#include "akeyless_upstream/sigv4.hpp"

namespace akeyless_upstream {

// AuthConfig selects and configures a method. `access_type` uses our names; the wire value for
// api_key is "access_key".
struct AuthConfig {
  std::string access_type;  // "api_key" | "k8s" | "gcp" | "azure_ad" | "aws_iam"
  std::string access_id;
  SecretString access_key;  // api_key only
  std::string k8s_auth_config_name;
  std::string k8s_service_account_token_path =
      "/var/run/secrets/kubernetes.io/serviceaccount/token";
  std::string gcp_audience = "akeyless.io";
  std::string azure_object_id;
};

// AuthProvider builds /auth bodies. Implementations are thread-safe (they hold only their
// configuration).
class AuthProvider {
 public:
  virtual ~AuthProvider() = default;

  // access_type is our name for the method, e.g. "api_key".
  virtual std::string_view access_type() const = 0;

  // wire_access_type is the `access-type` value sent to Akeyless, e.g. "access_key".
  virtual std::string_view wire_access_type() const = 0;

  // auth_request_body returns the serialised JSON object for POST /auth. `metadata_http` is the
  // client used for cloud metadata services (plain http is allowed there; no proxy). Errors:
  // kUnavailable / kDeadlineExceeded when a metadata service cannot be reached or answers badly,
  // kFailedPrecondition when the k8s token file is unreadable or empty, or no AWS credentials
  // are found. Messages never contain the token or key.
  virtual Result<SecretString> auth_request_body(HttpClient& metadata_http,
                                                 Deadline deadline) const = 0;
};

// make_auth_provider validates the configuration and builds the provider. Errors:
// kInvalidArgument naming the unknown access type or the missing key (access_id, access_key,
// k8s_auth_config_name, ...).
Result<std::shared_ptr<AuthProvider>> make_auth_provider(const AuthConfig& config);

// == pieces of the cloud methods, exposed for tests and for embedders with their own I/O ==

// aws_region gives AWS_REGION, else AWS_DEFAULT_REGION, else "us-east-1" (read at each call).
std::string aws_region();

// aws_sts_url gives "https://sts.<region>.amazonaws.com/".
std::string aws_sts_url(std::string_view region);

// aws_cloud_id builds the aws_iam cloud-id: base64 of the JSON object
// {"sts_request_method":"POST","sts_request_url":b64(url),"sts_request_body":b64(body),
//  "sts_request_headers":b64(JSON map canonical header name -> [value])} for a SigV4-signed
// (never sent) POST of Action=GetCallerIdentity&Version=2011-06-15 to aws_sts_url(region).
// `amz_date` is YYYYMMDD'T'HHMMSS'Z'. Errors: kInvalidArgument for empty credentials.
Result<SecretString> aws_cloud_id(const sigv4::Credentials& credentials, std::string_view region,
                                  std::string_view amz_date);

// aws_credentials finds AWS credentials: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY /
// AWS_SESSION_TOKEN, otherwise the instance role through IMDSv2 (endpoint
// AWS_EC2_METADATA_SERVICE_ENDPOINT, default http://169.254.169.254). Errors:
// kFailedPrecondition when neither source has credentials, kUnavailable/kDeadlineExceeded when
// IMDS fails.
Result<sigv4::Credentials> aws_credentials(HttpClient& metadata_http, Deadline deadline);

// amz_date_now formats the current UTC time as YYYYMMDD'T'HHMMSS'Z'.
std::string amz_date_now();

}  // namespace akeyless_upstream
