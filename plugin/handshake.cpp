#include "handshake.hpp"

#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace akeyless_upstream::plugin {

bool cookie_matches() {
  const char* value = std::getenv(std::string(kCookieKey).c_str());
  return value != nullptr && std::string_view(value) == kCookieValue;
}

std::string not_a_plugin_message() {
  return "This binary is a plugin for SPIRE Server (an UpstreamAuthority backed by Akeyless). It "
         "is "
         "not meant to be executed directly: SPIRE starts it through plugin_cmd in server.conf.\n"
         "To test a configuration without SPIRE, run: akeyless-upstream-sm check --config FILE "
         "--trust-domain TRUST_DOMAIN\n";
}

Result<std::string> make_socket_path() {
  const char* tmpdir = std::getenv("TMPDIR");
  std::string dir = tmpdir != nullptr && *tmpdir != '\0' ? tmpdir : "/tmp";
  while (dir.size() > 1 && dir.back() == '/') {
    dir.pop_back();
  }
  std::string pattern = dir + "/pluginXXXXXX";
  // sun_path holds the path and its terminating NUL.
  if (pattern.size() + 1 > sizeof(sockaddr_un::sun_path)) {
    return Error(ErrorCode::kFailedPrecondition,
                 "temporary directory path \"" + dir + "\" is too long for a unix socket (" +
                     std::to_string(pattern.size()) + " of at most " +
                     std::to_string(sizeof(sockaddr_un::sun_path) - 1) +
                     " bytes): set TMPDIR to a shorter directory");
  }
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  const int fd = ::mkstemp(buffer.data());
  if (fd < 0) {
    return Error(ErrorCode::kFailedPrecondition, "cannot create the plugin socket in \"" + dir +
                                                     "\": " + std::strerror(errno) +
                                                     ": make the directory writable or set TMPDIR");
  }
  ::close(fd);
  ::unlink(buffer.data());
  return std::string(buffer.data());
}

std::string handshake_line(std::string_view socket_path) {
  std::string line =
      std::to_string(kCoreProtocolVersion) + "|" + std::to_string(kAppProtocolVersion) + "|unix|";
  line += socket_path;
  line += "|grpc|\n";
  return line;
}

Status write_handshake(std::string_view line) {
  while (!line.empty()) {
    const ssize_t written = ::write(STDOUT_FILENO, line.data(), line.size());
    if (written < 0) {
      if (errno == EINTR) {
        continue;
      }
      return Error(ErrorCode::kUnavailable,
                   std::string("cannot write the handshake to stdout: ") + std::strerror(errno));
    }
    line.remove_prefix(static_cast<std::size_t>(written));
  }
  // The line went straight to the file descriptor (no stdio buffer), so it is already flushed;
  // fsync is meaningless for a pipe.
  return Status::success();
}

}  // namespace akeyless_upstream::plugin
