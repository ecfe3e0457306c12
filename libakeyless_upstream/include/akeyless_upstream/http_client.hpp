#pragma once

// HttpClient: the library's HTTPS transport (Boost.Beast over Asio, OpenSSL). It speaks HTTP/1.1
// to the Akeyless API and to cloud metadata services, verifies the server against the system
// trust store or a configured CA bundle, honours HTTPS_PROXY/NO_PROXY through HTTP CONNECT, keeps
// one pooled keep-alive connection per host, caps the response size, and holds every call to a
// deadline. No exception leaves it; every failure is a Result error.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "akeyless_upstream/result.hpp"
#include "akeyless_upstream/secret.hpp"

namespace akeyless_upstream {

// Deadline is the absolute time by which a call must have finished.
using Deadline = std::chrono::steady_clock::time_point;

// Url is a parsed absolute http:// or https:// URL. `host` has no brackets (an IPv6 literal is
// stored bare), `port` is filled from the scheme when the URL names none, and `target` is the
// path plus query ("/" when the URL has no path).
struct Url {
  std::string scheme;  // "http" or "https"
  std::string host;
  std::uint16_t port = 0;
  std::string target;

  // authority gives "host:port" the way a Host header or CONNECT line spells it (IPv6 in
  // brackets; the port is left out when it is the scheme's default).
  std::string authority() const;
};

// parse_url accepts "scheme://host[:port][/path][?query]". Userinfo and fragments are refused.
// Errors: kInvalidArgument naming what is wrong with the URL (the URL itself is quoted, so do not
// pass URLs that carry credentials).
Result<Url> parse_url(std::string_view text);

// is_loopback_host: 127.0.0.0/8, ::1 and "localhost" (case-insensitive).
bool is_loopback_host(std::string_view host);

// plain_http_allowed says whether an http:// (unencrypted) request to `host` is allowed: only
// loopback hosts and cloud metadata services (169.254.169.254, metadata.google.internal, and the
// hosts named by GCE_METADATA_HOST, AZURE_IMDS_ENDPOINT and AWS_EC2_METADATA_SERVICE_ENDPOINT,
// read from the environment at each call).
bool plain_http_allowed(std::string_view host);

// no_proxy_matches applies a NO_PROXY list (comma separated; entries are "*", a host, a domain
// suffix with or without a leading dot, optionally with ":port") to a host and port.
bool no_proxy_matches(std::string_view no_proxy, std::string_view host, std::uint16_t port);

// ProxyConfig is an HTTP proxy reached with CONNECT for https:// requests.
struct ProxyConfig {
  std::string host;
  std::uint16_t port = 0;
  SecretString authorization;  // "Basic <base64(user:pass)>", empty when the URL has no userinfo
};

// proxy_for_environment reads HTTPS_PROXY / https_proxy and NO_PROXY / no_proxy (at each call)
// and returns the proxy to use for `target`, or nullopt for a direct connection. Only https://
// targets go through a proxy. Errors: kInvalidArgument when the proxy URL is malformed (the
// message never repeats its credentials).
Result<std::optional<ProxyConfig>> proxy_for_environment(const Url& target);

// HttpRequest is one request. The body is a secret because Akeyless bodies carry tokens and
// access keys; it is wiped after sending.
struct HttpRequest {
  std::string method = "POST";
  std::string url;
  // Extra headers. Host, Content-Length and User-Agent are set by the client; Content-Type and
  // Accept default to application/json unless given here.
  std::vector<std::pair<std::string, std::string>> headers;
  SecretString body;
};

// HttpResponse: status, content type and body. The body may hold a token or a private key.
struct HttpResponse {
  int status = 0;
  std::string content_type;
  SecretString body;
};

// is_transport_misconfiguration says whether a send() error comes from configuration that a
// retry cannot fix: the server failing certificate verification (untrusted CA, host name
// mismatch) or the proxy refusing our credentials (407).
bool is_transport_misconfiguration(const Error& error);

// HttpClientOptions configures one client.
struct HttpClientOptions {
  // PEM file of the CA certificates to trust; empty means the system trust store.
  std::string ca_bundle_path;
  // Responses larger than this are refused with kResourceExhausted.
  std::size_t max_response_bytes = 4 * 1024 * 1024;
  // Whether HTTPS_PROXY/NO_PROXY apply. Cloud metadata clients turn this off.
  bool use_proxy_environment = true;
};

// HttpClient is thread-safe: concurrent calls are served one at a time on the client's pooled
// connections, each caller waiting no longer than its own deadline.
class HttpClient {
 public:
  // create loads the trust store. Errors: kInvalidArgument when the CA bundle cannot be read
  // (naming the path and OpenSSL's reason).
  static Result<std::shared_ptr<HttpClient>> create(HttpClientOptions options);

  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // send performs one request and returns whatever status the server answered; only transport
  // failures are errors:
  //   kInvalidArgument   malformed URL, or http:// to a host that is neither loopback nor a
  //                      cloud metadata service;
  //   kDeadlineExceeded  the deadline passed in resolve, connect, proxy, handshake, write or
  //                      read;
  //   kUnavailable       resolution, connection, proxy or TLS failure (an untrusted CA or a
  //                      host name mismatch says how to fix it), a malformed response;
  //   kResourceExhausted the response exceeded max_response_bytes.
  // A pooled connection that the server has closed is replaced transparently.
  Result<HttpResponse> send(const HttpRequest& request, Deadline deadline);

  struct Impl;

 private:
  explicit HttpClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace akeyless_upstream
