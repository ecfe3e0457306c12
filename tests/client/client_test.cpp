// End-to-end tests of the library's AkeylessClient and AuthProviders against the real gateway
// emulator process, over real TLS on loopback, with the emulator's fake cloud metadata services
// standing in for GCE, Azure IMDS and AWS IMDSv2.

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "akeyless_upstream/akeyless_client.hpp"
#include "akeyless_upstream/auth_provider.hpp"
#include "akeyless_upstream/certificate.hpp"
#include "akeyless_upstream/encoding.hpp"
#include "akeyless_upstream/private_key.hpp"
#include "akeyless_upstream/testing/pki.hpp"
#include "emulator_process.hpp"

namespace {

namespace json = boost::json;
namespace asio = boost::asio;
using akeyless_upstream::AkeylessClient;
using akeyless_upstream::AkeylessClientOptions;
using akeyless_upstream::AuthConfig;
using akeyless_upstream::ErrorCode;
using akeyless_upstream::SecretString;
using emulator_test::EmulatorProcess;

// Distinctive secrets, so that a leak into a message or a log is easy to find.
constexpr const char* kAccessKey = "AK-SECRET-5e6f7a8b9c";
constexpr const char* kK8sToken = "K8S-JWT-SECRET-0d1e2f3a4b";
constexpr const char* kGceToken = "GCE-JWT-SECRET-4c5d6e7f8a";
constexpr const char* kAzureToken = "AZURE-TOKEN-SECRET-9b0c1d2e3f";
constexpr const char* kAwsRoleSecret = "AWS-ROLE-SECRET-a0b1c2d3e4";
constexpr const char* kAwsRoleSession = "AWS-ROLE-SESSION-f5a6b7c8d9";
constexpr const char* kAwsEnvSecret = "AWS-ENV-SECRET-1a2b3c4d5e";
constexpr const char* kItem = "/SPIRE/upstream";

std::vector<std::string> secrets() {
  return {kAccessKey,      kK8sToken,     akeyless_upstream::base64_encode(kK8sToken),
          kGceToken,       kAzureToken,   kAwsRoleSecret,
          kAwsRoleSession, kAwsEnvSecret, "PRIVATE KEY"};
}

std::string config(json::object overrides = {}) {
  json::object root{
      {"token_lifetime_seconds", 3600},
      {"access_ids",
       json::array{
           json::object{
               {"access_id", "p-key"}, {"access_type", "access_key"}, {"access_key", kAccessKey}},
           json::object{{"access_id", "p-short"},
                        {"access_type", "access_key"},
                        {"access_key", kAccessKey},
                        {"token_lifetime_seconds", 2}},
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
           json::object{{"access_id", "p-aws"},
                        {"access_type", "aws_iam"},
                        {"aws_credentials",
                         json::array{json::object{{"access_key_id", "AKIDROLE"},
                                                  {"secret_access_key", kAwsRoleSecret},
                                                  {"session_token", kAwsRoleSession}},
                                     json::object{{"access_key_id", "AKIDENV"},
                                                  {"secret_access_key", kAwsEnvSecret}}}}},
       }},
      {"items", json::array{json::object{{"name", kItem},
                                         {"type", "CERTIFICATE"},
                                         {"generate", json::object{{"kind", "root"}}}},
                            json::object{{"name", "/SPIRE/static"}, {"type", "STATIC_SECRET"}}}},
      {"metadata", json::object{{"gce", json::object{{"identity_token", kGceToken},
                                                     {"audience", "akeyless.io"}}},
                                {"azure", json::object{{"access_token", kAzureToken}}},
                                {"aws", json::object{{"role", "spire-server"},
                                                     {"access_key_id", "AKIDROLE"},
                                                     {"secret_access_key", kAwsRoleSecret},
                                                     {"session_token", kAwsRoleSession}}}}},
  };
  for (const auto& entry : overrides) {
    root[entry.key()] = entry.value();
  }
  return json::serialize(root);
}

// ScopedEnv sets (or, with nullptr, unsets) environment variables for one test and restores
// them afterwards. The library reads these variables at each call.
class ScopedEnv {
 public:
  ScopedEnv& set(const std::string& name, const char* value) {
    const char* old = std::getenv(name.c_str());
    saved_.emplace_back(name, old != nullptr ? std::optional<std::string>(old) : std::nullopt);
    if (value != nullptr) {
      setenv(name.c_str(), value, 1);
    } else {
      unsetenv(name.c_str());
    }
    return *this;
  }
  ScopedEnv& set(const std::string& name, const std::string& value) {
    return set(name, value.c_str());
  }
  ~ScopedEnv() {
    for (auto it = saved_.rbegin(); it != saved_.rend(); ++it) {
      if (it->second) {
        setenv(it->first.c_str(), it->second->c_str(), 1);
      } else {
        unsetenv(it->first.c_str());
      }
    }
  }

