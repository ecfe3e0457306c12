// Request handling: the gateway's v2 operations (strictly validated against the reference's
// field names and encodings), the fake cloud metadata services, and the admin API.

#include <algorithm>
#include <cctype>
#include <set>

#include "akeyless_upstream/certificate.hpp"
#include "akeyless_upstream/encoding.hpp"
#include "akeyless_upstream/sigv4.hpp"
#include "emulator.hpp"

namespace emulator {

namespace json = boost::json;
namespace sigv4 = akeyless_upstream::sigv4;

namespace {

constexpr std::string_view kUnknownCommand = "unknown command";
constexpr std::string_view kStsBody = "Action=GetCallerIdentity&Version=2011-06-15";

const std::set<std::string, std::less<>> kGatewayOperations = {"auth", "get-certificate-value",
                                                               "describe-item", "validate-token"};

enum class FieldType { kString, kInteger, kBoolean, kBooleanString, kUnsupported };

using FieldTable = std::vector<std::pair<std::string_view, FieldType>>;

// The keys each operation accepts (reference section 2.1, 3.1, 3.2, 2.4). kUnsupported keys are
// real API keys whose feature the emulator does not model; they get their own message so a
// client author is not told the key is misspelt.
const FieldTable& fields_for(std::string_view operation) {
  static const FieldTable kAuth = {
      {"access-id", FieldType::kString},
      {"access-type", FieldType::kString},
      {"access-key", FieldType::kString},
      {"cloud-id", FieldType::kString},
      {"gcp-audience", FieldType::kString},
      {"azure-cloud", FieldType::kString},
      {"k8s-auth-config-name", FieldType::kString},
      {"k8s-service-account-token", FieldType::kString},
      {"gateway-url", FieldType::kString},
      {"json", FieldType::kBoolean},
      {"debug", FieldType::kBoolean},
      {"uid-token", FieldType::kUnsupported},
      {"jwt", FieldType::kUnsupported},
      {"cert-data", FieldType::kUnsupported},
      {"key-data", FieldType::kUnsupported},
      {"admin-email", FieldType::kUnsupported},
      {"admin-password", FieldType::kUnsupported},
      {"account-id", FieldType::kUnsupported},
      {"username", FieldType::kUnsupported},
      {"ldap-password", FieldType::kUnsupported},
      {"otp", FieldType::kUnsupported},
  };
  static const FieldTable kGetCertificateValue = {
      {"name", FieldType::kString},
      {"token", FieldType::kString},
      {"version", FieldType::kInteger},
      {"ignore-cache", FieldType::kBooleanString},
      {"json", FieldType::kBoolean},
      {"uid-token", FieldType::kUnsupported},
      {"display-id", FieldType::kUnsupported},
      {"cert-issuer-name", FieldType::kUnsupported},
      {"issuance-token", FieldType::kUnsupported},
  };
  static const FieldTable kDescribeItem = {
      {"name", FieldType::kString},           {"token", FieldType::kString},
      {"show-versions", FieldType::kBoolean}, {"der-certificate-format", FieldType::kBoolean},
      {"accessibility", FieldType::kString},  {"json", FieldType::kBoolean},
      {"uid-token", FieldType::kUnsupported}, {"display-id", FieldType::kUnsupported},
      {"item-id", FieldType::kUnsupported},
  };
  static const FieldTable kValidateToken = {
      {"token", FieldType::kString},
  };
  if (operation == "auth") {
    return kAuth;
  }
  if (operation == "get-certificate-value") {
    return kGetCertificateValue;
  }
  if (operation == "describe-item") {
    return kDescribeItem;
  }
  return kValidateToken;
}

// validate_fields checks every key against the operation's table. Values are never quoted back:
// they may be secrets.
std::optional<Outcome> validate_fields(std::string_view operation, const json::object& body) {
  const FieldTable& table = fields_for(operation);
  for (const auto& entry : body) {
    auto it = std::find_if(table.begin(), table.end(),
                           [&](const auto& field) { return field.first == entry.key(); });
    if (it == table.end()) {
      std::string hint;
      std::string key(entry.key());
      if (key.find('_') != std::string::npos) {
        std::replace(key.begin(), key.end(), '_', '-');
        hint = " (the v2 API spells keys with '-', e.g. '" + key + "')";
      }
      return error_response(400, "unknown field '" + std::string(entry.key()) + "' for " +
                                     std::string(operation) + hint);
    }
    const json::value& value = entry.value();
    bool ok = true;
    std::string expected;
    switch (it->second) {
      case FieldType::kString:
        ok = value.is_string();
        expected = "a string";
        break;
      case FieldType::kInteger:
        ok = value.is_int64() || value.is_uint64();
        expected = "an integer";
        break;
      case FieldType::kBoolean:
        ok = value.is_bool();
        expected = "a boolean";
        break;
      case FieldType::kBooleanString:
        ok = value.is_string() && (value.get_string() == "true" || value.get_string() == "false");
        expected = "the string \"true\" or \"false\"";
        break;
      case FieldType::kUnsupported:
        return error_response(400, "field '" + std::string(entry.key()) +
                                       "' is valid but not supported by the emulator");
    }
    if (!ok) {
      return error_response(400, "field '" + std::string(entry.key()) + "' must be " + expected);
    }
  }
  return std::nullopt;
}

std::string string_field(const json::object& body, std::string_view key) {
  const json::value* value = body.if_contains(key);
  return value != nullptr && value->is_string() ? std::string(value->get_string()) : std::string();
}

std::optional<Outcome> require(const json::object& body,
                               std::initializer_list<std::string_view> keys) {
  for (std::string_view key : keys) {
    const json::value* value = body.if_contains(key);
    if (value == nullptr || (value->is_string() && value->get_string().empty())) {
      return error_response(400, "missing required parameter '" + std::string(key) + "'");
    }
  }
  return std::nullopt;
}

// decode_padded decodes a field that must be standard padded base64.
std::optional<std::string> decode_padded(std::string_view text) {
  if (!is_padded_base64(text)) {
    return std::nullopt;
  }
  auto bytes = akeyless_upstream::base64_decode(text);
  return std::string(bytes->begin(), bytes->end());
}

bool secret_equals(const SecretString& expected, std::string_view received) {
  return expected == SecretString(received);
}

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool pattern_matches(const std::string& pattern, const std::string& name) {
  if (!pattern.empty() && pattern.back() == '*') {
    return name.starts_with(std::string_view(pattern).substr(0, pattern.size() - 1));
  }
  return pattern == name;
}

std::string percent_decode(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9') {
          return c - '0';
        }
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
      };
      int hi = hex(text[i + 1]);
      int lo = hex(text[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(text[i] == '+' ? ' ' : text[i]);
  }
  return out;
}

std::map<std::string, std::string> parse_query(std::string_view query) {
  std::map<std::string, std::string> out;
  while (!query.empty()) {
    std::size_t amp = query.find('&');
    std::string_view part = query.substr(0, amp);
    std::size_t eq = part.find('=');
    std::string key = percent_decode(part.substr(0, eq));
    std::string value = eq == std::string_view::npos ? "" : percent_decode(part.substr(eq + 1));
    out.emplace(std::move(key), std::move(value));
    if (amp == std::string_view::npos) {
      break;
    }
    query.remove_prefix(amp + 1);
  }
  return out;
}

// gateway_operation maps a request path to a v2 operation name ("" when unknown). The three
// gateway forms are /<op> (port 8081), /api/v2/<op> (unified port 8000) and /v2/<op> (8080).
std::string gateway_operation(std::string_view path) {
  for (std::string_view prefix : {"/api/v2/", "/v2/", "/"}) {
    if (path.starts_with(prefix)) {
      std::string_view rest = path.substr(prefix.size());
      if (kGatewayOperations.contains(rest)) {
        return std::string(rest);
      }
    }
  }
  return "";
}

std::string metadata_operation(std::string_view path) {
  if (path == "/computeMetadata/v1/instance/service-accounts/default/identity") {
    return "gce-identity";
  }
  if (path == "/metadata/identity/oauth2/token") {
    return "azure-token";
  }
  if (path == "/metadata/instance") {
    return "azure-instance";
  }
  if (path == "/latest/api/token") {
    return "aws-imds-token";
  }
  if (path.starts_with("/latest/meta-data/iam/security-credentials/")) {
    return "aws-credentials";
  }
  return "";
}

Outcome text_response(int status, std::string body) {
  Outcome outcome;
  outcome.status = status;
  outcome.content_type = "text/plain";
  outcome.body = std::move(body);
  return outcome;
}

json::object certificate_info(const akeyless_upstream::Certificate& certificate) {
  auto fingerprint = akeyless_upstream::sha256(certificate.der());
  return json::object{
      {"subject", certificate.subject()},
      {"issuer", certificate.issuer()},
      {"not_after", rfc3339(certificate.not_after())},
      {"not_before", rfc3339(certificate.not_before())},
      {"serial_number", certificate.serial_hex()},
      {"sha_256_fingerprint", akeyless_upstream::hex_encode(fingerprint)},
      {"is_ca", certificate.is_ca()},
  };
}

// The parts of a decoded aws_iam cloud-id.
struct StsRequest {
  std::string url;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

// parse_sts_cloud_id decodes the cloud-id JSON (reference section 5.1). 400-type problems come
// back as an error string.
std::variant<StsRequest, std::string> parse_sts_cloud_id(std::string_view decoded) {
  json::error_code ec;
  json::value doc = json::parse(decoded, ec);
  if (ec || !doc.is_object()) {
    return std::string("aws_iam cloud-id does not decode to a JSON object");
  }
  const json::object& obj = doc.get_object();
  static const std::set<std::string, std::less<>> kKeys = {
      "sts_request_method", "sts_request_url", "sts_request_body", "sts_request_headers"};
  for (const auto& entry : obj) {
    if (!kKeys.contains(entry.key())) {
      return "aws_iam cloud-id has unknown key '" + std::string(entry.key()) + "'";
    }
  }
  for (std::string_view key : kKeys) {
    const json::value* value = obj.if_contains(key);
    if (value == nullptr || !value->is_string()) {
      return "aws_iam cloud-id lacks the string key '" + std::string(key) + "'";
    }
  }
  if (obj.at("sts_request_method").get_string() != "POST") {
    return std::string("aws_iam cloud-id: sts_request_method must be \"POST\"");
  }
  StsRequest sts;
  auto url = decode_padded(obj.at("sts_request_url").get_string());
  auto body = decode_padded(obj.at("sts_request_body").get_string());
  auto headers_text = decode_padded(obj.at("sts_request_headers").get_string());
  if (!url || !body || !headers_text) {
    return std::string(
        "aws_iam cloud-id: sts_request_url, sts_request_body and sts_request_headers must be "
        "standard padded base64");
  }
  sts.url = *url;
  sts.body = *body;
  json::value headers = json::parse(*headers_text, ec);
  if (ec || !headers.is_object()) {
    return std::string("aws_iam cloud-id: sts_request_headers is not a JSON object");
  }
  for (const auto& entry : headers.get_object()) {
    if (!entry.value().is_array() || entry.value().get_array().empty()) {
      return "aws_iam cloud-id: header '" + std::string(entry.key()) +
             "' must be an array of strings (Go http.Header form)";
    }
    for (const auto& item : entry.value().get_array()) {
      if (!item.is_string()) {
        return "aws_iam cloud-id: header '" + std::string(entry.key()) +
               "' must be an array of strings (Go http.Header form)";
      }
      sts.headers.emplace_back(std::string(entry.key()), std::string(item.get_string()));
    }
  }
  return sts;
}

// sts_region gives the region an STS URL targets, or "" for a URL that is not an STS endpoint.
std::string sts_region(std::string_view url) {
  if (url == "https://sts.amazonaws.com/") {
    return "us-east-1";
  }
  constexpr std::string_view kPrefix = "https://sts.";
  for (std::string_view suffix : {".amazonaws.com/", ".amazonaws.com.cn/"}) {
    if (url.starts_with(kPrefix) && url.ends_with(suffix)) {
      std::string_view region =
          url.substr(kPrefix.size(), url.size() - kPrefix.size() - suffix.size());
      bool plausible = !region.empty() && std::all_of(region.begin(), region.end(), [](char c) {
        return std::islower(static_cast<unsigned char>(c)) || std::isdigit(c) || c == '-';
      });
      bool china = suffix == ".amazonaws.com.cn/";
      if (plausible && china == region.starts_with("cn-")) {
        return std::string(region);
      }
    }
  }
  return "";
}

std::optional<TimePoint> parse_amz_date(std::string_view text) {
  if (text.size() != 16 || text[8] != 'T' || text[15] != 'Z') {
    return std::nullopt;
  }
  std::tm parts{};
  std::string s(text);
  if (strptime(s.c_str(), "%Y%m%dT%H%M%SZ", &parts) == nullptr) {
    return std::nullopt;
  }
  return Clock::from_time_t(timegm(&parts));
}

}  // namespace

// == dispatch ==

Outcome State::handle_request(const Request& request, PortKind port) {
  try {
    std::lock_guard lock(mutex_);
    std::string_view target = request.target;
    std::string_view path = target.substr(0, target.find('?'));
    LogEntry log;
    log.port = port == PortKind::kGateway ? "gateway" : "metadata";

    if (path == "/_emulator" || path.starts_with("/_emulator/")) {
      // Admin requests are not logged: tests count the requests their client made.
      return handle_admin(request, log);
    }

    std::string operation =
        port == PortKind::kGateway ? gateway_operation(path) : metadata_operation(path);
    if (operation.empty()) {
      log.operation = "unknown";
      Outcome outcome = port == PortKind::kGateway ? error_response(404, kUnknownCommand)
                                                   : text_response(404, "not found\n");
      log.status = outcome.status;
      record(std::move(log));
      return outcome;
    }
    log.operation = operation;

    Outcome outcome;
    std::optional<Fault> fault = take_fault(operation);
    if (fault) {
      log.fault = fault->kind;
    }
    const std::string kind = fault ? fault->kind : "";
    if (kind == "status") {
      outcome = error_response(fault->status, fault->error);
      if (fault->retry_after >= 0) {
        outcome.headers.emplace_back("Retry-After", std::to_string(fault->retry_after));
      }
    } else if (kind == "drop") {
      outcome.action = Outcome::Action::kDrop;
      outcome.status = 0;
    } else if (kind == "hang") {
      outcome.action = Outcome::Action::kHang;
      outcome.status = 0;
    } else if (kind == "oversized") {
      outcome.body = "{\"certificate_pem\": \"";
      outcome.body.append(fault->size_bytes, 'A');
      outcome.body += "\", \"token\": \"t-oversized\"}";
    } else if (kind == "malformed-json") {
      outcome.body = "{\"token\": \"t-0123\", \"certificate_pem\": \"-----BEGIN CERT";
    } else if (kind == "empty-object") {
      outcome.body = "{}";
    } else {
      outcome = port == PortKind::kGateway ? handle_gateway(request, operation, log)
                                           : handle_metadata(request, operation, log);
      if (kind == "wrong-content-type") {
        outcome.content_type = "text/html";
      } else if (kind == "latency") {
        outcome.delay = std::chrono::milliseconds(fault->latency_ms);
      }
    }
    log.status = outcome.status;
    record(std::move(log));
    return outcome;
  } catch (const std::exception& e) {
    // Nothing from a request should get here; answer rather than let a thread die.
    return error_response(500, std::string("emulator internal error: ") + e.what());
  }
}

// == gateway operations ==

Outcome State::handle_gateway(const Request& request, std::string_view operation, LogEntry& log) {
  // Reference section 1.3: every v2 operation is a POST of a JSON body.
  if (request.method != "POST") {
    Outcome outcome =
        error_response(405, "method " + request.method + " not allowed; the v2 API takes POST");
    outcome.headers.emplace_back("Allow", "POST");
    return outcome;
  }
  std::string content_type = lower(request.header("Content-Type").value_or(""));
  content_type = content_type.substr(0, content_type.find(';'));
  while (!content_type.empty() && content_type.back() == ' ') {
    content_type.pop_back();
  }
  if (content_type != "application/json") {
    return error_response(415, "Content-Type must be application/json");
  }
  if (request.body_too_large) {
    return error_response(413, "request body too large");
  }
  json::error_code ec;
  json::value doc = json::parse(request.body, ec);
  if (ec || !doc.is_object()) {
    return error_response(400, "request body is not a JSON object");
  }
  const json::object& body = doc.get_object();
  if (auto bad = validate_fields(operation, body)) {
    return *bad;
  }
  if (operation == "auth") {
    return handle_auth(body, log);
  }
  if (operation == "get-certificate-value") {
    return handle_get_certificate_value(body, log);
  }
  if (operation == "describe-item") {
    return handle_describe_item(body, log);
  }
  return handle_validate_token(body, log);
}

Outcome State::handle_auth(const json::object& body, LogEntry& log) {
  std::string access_type =
      body.contains("access-type") ? string_field(body, "access-type") : "access_key";
  log.access_type = access_type;
  static const std::set<std::string, std::less<>> kSupported = {"access_key", "k8s", "gcp",
                                                                "azure_ad", "aws_iam"};
  if (!kSupported.contains(access_type)) {
    return error_response(400, "access type '" + access_type +
                                   "' not supported by the emulator (access_key, k8s, gcp, "
                                   "azure_ad, aws_iam)");
  }

  // Keys that carry another method's credential are refused: a client must not send, say, an
  // access key along with a cloud identity.
  std::vector<std::string_view> required = {"access-id"};
  std::vector<std::string_view> own;
  if (access_type == "access_key") {
    own = {"access-key"};
  } else if (access_type == "k8s") {
    own = {"k8s-auth-config-name", "k8s-service-account-token"};
  } else {
    own = {"cloud-id"};
  }
  for (std::string_view key :
       {"access-key", "cloud-id", "k8s-auth-config-name", "k8s-service-account-token"}) {
    if (body.contains(key) && std::find(own.begin(), own.end(), key) == own.end()) {
      return error_response(
          400, "field '" + std::string(key) + "' does not belong to access type " + access_type);
    }
  }
  required.insert(required.end(), own.begin(), own.end());
  for (std::string_view key : required) {
    if (auto missing = require(body, {key})) {
      return *missing;
    }
  }

  std::string access_id = string_field(body, "access-id");
  log.access_id = access_id;
  auto it = access_ids_.find(access_id);
  if (it == access_ids_.end()) {
    return error_response(401, "authentication failed: unknown access id " + access_id);
  }
  const AccessIdConfig& access = it->second;
  if (access.access_type != access_type) {
    return error_response(401, "authentication failed: access id " + access_id +
                                   " is not an auth method of type " + access_type);
  }

  if (access_type == "access_key") {
    if (!secret_equals(access.access_key, string_field(body, "access-key"))) {
      return error_response(401, "authentication failed: wrong access key for " + access_id);
    }
  } else if (access_type == "k8s") {
    if (string_field(body, "k8s-auth-config-name") != access.k8s_auth_config_name) {
      return error_response(401, "authentication failed: k8s auth config '" +
                                     string_field(body, "k8s-auth-config-name") +
                                     "' is not configured on this gateway for " + access_id);
    }
    auto token = decode_padded(string_field(body, "k8s-service-account-token"));
    if (!token) {
      return error_response(400,
                            "k8s-service-account-token must be standard padded base64 of "
                            "the service account JWT");
    }
    if (!secret_equals(access.k8s_service_account_token, *token)) {
      return error_response(401,
                            "authentication failed: k8s token review refused the service "
                            "account token");
    }
  } else if (access_type == "gcp") {
    std::string audience =
        body.contains("gcp-audience") ? string_field(body, "gcp-audience") : "akeyless.io";
    if (audience != access.gcp_audience) {
      return error_response(401, "authentication failed: gcp-audience '" + audience +
                                     "' does not match the auth method's audience");
    }
    auto token = decode_padded(string_field(body, "cloud-id"));
    if (!token) {
      return error_response(400, "cloud-id must be standard padded base64");
    }
    if (!secret_equals(access.gce_identity_token, *token)) {
      return error_response(401, "authentication failed: GCP identity token not accepted");
    }
  } else if (access_type == "azure_ad") {
    if (body.contains("azure-cloud")) {
      std::string cloud = string_field(body, "azure-cloud");
      if (cloud != "AzureCloud" && cloud != "AzureUSGovernment" && cloud != "AzureChinaCloud") {
        return error_response(400,
                              "azure-cloud must be AzureCloud, AzureUSGovernment or "
                              "AzureChinaCloud");
      }
    }
    auto token = decode_padded(string_field(body, "cloud-id"));
    if (!token) {
      return error_response(400, "cloud-id must be standard padded base64");
    }
    if (!secret_equals(access.azure_access_token, *token)) {
      return error_response(401, "authentication failed: Azure AD access token not accepted");
    }
  } else {
    auto decoded = decode_padded(string_field(body, "cloud-id"));
    if (!decoded) {
      return error_response(400, "cloud-id must be standard padded base64");
    }
    auto parsed = parse_sts_cloud_id(*decoded);
    if (auto* problem = std::get_if<std::string>(&parsed)) {
      return error_response(400, *problem);
    }
    const StsRequest& sts = std::get<StsRequest>(parsed);
    std::string region = sts_region(sts.url);
    if (region.empty()) {
      return error_response(400,
                            "aws_iam cloud-id: sts_request_url is not an STS endpoint "
                            "(https://sts.<region>.amazonaws.com/)");
    }
    if (sts.body != kStsBody) {
      return error_response(400,
                            "aws_iam cloud-id: sts_request_body must be " + std::string(kStsBody));
    }
    sigv4::Request signed_request;
    signed_request.method = "POST";
    signed_request.path = "/";
    signed_request.headers = sts.headers;
    signed_request.payload = sts.body;
    auto header = [&](std::string_view name) -> std::optional<std::string> {
      for (const auto& [key, value] : signed_request.headers) {
        if (lower(key) == lower(name)) {
          return value;
        }
      }
      return std::nullopt;
    };
    auto authorization = header("Authorization");
    auto amz_date = header("X-Amz-Date");
    if (!authorization || !amz_date) {
      return error_response(400,
                            "aws_iam cloud-id: the signed request lacks Authorization or "
                            "X-Amz-Date");
    }
    auto parts = sigv4::parse_authorization(*authorization);
    if (!parts.ok()) {
      return error_response(400, "aws_iam cloud-id: " + parts.error().message());
    }
    // Go's http.Header keeps Host and Content-Length outside the map; when they are signed the
    // verifier supplies them from the URL and the body, as STS would see them on the wire.
    std::string signed_names = ";" + parts->signed_headers + ";";
    if (!header("Host") && signed_names.find(";host;") != std::string::npos) {
      std::string host = sts.url.substr(8);
      signed_request.headers.emplace_back("Host", host.substr(0, host.find('/')));
    }
    if (!header("Content-Length") && signed_names.find(";content-length;") != std::string::npos) {
      signed_request.headers.emplace_back("Content-Length", std::to_string(sts.body.size()));
    }
    auto date = parse_amz_date(*amz_date);
    if (!date) {
      return error_response(400, "aws_iam cloud-id: X-Amz-Date is not YYYYMMDD'T'HHMMSS'Z'");
    }
    if (parts->scope.service != "sts" || parts->scope.region != region ||
        parts->scope.date != amz_date->substr(0, 8)) {
      return error_response(401,
                            "authentication failed: the credential scope must be "
                            "<date of X-Amz-Date>/" +
                                region + "/sts/aws4_request");
    }
    auto skew = Clock::now() - *date;
    if (skew > std::chrono::minutes(15) || skew < -std::chrono::minutes(15)) {
      return error_response(401,
                            "authentication failed: X-Amz-Date is more than 15 minutes "
                            "from the gateway's clock");
    }
    const AwsCredential* credential = nullptr;
    for (const auto& candidate : access.aws_credentials) {
      if (candidate.access_key_id == parts->access_key_id) {
        credential = &candidate;
      }
    }
    if (credential == nullptr) {
      return error_response(401, "authentication failed: AWS access key id " +
                                     parts->access_key_id + " is not bound to " + access_id);
    }
    auto security_token = header("X-Amz-Security-Token");
    if (security_token.value_or("") != credential->session_token) {
      return error_response(401,
                            "authentication failed: X-Amz-Security-Token does not match "
                            "the credentials' session token");
    }
    sigv4::Credentials credentials{credential->access_key_id, credential->secret_access_key,
                                   credential->session_token};
    auto verified = sigv4::verify(signed_request, credentials);
    if (!verified.ok()) {
      return error_response(401,
                            "authentication failed: STS GetCallerIdentity signature does "
                            "not verify");
    }
  }

  // == issue a token ==
  std::string token = "t-" + random_hex(16);
  TimePoint now = Clock::now();
  std::int64_t lifetime = access.token_lifetime_seconds.value_or(token_lifetime_seconds_);
  TimePoint expires = now + std::chrono::seconds(lifetime);
  tokens_[token] = TokenInfo{access_id, now, expires, false};
  return json_response(200, json::object{{"token", token}, {"expiration", rfc3339(expires)}});
}

const AccessIdConfig* State::check_token(const json::object& body, Outcome& error, LogEntry& log) {
  if (auto missing = require(body, {"token"})) {
    error = *missing;
    return nullptr;
  }
  auto it = tokens_.find(string_field(body, "token"));
  if (it == tokens_.end()) {
    error = error_response(401, "invalid token");
    return nullptr;
  }
  log.access_id = it->second.access_id;
  auto access = access_ids_.find(it->second.access_id);
  if (access != access_ids_.end()) {
    log.access_type = access->second.access_type;
  }
  if (it->second.revoked) {
    error = error_response(401, "token revoked; authenticate again");
    return nullptr;
  }
  if (Clock::now() >= it->second.expires) {
    error = error_response(401, "token expired; authenticate again");
    return nullptr;
  }
  if (access == access_ids_.end()) {
    error = error_response(401, "invalid token: its auth method was removed");
    return nullptr;
  }
  return &access->second;
}

Result<const Item*> State::readable_item(const AccessIdConfig& access, const std::string& name,
                                         Outcome& error) {
  auto it = items_.find(name);
  if (it == items_.end()) {
    error = error_response(404, "item not found: " + name);
    return Error(akeyless_upstream::ErrorCode::kNotFound, "");
  }
  bool allowed =
      std::any_of(access.read_patterns.begin(), access.read_patterns.end(),
                  [&](const std::string& pattern) { return pattern_matches(pattern, name); });
  if (!allowed) {
    error = error_response(403, "access denied: " + access.access_id + " may not read " + name);
    return Error(akeyless_upstream::ErrorCode::kPermissionDenied, "");
  }
  return &it->second;
}

Outcome State::handle_get_certificate_value(const json::object& body, LogEntry& log) {
  if (auto missing = require(body, {"name"})) {
    return *missing;
  }
  log.item = string_field(body, "name");
  Outcome error;
  const AccessIdConfig* access = check_token(body, error, log);
  if (access == nullptr) {
    return error;
  }
  auto item = readable_item(*access, log.item, error);
  if (!item.ok()) {
    return error;
  }
  if ((*item)->type != "CERTIFICATE") {
    return error_response(400, "item " + log.item + " is of type " + (*item)->type +
                                   ", not CERTIFICATE; use the operation for that item type");
  }
  std::int64_t wanted = 0;
  if (const json::value* version = body.if_contains("version")) {
    wanted = version->is_int64() ? version->get_int64() : -1;
    if (wanted < 0) {
      return error_response(400, "version must be a non-negative integer");
    }
  }
  const ItemVersion* found = &(*item)->versions.back();
  if (wanted != 0) {
    found = nullptr;
    for (const auto& candidate : (*item)->versions) {
      if (candidate.version == wanted) {
        found = &candidate;
      }
    }
    if (found == nullptr) {
      return error_response(
          404, "item version " + std::to_string(wanted) + " not found for " + log.item);
    }
  }
  json::object answer{{"certificate_pem", found->certificate_pem}};
  if (!found->private_key_pem.empty()) {
    answer["private_key_pem"] = found->private_key_pem.reveal();
  }
  return json_response(200, answer);
}

Outcome State::handle_describe_item(const json::object& body, LogEntry& log) {
  if (auto missing = require(body, {"name"})) {
    return *missing;
  }
  log.item = string_field(body, "name");
  Outcome error;
  const AccessIdConfig* access = check_token(body, error, log);
  if (access == nullptr) {
    return error;
  }
  auto found = readable_item(*access, log.item, error);
  if (!found.ok()) {
    return error;
  }
  const Item& item = **found;
  const ItemVersion& latest = item.versions.back();
  json::object answer{
      {"item_name", item.name},
      {"item_type", item.type},
      {"last_version", latest.version},
      {"creation_date", rfc3339(item.created)},
      {"modification_date", rfc3339(item.modified)},
      {"is_enabled", true},
      {"item_state", "Enabled"},
  };
  const json::value* show = body.if_contains("show-versions");
  if (show != nullptr && show->get_bool()) {
    json::array versions;
    for (const auto& version : item.versions) {
      versions.push_back(json::object{{"version", version.version},
                                      {"creation_date", rfc3339(version.created)},
                                      {"item_version_state", "Enabled"}});
    }
    answer["item_versions"] = std::move(versions);
  }
  if (item.type == "CERTIFICATE") {
    json::object chain_info{{"certificate_has_private_key", !latest.private_key_pem.empty()},
                            {"certificate_format", "pem"}};
    json::array chain;
    auto certificates =
        akeyless_upstream::parse_certificates_pem(latest.certificate_pem, "certificate item");
    if (certificates.ok() && !certificates->empty()) {
      for (const auto& certificate : *certificates) {
        chain.push_back(certificate_info(certificate));
      }
      const auto& leaf = certificates->front();
      chain_info["expiration_date"] = rfc3339(leaf.not_after());
      chain_info["not_before"] = rfc3339(leaf.not_before());
      chain_info["common_name"] = leaf.subject();
      chain_info["certificate_status"] = "Valid";
    }
    chain_info["certificate_chain"] = std::move(chain);
    answer["item_general_info"] =
        json::object{{"certificate_format", "pem"}, {"certificate_chain_info", chain_info}};
  }
  return json_response(200, answer);
}

Outcome State::handle_validate_token(const json::object& body, LogEntry& log) {
  if (auto missing = require(body, {"token"})) {
    return *missing;
  }
  auto it = tokens_.find(string_field(body, "token"));
  if (it == tokens_.end()) {
    return error_response(401, "invalid token");
  }
  log.access_id = it->second.access_id;
  TimePoint now = Clock::now();
  std::string reason;
  if (it->second.revoked) {
    reason = "token revoked";
  } else if (now >= it->second.expires) {
    reason = "token expired";
  }
  auto ttl = std::chrono::duration_cast<std::chrono::seconds>(it->second.expires - now).count();
  return json_response(200, json::object{{"is_valid", reason.empty()},
                                         {"expiration", rfc3339(it->second.expires)},
                                         {"ttl", std::max<std::int64_t>(ttl, 0)},
                                         {"reason", reason},
                                         {"last_rotate", rfc3339(it->second.issued)}});
}

// == fake cloud metadata services ==

Outcome State::handle_metadata(const Request& request, std::string_view operation, LogEntry& log) {
  std::string_view target = request.target;
  std::size_t question = target.find('?');
  auto query = parse_query(question == std::string_view::npos ? std::string_view()
                                                              : target.substr(question + 1));
  std::string_view path = target.substr(0, question);

  if (operation == "gce-identity") {
    log.access_type = "gcp";
    if (request.method != "GET") {
      return text_response(405, "method not allowed\n");
    }
    // GCE refuses requests without the header, which guards against SSRF-style proxying.
    if (request.header("Metadata-Flavor").value_or("") != "Google") {
      return text_response(403, "missing Metadata-Flavor: Google header\n");
    }
    if (metadata_.gce_identity_token.empty()) {
      return text_response(404, "no service account configured\n");
    }
    auto audience = query.find("audience");
    if (audience == query.end() || audience->second.empty()) {
      return text_response(400, "missing audience parameter\n");
    }
    if (!metadata_.gce_audience.empty() && audience->second != metadata_.gce_audience) {
      return text_response(400, "audience does not match the emulator's configuration\n");
    }
    return text_response(200, std::string(metadata_.gce_identity_token.reveal()));
  }

  if (operation == "azure-token" || operation == "azure-instance") {
    log.access_type = "azure_ad";
    if (request.method != "GET") {
      return error_response(405, "method not allowed");
    }
    if (request.header("Metadata").value_or("") != "true") {
      return error_response(400, "Required metadata header not specified");
    }
    if (query.find("api-version") == query.end()) {
      return error_response(400, "Required query variable 'api-version' is missing");
    }
    if (operation == "azure-instance") {
      return json_response(200, json::object{{"compute", json::object{
                                                             {"azEnvironment", "AzurePublicCloud"},
                                                         }}});
    }
    auto resource = query.find("resource");
    if (resource == query.end() || resource->second.empty()) {
      return error_response(400, "Required query variable 'resource' is missing");
    }
    if (metadata_.azure_access_token.empty()) {
      return error_response(404, "Identity not found");
    }
    auto expires = Clock::now() + std::chrono::hours(1);
    auto expires_on =
        std::chrono::duration_cast<std::chrono::seconds>(expires.time_since_epoch()).count();
    return json_response(200, json::object{{"access_token", metadata_.azure_access_token.reveal()},
                                           {"expires_in", "3600"},
                                           {"expires_on", std::to_string(expires_on)},
                                           {"resource", resource->second},
                                           {"token_type", "Bearer"}});
  }

  // AWS IMDSv2: a session token first, then the role name and its credentials.
  log.access_type = "aws_iam";
  if (metadata_.aws_access_key_id.empty()) {
    return text_response(404, "not found\n");
  }
  if (operation == "aws-imds-token") {
    if (request.method != "PUT") {
      return text_response(405, "method not allowed\n");
    }
    std::string ttl_text = request.header("X-aws-ec2-metadata-token-ttl-seconds").value_or("");
    long ttl = 0;
    try {
      ttl = ttl_text.empty() ? 0 : std::stol(ttl_text);
    } catch (const std::exception&) {
      ttl = 0;
    }
    if (ttl < 1 || ttl > 21600) {
      return text_response(400, "missing or invalid X-aws-ec2-metadata-token-ttl-seconds\n");
    }
    std::string token = "imds-" + random_hex(16);
    imds_tokens_[token] = Clock::now() + std::chrono::seconds(ttl);
    return text_response(200, token);
  }
  if (request.method != "GET") {
    return text_response(405, "method not allowed\n");
  }
  auto session = imds_tokens_.find(request.header("X-aws-ec2-metadata-token").value_or(""));
  if (session == imds_tokens_.end() || Clock::now() >= session->second) {
    return text_response(401, "unauthorized\n");
  }
  std::string_view role =
      path.substr(std::string_view("/latest/meta-data/iam/security-credentials/").size());
  if (role.empty()) {
    return text_response(200, metadata_.aws_role);
  }
  if (role != metadata_.aws_role) {
    return text_response(404, "not found\n");
  }
  json::object credentials{
      {"Code", "Success"},
      {"LastUpdated", rfc3339(Clock::now())},
      {"Type", "AWS-HMAC"},
      {"AccessKeyId", metadata_.aws_access_key_id},
      {"SecretAccessKey", metadata_.aws_secret_access_key.reveal()},
      {"Token", metadata_.aws_session_token.reveal()},
      {"Expiration", rfc3339(Clock::now() + std::chrono::hours(6))},
  };
  Outcome outcome = json_response(200, credentials);
  outcome.content_type = "text/plain";  // IMDS serves every document as text/plain
  return outcome;
}

// == admin API ==

Outcome State::handle_admin(const Request& request, LogEntry& /*log*/) {
  std::string_view target = request.target;
  std::string_view path = target.substr(0, target.find('?'));
  const std::string& method = request.method;

  json::object body;
  if (method == "POST" && !request.body.empty()) {
    json::error_code ec;
    json::value doc = json::parse(request.body, ec);
    if (ec || !doc.is_object()) {
      return error_response(400, "admin: body must be a JSON object");
    }
    body = doc.get_object();
  }
  auto bad = [](const Error& error) { return error_response(400, error.message()); };

  if (path == "/_emulator/health") {
    return json_response(200, json::object{{"ok", true}});
  }
  if (path == "/_emulator/items" && method == "POST") {
    if (auto status = add_item(body, ""); !status.ok()) {
      return bad(status.error());
    }
    const Item& item = items_.at(string_field(body, "name"));
    return json_response(
        200, json::object{{"name", item.name}, {"last_version", item.versions.back().version}});
  }
  if (path == "/_emulator/items/rotate" && method == "POST") {
    std::string name = string_field(body, "name");
    auto version = rotate_item(name, body);
    if (!version.ok()) {
      return error_response(
          version.error().code() == akeyless_upstream::ErrorCode::kNotFound ? 404 : 400,
          version.error().message());
    }
    return json_response(200, json::object{{"name", name}, {"last_version", *version}});
  }
  if (path == "/_emulator/access-ids" && method == "POST") {
    if (auto status = add_access_id(body); !status.ok()) {
      return bad(status.error());
    }
    return json_response(200, json::object{{"access_id", string_field(body, "access_id")}});
  }
  if (path == "/_emulator/tokens/revoke" && method == "POST") {
    for (auto& [token, info] : tokens_) {
      info.revoked = true;
    }
    return json_response(200, json::object{{"revoked", tokens_.size()}});
  }
  if (path == "/_emulator/settings" && method == "POST") {
    const json::value* value = body.if_contains("token_lifetime_seconds");
    if (value == nullptr || !value->is_int64() || value->get_int64() <= 0) {
      return error_response(400, "admin: token_lifetime_seconds must be a positive integer");
    }
    std::int64_t lifetime = value->get_int64();
    token_lifetime_seconds_ = lifetime;
    return json_response(200, json::object{{"token_lifetime_seconds", lifetime}});
  }
  if (path == "/_emulator/faults" && method == "POST") {
    Fault fault;
    fault.operation = string_field(body, "operation");
    fault.kind = string_field(body, "kind");
    static const std::set<std::string, std::less<>> kKinds = {"latency",
                                                              "status",
                                                              "drop",
                                                              "hang",
                                                              "oversized",
                                                              "malformed-json",
                                                              "wrong-content-type",
                                                              "empty-object"};
    static const std::set<std::string, std::less<>> kOperations = {"auth",
                                                                   "get-certificate-value",
                                                                   "describe-item",
                                                                   "validate-token",
                                                                   "*",
                                                                   "gce-identity",
                                                                   "azure-token",
                                                                   "azure-instance",
                                                                   "aws-imds-token",
                                                                   "aws-credentials",
                                                                   "metadata-*"};
    if (!kOperations.contains(fault.operation)) {
      return error_response(400, "admin: unknown fault operation '" + fault.operation + "'");
    }
    if (!kKinds.contains(fault.kind)) {
      return error_response(400, "admin: unknown fault kind '" + fault.kind + "'");
    }
    auto int_field = [&](std::string_view key, std::int64_t fallback) {
      const json::value* value = body.if_contains(key);
      return value != nullptr && value->is_int64() ? value->get_int64() : fallback;
    };
    fault.status = static_cast<int>(int_field("status", 503));
    if (fault.status < 100 || fault.status > 599) {
      return error_response(400, "admin: fault status must be 100..599");
    }
    if (body.contains("error")) {
      fault.error = string_field(body, "error");
    }
    fault.latency_ms = int_field("latency_ms", 0);
    fault.size_bytes =
        static_cast<std::size_t>(int_field("size_bytes", std::int64_t{16} * 1024 * 1024));
    fault.retry_after = int_field("retry_after", -1);
    fault.remaining = int_field("count", 0);
    fault.id = next_fault_id_++;
    faults_.push_back(fault);
    return json_response(200, json::object{{"id", fault.id}});
  }
  if (path == "/_emulator/faults" && method == "GET") {
    json::array list;
    for (const auto& fault : faults_) {
      list.push_back(json::object{{"id", fault.id},
                                  {"operation", fault.operation},
                                  {"kind", fault.kind},
                                  {"status", fault.status},
                                  {"remaining", fault.remaining}});
    }
    return json_response(200, json::object{{"faults", std::move(list)}});
  }
  if ((path == "/_emulator/faults" && method == "DELETE") ||
      (path == "/_emulator/faults/clear" && method == "POST")) {
    faults_.clear();
    return json_response(200, json::object{{"cleared", true}});
  }
  if (path == "/_emulator/log" && method == "GET") {
    json::array entries;
    for (const auto& entry : log_) {
      json::object line{{"seq", entry.seq},
                        {"time", entry.time},
                        {"port", entry.port},
                        {"operation", entry.operation},
                        {"status", entry.status}};
      for (auto [key, value] :
           {std::pair{"access_type", &entry.access_type}, std::pair{"access_id", &entry.access_id},
            std::pair{"item", &entry.item}, std::pair{"fault", &entry.fault}}) {
        if (!value->empty()) {
          line[key] = *value;
        }
      }
      entries.push_back(std::move(line));
    }
    return json_response(200, json::object{{"entries", std::move(entries)}});
  }
  if ((path == "/_emulator/log" && method == "DELETE") ||
      (path == "/_emulator/log/clear" && method == "POST")) {
    log_.clear();
    return json_response(200, json::object{{"cleared", true}});
  }
  if (path == "/_emulator/reset" && method == "POST") {
    faults_.clear();
    log_.clear();
    tokens_.clear();
    imds_tokens_.clear();
    return json_response(200, json::object{{"reset", true}});
  }
  return error_response(404, "admin: unknown request " + method + " " + std::string(path));
}

}  // namespace emulator
