// akeyless-upstream-sm: a SPIRE Server UpstreamAuthority plugin that signs SPIRE's CA with a
// certificate item held in Akeyless. SPIRE starts it as an external plugin (go-plugin); operators
// run `check` to test a configuration without SPIRE.

#include <cstdio>
#include <iostream>
#include <string_view>

#include "akeyless_upstream/version.hpp"
#include "check_command.hpp"
#include "handshake.hpp"
#include "log.hpp"
#include "plugin_server.hpp"

namespace {

void print_help() {
  std::cout << "akeyless-upstream-sm " << akeyless_upstream::kVersion
            << ": SPIRE UpstreamAuthority plugin backed by an Akeyless certificate item\n\n"
               "SPIRE Server starts this program through plugin_cmd; it is not run by hand.\n\n"
               "Commands:\n"
               "  check --config FILE --trust-domain TD [--ca-ttl SECONDS]\n"
               "                 test a configuration end to end without SPIRE\n"
               "  --version      print the version\n"
               "  --help         print this text\n";
}

}  // namespace

int main(int argc, char** argv) {
  namespace plugin = akeyless_upstream::plugin;

  const std::string_view command = argc > 1 ? std::string_view(argv[1]) : std::string_view();
  if (command == "check") {
    return plugin::run_check(argc - 1, argv + 1);
  }
  if (command == "--version" || command == "version") {
    std::cout << "akeyless-upstream-sm " << akeyless_upstream::kVersion << "\n";
    return 0;
  }
  if (command == "--help" || command == "-h" || command == "help") {
    print_help();
    return 0;
  }

  // Plugin mode: only SPIRE (or a test host acting like it) sets the cookie.
  if (!plugin::cookie_matches()) {
    std::fputs(plugin::not_a_plugin_message().c_str(), stderr);
    return 1;
  }
  plugin::Logger logger(plugin::LogFormat::kJson);
  return plugin::run_plugin_server(logger);
}