 private:
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

// clean_environment removes every variable from the outside that could steer the client.
void clean_environment(ScopedEnv& env) {
  for (const char* name :
       {"HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy",
        "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION",
        "AWS_DEFAULT_REGION", "GCE_METADATA_HOST", "AZURE_IMDS_ENDPOINT",
        "AWS_EC2_METADATA_SERVICE_ENDPOINT"}) {
    env.set(name, nullptr);
  }
}

akeyless_upstream::Deadline in_seconds(int seconds) {
  return std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
}

std::shared_ptr<AkeylessClient> make_client(const EmulatorProcess& emulator, AuthConfig auth,
                                            const std::string& suffix = "/api/v2",
                                            AkeylessClientOptions options = {}) {
  auto provider = akeyless_upstream::make_auth_provider(auth);
  REQUIRE(provider.ok());
  if (options.gateway_url.empty()) {
    options.gateway_url = emulator.endpoint() + suffix;
  }
  if (options.ca_bundle_path.empty()) {
    options.ca_bundle_path = emulator.ca_path();
  }
  auto client = AkeylessClient::create(options, *provider);
  if (!client.ok()) {
    FAIL(client.error().to_string());
  }
  return *client;
}

AuthConfig access_key_auth(const std::string& access_id = "p-key") {
  AuthConfig auth;
  auth.access_type = "api_key";
  auth.access_id = access_id;
  auth.access_key = SecretString(kAccessKey);
  return auth;
}

// expect_item checks a certificate value: a parsable certificate and a matching private key.
void expect_item(const akeyless_upstream::Result<akeyless_upstream::CertificateValue>& value) {
  if (!value.ok()) {
    FAIL(value.error().to_string());
  }
  auto certificates = akeyless_upstream::parse_certificates_pem(value->certificate_pem, "item");
  REQUIRE(certificates.ok());
  auto key = akeyless_upstream::PrivateKey::from_pem(value->private_key_pem);
  REQUIRE(key.ok());
  CHECK(key->public_key_der() == certificates->front().public_key_der());
}

void expect_no_secret(const std::string& text) {
  // Tokens are random; their shape ("t-" and 32 hex digits) is what must not appear.
  CHECK_FALSE(std::regex_search(text, std::regex("t-[0-9a-f]{32}")));
  for (const auto& secret : secrets()) {
    INFO("message: " << (text.find(secret) == std::string::npos ? text : "<withheld>"));
    CHECK(text.find(secret) == std::string::npos);
  }
}

std::size_t count_ok(const EmulatorProcess& emulator, const std::string& operation) {
  std::size_t count = 0;
  for (const auto& entry : emulator.log_entries(operation)) {
    if (entry.at("status").as_int64() == 200) {
      ++count;
    }
  }
  return count;
}

// ConnectProxy is a tiny HTTP CONNECT proxy on loopback: it records each CONNECT target and
// then relays bytes both ways.
class ConnectProxy {
 public:
  ConnectProxy()
      : acceptor_(context_, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    thread_ = std::thread([this] { accept_loop(); });
  }
  ~ConnectProxy() {
    stopping_ = true;
    boost::system::error_code ignored;
    // Wake accept() with a connection of our own, then join everything.
    asio::ip::tcp::socket poke(context_);
    poke.connect(acceptor_.local_endpoint(), ignored);
    thread_.join();
    std::lock_guard lock(mutex_);
    for (auto& relay : relays_) {
      relay.join();
    }
  }
  unsigned short port() const { return acceptor_.local_endpoint().port(); }
  std::vector<std::string> targets() {
    std::lock_guard lock(mutex_);
    return targets_;
  }

 private:
  void accept_loop() {
    while (!stopping_) {
      auto client = std::make_shared<asio::ip::tcp::socket>(context_);
      boost::system::error_code ec;
      acceptor_.accept(*client, ec);
      if (ec || stopping_) {
        return;
      }
      std::lock_guard lock(mutex_);
      relays_.emplace_back([this, client] { relay(client); });
    }
  }

