// plugin_data → PluginConfig: Akeyless's documented keys, access_type inference, every
// validation message, the environment's access key, durations, server.conf extraction, and the
// rule that no message ever carries the access key.

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include <catch2/catch.hpp>

#include "plugin_config.hpp"

using namespace akeyless_upstream;
using namespace akeyless_upstream::plugin;
using namespace std::chrono_literals;

namespace {

// A realistic-looking API access key; it must never show up in a message.
const std::string kSecret = "Zq9+Kp2mW7rLx4Vb8Nc1Hd6Tf3Gy5Js0Qa/EuRiOo1=";

EnvLookup no_env() {
  return [](std::string_view) -> std::optional<std::string> { return std::nullopt; };
}

EnvLookup env_with(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(std::string(name));
    if (it == vars.end()) {
      return std::nullopt;
    }
    return it->second;
  };
}

const std::string kBase =
    "akeyless_gateway_url = \"https://gw.example.com:8000/api/v2\"\n"
    "certificate_name = \"/SPIRE/SVID/upstream\"\n";

PluginConfig parse_ok(std::string_view text, const EnvLookup& env = no_env()) {
  auto config = parse_plugin_config(text, env);
  INFO((config.ok() ? std::string() : config.error().message()));
  REQUIRE(config.ok());
  return std::move(config).value();
}

// problems returns validate's list after checking that parse agrees on the first one and that
// no message contains the secret.
std::vector<std::string> problems(std::string_view text, const EnvLookup& env = no_env()) {
  std::vector<std::string> found = validate_plugin_config(text, env);
  auto parsed = parse_plugin_config(text, env);
  CHECK(parsed.ok() == found.empty());
  if (!parsed.ok()) {
    CHECK(parsed.error().code() == ErrorCode::kInvalidArgument);
    CHECK_THAT(parsed.error().message(), Catch::StartsWith(found.front()));
    CHECK_THAT(parsed.error().message(), !Catch::Contains(kSecret));
  }
  for (const std::string& message : found) {
    CHECK_THAT(message, !Catch::Contains(kSecret));
  }
  return found;
}

std::string only_problem(std::string_view text, const EnvLookup& env = no_env()) {
  auto found = problems(text, env);
  INFO(Catch::Detail::stringify(found));
  REQUIRE(found.size() == 1);
  return found.front();
}

class TempFile {
 public:
  explicit TempFile(const std::string& content) {
    path_ = (std::filesystem::temp_directory_path() /
             ("plugin_config_test_" + std::to_string(reinterpret_cast<std::uintptr_t>(this))))
                .string();
    std::ofstream(path_) << content;
  }
  ~TempFile() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace

TEST_CASE("the plugin_data example from Akeyless's akeyless_sm docs configures API key auth",
          "[config]") {
  // The keys and value shapes of Akeyless's documented example, written as valid HCL v1 (HCL v1
  // has no single-quoted strings).
  const std::string text =
      "akeyless_gateway_url = \"https://my-gateway.example.com:8000/api/v2\"\n"
      "access_id = \"p-abcdefgh1234\"\n"
      "access_key = \"" +
      kSecret +
      "\"\n"
      "certificate_name = \"/SPIRE/SVID/certificate_name\"\n";
  PluginConfig config = parse_ok(text);
  CHECK(config.gateway_url == "https://my-gateway.example.com:8000/api/v2");
  CHECK(config.certificate_name == "/SPIRE/SVID/certificate_name");
  CHECK(config.auth.access_type == "api_key");
  CHECK(config.auth.access_id == "p-abcdefgh1234");
  CHECK(config.auth.access_key.reveal() == kSecret);
  CHECK(config.bundle_certificate_name.empty());
  CHECK(config.gateway_ca_bundle_path.empty());
  CHECK(config.request_timeout == 30s);
  CHECK(config.auth.gcp_audience == "akeyless.io");
}

TEST_CASE("plugin_data in SPIRE's printed block form, quoted-key form and JSON all parse",
          "[config]") {
  std::string block =
      "access_id = \"p-1\"\n\naccess_type = \"k8s\"\n\n"
      "akeyless_gateway_url = \"https://gw:8000/api/v2\"\n\ncertificate_name = \"/c\"\n\n"
      "k8s_auth_config_name = \"cfg\"";
  std::string quoted =
      "\"access_id\" = \"p-1\"\n\n\"access_type\" = \"k8s\"\n\n"
      "\"akeyless_gateway_url\" = \"https://gw:8000/api/v2\"\n\n\"certificate_name\" = \"/c\"\n\n"
      "\"k8s_auth_config_name\" = \"cfg\"";
  std::string json =
      R"({"access_id": "p-1", "access_type": "k8s",
          "akeyless_gateway_url": "https://gw:8000/api/v2",
          "certificate_name": "/c", "k8s_auth_config_name": "cfg"})";
  for (const std::string& text : {block, quoted, json}) {
    PluginConfig config = parse_ok(text);
    CHECK(config.auth.access_type == "k8s");
    CHECK(config.auth.k8s_auth_config_name == "cfg");
    CHECK(config.certificate_name == "/c");
  }
}

