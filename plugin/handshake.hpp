#pragma once

// The go-plugin handshake as SPIRE's catalog performs it: the magic cookie check, the unix
// socket path in the temp directory, and the single stdout line that tells the host where to
// dial.

#include <string>
#include <string_view>

#include "akeyless_upstream/result.hpp"

namespace akeyless_upstream::plugin {

// SPIRE sets the cookie key and value both to the plugin type.
inline constexpr std::string_view kCookieKey = "UpstreamAuthority";
inline constexpr std::string_view kCookieValue = "UpstreamAuthority";

// go-plugin's core protocol version and the one application protocol version SPIRE registers.
inline constexpr int kCoreProtocolVersion = 1;
inline constexpr int kAppProtocolVersion = 1;

// cookie_matches reports whether the environment carries the cookie exactly.
bool cookie_matches();

// not_a_plugin_message is what a person who runs the binary directly sees on stderr.
std::string not_a_plugin_message();

// make_socket_path picks a fresh "plugin<random>" path in $TMPDIR (else /tmp), the way go-plugin
// does: create a unique file, remove it, and let the listener take its name. Errors:
// kFailedPrecondition when the directory is not writable or the path exceeds the unix socket
// limit (the fix: a shorter TMPDIR).
Result<std::string> make_socket_path();

// handshake_line gives "1|1|unix|<path>|grpc|\n": core version, app version, network, address,
// protocol and an empty server certificate (SPIRE turns AutoMTLS off).
std::string handshake_line(std::string_view socket_path);

// write_handshake writes the line to stdout in full and flushes it. Errors: kUnavailable when
// stdout is closed.
Status write_handshake(std::string_view line);

}  // namespace akeyless_upstream::plugin
