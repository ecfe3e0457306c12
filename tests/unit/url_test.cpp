#include <chrono>
#include <cstdlib>
#include <optional>
#include <string>

#include <catch2/catch.hpp>

#include "akeyless_upstream/akeyless_client.hpp"
#include "akeyless_upstream/http_client.hpp"

namespace aku = akeyless_upstream;

namespace {

// ScopedEnv sets (or clears) one variable for the life of a test and restores it afterwards.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) {
      old_ = old;
    }
    if (value != nullptr) {
      ::setenv(name, value, 1);
    } else {
      ::unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

}  // namespace

TEST_CASE("operation URLs join the base and the operation with exactly one slash", "[url]") {
  CHECK(aku::operation_url("https://gw:8000/api/v2", "auth") == "https://gw:8000/api/v2/auth");
  CHECK(aku::operation_url("https://gw:8000/api/v2/", "get-certificate-value") ==
        "https://gw:8000/api/v2/get-certificate-value");
  CHECK(aku::operation_url("https://gw:8081", "describe-item") == "https://gw:8081/describe-item");
  CHECK(aku::operation_url("https://api.akeyless.io//", "auth") == "https://api.akeyless.io/auth");
}

TEST_CASE("base URLs are accepted in every documented form, with or without a trailing slash",
          "[url]") {
  for (const char* form :
       {"https://gw:8000/api/v2", "https://gw:8000/api/v2/", "https://gw:8081", "https://gw:8081/",
        "https://api.akeyless.io", "https://api.akeyless.io/", "https://gw:8080/v2"}) {
    INFO(form);
    auto base = aku::normalize_base_url(form);
    REQUIRE(base.ok());
    CHECK(base->back() != '/');
  }
  CHECK(*aku::normalize_base_url("https://api.akeyless.io/") == "https://api.akeyless.io");
}

TEST_CASE("plain http base URLs are refused unless the host is loopback", "[url]") {
  auto remote = aku::normalize_base_url("http://gateway.example.com:8000/api/v2");
  REQUIRE_FALSE(remote.ok());
  CHECK(remote.error().code() == aku::ErrorCode::kInvalidArgument);
  CHECK(remote.error().message().find("https://") != std::string::npos);

  CHECK(aku::normalize_base_url("http://127.0.0.1:8000/api/v2").ok());
  CHECK(aku::normalize_base_url("http://127.10.0.3:8000").ok());
  CHECK(aku::normalize_base_url("http://localhost:8081/").ok());
  CHECK(aku::normalize_base_url("http://[::1]:8081").ok());
  CHECK_FALSE(aku::normalize_base_url("http://169.254.169.254/api/v2").ok());
  CHECK_FALSE(aku::normalize_base_url("ftp://gw/").ok());
  CHECK_FALSE(aku::normalize_base_url("").ok());
  CHECK_FALSE(aku::normalize_base_url("https://user:pass@gw/").ok());
}

TEST_CASE("parse_url fills default ports and keeps the path and query", "[url]") {
  auto url = aku::parse_url("https://Gateway.Example.com/api/v2/auth?x=1");
  REQUIRE(url.ok());
  CHECK(url->scheme == "https");
  CHECK(url->host == "gateway.example.com");
  CHECK(url->port == 443);
  CHECK(url->target == "/api/v2/auth?x=1");
  CHECK(url->authority() == "gateway.example.com");

  auto v6 = aku::parse_url("http://[::1]:8080");
  REQUIRE(v6.ok());
  CHECK(v6->host == "::1");
  CHECK(v6->port == 8080);
  CHECK(v6->target == "/");
  CHECK(v6->authority() == "[::1]:8080");

  CHECK_FALSE(aku::parse_url("https://gw:0/").ok());
  CHECK_FALSE(aku::parse_url("https://gw:70000/").ok());
  CHECK_FALSE(aku::parse_url("https://:443/").ok());
  CHECK_FALSE(aku::parse_url("gw:443").ok());
}

TEST_CASE("plain http is allowed only for loopback and cloud metadata hosts", "[url]") {
  ScopedEnv gce("GCE_METADATA_HOST", nullptr);
  ScopedEnv azure("AZURE_IMDS_ENDPOINT", nullptr);
  ScopedEnv aws("AWS_EC2_METADATA_SERVICE_ENDPOINT", nullptr);

  CHECK(aku::plain_http_allowed("127.0.0.1"));
  CHECK(aku::plain_http_allowed("localhost"));
  CHECK(aku::plain_http_allowed("::1"));
  CHECK(aku::plain_http_allowed("169.254.169.254"));
  CHECK(aku::plain_http_allowed("metadata.google.internal"));
  CHECK_FALSE(aku::plain_http_allowed("gateway.example.com"));
  CHECK_FALSE(aku::plain_http_allowed("10.0.0.5"));

  SECTION("hosts named by the override variables are allowed, read at call time") {
    CHECK_FALSE(aku::plain_http_allowed("fake-gce"));
    ScopedEnv gce_set("GCE_METADATA_HOST", "fake-gce:8080");
    ScopedEnv azure_set("AZURE_IMDS_ENDPOINT", "http://fake-azure:9000/");
    ScopedEnv aws_set("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://fake-aws");
    CHECK(aku::plain_http_allowed("fake-gce"));
    CHECK(aku::plain_http_allowed("fake-azure"));
    CHECK(aku::plain_http_allowed("fake-aws"));
    CHECK_FALSE(aku::plain_http_allowed("other"));
  }
}