TEST_CASE("every key maps onto PluginConfig", "[config]") {
  TempFile bundle("-----BEGIN CERTIFICATE-----\n");
  PluginConfig config = parse_ok(
      "access_type = \"k8s\"\n"
      "access_id = \"p-k8s\"\n"
      "k8s_auth_config_name = \"spire-cfg\"\n"
      "k8s_service_account_token_path = \"/var/run/secrets/tokens/akeyless\"\n"
      "gcp_audience = \"aud\"\n"
      "azure_object_id = \"obj\"\n"
      "akeyless_gateway_url = \"https://gw:8000/api/v2\"\n"
      "certificate_name = \"/SPIRE/ca\"\n"
      "bundle_certificate_name = \"/SPIRE/bundle\"\n"
      "gateway_ca_bundle_path = \"" +
      bundle.path() +
      "\"\n"
      "request_timeout = \"1m30s\"\n");
  CHECK(config.auth.access_type == "k8s");
  CHECK(config.auth.access_id == "p-k8s");
  CHECK(config.auth.k8s_auth_config_name == "spire-cfg");
  CHECK(config.auth.k8s_service_account_token_path == "/var/run/secrets/tokens/akeyless");
  CHECK(config.auth.gcp_audience == "aud");
  CHECK(config.auth.azure_object_id == "obj");
  CHECK(config.bundle_certificate_name == "/SPIRE/bundle");
  CHECK(config.gateway_ca_bundle_path == bundle.path());
  CHECK(config.request_timeout == 90s);
}

TEST_CASE("access_type is inferred from access_key or k8s_auth_config_name", "[config]") {
  SECTION("access_key means api_key") {
    auto config = parse_ok(kBase + "access_id = \"p-1\"\naccess_key = \"" + kSecret + "\"\n");
    CHECK(config.auth.access_type == "api_key");
  }
  SECTION("k8s_auth_config_name means k8s") {
    auto config = parse_ok(kBase + "access_id = \"p-1\"\nk8s_auth_config_name = \"cfg\"\n");
    CHECK(config.auth.access_type == "k8s");
    CHECK(config.auth.k8s_service_account_token_path ==
          "/var/run/secrets/kubernetes.io/serviceaccount/token");
  }
  SECTION("an access key in the environment means api_key") {
    auto config =
        parse_ok(kBase + "access_id = \"p-1\"\n", env_with({{"AKEYLESS_ACCESS_KEY", kSecret}}));
    CHECK(config.auth.access_type == "api_key");
  }
  SECTION("k8s_auth_config_name wins over a key in the environment") {
    auto config = parse_ok(kBase + "access_id = \"p-1\"\nk8s_auth_config_name = \"cfg\"\n",
                           env_with({{"AKEYLESS_ACCESS_KEY", kSecret}}));
    CHECK(config.auth.access_type == "k8s");
  }
  SECTION("access_key in plugin_data wins over k8s_auth_config_name") {
    auto config = parse_ok(kBase + "access_id = \"p-1\"\nk8s_auth_config_name = \"cfg\"\n" +
                           "access_key = \"" + kSecret + "\"\n");
    CHECK(config.auth.access_type == "api_key");
  }
  SECTION("nothing to infer from is an error listing the methods") {
    CHECK(only_problem(kBase + "access_id = \"p-1\"\n") ==
          "access_type is not set and cannot be inferred (there is no access_key, no "
          "AKEYLESS_ACCESS_KEY and no k8s_auth_config_name); set access_type to one of: "
          "api_key, aws_iam, azure_ad, gcp, k8s");
  }
  SECTION("an explicit access_type wins over inference") {
    auto config = parse_ok(kBase +
                           "access_type = \"gcp\"\naccess_id = \"p-1\"\n"
                           "access_key = \"" +
                           kSecret + "\"\n");
    CHECK(config.auth.access_type == "gcp");
  }
  SECTION("Akeyless's wire name access_key is accepted for api_key") {
    auto config = parse_ok(kBase +
                           "access_type = \"access_key\"\naccess_id = \"p-1\"\n"
                           "access_key = \"" +
                           kSecret + "\"\n");
    CHECK(config.auth.access_type == "api_key");
  }
}