  void relay(std::shared_ptr<asio::ip::tcp::socket> client) {
    boost::system::error_code ec;
    asio::streambuf head;
    std::size_t head_size = asio::read_until(*client, head, "\r\n\r\n", ec);
    if (ec) {
      return;
    }
    // Only the head is ours; anything after it already belongs to the tunnel.
    std::string head_text(asio::buffers_begin(head.data()),
                          asio::buffers_begin(head.data()) + static_cast<long>(head_size));
    head.consume(head_size);
    std::istringstream lines(head_text);
    std::string method;
    std::string target;
    lines >> method >> target;
    {
      std::lock_guard lock(mutex_);
      targets_.push_back(method + " " + target);
    }
    auto upstream = std::make_shared<asio::ip::tcp::socket>(context_);
    std::size_t colon = target.rfind(':');
    if (method != "CONNECT" || colon == std::string::npos) {
      asio::write(*client, asio::buffer(std::string("HTTP/1.1 405 Method Not Allowed\r\n\r\n")),
                  ec);
      return;
    }
    asio::ip::tcp::resolver resolver(context_);
    auto endpoints = resolver.resolve(target.substr(0, colon), target.substr(colon + 1), ec);
    if (!ec) {
      asio::connect(*upstream, endpoints, ec);
    }
    if (ec) {
      asio::write(*client, asio::buffer(std::string("HTTP/1.1 502 Bad Gateway\r\n\r\n")), ec);
      return;
    }
    asio::write(*client, asio::buffer(std::string("HTTP/1.1 200 Connection established\r\n\r\n")),
                ec);
    // Bytes the client sent after the CONNECT head go upstream first.
    if (head.size() > 0) {
      asio::write(*upstream, head.data(), ec);
    }
    auto pump = [](std::shared_ptr<asio::ip::tcp::socket> from,
                   std::shared_ptr<asio::ip::tcp::socket> to) {
      char buffer[16384];
      boost::system::error_code error;
      for (;;) {
        std::size_t n = from->read_some(asio::buffer(buffer), error);
        if (error) {
          break;
        }
        asio::write(*to, asio::buffer(buffer, n), error);
        if (error) {
          break;
        }
      }
      to->shutdown(asio::ip::tcp::socket::shutdown_send, error);
    };
    std::thread back(pump, upstream, client);
    pump(client, upstream);
    back.join();
  }

