// Self-tests of the gateway emulator: the real process over real TLS on loopback, driven with raw
// requests, so that the strictness the client tests rely on is itself checked.

#include <ctime>
#include <string>
#include <thread>

#include <catch2/catch.hpp>

#include "akeyless_upstream/certificate.hpp"
#include "akeyless_upstream/encoding.hpp"
#include "akeyless_upstream/sigv4.hpp"
#include "emulator_process.hpp"

namespace {

namespace json = boost::json;
using akeyless_upstream::base64_encode;
using emulator_test::EmulatorProcess;
using emulator_test::RawRequest;
using emulator_test::RawResponse;

// Test credentials: distinctive strings so a leak into a log is easy to find.
constexpr const char* kAccessKey = "AK-SECRET-0f1e2d3c4b5a";
constexpr const char* kK8sToken = "K8S-JWT-SECRET-a1b2c3";
constexpr const char* kGceToken = "GCE-JWT-SECRET-d4e5f6g";
constexpr const char* kAzureToken = "AZURE-TOKEN-SECRET-778899";
constexpr const char* kAwsSecret = "AWS-SECRET-KEY-aabbccdd";
constexpr const char* kAwsSession = "AWS-SESSION-TOKEN-eeff0011";

std::string config(int token_lifetime = 3600) {
  json::object root{
      {"token_lifetime_seconds", token_lifetime},
      {"access_ids",
       json::array{
           json::object{{"access_id", "p-key"},
                        {"access_type", "access_key"},
                        {"access_key", kAccessKey},
                        {"read", json::array{"/SPIRE/*"}}},
           json::object{{"access_id", "p-k8s"},
                        {"access_type", "k8s"},
                        {"k8s_auth_config_name", "spire-k8s"},
                        {"k8s_service_account_token", kK8sToken}},
           json::object{{"access_id", "p-gcp"},
                        {"access_type", "gcp"},
                        {"gcp_audience", "akeyless.io"},
                        {"gce_identity_token", kGceToken}},
           json::object{{"access_id", "p-azure"},
                        {"access_type", "azure_ad"},
                        {"azure_access_token", kAzureToken}},
           json::object{
               {"access_id", "p-aws"},
               {"access_type", "aws_iam"},
               {"aws_credentials", json::array{json::object{{"access_key_id", "AKIDEMULATOR"},
                                                            {"secret_access_key", kAwsSecret},
                                                            {"session_token", kAwsSession}}}}},
       }},
      {"items",
       json::array{
           json::object{{"name", "/SPIRE/root"},
                        {"type", "CERTIFICATE"},
                        {"generate", json::object{{"kind", "root"}}}},
           json::object{{"name", "/SPIRE/intermediate"},
                        {"type", "CERTIFICATE"},
                        {"generate",
                         json::object{{"kind", "intermediate"}, {"bundle_item", "/SPIRE/bundle"}}}},
           json::object{{"name", "/SPIRE/static"}, {"type", "STATIC_SECRET"}},
           json::object{{"name", "/elsewhere/ca"},
                        {"type", "CERTIFICATE"},
                        {"generate", json::object{{"kind", "root"}}}},
       }},
      {"metadata", json::object{{"gce", json::object{{"identity_token", kGceToken}}},
                                {"azure", json::object{{"access_token", kAzureToken}}},
                                {"aws", json::object{{"access_key_id", "AKIDEMULATOR"},
                                                     {"secret_access_key", kAwsSecret},
                                                     {"session_token", kAwsSession}}}}},
  };
  return json::serialize(root);
}

std::string login(const EmulatorProcess& emulator) {
  RawResponse response = emulator.post_json("/auth", json::object{{"access-id", "p-key"},
                                                                  {"access-type", "access_key"},
                                                                  {"access-key", kAccessKey}});
  REQUIRE(response.status == 200);
  return std::string(response.json().at("token").as_string());
}

std::string amz_date(std::time_t when) {
  std::tm parts{};
  gmtime_r(&when, &parts);
  char text[32];
  std::strftime(text, sizeof(text), "%Y%m%dT%H%M%SZ", &parts);
  return text;
}

// aws_cloud_id builds an aws_iam cloud-id the way reference section 5.1 describes, signing with
// the library's SigV4 code; `keep_host` false mimics Go's http.Header, which has no Host entry.
std::string aws_cloud_id(const std::string& secret, std::time_t when, bool keep_host = true,
                         const std::string& region = "us-west-2") {
  namespace sigv4 = akeyless_upstream::sigv4;
  std::string host = "sts." + region + ".amazonaws.com";
  sigv4::Request request;
  request.method = "POST";
  request.path = "/";
  request.headers = {{"Host", host},
                     {"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}};
  request.payload = "Action=GetCallerIdentity&Version=2011-06-15";
  sigv4::Credentials credentials{"AKIDEMULATOR", akeyless_upstream::SecretString(secret),
                                 kAwsSession};
  REQUIRE(sigv4::sign(request, credentials, region, "sts", amz_date(when)).ok());
  json::object headers;
  for (const auto& [name, value] : request.headers) {
    if (name == "Host" && !keep_host) {
      continue;
    }
    headers[name] = json::array{json::string(value)};
  }
  json::object document{
      {"sts_request_method", "POST"},
      {"sts_request_url", base64_encode("https://" + host + "/")},
      {"sts_request_body", base64_encode(request.payload)},
      {"sts_request_headers", base64_encode(json::serialize(headers))},
  };
  return base64_encode(json::serialize(document));
}

std::string error_of(const RawResponse& response) {
  return std::string(response.json().at("error").as_string());
}

}  // namespace

TEST_CASE("the emulator writes its CA and endpoints and serves all three gateway path forms",
          "[emulator]") {
  EmulatorProcess emulator(config());
  CHECK(emulator.endpoint().rfind("https://127.0.0.1:", 0) == 0);
  CHECK(emulator.metadata_endpoint().rfind("http://127.0.0.1:", 0) == 0);
  std::string token = login(emulator);
  CHECK(token.rfind("t-", 0) == 0);

  for (const char* path : {"/validate-token", "/api/v2/validate-token", "/v2/validate-token"}) {
    INFO(path);
    RawResponse response = emulator.post_json(path, json::object{{"token", token}});
    REQUIRE(response.status == 200);
    CHECK(response.content_type == "application/json");
    CHECK(response.json().at("is_valid").as_bool());
  }
  for (const char* path : {"//validate-token", "/", "/api/v2", "/api/v1/validate-token"}) {
    INFO(path);
    RawResponse response = emulator.post_json(path, json::object{{"token", token}});
    CHECK(response.status == 404);
    CHECK(error_of(response) == "unknown command");
  }
}

TEST_CASE("auth answers a t- token with an RFC 3339 expiration", "[emulator]") {
  EmulatorProcess emulator(config(600));
  RawResponse response =
      emulator.post_json("/auth", json::object{{"access-id", "p-key"}, {"access-key", kAccessKey}});
  REQUIRE(response.status == 200);
  json::value body = response.json();
  std::string expiration(body.at("expiration").as_string());
  CHECK(expiration.size() == 20);
  CHECK(expiration[10] == 'T');
  CHECK(expiration.back() == 'Z');
}

TEST_CASE("the emulator refuses requests that differ from the reference's wire format",
          "[emulator]") {
  EmulatorProcess emulator(config());
  std::string token = login(emulator);

  SECTION("a method other than POST") {
    RawRequest request;
    request.method = "GET";
    request.target = "/auth";
    CHECK(emulator.gateway(request).status == 405);
  }
  SECTION("a content type other than application/json") {
    RawRequest request;
    request.target = "/auth";
    request.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
    request.body = "access-id=p-key";
    RawResponse response = emulator.gateway(request);
    CHECK(response.status == 415);
    CHECK(error_of(response).find("application/json") != std::string::npos);
  }
  SECTION("a charset parameter on application/json is fine") {
    RawRequest request;
    request.target = "/validate-token";
    request.headers = {{"Content-Type", "application/json; charset=utf-8"}};
    request.body = json::serialize(json::object{{"token", token}});
    CHECK(emulator.gateway(request).status == 200);
  }
  SECTION("a body that is not a JSON object") {
    RawRequest request;
    request.target = "/auth";
    request.body = "[\"access-id\"]";
    CHECK(emulator.gateway(request).status == 400);
  }
  SECTION("an underscore spelling of a key") {
    RawResponse response = emulator.post_json(
        "/auth", json::object{{"access_id", "p-key"}, {"access-key", kAccessKey}});
    CHECK(response.status == 400);
    CHECK(error_of(response).find("'access_id'") != std::string::npos);
  }
  SECTION("a missing required key") {
    RawResponse response = emulator.post_json("/auth", json::object{{"access-id", "p-key"}});
    CHECK(response.status == 400);
    CHECK(error_of(response).find("access-key") != std::string::npos);
  }
  SECTION("ignore-cache as a JSON boolean instead of the string \"true\"") {
    RawResponse response = emulator.post_json(
        "/get-certificate-value",
        json::object{{"name", "/SPIRE/root"}, {"token", token}, {"ignore-cache", true}});
    CHECK(response.status == 400);
    CHECK(error_of(response).find("ignore-cache") != std::string::npos);
  }
  SECTION("version as a string") {
    RawResponse response = emulator.post_json(
        "/get-certificate-value",
        json::object{{"name", "/SPIRE/root"}, {"token", token}, {"version", "1"}});
    CHECK(response.status == 400);
  }
  SECTION("a credential key of another access type") {
    RawResponse response = emulator.post_json(
        "/auth", json::object{{"access-id", "p-k8s"},
                              {"access-type", "k8s"},
                              {"k8s-auth-config-name", "spire-k8s"},
                              {"k8s-service-account-token", base64_encode(kK8sToken)},
                              {"access-key", kAccessKey}});
    CHECK(response.status == 400);
  }
  SECTION("an oversized request body") {
    RawRequest request;
    request.target = "/auth";
    request.body = "{\"access-id\": \"" + std::string(2 * 1024 * 1024, 'p') + "\"}";
    CHECK(emulator.gateway(request).status == 413);
  }
  SECTION("errors never quote the secret values that were sent") {
    RawResponse response = emulator.post_json(
        "/auth", json::object{{"access-id", "p-key"}, {"access-key", "WRONG-KEY-xyz"}});
    CHECK(response.status == 401);
    CHECK(response.body.find("WRONG-KEY-xyz") == std::string::npos);
  }
}

TEST_CASE("k8s, gcp and azure_ad auth accept only padded base64 of the configured token",
          "[emulator]") {
  EmulatorProcess emulator(config());
  auto auth = [&](json::object body) { return emulator.post_json("/auth", body); };

  SECTION("k8s") {
    json::object body{{"access-id", "p-k8s"},
                      {"access-type", "k8s"},
                      {"k8s-auth-config-name", "spire-k8s"},
                      {"k8s-service-account-token", base64_encode(kK8sToken)}};
    CHECK(auth(body).status == 200);
    body["k8s-service-account-token"] = kK8sToken;  // raw JWT, not base64
    CHECK(auth(body).status == 400);
    body["k8s-service-account-token"] = base64_encode("another-token");
    CHECK(auth(body).status == 401);
    body["k8s-service-account-token"] = base64_encode(kK8sToken);
    body["k8s-auth-config-name"] = "other-config";
    CHECK(auth(body).status == 401);
  }
  SECTION("gcp") {
    json::object body{{"access-id", "p-gcp"},
                      {"access-type", "gcp"},
                      {"cloud-id", base64_encode(kGceToken)},
                      {"gcp-audience", "akeyless.io"}};
    CHECK(auth(body).status == 200);
    body.erase("gcp-audience");  // absent means akeyless.io
    CHECK(auth(body).status == 200);
    body["gcp-audience"] = "other-audience";
    CHECK(auth(body).status == 401);
    body["gcp-audience"] = "akeyless.io";
    std::string unpadded = base64_encode(kGceToken);
    while (unpadded.back() == '=') {
      unpadded.pop_back();
    }
    REQUIRE(unpadded != base64_encode(kGceToken));
    body["cloud-id"] = unpadded;
    CHECK(auth(body).status == 400);
  }
  SECTION("azure_ad") {
    json::object body{{"access-id", "p-azure"},
                      {"access-type", "azure_ad"},
                      {"cloud-id", base64_encode(kAzureToken)}};
    CHECK(auth(body).status == 200);
    body["azure-cloud"] = "AzureCloud";
    CHECK(auth(body).status == 200);
    body["azure-cloud"] = "Mars";
    CHECK(auth(body).status == 400);
    body.erase("azure-cloud");
    body["cloud-id"] = base64_encode(kGceToken);
    CHECK(auth(body).status == 401);
  }
  SECTION("an access id used with another access type") {
    json::object body{
        {"access-id", "p-azure"}, {"access-type", "gcp"}, {"cloud-id", base64_encode(kAzureToken)}};
    CHECK(auth(body).status == 401);
  }
}

TEST_CASE("aws_iam auth verifies the SigV4 signature of the STS request", "[emulator]") {
  EmulatorProcess emulator(config());
  std::time_t now = std::time(nullptr);
  auto auth = [&](const std::string& cloud_id) {
    return emulator.post_json(
        "/auth",
        json::object{{"access-id", "p-aws"}, {"access-type", "aws_iam"}, {"cloud-id", cloud_id}});
  };
  CHECK(auth(aws_cloud_id(kAwsSecret, now)).status == 200);
  CHECK(auth(aws_cloud_id(kAwsSecret, now, false)).status == 200);
  CHECK(auth(aws_cloud_id(kAwsSecret, now, true, "eu-central-1")).status == 200);

  RawResponse wrong_key = auth(aws_cloud_id("not-the-secret", now));
  CHECK(wrong_key.status == 401);
  CHECK(error_of(wrong_key).find("signature") != std::string::npos);
  CHECK(auth(aws_cloud_id(kAwsSecret, now - 3600)).status == 401);
  CHECK(auth(base64_encode("{\"sts_request_method\": \"POST\"}")).status == 400);
}

TEST_CASE("certificate items keep their versions across rotation", "[emulator]") {
  EmulatorProcess emulator(config());
  std::string token = login(emulator);
  auto read = [&](const std::string& name, int version) {
    json::object body{{"name", name}, {"token", token}, {"ignore-cache", "true"}};
    if (version != 0) {
      body["version"] = version;
    }
    return emulator.post_json("/get-certificate-value", body);
  };

  RawResponse first = read("/SPIRE/intermediate", 0);
  REQUIRE(first.status == 200);
  std::string first_pem(first.json().at("certificate_pem").as_string());
  CHECK(first.json().at("private_key_pem").as_string().find("PRIVATE KEY") != std::string::npos);

  json::value rotated = emulator.admin("POST", "/_emulator/items/rotate",
                                       json::object{{"name", "/SPIRE/intermediate"}});
  CHECK(rotated.at("last_version").as_int64() == 2);

  RawResponse latest = read("/SPIRE/intermediate", 0);
  REQUIRE(latest.status == 200);
  CHECK(latest.json().at("certificate_pem").as_string() != first_pem);
  CHECK(read("/SPIRE/intermediate", 1).json().at("certificate_pem").as_string() == first_pem);
  CHECK(read("/SPIRE/intermediate", 7).status == 404);

  // The bundle item holds the root that signed the current intermediate, without a key.
  RawResponse bundle = read("/SPIRE/bundle", 0);
  REQUIRE(bundle.status == 200);
  CHECK_FALSE(bundle.json().as_object().contains("private_key_pem"));
  auto roots = akeyless_upstream::parse_certificates_pem(
      std::string(bundle.json().at("certificate_pem").as_string()), "bundle");
  auto intermediates = akeyless_upstream::parse_certificates_pem(
      std::string(latest.json().at("certificate_pem").as_string()), "intermediate");
  REQUIRE(roots.ok());
  REQUIRE(intermediates.ok());
  CHECK(intermediates->front().issuer() == roots->front().subject());
  CHECK(roots->front().is_self_signed());

  RawResponse described = emulator.post_json(
      "/describe-item", json::object{{"name", "/SPIRE/intermediate"}, {"token", token}});
  REQUIRE(described.status == 200);
  json::value info = described.json();
  CHECK(info.at("item_type").as_string() == "CERTIFICATE");
  CHECK(info.at("last_version").as_int64() == 2);
  const json::value& chain_info = info.at("item_general_info").at("certificate_chain_info");
  CHECK(chain_info.at("certificate_has_private_key").as_bool());
  const json::array& chain = chain_info.at("certificate_chain").as_array();
  REQUIRE(chain.size() == 1);
  CHECK(chain[0].at("is_ca").as_bool());
  CHECK(chain[0].at("serial_number").as_string() == intermediates->front().serial_hex());
}

TEST_CASE(
    "reads outside the access id's permissions, of missing items or of other item types "
    "fail with distinct errors",
    "[emulator]") {
  EmulatorProcess emulator(config());
  std::string token = login(emulator);
  auto read = [&](const std::string& name) {
    return emulator.post_json("/get-certificate-value",
                              json::object{{"name", name}, {"token", token}});
  };
  RawResponse denied = read("/elsewhere/ca");
  CHECK(denied.status == 403);
  CHECK(error_of(denied).find("access denied") != std::string::npos);
  RawResponse missing = read("/SPIRE/missing");
  CHECK(missing.status == 404);
  CHECK(error_of(missing).find("not found") != std::string::npos);
  RawResponse wrong_type = read("/SPIRE/static");
  CHECK(wrong_type.status == 400);
  CHECK(error_of(wrong_type).find("STATIC_SECRET") != std::string::npos);
}

TEST_CASE("expired, revoked and unknown tokens answer 401", "[emulator]") {
  EmulatorProcess emulator(config(1));
  std::string token = login(emulator);
  json::object read{{"name", "/SPIRE/root"}, {"token", token}};

  std::this_thread::sleep_for(std::chrono::milliseconds(2100));
  RawResponse expired = emulator.post_json("/get-certificate-value", read);
  CHECK(expired.status == 401);
  CHECK(error_of(expired).find("expired") != std::string::npos);
  RawResponse validated = emulator.post_json("/validate-token", json::object{{"token", token}});
  REQUIRE(validated.status == 200);
  CHECK_FALSE(validated.json().at("is_valid").as_bool());

  emulator.admin("POST", "/_emulator/settings", json::object{{"token_lifetime_seconds", 3600}});
  read["token"] = login(emulator);
  CHECK(emulator.post_json("/get-certificate-value", read).status == 200);
  emulator.admin("POST", "/_emulator/tokens/revoke");
  CHECK(emulator.post_json("/get-certificate-value", read).status == 401);

  read["token"] = "t-00000000000000000000000000000000";
  CHECK(emulator.post_json("/get-certificate-value", read).status == 401);
}

TEST_CASE("faults apply to the next N matching requests and then clear", "[emulator]") {
  EmulatorProcess emulator(config());
  std::string token = login(emulator);
  json::object validate{{"token", token}};

  SECTION("status codes with an error body") {
    emulator.add_fault(json::object{{"operation", "validate-token"},
                                    {"kind", "status"},
                                    {"status", 503},
                                    {"error", "service unavailable"},
                                    {"count", 2}});
    CHECK(emulator.post_json("/validate-token", validate).status == 503);
    RawResponse second = emulator.post_json("/validate-token", validate);
    CHECK(second.status == 503);
    CHECK(error_of(second) == "service unavailable");
    CHECK(emulator.post_json("/validate-token", validate).status == 200);
    auto entries = emulator.log_entries("validate-token");
    REQUIRE(entries.size() == 3);
    CHECK(entries[0].at("fault").as_string() == "status");
  }
  SECTION("a dropped connection gives no response at all") {
    emulator.add_fault(json::object{{"operation", "*"}, {"kind", "drop"}, {"count", 1}});
    RawResponse dropped = emulator.post_json("/validate-token", validate);
    CHECK(dropped.status == 0);
    CHECK_FALSE(dropped.error.empty());
    CHECK(emulator.post_json("/validate-token", validate).status == 200);
  }
  SECTION("malformed JSON, a wrong content type and an empty object") {
    emulator.add_fault(
        json::object{{"operation", "validate-token"}, {"kind", "malformed-json"}, {"count", 1}});
    RawResponse malformed = emulator.post_json("/validate-token", validate);
    CHECK(malformed.status == 200);
    CHECK_THROWS(malformed.json());
    emulator.add_fault(json::object{
        {"operation", "validate-token"}, {"kind", "wrong-content-type"}, {"count", 1}});
    CHECK(emulator.post_json("/validate-token", validate).content_type == "text/html");
    emulator.add_fault(
        json::object{{"operation", "validate-token"}, {"kind", "empty-object"}, {"count", 1}});
    CHECK(emulator.post_json("/validate-token", validate).body == "{}");
  }
  SECTION("a hung request does not stop the emulator serving others, or stopping") {
    emulator.add_fault(json::object{{"operation", "auth"}, {"kind", "hang"}});
    std::thread hung([&] {
      emulator_test::raw_exchange(
          "127.0.0.1", emulator.port(), emulator.ca_path(),
          RawRequest{"POST", "/auth", {{"Content-Type", "application/json"}}, "{}"}, "127.0.0.1",
          std::chrono::seconds(120));
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    CHECK(emulator.post_json("/validate-token", validate).status == 200);
    int status = emulator.stop();
    hung.join();
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
  }
}

TEST_CASE("the fake metadata services require their headers", "[emulator]") {
  EmulatorProcess emulator(config());
  auto get = [&](const std::string& target,
                 std::vector<std::pair<std::string, std::string>> headers,
                 const std::string& method = "GET") {
    return emulator.metadata(RawRequest{method, target, std::move(headers), ""});
  };
  const std::string gce =
      "/computeMetadata/v1/instance/service-accounts/default/identity?audience=akeyless.io"
      "&format=full";
  CHECK(get(gce, {}).status == 403);
  RawResponse identity = get(gce, {{"Metadata-Flavor", "Google"}});
  CHECK(identity.status == 200);
  CHECK(identity.body == kGceToken);

  const std::string azure =
      "/metadata/identity/oauth2/token?api-version=2018-02-01&resource="
      "https%3A%2F%2Fmanagement.azure.com%2F";
  CHECK(get(azure, {}).status == 400);
  emulator.add_fault(json::object{
      {"operation", "azure-token"}, {"kind", "status"}, {"status", 429}, {"count", 1}});
  CHECK(get(azure, {{"Metadata", "true"}}).status == 429);
  RawResponse azure_token = get(azure, {{"Metadata", "true"}});
  REQUIRE(azure_token.status == 200);
  CHECK(azure_token.json().at("access_token").as_string() == kAzureToken);
  CHECK(azure_token.json().at("resource").as_string() == "https://management.azure.com/");

  const std::string credentials = "/latest/meta-data/iam/security-credentials/";
  CHECK(get(credentials, {}).status == 401);
  RawResponse session =
      get("/latest/api/token", {{"X-aws-ec2-metadata-token-ttl-seconds", "60"}}, "PUT");
  REQUIRE(session.status == 200);
  RawResponse role = get(credentials, {{"X-aws-ec2-metadata-token", session.body}});
  REQUIRE(role.status == 200);
  RawResponse keys = get(credentials + role.body, {{"X-aws-ec2-metadata-token", session.body}});
  REQUIRE(keys.status == 200);
  CHECK(keys.json().at("AccessKeyId").as_string() == "AKIDEMULATOR");
  CHECK(keys.json().at("Token").as_string() == kAwsSession);
}

TEST_CASE("the emulator's log and stderr never contain a secret", "[emulator]") {
  EmulatorProcess emulator(config());
  std::string token = login(emulator);
  emulator.post_json("/get-certificate-value",
                     json::object{{"name", "/SPIRE/root"}, {"token", token}});
  emulator.post_json("/auth",
                     json::object{{"access-id", "p-k8s"},
                                  {"access-type", "k8s"},
                                  {"k8s-auth-config-name", "spire-k8s"},
                                  {"k8s-service-account-token", base64_encode(kK8sToken)}});
  emulator.post_json("/auth",
                     json::object{{"access-id", "p-aws"},
                                  {"access-type", "aws_iam"},
                                  {"cloud-id", aws_cloud_id(kAwsSecret, std::time(nullptr))}});
  std::string log = json::serialize(emulator.admin("GET", "/_emulator/log"));
  CHECK(log.find("\"access_type\":\"k8s\"") != std::string::npos);
  emulator.stop();
  std::string stderr_text = emulator.stderr_text();
  CHECK(stderr_text.find("op=get-certificate-value") != std::string::npos);
  for (const std::string& secret :
       {std::string(kAccessKey), std::string(kK8sToken), base64_encode(kK8sToken),
        std::string(kAwsSecret), token, std::string("PRIVATE KEY")}) {
    INFO("a secret leaked into the log");
    CHECK(log.find(secret) == std::string::npos);
    CHECK(stderr_text.find(secret) == std::string::npos);
  }
}

TEST_CASE("a bad configuration stops the emulator before it listens", "[emulator]") {
  CHECK_THROWS(
      EmulatorProcess("{\"access_ids\": [{\"access_id\": \"p-x\", "
                      "\"access_type\": \"access_key\"}]}"));
  CHECK_THROWS(EmulatorProcess("{\"unknown_key\": 1}"));
}