TEST_CASE("the cloud methods need only access_id", "[config]") {
  for (const char* type : {"aws_iam", "azure_ad", "gcp"}) {
    auto config = parse_ok(kBase + "access_type = \"" + type + "\"\naccess_id = \"p-1\"\n");
    CHECK(config.auth.access_type == type);
    CHECK(config.auth.access_key.empty());
  }
}

TEST_CASE("the access key may come from AKEYLESS_ACCESS_KEY, and plugin_data's wins", "[config]") {
  std::string without_key = kBase + "access_type = \"api_key\"\naccess_id = \"p-1\"\n";
  SECTION("from the environment") {
    auto config = parse_ok(without_key, env_with({{"AKEYLESS_ACCESS_KEY", kSecret}}));
    CHECK(config.auth.access_key.reveal() == kSecret);
  }
  SECTION("plugin_data's access_key is used when both are set") {
    auto config = parse_ok(without_key + "access_key = \"file-key-123\"\n",
                           env_with({{"AKEYLESS_ACCESS_KEY", kSecret}}));
    CHECK(config.auth.access_key.reveal() == "file-key-123");
  }
  SECTION("an empty variable counts as unset") {
    CHECK(only_problem(without_key, env_with({{"AKEYLESS_ACCESS_KEY", ""}})) ==
          "access_key is required for access_type \"api_key\"; set it in plugin_data or in the "
          "AKEYLESS_ACCESS_KEY environment variable");
  }
}

TEST_CASE("each auth method reports the keys it is missing", "[config]") {
  CHECK(only_problem(kBase + "access_key = \"" + kSecret + "\"\n") ==
        "access_id is required for access_type \"api_key\" (the access ID of the Akeyless auth "
        "method, \"p-...\")");
  CHECK(only_problem(kBase + "access_type = \"k8s\"\naccess_id = \"p-1\"\n") ==
        "k8s_auth_config_name is required for access_type \"k8s\" (the name of the Kubernetes "
        "auth config created on the Akeyless Gateway)");
  CHECK(only_problem(kBase + "access_type = \"aws_iam\"\naccess_id = \"\"\n") ==
        "access_id is required for access_type \"aws_iam\" (the access ID of the Akeyless auth "
        "method, \"p-...\")");
  auto both = problems(kBase + "access_type = \"api_key\"\n");
  REQUIRE(both.size() == 2);
  CHECK_THAT(both[0], Catch::StartsWith("access_id is required"));
  CHECK_THAT(both[1], Catch::StartsWith("access_key is required"));
}

TEST_CASE("an unknown access_type is an error that lists the methods", "[config]") {
  CHECK(only_problem(kBase + "access_id = \"p-1\"\naccess_type = \"kubernetes\"\n") ==
        "line 4, column 15: access_type \"kubernetes\" is not supported; The methods are: "
        "api_key, aws_iam, azure_ad, gcp, k8s");
  CHECK(only_problem(kBase + "access_id = \"p-1\"\naccess_type = \"aws-iam\"\n") ==
        "line 4, column 15: access_type \"aws-iam\" is not supported; did you mean \"aws_iam\"? "
        "The methods are: api_key, aws_iam, azure_ad, gcp, k8s");
}