  asio::io_context context_;
  asio::ip::tcp::acceptor acceptor_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::mutex mutex_;
  std::vector<std::string> targets_;
  std::vector<std::thread> relays_;
};

}  // namespace

// == the five authentication methods ==

TEST_CASE("an access key login reads a certificate item through every gateway URL form",
          "[client]") {
  ScopedEnv env;
  clean_environment(env);
  EmulatorProcess emulator(config());
  for (const char* suffix : {"/api/v2", "/v2", "", "/api/v2/"}) {
    INFO("gateway_url suffix '" << suffix << "'");
    auto client = make_client(emulator, access_key_auth(), suffix);
    expect_item(client->get_certificate_value(kItem, std::nullopt, false, in_seconds(30)));
  }
  auto entries = emulator.log_entries("auth");
  REQUIRE_FALSE(entries.empty());
  CHECK(entries.front().at("access_type").as_string() == "access_key");
}

TEST_CASE("k8s login sends the service account token file, base64-encoded", "[client]") {
  ScopedEnv env;
  clean_environment(env);
  EmulatorProcess emulator(config());
  std::string token_path = emulator.dir() + "/sa-token";
  std::ofstream(token_path) << kK8sToken << "\n";  // kubelet files may end in a newline

  AuthConfig auth;
  auth.access_type = "k8s";
  auth.access_id = "p-k8s";
  auth.k8s_auth_config_name = "spire-k8s";
  auth.k8s_service_account_token_path = token_path;
  auto client = make_client(emulator, auth);
  expect_item(client->get_certificate_value(kItem, std::nullopt, false, in_seconds(30)));
  CHECK(count_ok(emulator, "auth") == 1);
}

TEST_CASE("gcp login takes an identity token from the GCE metadata server", "[client]") {
  ScopedEnv env;
  clean_environment(env);
  EmulatorProcess emulator(config());
  env.set("GCE_METADATA_HOST", "127.0.0.1:" + std::to_string(emulator.metadata_port()));

  AuthConfig auth;
  auth.access_type = "gcp";
  auth.access_id = "p-gcp";
  auto client = make_client(emulator, auth);
  expect_item(client->get_certificate_value(kItem, std::nullopt, false, in_seconds(30)));
  CHECK(count_ok(emulator, "gce-identity") == 1);
  CHECK(count_ok(emulator, "auth") == 1);
}

TEST_CASE("azure_ad login takes an access token from IMDS", "[client]") {
  ScopedEnv env;
  clean_environment(env);
  EmulatorProcess emulator(config());
  env.set("AZURE_IMDS_ENDPOINT", emulator.metadata_endpoint());

  AuthConfig auth;
  auth.access_type = "azure_ad";
  auth.access_id = "p-azure";
  auto client = make_client(emulator, auth);
  expect_item(client->get_certificate_value(kItem, std::nullopt, false, in_seconds(30)));
  CHECK(count_ok(emulator, "azure-token") == 1);
}

TEST_CASE("azure_ad login retries IMDS answers of 429 and 5xx", "[client]") {
  ScopedEnv env;
  clean_environment(env);
  EmulatorProcess emulator(config());
  env.set("AZURE_IMDS_ENDPOINT", emulator.metadata_endpoint());
  emulator.add_fault(json::object{
      {"operation", "azure-token"}, {"kind", "status"}, {"status", 429}, {"count", 1}});
  emulator.add_fault(json::object{
      {"operation", "azure-token"}, {"kind", "status"}, {"status", 503}, {"count", 1}});

  AuthConfig auth;
  auth.access_type = "azure_ad";
  auth.access_id = "p-azure";
  auto client = make_client(emulator, auth);
  expect_item(client->get_certificate_value(kItem, std::nullopt, false, in_seconds(60)));
  CHECK(emulator.log_entries("azure-token").size() == 3);
}

TEST_CASE("aws_iam login signs an STS request with instance role credentials from IMDSv2",
          "[client]") {
  ScopedEnv env;
  clean_environment(env);
  EmulatorProcess emulator(config());
  env.set("AWS_EC2_METADATA_SERVICE_ENDPOINT", emulator.metadata_endpoint());
  env.set("AWS_REGION", "eu-west-1");

  AuthConfig auth;
  auth.access_type = "aws_iam";
  auth.access_id = "p-aws";
  auto client = make_client(emulator, auth);
  expect_item(client->get_certificate_value(kItem, std::nullopt, false, in_seconds(30)));
  CHECK(count_ok(emulator, "aws-imds-token") >= 1);
  CHECK(count_ok(emulator, "aws-credentials") >= 1);
  CHECK(count_ok(emulator, "auth") == 1);
}

TEST_CASE("aws_iam login uses AWS_ACCESS_KEY_ID credentials from the environment", "[client]") {
  ScopedEnv env;
  clean_environment(env);
  EmulatorProcess emulator(config());
  env.set("AWS_ACCESS_KEY_ID", "AKIDENV").set("AWS_SECRET_ACCESS_KEY", kAwsEnvSecret);
  // IMDS would hand out other credentials; pointing at it proves the environment wins.
  env.set("AWS_EC2_METADATA_SERVICE_ENDPOINT", emulator.metadata_endpoint());

  AuthConfig auth;
  auth.access_type = "aws_iam";
  auth.access_id = "p-aws";
  auto client = make_client(emulator, auth);
  expect_item(client->get_certificate_value(kItem, std::nullopt, false, in_seconds(30)));
  CHECK(emulator.log_entries("aws-credentials").empty());
  CHECK(count_ok(emulator, "auth") == 1);
}

TEST_CASE("a refused login reports kUnauthenticated without the access key", "[client]") {
  ScopedEnv env;
  clean_environment(env);
  EmulatorProcess emulator(config());
  AuthConfig auth = access_key_auth();
  auth.access_key = SecretString("AK-SECRET-wrong-key-123");
  auto client = make_client(emulator, auth);
  auto value = client->get_certificate_value(kItem, std::nullopt, false, in_seconds(30));
  REQUIRE_FALSE(value.ok());
  CHECK(value.error().code() == ErrorCode::kUnauthenticated);
  CHECK(value.error().message().find("AK-SECRET") == std::string::npos);
}

// == tokens ==

TEST_CASE("a token is reused across reads: many reads, one login", "[client]") {
  ScopedEnv env;
  clean_environment(env);
  EmulatorProcess emulator(config());
  auto client = make_client(emulator, access_key_auth());
  for (int i = 0; i < 8; ++i) {
    expect_item(client->get_certificate_value(kItem, std::nullopt, i % 2 == 0, in_seconds(30)));
  }
  auto description = client->describe_item(kItem, in_seconds(30));
  REQUIRE(description.ok());
  CHECK(description->item_type == "CERTIFICATE");
  CHECK(count_ok(emulator, "auth") == 1);
  CHECK(count_ok(emulator, "get-certificate-value") == 8);
}

TEST_CASE("concurrent readers share one login", "[client]") {
  ScopedEnv env;
  clean_environment(env);
  EmulatorProcess emulator(config());
  // Slow logins widen the window in which several readers find no token yet.
  emulator.add_fault(json::object{{"operation", "auth"}, {"kind", "latency"}, {"latency_ms", 300}});
  auto client = make_client(emulator, access_key_auth());
  std::atomic<int> succeeded{0};
  std::vector<std::thread> readers;
  for (int i = 0; i < 6; ++i) {
    readers.emplace_back([&] {
      if (client->get_certificate_value(kItem, std::nullopt, false, in_seconds(60)).ok()) {
        ++succeeded;
      }
    });
  }
  for (auto& reader : readers) {
    reader.join();
  }
  CHECK(succeeded == 6);
  CHECK(emulator.log_entries("auth").size() == 1);
}

TEST_CASE("an expired token leads to a fresh login", "[client]") {
  ScopedEnv env;
  clean_environment(env);
  EmulatorProcess emulator(config());
  auto client = make_client(emulator, access_key_auth("p-short"));
  expect_item(client->get_certificate_value(kItem, std::nullopt, false, in_seconds(30)));
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  expect_item(client->get_certificate_value(kItem, std::nullopt, false, in_seconds(30)));
  CHECK(count_ok(emulator, "auth") == 2);
  CHECK(count_ok(emulator, "get-certificate-value") == 2);
}

TEST_CASE("a 401 on a read triggers one fresh login and a retry", "[client]") {
  ScopedEnv env;
  clean_environment(env);
  EmulatorProcess emulator(config());
  auto client = make_client(emulator, access_key_auth());
  expect_item(client->get_certificate_value(kItem, std::nullopt, false, in_seconds(30)));
  emulator.admin("POST", "/_emulator/tokens/revoke");
  expect_item(client->get_certificate_value(kItem, std::nullopt, false, in_seconds(30)));
  CHECK(count_ok(emulator, "auth") == 2);
  auto reads = emulator.log_entries("get-certificate-value");
  REQUIRE(reads.size() == 3);
  CHECK(reads[1].at("status").as_int64() == 401);
  CHECK(reads[2].at("status").as_int64() == 200);
}

// == transient failures and deadlines ==

TEST_CASE("a 503 from the gateway is retried and then succeeds", "[client]") {
  ScopedEnv env;
  clean_environment(env);
  EmulatorProcess emulator(config());
  emulator.add_fault(json::object{{"operation", "get-certificate-value"},
                                  {"kind", "status"},
                                  {"status", 503},
                                  {"error", "gateway busy"},
                                  {"count", 2}});
  auto client = make_client(emulator, access_key_auth());
  expect_item(client->get_certificate_value(kItem, std::nullopt, false, in_seconds(60)));
  CHECK(emulator.log_entries("get-certificate-value").size() == 3);
}

TEST_CASE("a dropped connection is retried", "[client]") {
  ScopedEnv env;
  clean_environment(env);
  EmulatorProcess emulator(config());
  emulator.add_fault(
      json::object{{"operation", "get-certificate-value"}, {"kind", "drop"}, {"count", 1}});
  auto client = make_client(emulator, access_key_auth());
  expect_item(client->get_certificate_value(kItem, std::nullopt, false, in_seconds(60)));
}

TEST_CASE("a hung gateway ends at the caller's deadline with kDeadlineExceeded", "[client]") {
  ScopedEnv env;
  clean_environment(env);
  EmulatorProcess emulator(config());
  emulator.add_fault(json::object{{"operation", "get-certificate-value"}, {"kind", "hang"}});
  auto client = make_client(emulator, access_key_auth());
  auto value = client->get_certificate_value(kItem, std::nullopt, false, in_seconds(2));
  REQUIRE_FALSE(value.ok());
  CHECK(value.error().code() == ErrorCode::kDeadlineExceeded);
  expect_no_secret(value.error().message());
}

TEST_CASE("bad gateway answers give clear errors", "[client]") {
  ScopedEnv env;
  clean_environment(env);
  EmulatorProcess emulator(config());
  auto client = make_client(emulator, access_key_auth());
  REQUIRE(client->authenticate(in_seconds(30)).ok());
  auto fault = [&](const char* kind) {
    emulator.add_fault(json::object{{"operation", "get-certificate-value"}, {"kind", kind}});
  };
  auto read = [&] {
    auto value = client->get_certificate_value(kItem, std::nullopt, false, in_seconds(10));
    REQUIRE_FALSE(value.ok());
    expect_no_secret(value.error().message());
    return value.error();
  };

  SECTION("malformed JSON") {
    fault("malformed-json");
    auto error = read();
    CHECK(error.code() == ErrorCode::kUnavailable);
    CHECK(error.message().find("JSON") != std::string::npos);
  }
  SECTION("an answer without the expected fields") {
    fault("empty-object");
    auto error = read();
    // A field that is absent is a malformed answer (kUnavailable); one that is present but
    // empty is a wrong item (kFailedPrecondition). Either way the message names the field.
    CHECK((error.code() == ErrorCode::kUnavailable ||
           error.code() == ErrorCode::kFailedPrecondition));
    CHECK(error.message().find("certificate_pem") != std::string::npos);
  }
  SECTION("an oversized body") {
    fault("oversized");
    CHECK(read().code() == ErrorCode::kResourceExhausted);
  }
  SECTION("a wrong content type") {
    fault("wrong-content-type");
    auto error = read();
    CHECK(error.code() == ErrorCode::kUnavailable);
    CHECK(error.message().find("content type") != std::string::npos);
  }
  SECTION("an item that is not a certificate") {
    auto value =
        client->get_certificate_value("/SPIRE/static", std::nullopt, false, in_seconds(10));
    REQUIRE_FALSE(value.ok());
    CHECK(value.error().message().find("STATIC_SECRET") != std::string::npos);
  }
  SECTION("a missing item") {
    auto value = client->get_certificate_value("/SPIRE/none", std::nullopt, false, in_seconds(10));
    REQUIRE_FALSE(value.ok());
    CHECK(value.error().code() == ErrorCode::kNotFound);
  }
}

// == TLS verification ==

TEST_CASE("a gateway certificate from a CA the client does not trust is refused", "[client]") {
  ScopedEnv env;
  clean_environment(env);
  EmulatorProcess emulator(config());
  akeyless_upstream::testing::CaOptions other_ca;
  other_ca.common_name = "Some Other CA";
  auto ca = akeyless_upstream::testing::make_self_signed(other_ca);
  REQUIRE(ca.ok());
  std::string other_bundle = emulator.dir() + "/other-ca.pem";
  std::ofstream(other_bundle) << ca->certificate.pem();

  AkeylessClientOptions options;
  options.ca_bundle_path = other_bundle;
  auto client = make_client(emulator, access_key_auth(), "/api/v2", options);
  auto value = client->get_certificate_value(kItem, std::nullopt, false, in_seconds(20));
  REQUIRE_FALSE(value.ok());
  CHECK(value.error().code() == ErrorCode::kUnavailable);
  CHECK(value.error().message().find("certificate") != std::string::npos);
  expect_no_secret(value.error().message());
  CHECK(emulator.log_entries("auth").empty());
}

TEST_CASE("a gateway certificate that does not name the host is refused", "[client]") {
  ScopedEnv env;
  clean_environment(env);
  // The server certificate names only 127.0.0.1, so https://localhost must fail verification.
  EmulatorProcess emulator(
      config(json::object{{"tls", json::object{{"dns_names", json::array{}},
                                               {"ip_addresses", json::array{"127.0.0.1"}}}}}));
  AkeylessClientOptions options;
  options.gateway_url = "https://localhost:" + std::to_string(emulator.port()) + "/api/v2";
  auto client = make_client(emulator, access_key_auth(), "", options);
  auto value = client->get_certificate_value(kItem, std::nullopt, false, in_seconds(20));
  REQUIRE_FALSE(value.ok());
  CHECK(value.error().code() == ErrorCode::kUnavailable);
  CHECK(emulator.log_entries("auth").empty());

  // The same emulator reached by the name its certificate carries works.
  auto good = make_client(emulator, access_key_auth());
  expect_item(good->get_certificate_value(kItem, std::nullopt, false, in_seconds(20)));
}

// == proxy ==

TEST_CASE("HTTPS_PROXY routes gateway calls through an HTTP CONNECT proxy; NO_PROXY bypasses it",
          "[client]") {
  ScopedEnv env;
  clean_environment(env);
  EmulatorProcess emulator(config());
  ConnectProxy proxy;
  env.set("HTTPS_PROXY", "http://127.0.0.1:" + std::to_string(proxy.port()));

  {
    auto client = make_client(emulator, access_key_auth());
    expect_item(client->get_certificate_value(kItem, std::nullopt, false, in_seconds(30)));
  }
  auto targets = proxy.targets();
  REQUIRE_FALSE(targets.empty());
  CHECK(targets.front() == "CONNECT 127.0.0.1:" + std::to_string(emulator.port()));

  env.set("NO_PROXY", "127.0.0.1");
  std::size_t before = proxy.targets().size();
  {
    auto client = make_client(emulator, access_key_auth());
    expect_item(client->get_certificate_value(kItem, std::nullopt, false, in_seconds(30)));
  }
  CHECK(proxy.targets().size() == before);
}

// == secrets ==

TEST_CASE("no secret reaches an error message or the emulator's log", "[client]") {
  ScopedEnv env;
  clean_environment(env);
  EmulatorProcess emulator(config());
  env.set("GCE_METADATA_HOST", "127.0.0.1:" + std::to_string(emulator.metadata_port()));
  env.set("AZURE_IMDS_ENDPOINT", emulator.metadata_endpoint());
  env.set("AWS_EC2_METADATA_SERVICE_ENDPOINT", emulator.metadata_endpoint());
  std::string token_path = emulator.dir() + "/sa-token";
  std::ofstream(token_path) << kK8sToken;

  std::vector<AuthConfig> methods;
  methods.push_back(access_key_auth());
  AuthConfig k8s;
  k8s.access_type = "k8s";
  k8s.access_id = "p-k8s";
  k8s.k8s_auth_config_name = "spire-k8s";
  k8s.k8s_service_account_token_path = token_path;
  methods.push_back(k8s);
  for (const char* type : {"gcp", "azure_ad", "aws_iam"}) {
    AuthConfig cloud;
    cloud.access_type = type;
    cloud.access_id = std::string("p-") + (std::string(type) == "azure_ad"  ? "azure"
                                           : std::string(type) == "aws_iam" ? "aws"
                                                                            : "gcp");
    methods.push_back(cloud);
  }

  std::vector<std::string> messages;
  for (const auto& method : methods) {
    auto client = make_client(emulator, method);
    expect_item(client->get_certificate_value(kItem, std::nullopt, false, in_seconds(30)));
    // Failures after a successful login: each error path with a live token in hand.
    emulator.add_fault(json::object{{"operation", "get-certificate-value"},
                                    {"kind", "status"},
                                    {"status", 400},
                                    {"error", "bad request"},
                                    {"count", 1}});
    auto failed = client->get_certificate_value(kItem, std::nullopt, false, in_seconds(30));
    REQUIRE_FALSE(failed.ok());
    messages.push_back(failed.error().message());
    auto missing = client->get_certificate_value("/SPIRE/none", 3, true, in_seconds(30));
    REQUIRE_FALSE(missing.ok());
    messages.push_back(missing.error().message());
  }
  // And the login failures of each kind.
  emulator.admin("POST", "/_emulator/access-ids",
                 json::object{{"access_id", "p-k8s"},
                              {"access_type", "k8s"},
                              {"k8s_auth_config_name", "spire-k8s"},
                              {"k8s_service_account_token", "some-other-token"}});
  auto refused = make_client(emulator, methods[1])
                     ->get_certificate_value(kItem, std::nullopt, false, in_seconds(30));
  REQUIRE_FALSE(refused.ok());
  messages.push_back(refused.error().message());

  for (const auto& message : messages) {
    expect_no_secret(message);
  }
  std::string log = json::serialize(emulator.admin("GET", "/_emulator/log"));
  emulator.stop();
  expect_no_secret(log);
  expect_no_secret(emulator.stderr_text());
}