TEST_CASE("HttpClient refuses plain http to a non-loopback host before connecting", "[url]") {
  auto client = aku::HttpClient::create({});
  REQUIRE(client.ok());
  aku::HttpRequest request;
  request.url = "http://gateway.example.com/api/v2/auth";
  auto response =
      (*client)->send(request, std::chrono::steady_clock::now() + std::chrono::seconds(30));
  REQUIRE_FALSE(response.ok());
  CHECK(response.error().code() == aku::ErrorCode::kInvalidArgument);
}

TEST_CASE("NO_PROXY entries match exact hosts, domain suffixes, ports and the wildcard",
          "[url][proxy]") {
  CHECK(aku::no_proxy_matches("*", "anything.example", 443));
  CHECK(aku::no_proxy_matches("gw.corp", "gw.corp", 443));
  CHECK(aku::no_proxy_matches("corp", "gw.corp", 443));
  CHECK(aku::no_proxy_matches(".corp", "gw.corp", 443));
  CHECK(aku::no_proxy_matches("*.corp", "a.b.corp", 443));
  CHECK(aku::no_proxy_matches(" other , GW.CORP ", "gw.corp", 443));
  CHECK(aku::no_proxy_matches("gw.corp:8000", "gw.corp", 8000));
  CHECK_FALSE(aku::no_proxy_matches("gw.corp:8000", "gw.corp", 443));
  CHECK_FALSE(aku::no_proxy_matches("corp", "notcorp", 443));
  CHECK_FALSE(aku::no_proxy_matches("", "gw.corp", 443));
  CHECK_FALSE(aku::no_proxy_matches("example.com", "gw.corp", 443));
  CHECK(aku::no_proxy_matches("127.0.0.1,localhost", "127.0.0.1", 8443));
}

TEST_CASE("the proxy comes from HTTPS_PROXY unless NO_PROXY exempts the host", "[url][proxy]") {
  ScopedEnv upper("HTTPS_PROXY", "http://alice:s%40cret@proxy.corp:3128");
  ScopedEnv lower("https_proxy", nullptr);
  ScopedEnv no_upper("NO_PROXY", "internal.corp");
  ScopedEnv no_lower("no_proxy", nullptr);

  auto target = aku::parse_url("https://gw.example.com:8000/api/v2");
  REQUIRE(target.ok());
  auto proxy = aku::proxy_for_environment(*target);
  REQUIRE(proxy.ok());
  REQUIRE(proxy->has_value());
  CHECK((*proxy)->host == "proxy.corp");
  CHECK((*proxy)->port == 3128);
  // base64("alice:s@cret")
  CHECK((*proxy)->authorization.reveal() == "Basic YWxpY2U6c0BjcmV0");

  auto exempt = aku::parse_url("https://gw.internal.corp:8000/api/v2");
  REQUIRE(exempt.ok());
  auto direct = aku::proxy_for_environment(*exempt);
  REQUIRE(direct.ok());
  CHECK_FALSE(direct->has_value());

  auto plain = aku::parse_url("http://127.0.0.1:8000/");
  REQUIRE(plain.ok());
  auto none = aku::proxy_for_environment(*plain);
  REQUIRE(none.ok());
  CHECK_FALSE(none->has_value());
}

TEST_CASE("a malformed proxy URL is an error that does not repeat its credentials",
          "[url][proxy]") {
  ScopedEnv upper("HTTPS_PROXY", "https://bob:hunter2@proxy.corp:3128");
  ScopedEnv no_upper("NO_PROXY", nullptr);
  ScopedEnv no_lower("no_proxy", nullptr);
  auto target = aku::parse_url("https://gw.example.com/");
  REQUIRE(target.ok());
  auto proxy = aku::proxy_for_environment(*target);
  REQUIRE_FALSE(proxy.ok());
  CHECK(proxy.error().code() == aku::ErrorCode::kInvalidArgument);
  CHECK(proxy.error().message().find("hunter2") == std::string::npos);
}
