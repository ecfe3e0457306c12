// `akeyless-upstream-sm check`: the operator's dry run against the gateway emulator.

#include <fstream>

#include <catch2/catch.hpp>

#include "gateway_fixture.hpp"
#include "plugin_host.hpp"

using namespace plugin_test;

namespace {

RunResult run_check(const std::string& config_path, const std::string& trust_domain = kTrustDomain,
                    std::vector<std::string> extra = {}) {
  LaunchOptions options;
  options.cookie = false;  // a command, not plugin mode
  options.args = {"check", "--config", config_path, "--trust-domain", trust_domain};
  options.args.insert(options.args.end(), extra.begin(), extra.end());
  return run_to_completion(options);
}

bool contains(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}

}  // namespace

TEST_CASE(
    "check with a good plugin_data prints the item, chain and root fingerprints and exits 0") {
  TestGateway gateway;
  TempDir dir;
  PluginData data;
  data.certificate_name = kChainItem;
  const std::string path = dir.path() + "/plugin_data.hcl";
  std::ofstream(path) << gateway.plugin_data(data);

  RunResult run = run_check(path);
  INFO("stdout:\n" << run.out << "\nstderr:\n" << run.err);
  CHECK(run.status.exited);
  CHECK(run.status.code == 0);
  CHECK(contains(run.out, std::string("certificate item:  ") + kChainItem));
  CHECK(contains(run.out, "CN=Test Chain Intermediate"));
  CHECK(contains(run.out, "SHA-256:"));
  CHECK(contains(run.out, "Signing certificate expires:"));
  CHECK(contains(run.out, "verifies to the roots"));
  CHECK(contains(run.out, "RESULT: OK"));
  CHECK_FALSE(contains(run.out, kAccessKey));
  CHECK_FALSE(contains(run.err, kAccessKey));
}

TEST_CASE("check reads the plugin_data of a whole server.conf") {
  TestGateway gateway;
  TempDir dir;
  std::string body = gateway.plugin_data(PluginData{});
  const std::string path = dir.path() + "/server.conf";
  std::ofstream(path) << "server {\n  trust_domain = \"example.org\"\n}\n\nplugins {\n"
                         "  UpstreamAuthority \"akeyless_sm\" {\n"
                         "    plugin_cmd = \"/opt/akeyless-upstream-sm\"\n"
                         "    plugin_data {\n"
                      << body << "    }\n  }\n}\n";
  RunResult run = run_check(path);
  INFO("stdout:\n" << run.out << "\nstderr:\n" << run.err);
  CHECK(run.status.code == 0);
  CHECK(contains(run.out, std::string("certificate item:  ") + kRootItem));
  CHECK(contains(run.out, "RESULT: OK"));
}

TEST_CASE("check warns about an upstream CA that expires soon and a ca_ttl that would be clamped") {
  TestGateway gateway;
  TempDir dir;
  PluginData data;
  data.certificate_name = kShortLivedItem;
  const std::string path = dir.path() + "/plugin_data.hcl";
  std::ofstream(path) << gateway.plugin_data(data);

  // A two-day ca_ttl against a root that lives one day.
  RunResult run = run_check(path, kTrustDomain, {"--ca-ttl", "172800"});
  INFO("stdout:\n" << run.out << "\nstderr:\n" << run.err);
  CHECK(run.status.code == 0);
  CHECK(contains(run.out, "WARNING: the upstream signing certificate expires in 0 days"));
  CHECK(contains(run.out, "would be clamped"));
}

TEST_CASE("check with bad credentials exits 1 and says why on stderr, without the key") {
  TestGateway gateway;
  TempDir dir;
  PluginData data;
  data.access_key = "definitely-wrong-key";
  const std::string path = dir.path() + "/plugin_data.hcl";
  std::ofstream(path) << gateway.plugin_data(data);

  RunResult run = run_check(path);
  INFO("stdout:\n" << run.out << "\nstderr:\n" << run.err);
  CHECK(run.status.exited);
  CHECK(run.status.code == 1);
  CHECK(contains(run.err, "as access id p-spire failed"));
  CHECK(contains(run.err, "check access_id and access_key"));
  CHECK(contains(run.out, "RESULT: FAIL"));
  CHECK_FALSE(contains(run.err, "definitely-wrong-key"));
  CHECK_FALSE(contains(run.out, "definitely-wrong-key"));
}

TEST_CASE("check with an unusable item or configuration exits 1") {
  TestGateway gateway;
  TempDir dir;
  const std::string path = dir.path() + "/plugin_data.hcl";

  SECTION("a non-CA item") {
    PluginData data;
    data.certificate_name = kLeafItem;
    std::ofstream(path) << gateway.plugin_data(data);
    RunResult run = run_check(path);
    CHECK(run.status.code == 1);
    CHECK(contains(run.err, "cannot be used as the upstream CA"));
  }
  SECTION("an unknown key in plugin_data") {
    std::ofstream(path) << gateway.plugin_data(PluginData{}) << "surprise_key = 1\n";
    RunResult run = run_check(path);
    CHECK(run.status.code == 1);
    CHECK(contains(run.err, "surprise_key"));
  }
  SECTION("a malformed trust domain") {
    std::ofstream(path) << gateway.plugin_data(PluginData{});
    RunResult run = run_check(path, "Not A Domain");
    CHECK(run.status.code == 1);
    CHECK(contains(run.err, "trust_domain is malformed"));
  }
  SECTION("a missing file") {
    RunResult run = run_check(dir.path() + "/absent.hcl");
    CHECK(run.status.code == 1);
    CHECK(contains(run.err, "cannot open"));
  }
}

TEST_CASE("check without its arguments prints usage and exits 2") {
  LaunchOptions options;
  options.cookie = false;
  options.args = {"check"};
  RunResult run = run_to_completion(options);
  CHECK(run.status.code == 2);
  CHECK(contains(run.err, "usage: akeyless-upstream-sm check"));
}