TEST_CASE("akeyless_gateway_url and certificate_name are required", "[config]") {
  auto found = problems("access_id = \"p-1\"\naccess_key = \"" + kSecret + "\"\n");
  REQUIRE(found.size() == 2);
  CHECK(found[0] ==
        "akeyless_gateway_url is required (the Akeyless Gateway API v2 endpoint, for example "
        "\"https://gateway.example.com:8000/api/v2\")");
  CHECK(found[1] ==
        "certificate_name is required (the full name of the Akeyless certificate item, for "
        "example \"/SPIRE/SVID/upstream-ca\")");
}

TEST_CASE("akeyless_gateway_url must be an https URL, or http on loopback", "[config]") {
  auto with_url = [](const std::string& url) {
    return "akeyless_gateway_url = \"" + url +
           "\"\ncertificate_name = \"/c\"\naccess_id = \"p-1\"\naccess_key = \"" + kSecret + "\"\n";
  };
  for (const char* good : {"https://gw.example.com:8000/api/v2", "https://gw", "HTTPS://GW:8081",
                           "http://127.0.0.1:8080/api/v2", "http://localhost:9000",
                           "http://[::1]:8000/api/v2", "https://[2001:db8::1]:8000"}) {
    INFO(good);
    CHECK(problems(with_url(good)).empty());
  }
  CHECK(only_problem(with_url("http://gw.example.com:8000/api/v2")) ==
        "line 1, column 24: akeyless_gateway_url uses http:// for a host that is not loopback; "
        "credentials and tokens would cross the network unencrypted. Use https:// (http:// is "
        "accepted only for localhost, 127.0.0.0/8 and [::1])");
  CHECK_THAT(only_problem(with_url("http://127.0.0.1.evil.example")),
             Catch::Contains("not loopback"));
  CHECK_THAT(only_problem(with_url("gw.example.com:8000")),
             Catch::Contains("must be a URL starting with https://"));
  CHECK_THAT(only_problem(with_url("ftp://gw")), Catch::Contains("must use https://"));
  CHECK_THAT(only_problem(with_url("https://:8000/api/v2")), Catch::Contains("has no host"));
  CHECK_THAT(only_problem(with_url("https://gw:99999")), Catch::Contains("invalid port"));
  CHECK_THAT(only_problem(with_url("https://gw:")), Catch::Contains("invalid port"));
  CHECK_THAT(only_problem(with_url("https://gw/api v2")), Catch::Contains("whitespace"));
  CHECK_THAT(only_problem(with_url("https://gw/api?x=1")), Catch::Contains("query"));
  std::string with_user = only_problem(with_url("https://admin:hunter2@gw/api/v2"));
  CHECK_THAT(with_user, Catch::Contains("user:password@"));
  CHECK_THAT(with_user, !Catch::Contains("hunter2"));
}

TEST_CASE("an unknown key suggests the nearest valid one", "[config]") {
  std::string rest = "access_key = \"" + kSecret + "\"\n";
  CHECK(only_problem(kBase + "acess_id = \"p-1\"\naccess_id = \"p-1\"\n" + rest) ==
        "line 3, column 1: unknown key \"acess_id\"; did you mean \"access_id\"?");
  CHECK(only_problem(kBase + "access_id = \"p-1\"\n" + rest + "certificate_nme = \"x\"\n") ==
        "line 5, column 1: unknown key \"certificate_nme\"; did you mean \"certificate_name\"?");
  CHECK(only_problem(kBase + "access_id = \"p-1\"\n" + rest + "pki_cert_issuer_name = \"x\"\n") ==
        "line 5, column 1: unknown key \"pki_cert_issuer_name\"; it belongs to Akeyless's PKI "
        "plugin; this plugin reads the certificate item named by \"certificate_name\"");
  CHECK(only_problem(kBase + "access_id = \"p-1\"\n" + rest + "zzz = 1\n") ==
        "line 5, column 1: unknown key \"zzz\"; valid keys are: access_id, access_key, "
        "access_type, akeyless_gateway_url, certificate_name, bundle_certificate_name, "
        "gateway_ca_bundle_path, k8s_auth_config_name, k8s_service_account_token_path, "
        "gcp_audience, azure_object_id, request_timeout");
}

