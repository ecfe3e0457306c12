#include "akeyless_upstream/auth_provider.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

#include <openssl/crypto.h>
#include <boost/json.hpp>

#include "akeyless_upstream/detail/text.hpp"
#include "akeyless_upstream/encoding.hpp"

namespace akeyless_upstream {
namespace {

using detail::env_or_empty;
using detail::trim_space;

namespace json = boost::json;

constexpr std::string_view kGetCallerIdentityBody = "Action=GetCallerIdentity&Version=2011-06-15";
constexpr std::string_view kStsContentType = "application/x-www-form-urlencoded; charset=utf-8";
constexpr std::string_view kAzureResource = "https://management.azure.com/";
constexpr int kAzureImdsAttempts = 5;

std::string trim_trailing_slashes(std::string text) {
  while (!text.empty() && text.back() == '/') {
    text.pop_back();
  }
  return text;
}

// to_secret serialises a JSON object into a SecretString and wipes the intermediate copy.
SecretString to_secret(const json::object& object) {
  std::string text = json::serialize(object);
  SecretString secret(text);
  OPENSSL_cleanse(text.data(), text.size());
  return secret;
}

// secret_string copies a SecretString into a JSON string value (the object is wiped by the
// caller's serialisation path only as far as json allows; the serialised copy is the one sent).
json::string secret_string(const SecretString& secret) {
  return json::string(secret.reveal());
}

std::string status_text(int status) {
  return "HTTP " + std::to_string(status);
}

// metadata_error describes a failed metadata call without quoting its body (an IMDS body can
// hold a token).
Error metadata_error(std::string_view service, int status, std::string_view fix) {
  ErrorCode code = status == 404 || status == 403 || status == 400 ? ErrorCode::kFailedPrecondition
                                                                   : ErrorCode::kUnavailable;
  return Error(code,
               std::string(service) + " answered " + status_text(status) + "; " + std::string(fix));
}

bool sleep_before_retry(std::chrono::milliseconds pause, Deadline deadline) {
  if (std::chrono::steady_clock::now() + pause >= deadline) {
    return false;
  }
  std::this_thread::sleep_for(pause);
  return true;
}

// == api_key ==

class ApiKeyProvider final : public AuthProvider {
 public:
  explicit ApiKeyProvider(const AuthConfig& config)
      : access_id_(config.access_id), access_key_(config.access_key) {}

  std::string_view access_type() const override { return "api_key"; }
  std::string_view wire_access_type() const override { return "access_key"; }

  Result<SecretString> auth_request_body(HttpClient&, Deadline) const override {
    json::object body;
    body["access-type"] = "access_key";
    body["access-id"] = access_id_;
    body["access-key"] = secret_string(access_key_);
    SecretString out = to_secret(body);
    auto& key = body["access-key"].as_string();
    OPENSSL_cleanse(key.data(), key.size());
    return out;
  }

 private:
  std::string access_id_;
  SecretString access_key_;
};

// == k8s ==

class K8sProvider final : public AuthProvider {
 public:
  explicit K8sProvider(const AuthConfig& config)
      : access_id_(config.access_id),
        config_name_(config.k8s_auth_config_name),
        token_path_(config.k8s_service_account_token_path) {}

  std::string_view access_type() const override { return "k8s"; }
  std::string_view wire_access_type() const override { return "k8s"; }

