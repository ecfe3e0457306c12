#include <unistd.h>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "akeyless_upstream/akeyless_client.hpp"
#include "akeyless_upstream/auth_provider.hpp"
#include "akeyless_upstream/encoding.hpp"
#include "akeyless_upstream/sigv4.hpp"

namespace aku = akeyless_upstream;
namespace json = boost::json;

namespace {

std::string decode_base64(std::string_view text) {
  auto bytes = aku::base64_decode(text);
  REQUIRE(bytes.ok());
  return std::string(bytes->begin(), bytes->end());
}

json::object parse_object(std::string_view text) {
  json::error_code ec;
  json::value value = json::parse(text, ec);
  REQUIRE_FALSE(ec);
  REQUIRE(value.is_object());
  return value.as_object();
}

std::int64_t unix_seconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

aku::Deadline soon() {
  return std::chrono::steady_clock::now() + std::chrono::seconds(30);
}

}  // namespace

TEST_CASE("token expiration is read from RFC 3339 strings and Unix seconds or milliseconds",
          "[expiration]") {
  // 2026-12-03T17:00:00Z = 1796317200.
  auto rfc = aku::parse_token_expiration("\"2026-12-03T17:00:00Z\"");
  REQUIRE(rfc.has_value());
  CHECK(unix_seconds(*rfc) == 1796317200);

  auto offset = aku::parse_token_expiration("\"2026-12-03T18:30:00.123+01:30\"");
  REQUIRE(offset.has_value());
  CHECK(unix_seconds(*offset) == 1796317200);

  auto go_style = aku::parse_token_expiration("\"2026-12-03 17:00:00 +0000 UTC\"");
  REQUIRE(go_style.has_value());
  CHECK(unix_seconds(*go_style) == 1796317200);

  auto seconds = aku::parse_token_expiration("1796317200");
  REQUIRE(seconds.has_value());
  CHECK(unix_seconds(*seconds) == 1796317200);

  auto millis = aku::parse_token_expiration("1796317200000");
  REQUIRE(millis.has_value());
  CHECK(unix_seconds(*millis) == 1796317200);

  auto quoted = aku::parse_token_expiration("\"1796317200\"");
  REQUIRE(quoted.has_value());
  CHECK(unix_seconds(*quoted) == 1796317200);

  CHECK_FALSE(aku::parse_token_expiration("\"tomorrow\"").has_value());
  CHECK_FALSE(aku::parse_token_expiration("null").has_value());
  CHECK_FALSE(aku::parse_token_expiration("-5").has_value());
  CHECK_FALSE(aku::parse_token_expiration("\"2026-13-03T17:00:00Z\"").has_value());
}