TEST_CASE("a value of the wrong type names the key and the expected type", "[config]") {
  std::string rest = "access_id = \"p-1\"\naccess_key = \"" + kSecret + "\"\n";
  CHECK(only_problem(kBase + rest + "bundle_certificate_name = [\"a\", \"b\"]\n") ==
        "line 5, column 1: bundle_certificate_name must be a string, found a list");
  CHECK(only_problem(kBase + rest + "gcp_audience = 3\n") ==
        "line 5, column 1: gcp_audience must be a string, found a number");
  CHECK(only_problem(kBase + rest + "azure_object_id { x = 1 }\n") ==
        "line 5, column 1: azure_object_id must be a string, found a block (write key = "
        "\"value\")");
  CHECK(only_problem(kBase + rest + "request_timeout = true\n") ==
        "line 5, column 1: request_timeout must be a duration string such as \"30s\" or a whole "
        "number of seconds, found a bool");
}

TEST_CASE("plugin_data must be a non-empty block", "[config]") {
  SECTION("empty, as SPIRE sends it for plugin_data {}") {
    for (const char* text : {"", "\n", "# only a comment\n"}) {
      CHECK(only_problem(text) ==
            "plugin_data is empty; set at least akeyless_gateway_url, certificate_name, "
            "access_id, and access_key (API key, or the AKEYLESS_ACCESS_KEY environment "
            "variable) or access_type with that method's keys");
    }
  }
  SECTION("a string, as SPIRE prints plugin_data = \"text\"") {
    CHECK(only_problem("\"access_id=p-1\"") ==
          "plugin_data must be a block of keys, as in `plugin_data { access_id = \"p-...\" ... "
          "}`, not a string");
  }
  SECTION("a syntax error carries line and column") {
    CHECK(only_problem("certificate_name = \"c\"\naccess_id \"p-1\"\n") ==
          "plugin_data is not valid HCL: line 3, column 1: expected '{' after the labels of "
          "block \"access_id\", found end of input");
  }
}

TEST_CASE("gateway_ca_bundle_path must name a readable file", "[config]") {
  std::string rest = kBase + "access_id = \"p-1\"\naccess_key = \"" + kSecret + "\"\n";
  CHECK(only_problem(rest + "gateway_ca_bundle_path = \"/nonexistent/ca.pem\"\n") ==
        "line 5, column 26: gateway_ca_bundle_path \"/nonexistent/ca.pem\" cannot be read: No "
        "such file or directory (give a PEM file of the CA certificates that issued the "
        "gateway's TLS certificate, or leave the key out to use the system trust store)");
  std::string directory = std::filesystem::temp_directory_path().string();
  CHECK_THAT(only_problem(rest + "gateway_ca_bundle_path = \"" + directory + "\"\n"),
             Catch::Contains("cannot be read"));
}

TEST_CASE("request_timeout takes Go durations or whole seconds", "[config]") {
  std::string rest = kBase + "access_id = \"p-1\"\naccess_key = \"" + kSecret + "\"\n";
  auto timeout = [&](const std::string& value) {
    return parse_ok(rest + "request_timeout = " + value + "\n").request_timeout;
  };
  CHECK(timeout("\"30s\"") == 30s);
  CHECK(timeout("\"1m30s\"") == 90s);
  CHECK(timeout("\"500ms\"") == 500ms);
  CHECK(timeout("\"1.5s\"") == 1500ms);
  CHECK(timeout("\"1h\"") == 1h);
  CHECK(timeout("\"2000us\"") == 2ms);
  CHECK(timeout("\"45\"") == 45s);
  CHECK(timeout("45") == 45s);

  CHECK(only_problem(rest + "request_timeout = \"30\"\nrequest_timeout2 = 1\n")
            .find("request_timeout2") != std::string::npos);
  CHECK(only_problem(rest + "request_timeout = \"30x\"\n") ==
        "line 5, column 19: request_timeout needs a unit after each number (ns, us, ms, s, m, "
        "h), as in \"30s\"");
  CHECK(only_problem(rest + "request_timeout = \"soon\"\n") ==
        "line 5, column 19: request_timeout is not a duration; write it like \"30s\", "
        "\"1m30s\" or \"500ms\" (units ns, us, ms, s, m, h), or as whole seconds");
  CHECK(only_problem(rest + "request_timeout = \"-5s\"\n") ==
        "line 5, column 19: request_timeout must not be negative");
  CHECK(only_problem(rest + "request_timeout = 0\n") ==
        "line 5, column 19: request_timeout must be more than 0 and at most 1h");
  CHECK(only_problem(rest + "request_timeout = \"0s\"\n") ==
        "line 5, column 19: request_timeout must be at least 1ms and at most 1h");
  CHECK(only_problem(rest + "request_timeout = \"2h\"\n") ==
        "line 5, column 19: request_timeout must be at least 1ms and at most 1h");
  CHECK(only_problem(rest + "request_timeout = \"10ns\"\n") ==
        "line 5, column 19: request_timeout must be at least 1ms");
  CHECK(only_problem(rest + "request_timeout = 1.5\n") ==
        "line 5, column 19: request_timeout as a number is whole seconds; write a duration "
        "string such as \"1500ms\" for fractions");
}