  Result<SecretString> auth_request_body(HttpClient&, Deadline) const override {
    // Projected service account tokens rotate on disk, so the file is read at every login.
    std::ifstream file(token_path_, std::ios::binary);
    if (!file) {
      return Error(ErrorCode::kFailedPrecondition,
                   "cannot read the Kubernetes service account token file '" + token_path_ +
                       "'; mount the token or set k8s_service_account_token_path");
    }
    std::string raw((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    std::string_view token = trim_space(raw);
    if (token.empty()) {
      OPENSSL_cleanse(raw.data(), raw.size());
      return Error(ErrorCode::kFailedPrecondition,
                   "the Kubernetes service account token file '" + token_path_ + "' is empty");
    }
    std::string encoded = base64_encode(token);
    OPENSSL_cleanse(raw.data(), raw.size());

    json::object body;
    body["access-type"] = "k8s";
    body["access-id"] = access_id_;
    body["k8s-auth-config-name"] = config_name_;
    body["k8s-service-account-token"] = encoded;
    OPENSSL_cleanse(encoded.data(), encoded.size());
    return to_secret(body);
  }

 private:
  std::string access_id_;
  std::string config_name_;
  std::string token_path_;
};

// == gcp ==

class GcpProvider final : public AuthProvider {
 public:
  explicit GcpProvider(const AuthConfig& config)
      : access_id_(config.access_id),
        audience_(config.gcp_audience.empty() ? "akeyless.io" : config.gcp_audience) {}

  std::string_view access_type() const override { return "gcp"; }
  std::string_view wire_access_type() const override { return "gcp"; }

  Result<SecretString> auth_request_body(HttpClient& metadata_http,
                                         Deadline deadline) const override {
    // The metadata server mints an identity token for the instance's service account.
    std::string host(trim_space(env_or_empty("GCE_METADATA_HOST")));
    if (host.empty()) {
      host = "169.254.169.254";
    }
    HttpRequest request;
    request.method = "GET";
    request.url = "http://" + host +
                  "/computeMetadata/v1/instance/service-accounts/default/identity?audience=" +
                  sigv4::uri_encode(audience_) + "&format=full";
    request.headers = {{"Metadata-Flavor", "Google"}, {"Accept", "*/*"}};
    auto response = metadata_http.send(request, deadline);
    if (!response.ok()) {
      return response.error().with_context(
          "gcp: cannot reach the GCE metadata server (set GCE_METADATA_HOST when it is not at "
          "169.254.169.254)");
    }
    if (response->status != 200) {
      return metadata_error("gcp: the GCE metadata server", response->status,
                            "the instance needs a service account that can mint identity tokens");
    }
    std::string_view jwt = trim_space(response->body.reveal());
    if (jwt.empty()) {
      return Error(ErrorCode::kUnavailable, "gcp: the GCE metadata server returned no token");
    }
    std::string cloud_id = base64_encode(jwt);

    json::object body;
    body["access-type"] = "gcp";
    body["access-id"] = access_id_;
    body["cloud-id"] = cloud_id;
    body["gcp-audience"] = audience_;
    OPENSSL_cleanse(cloud_id.data(), cloud_id.size());
    return to_secret(body);
  }

 private:
  std::string access_id_;
  std::string audience_;
};

// == azure_ad ==

class AzureProvider final : public AuthProvider {
 public:
  explicit AzureProvider(const AuthConfig& config)
      : access_id_(config.access_id), object_id_(config.azure_object_id) {}

  std::string_view access_type() const override { return "azure_ad"; }
  std::string_view wire_access_type() const override { return "azure_ad"; }

  Result<SecretString> auth_request_body(HttpClient& metadata_http,
                                         Deadline deadline) const override {
    std::string base =
        trim_trailing_slashes(std::string(trim_space(env_or_empty("AZURE_IMDS_ENDPOINT"))));
    if (base.empty()) {
      base = "http://169.254.169.254";
    }
    HttpRequest request;
    request.method = "GET";
    request.url = base + "/metadata/identity/oauth2/token?api-version=2018-02-01&resource=" +
                  sigv4::uri_encode(kAzureResource);
    if (!object_id_.empty()) {
      request.url += "&object_id=" + sigv4::uri_encode(object_id_);
    }
    request.headers = {{"Metadata", "true"}};

    // IMDS answers 404, 429 or 5xx while the identity is being provisioned or throttled; those
    // are retried a few times, as Akeyless's own cloud-id code does.
    std::optional<Error> last_error;
    for (int attempt = 1; attempt <= kAzureImdsAttempts; ++attempt) {
      auto response = metadata_http.send(request, deadline);
      if (response.ok() && response->status == 200) {
        return body_from_imds(response->body);
      }
      bool retryable = false;
      if (!response.ok()) {
        last_error = response.error().with_context(
            "azure_ad: cannot reach the instance metadata service (set AZURE_IMDS_ENDPOINT when "
            "it is not at http://169.254.169.254)");
        retryable = response.error().code() == ErrorCode::kUnavailable;
      } else {
        int status = response->status;
        last_error = metadata_error("azure_ad: the instance metadata service", status,
                                    "the VM needs a managed identity (check azure_object_id)");
        retryable = status == 404 || status == 429 || status >= 500;
      }
      if (!retryable || attempt == kAzureImdsAttempts ||
          !sleep_before_retry(std::chrono::milliseconds(250 * attempt), deadline)) {
        break;
      }
    }
    return *last_error;
  }

 private:
  Result<SecretString> body_from_imds(const SecretString& imds_body) const {
    json::error_code ec;
    json::value parsed = json::parse(imds_body.reveal(), ec);
    const json::string* token = nullptr;
    if (!ec && parsed.is_object()) {
      if (const json::value* field = parsed.as_object().if_contains("access_token")) {
        token = field->if_string();
      }
    }
    if (token == nullptr || token->empty()) {
      return Error(ErrorCode::kUnavailable,
                   "azure_ad: the instance metadata service answered without an access_token");
    }
    std::string cloud_id = base64_encode(std::string_view(*token));

    json::object body;
    body["access-type"] = "azure_ad";
    body["access-id"] = access_id_;
    body["cloud-id"] = cloud_id;
    OPENSSL_cleanse(cloud_id.data(), cloud_id.size());
    return to_secret(body);
  }

  std::string access_id_;
  std::string object_id_;
};

// == aws_iam ==

class AwsProvider final : public AuthProvider {
 public:
  explicit AwsProvider(const AuthConfig& config) : access_id_(config.access_id) {}

  std::string_view access_type() const override { return "aws_iam"; }
  std::string_view wire_access_type() const override { return "aws_iam"; }

  Result<SecretString> auth_request_body(HttpClient& metadata_http,
                                         Deadline deadline) const override {
    auto credentials = aws_credentials(metadata_http, deadline);
    if (!credentials.ok()) {
      return credentials.error().with_context("aws_iam");
    }
    auto cloud_id = aws_cloud_id(*credentials, aws_region(), amz_date_now());
    if (!cloud_id.ok()) {
      return cloud_id.error().with_context("aws_iam");
    }
    json::object body;
    body["access-type"] = "aws_iam";
    body["access-id"] = access_id_;
    body["cloud-id"] = secret_string(*cloud_id);
    return to_secret(body);
  }

 private:
  std::string access_id_;
};

Result<sigv4::Credentials> imds_credentials(HttpClient& http, Deadline deadline) {
  std::string base = trim_trailing_slashes(
      std::string(trim_space(env_or_empty("AWS_EC2_METADATA_SERVICE_ENDPOINT"))));
  if (base.empty()) {
    base = "http://169.254.169.254";
  }
  const std::string hint =
      "no AWS credentials: set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or run on an instance "
      "with an IAM role (instance metadata at " +
      base + ")";

  // IMDSv2: a session token first (PUT), then the role name, then the role's credentials.
  HttpRequest token_request;
  token_request.method = "PUT";
  token_request.url = base + "/latest/api/token";
  token_request.headers = {{"X-aws-ec2-metadata-token-ttl-seconds", "21600"}, {"Accept", "*/*"}};
  auto token = http.send(token_request, deadline);
  if (!token.ok()) {
    return token.error().with_context(hint);
  }
  if (token->status != 200) {
    return metadata_error("the EC2 instance metadata service", token->status, hint);
  }
  std::string session(trim_space(token->body.reveal()));

  HttpRequest role_request;
  role_request.method = "GET";
  role_request.url = base + "/latest/meta-data/iam/security-credentials/";
  role_request.headers = {{"X-aws-ec2-metadata-token", session}, {"Accept", "*/*"}};
  auto role = http.send(role_request, deadline);
  if (!role.ok()) {
    OPENSSL_cleanse(session.data(), session.size());
    return role.error().with_context("reading the instance role name");
  }
  std::string_view role_text = trim_space(role->body.reveal());
  std::string role_name(role_text.substr(0, role_text.find('\n')));
  role_name = std::string(trim_space(role_name));
  if (role->status != 200 || role_name.empty() ||
      role_name.find_first_of("/?#") != std::string::npos) {
    OPENSSL_cleanse(session.data(), session.size());
    return Error(ErrorCode::kFailedPrecondition, "the EC2 instance has no IAM role attached (" +
                                                     status_text(role->status) + "); " + hint);
  }

  HttpRequest creds_request = role_request;
  creds_request.url += role_name;
  auto creds = http.send(creds_request, deadline);
  OPENSSL_cleanse(session.data(), session.size());
  creds_request.headers.clear();
  if (!creds.ok()) {
    return creds.error().with_context("reading the instance role credentials");
  }
  if (creds->status != 200) {
    return metadata_error("the EC2 instance metadata service", creds->status, hint);
  }
  json::error_code ec;
  json::value parsed = json::parse(creds->body.reveal(), ec);
  if (ec || !parsed.is_object()) {
    return Error(ErrorCode::kUnavailable,
                 "the EC2 instance metadata service returned malformed role credentials");
  }
  auto field = [&](std::string_view key) -> std::string {
    const json::value* value = parsed.as_object().if_contains(key);
    return value != nullptr && value->is_string() ? std::string(value->as_string()) : std::string();
  };
  sigv4::Credentials out;
  out.access_key_id = field("AccessKeyId");
  std::string secret = field("SecretAccessKey");
  out.secret_access_key = SecretString(secret);
  OPENSSL_cleanse(secret.data(), secret.size());
  out.session_token = field("Token");
  if (out.access_key_id.empty() || out.secret_access_key.empty()) {
    return Error(ErrorCode::kUnavailable,
                 "the EC2 instance metadata service returned role credentials without "
                 "AccessKeyId/SecretAccessKey");
  }
  return out;
}

}  // namespace

std::string aws_region() {
  for (const char* name : {"AWS_REGION", "AWS_DEFAULT_REGION"}) {
    std::string value(trim_space(env_or_empty(name)));
    if (!value.empty()) {
      return value;
    }
  }
  return "us-east-1";
}

std::string aws_sts_url(std::string_view region) {
  // China partitions use their own DNS suffix.
  std::string_view suffix = region.rfind("cn-", 0) == 0 ? "amazonaws.com.cn" : "amazonaws.com";
  return "https://sts." + std::string(region) + "." + std::string(suffix) + "/";
}

std::string amz_date_now() {
  std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm utc{};
  gmtime_r(&now, &utc);
  char buffer[20];
  std::strftime(buffer, sizeof(buffer), "%Y%m%dT%H%M%SZ", &utc);
  return buffer;
}

Result<SecretString> aws_cloud_id(const sigv4::Credentials& credentials, std::string_view region,
                                  std::string_view amz_date) {
  if (credentials.access_key_id.empty() || credentials.secret_access_key.empty()) {
    return Error(ErrorCode::kInvalidArgument, "AWS credentials are empty");
  }
  std::string url = aws_sts_url(region);
  std::string host = url.substr(8, url.size() - 9);  // between "https://" and the final '/'

  sigv4::Request request;
  request.method = "POST";
  request.path = "/";
  request.headers = {{"Host", host}, {"Content-Type", std::string(kStsContentType)}};
  request.payload = std::string(kGetCallerIdentityBody);
  Status signed_ok = sigv4::sign(request, credentials, region, "sts", amz_date);
  if (!signed_ok.ok()) {
    return signed_ok.error();
  }

  // Go's http.Header JSON: canonical name -> list of values.
  json::object headers;
  for (const auto& [name, value] : request.headers) {
    auto& list = headers[name];
    if (!list.is_array()) {
      list = json::array();
    }
    list.as_array().emplace_back(json::string(value));
  }
  std::string headers_text = json::serialize(headers);

  json::object document;
  document["sts_request_method"] = "POST";
  document["sts_request_url"] = base64_encode(url);
  document["sts_request_body"] = base64_encode(kGetCallerIdentityBody);
  document["sts_request_headers"] = base64_encode(headers_text);
  std::string document_text = json::serialize(document);
  SecretString cloud_id(base64_encode(document_text));
  OPENSSL_cleanse(headers_text.data(), headers_text.size());
  OPENSSL_cleanse(document_text.data(), document_text.size());
  return cloud_id;
}

Result<sigv4::Credentials> aws_credentials(HttpClient& metadata_http, Deadline deadline) {
  std::string key_id(trim_space(env_or_empty("AWS_ACCESS_KEY_ID")));
  std::string secret(trim_space(env_or_empty("AWS_SECRET_ACCESS_KEY")));
  if (!key_id.empty() && !secret.empty()) {
    sigv4::Credentials out;
    out.access_key_id = key_id;
    out.secret_access_key = SecretString(secret);
    out.session_token = std::string(trim_space(env_or_empty("AWS_SESSION_TOKEN")));
    OPENSSL_cleanse(secret.data(), secret.size());
    return out;
  }
  OPENSSL_cleanse(secret.data(), secret.size());
  return imds_credentials(metadata_http, deadline);
}

Result<std::shared_ptr<AuthProvider>> make_auth_provider(const AuthConfig& config) {
  auto missing = [&](std::string_view key) {
    return Error(ErrorCode::kInvalidArgument,
                 std::string(key) + " is required for access type '" + config.access_type + "'");
  };
  const std::string& type = config.access_type;
  if (type != "api_key" && type != "access_key" && type != "k8s" && type != "gcp" &&
      type != "azure_ad" && type != "aws_iam") {
    return Error(ErrorCode::kInvalidArgument,
                 "access_type '" + type +
                     "' is not supported; use one of api_key, k8s, gcp, azure_ad, aws_iam");
  }
  if (config.access_id.empty()) {
    return missing("access_id");
  }
  if (type == "api_key" || type == "access_key") {
    if (config.access_key.empty()) {
      return missing("access_key");
    }
    return std::shared_ptr<AuthProvider>(std::make_shared<ApiKeyProvider>(config));
  }
  if (type == "k8s") {
    if (config.k8s_auth_config_name.empty()) {
      return missing("k8s_auth_config_name");
    }
    if (config.k8s_service_account_token_path.empty()) {
      return missing("k8s_service_account_token_path");
    }
    return std::shared_ptr<AuthProvider>(std::make_shared<K8sProvider>(config));
  }
  if (type == "gcp") {
    return std::shared_ptr<AuthProvider>(std::make_shared<GcpProvider>(config));
  }
  if (type == "azure_ad") {
    return std::shared_ptr<AuthProvider>(std::make_shared<AzureProvider>(config));
  }
  return std::shared_ptr<AuthProvider>(std::make_shared<AwsProvider>(config));
}

}  // namespace akeyless_upstream