TEST_CASE("gateway errors map to specific codes and keep the gateway's reason", "[errors]") {
  struct Case {
    int status;
    const char* body;
    aku::ErrorCode code;
  };
  const Case cases[] = {
      {401, R"({"error":"token expired"})", aku::ErrorCode::kUnauthenticated},
      {403, R"({"error":"nope"})", aku::ErrorCode::kPermissionDenied},
      {400, R"({"error":"Access Denied for /SPIRE/ca"})", aku::ErrorCode::kPermissionDenied},
      {500, R"({"error":"failed: permission denied"})", aku::ErrorCode::kPermissionDenied},
      {400, R"({"error":"action not allowed"})", aku::ErrorCode::kPermissionDenied},
      {404, R"({"error":"whatever"})", aku::ErrorCode::kNotFound},
      {400, R"({"error":"Item not found"})", aku::ErrorCode::kNotFound},
      {400, R"({"error":"item /x doesn't exist"})", aku::ErrorCode::kNotFound},
      {500, R"({"error":"the item does not exist"})", aku::ErrorCode::kNotFound},
      {429, R"({"error":"slow down"})", aku::ErrorCode::kResourceExhausted},
      {500, R"({"error":"internal"})", aku::ErrorCode::kUnavailable},
      {503, "<html>bad gateway</html>", aku::ErrorCode::kUnavailable},
      {400, R"({"error":"malformed name"})", aku::ErrorCode::kInvalidArgument},
      {400, R"({"error":"item /x is of type STATIC_SECRET, not CERTIFICATE"})",
       aku::ErrorCode::kFailedPrecondition},
      {302, "", aku::ErrorCode::kUnavailable},
      // A path that is no v2 operation (wrong base URL), not a missing item.
      {404, R"({"error":"unknown command"})", aku::ErrorCode::kInvalidArgument},
  };
  for (const Case& c : cases) {
    INFO(c.status << " " << c.body);
    aku::Error error = aku::map_gateway_error("get-certificate-value", c.status, c.body);
    CHECK(error.code() == c.code);
    CHECK(error.message().find("get-certificate-value") != std::string::npos);
    CHECK(error.message().find(std::to_string(c.status)) != std::string::npos);
  }
  aku::Error kept = aku::map_gateway_error("auth", 401, R"({"error":"credentials have expired"})");
  CHECK(kept.message().find("credentials have expired") != std::string::npos);
  aku::Error wrong_url = aku::map_gateway_error("auth", 404, R"({"error":"unknown command"})");
  CHECK(wrong_url.message().find("not a v2 API operation") != std::string::npos);
}

TEST_CASE("a gateway reason is truncated and stripped of control characters", "[errors]") {
  std::string reason(5000, 'x');
  reason += "TAIL";
  aku::Error error =
      aku::map_gateway_error("auth", 500, "{\"error\":\"line1\\nline2 " + reason + "\"}");
  CHECK(error.message().size() < 600);
  CHECK(error.message().find('\n') == std::string::npos);
  CHECK(error.message().find("TAIL") == std::string::npos);
}

TEST_CASE("the aws_iam cloud-id carries a signed STS request with list-valued headers", "[aws]") {
  aku::sigv4::Credentials credentials{"AKIDEXAMPLE",
                                      aku::SecretString("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
                                      "session-token-value"};
  auto cloud_id = aku::aws_cloud_id(credentials, "eu-west-1", "20150830T123600Z");
  REQUIRE(cloud_id.ok());

  json::object document = parse_object(decode_base64(cloud_id->reveal()));
  CHECK(document.size() == 4);
  CHECK(document.at("sts_request_method").as_string() == "POST");
  CHECK(decode_base64(document.at("sts_request_url").as_string()) ==
        "https://sts.eu-west-1.amazonaws.com/");
  std::string body = decode_base64(document.at("sts_request_body").as_string());
  CHECK(body == "Action=GetCallerIdentity&Version=2011-06-15");

  json::object headers =
      parse_object(decode_base64(document.at("sts_request_headers").as_string()));
  for (const char* name :
       {"Authorization", "Content-Type", "Host", "X-Amz-Date", "X-Amz-Security-Token"}) {
    INFO(name);
    REQUIRE(headers.contains(name));
    REQUIRE(headers.at(name).is_array());
    CHECK(headers.at(name).as_array().size() == 1);
    CHECK(headers.at(name).as_array()[0].is_string());
  }
  CHECK(headers.at("Host").as_array()[0].as_string() == "sts.eu-west-1.amazonaws.com");
  CHECK(headers.at("Content-Type").as_array()[0].as_string() ==
        "application/x-www-form-urlencoded; charset=utf-8");
  CHECK(headers.at("X-Amz-Security-Token").as_array()[0].as_string() == "session-token-value");

  // A verifier that sees the decoded request accepts the signature (and every signed header is
  // in the map).
  aku::sigv4::Request received;
  received.method = "POST";
  received.path = "/";
  received.payload = body;
  for (const auto& [name, values] : headers) {
    received.headers.emplace_back(std::string(name), std::string(values.as_array()[0].as_string()));
  }
  CHECK(aku::sigv4::verify(received, credentials).ok());
  std::string authorization(headers.at("Authorization").as_array()[0].as_string());
  CHECK(authorization.find("/eu-west-1/sts/aws4_request") != std::string::npos);
  CHECK(authorization.find("SignedHeaders=content-type;host;x-amz-date;x-amz-security-token") !=
        std::string::npos);
}

TEST_CASE("the STS URL follows the region, with the China partition's suffix", "[aws]") {
  CHECK(aku::aws_sts_url("us-east-1") == "https://sts.us-east-1.amazonaws.com/");
  CHECK(aku::aws_sts_url("cn-north-1") == "https://sts.cn-north-1.amazonaws.com.cn/");
}

TEST_CASE("make_auth_provider names the missing configuration key", "[auth]") {
  aku::AuthConfig config;
  config.access_type = "api_key";
  auto no_id = aku::make_auth_provider(config);
  REQUIRE_FALSE(no_id.ok());
  CHECK(no_id.error().code() == aku::ErrorCode::kInvalidArgument);
  CHECK(no_id.error().message().find("access_id") != std::string::npos);

  config.access_id = "p-abc";
  auto no_key = aku::make_auth_provider(config);
  REQUIRE_FALSE(no_key.ok());
  CHECK(no_key.error().message().find("access_key") != std::string::npos);

  config.access_type = "k8s";
  auto no_config = aku::make_auth_provider(config);
  REQUIRE_FALSE(no_config.ok());
  CHECK(no_config.error().message().find("k8s_auth_config_name") != std::string::npos);

  config.access_type = "password";
  auto unknown = aku::make_auth_provider(config);
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.error().message().find("api_key") != std::string::npos);
}

TEST_CASE("the api_key body uses the wire access type access_key", "[auth]") {
  aku::AuthConfig config;
  config.access_type = "api_key";
  config.access_id = "p-abc";
  config.access_key = aku::SecretString("key-material");
  auto provider = aku::make_auth_provider(config);
  REQUIRE(provider.ok());
  CHECK((*provider)->access_type() == "api_key");
  auto http = aku::HttpClient::create({});
  REQUIRE(http.ok());
  auto body = (*provider)->auth_request_body(**http, soon());
  REQUIRE(body.ok());
  json::object object = parse_object(body->reveal());
  CHECK(object.at("access-type").as_string() == "access_key");
  CHECK(object.at("access-id").as_string() == "p-abc");
  CHECK(object.at("access-key").as_string() == "key-material");
}

TEST_CASE("the k8s provider re-reads and base64-encodes the trimmed token file every time",
          "[auth]") {
  char path[] = "/tmp/akeyless-k8s-token-XXXXXX";
  int fd = ::mkstemp(path);
  REQUIRE(fd >= 0);
  ::close(fd);
  { std::ofstream(path) << "  first.jwt.token\n"; }
  aku::AuthConfig config;
  config.access_type = "k8s";
  config.access_id = "p-k8s";
  config.k8s_auth_config_name = "cluster-a";
  config.k8s_service_account_token_path = path;
  auto provider = aku::make_auth_provider(config);
  REQUIRE(provider.ok());
  auto http = aku::HttpClient::create({});
  REQUIRE(http.ok());

  auto first = (*provider)->auth_request_body(**http, soon());
  REQUIRE(first.ok());
  json::object object = parse_object(first->reveal());
  CHECK(object.at("access-type").as_string() == "k8s");
  CHECK(object.at("k8s-auth-config-name").as_string() == "cluster-a");
  CHECK(decode_base64(object.at("k8s-service-account-token").as_string()) == "first.jwt.token");

  { std::ofstream(path) << "second.jwt.token"; }
  auto second = (*provider)->auth_request_body(**http, soon());
  REQUIRE(second.ok());
  CHECK(decode_base64(parse_object(second->reveal()).at("k8s-service-account-token").as_string()) ==
        "second.jwt.token");

  std::remove(path);
  auto missing = (*provider)->auth_request_body(**http, soon());
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().code() == aku::ErrorCode::kFailedPrecondition);
  CHECK(missing.error().message().find(path) != std::string::npos);
}