TEST_CASE("parse_plugin_config reports the first problem and counts the rest", "[config]") {
  auto result = parse_plugin_config("acess_id = \"p\"\nfoo = 1\n", no_env());
  REQUIRE_FALSE(result.ok());
  CHECK_THAT(result.error().message(), Catch::StartsWith("line 1, column 1: unknown key "
                                                         "\"acess_id\"; did you mean"));
  CHECK_THAT(result.error().message(), Catch::EndsWith(" (and 4 more problems)"));
}

TEST_CASE("no message ever contains the access key", "[config]") {
  // Each configuration is wrong in a way that puts the key somewhere a careless message would
  // repeat it.
  const std::vector<std::string> texts = {
      "access_key = \"" + kSecret + "\"\n",
      "access_key = [\"" + kSecret + "\"]\n",
      "access_key \"" + kSecret + "\" { }\n",
      "\"" + kSecret + "\" = \"x\"\n",
      "access_type = \"" + kSecret + "\"\naccess_key = \"" + kSecret + "\"\n",
      "access_id = \"" + kSecret + "\"\naccess_key = \"" + kSecret + "\"\n",
      "certificate_name = \"" + kSecret + "\"\naccess_key = \"" + kSecret + "\"\n",
      "akeyless_gateway_url = \"http://" + kSecret + "\"\n",
      "akeyless_gateway_url = \"https://u:" + kSecret + "@gw\"\n",
      "gateway_ca_bundle_path = \"/x/" + kSecret + "\"\naccess_key = \"" + kSecret + "\"\n",
      "request_timeout = \"" + kSecret + "\"\n",
      "\"" + kSecret + "\"",
      "access_key = \"" + kSecret + "\n",
      "access_key = " + kSecret + "\n",
  };
  for (const std::string& text : texts) {
    for (const EnvLookup& env : {no_env(), env_with({{"AKEYLESS_ACCESS_KEY", kSecret}})}) {
      std::vector<std::string> found = validate_plugin_config(text, env);
      CHECK_FALSE(found.empty());
      for (const std::string& message : found) {
        CHECK_THAT(message, !Catch::Contains(kSecret));
        CHECK_THAT(message, !Catch::Contains("Kp2mW7rLx4"));
      }
      auto parsed = parse_plugin_config(text, env);
      REQUIRE_FALSE(parsed.ok());
      CHECK_THAT(parsed.error().message(), !Catch::Contains("Kp2mW7rLx4"));
    }
  }
}

TEST_CASE("parse_duration reads Go duration syntax", "[config]") {
  CHECK(*parse_duration("1h2m3s4ms") == 1h + 2min + 3s + 4ms);
  CHECK(*parse_duration("+5s") == 5s);
  CHECK(*parse_duration("1.25m") == 75s);
  CHECK(*parse_duration("3000\xC2\xB5s") == 3ms);
  CHECK(*parse_duration("0") == 0ms);
  CHECK_FALSE(parse_duration("").ok());
  CHECK_FALSE(parse_duration("s").ok());
  CHECK_FALSE(parse_duration("1.2.3s").ok());
  CHECK_FALSE(parse_duration("5 s").ok());
  CHECK_FALSE(parse_duration("100000h").ok());
}

