#pragma once

// run_plugin_server: the plugin-mode lifecycle, from the go-plugin handshake to exit.

#include "log.hpp"

namespace akeyless_upstream::plugin {

// run_plugin_server serves the plugin's gRPC services on a fresh unix socket until the host asks
// it to stop (GRPCController.Shutdown), SIGTERM arrives or the parent process disappears, then
// removes the socket. It prints the handshake line on stdout once the socket listens, and
// nothing else there. Returns the process exit status. The cookie must have been checked.
int run_plugin_server(Logger& logger);

}  // namespace akeyless_upstream::plugin