TEST_CASE("plugin_data_from_file accepts a plugin_data body unchanged", "[config]") {
  std::string body = kBase + "access_id = \"p-1\"\n";
  auto text = plugin_data_from_file(body);
  REQUIRE(text.ok());
  CHECK(*text == body);
}

TEST_CASE("plugin_data_from_file takes akeyless_sm's plugin_data from an HCL server.conf",
          "[config]") {
  const std::string conf = R"(server {
  trust_domain = "example.org"
}
plugins {
  UpstreamAuthority "akeyless_sm" {
    plugin_cmd = "/opt/spire/plugins/akeyless-upstream-sm"
    plugin_checksum = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
    plugin_data {
      akeyless_gateway_url = "https://gw:8000/api/v2"
      certificate_name = "/SPIRE/ca"
      access_id = "p-1"
      acess_type = "k8s"
    }
  }
}
)";
  auto text = plugin_data_from_file(conf);
  REQUIRE(text.ok());
  // Positions in messages point into server.conf itself.
  CHECK(only_problem(*text, env_with({{"AKEYLESS_ACCESS_KEY", kSecret}})) ==
        "line 12, column 7: unknown key \"acess_type\"; did you mean \"access_type\"?");
  auto config = parse_plugin_config(*text + "", env_with({{"AKEYLESS_ACCESS_KEY", kSecret}}));
  CHECK_FALSE(config.ok());
}

TEST_CASE("plugin_data_from_file takes akeyless_sm's plugin_data from a JSON server.conf",
          "[config]") {
  const std::string conf = R"({
  "server": {"trust_domain": "example.org"},
  "plugins": {
    "UpstreamAuthority": [{"akeyless_sm": {
      "plugin_cmd": "/opt/spire/plugins/akeyless-upstream-sm",
      "plugin_checksum": "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
      "plugin_data": {
        "akeyless_gateway_url": "https://gw:8000/api/v2",
        "certificate_name": "/SPIRE/ca",
        "access_type": "aws_iam",
        "access_id": "p-aws"
      }
    }}]
  }
})";
  auto text = plugin_data_from_file(conf);
  REQUIRE(text.ok());
  auto config = parse_ok(*text);
  CHECK(config.auth.access_type == "aws_iam");
  CHECK(config.certificate_name == "/SPIRE/ca");
}

TEST_CASE("plugin_data_from_file reads plugin_data_file named in server.conf", "[config]") {
  TempFile data(kBase + "access_type = \"gcp\"\naccess_id = \"p-gcp\"\n");
  const std::string conf =
      "plugins {\n  UpstreamAuthority \"akeyless_sm\" {\n"
      "    plugin_cmd = \"/opt/p\"\n    plugin_checksum = \"ab\"\n"
      "    plugin_data_file = \"" +
      data.path() + "\"\n  }\n}\n";
  auto text = plugin_data_from_file(conf);
  REQUIRE(text.ok());
  CHECK(parse_ok(*text).auth.access_type == "gcp");
}

TEST_CASE("plugin_data_from_file explains a server.conf without the plugin", "[config]") {
  auto missing = plugin_data_from_file("plugins { UpstreamAuthority \"disk\" { } }");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().message() ==
        "server.conf has no UpstreamAuthority \"akeyless_sm\" block inside `plugins { ... }`");
  auto no_data = plugin_data_from_file(
      "plugins { UpstreamAuthority \"akeyless_sm\" { plugin_cmd = \"/p\" } }");
  REQUIRE_FALSE(no_data.ok());
  CHECK(no_data.error().message() ==
        "UpstreamAuthority \"akeyless_sm\" has neither plugin_data nor plugin_data_file; add a "
        "plugin_data block");
  auto renamed = plugin_data_from_file(
      "plugins { UpstreamAuthority \"akeyless\" { plugin_data { certificate_name = \"/c\" } } }",
      "akeyless");
  REQUIRE(renamed.ok());
  CHECK_THAT(*renamed, Catch::Contains("certificate_name"));
}
