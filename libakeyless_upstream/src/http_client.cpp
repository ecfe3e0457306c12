#include "akeyless_upstream/http_client.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <exception>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <openssl/crypto.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "akeyless_upstream/detail/ossl.hpp"
#include "akeyless_upstream/detail/text.hpp"
#include "akeyless_upstream/encoding.hpp"
#include "akeyless_upstream/version.hpp"

namespace akeyless_upstream {
namespace {

using detail::env_or_empty;
using detail::trim_space;

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;

constexpr std::size_t kMaxHeaderBytes = 64 * 1024;

std::string to_lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

std::optional<std::uint16_t> parse_port(std::string_view text) {
  if (text.empty() || text.size() > 5) {
    return std::nullopt;
  }
  unsigned value = 0;
  for (char c : text) {
    if (std::isdigit(static_cast<unsigned char>(c)) == 0) {
      return std::nullopt;
    }
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value == 0 || value > 65535) {
    return std::nullopt;
  }
  return static_cast<std::uint16_t>(value);
}

// split_host_port splits "host", "host:port", "[v6]" or "[v6]:port". Returns nullopt when the
// port is malformed.
std::optional<std::pair<std::string, std::optional<std::uint16_t>>> split_host_port(
    std::string_view text) {
  std::string_view host = text;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    std::size_t close = text.find(']');
    if (close == std::string_view::npos) {
      return std::nullopt;
    }
    host = text.substr(1, close - 1);
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') {
        return std::nullopt;
      }
      port = rest.substr(1);
      if (port.empty()) {
        return std::nullopt;
      }
    }
  } else {
    std::size_t colon = text.rfind(':');
    // A bare IPv6 address (more than one ':') has no port.
    if (colon != std::string_view::npos && text.find(':') == colon) {
      host = text.substr(0, colon);
      port = text.substr(colon + 1);
      if (port.empty()) {
        return std::nullopt;
      }
    }
  }
  std::optional<std::uint16_t> port_value;
  if (!port.empty()) {
    port_value = parse_port(port);
    if (!port_value) {
      return std::nullopt;
    }
  }
  return std::make_pair(to_lower(host), port_value);
}

// host_of_override reads a metadata override variable that holds either a URL or host[:port].
std::string host_of_override(const char* name) {
  std::string value(trim_space(env_or_empty(name)));
  if (value.empty()) {
    return {};
  }
  if (value.find("://") != std::string::npos) {
    auto url = parse_url(value);
    return url.ok() ? url->host : std::string();
  }
  auto split = split_host_port(value);
  return split ? split->first : std::string();
}

std::string_view default_port_text(std::string_view scheme) {
  return scheme == "https" ? "443" : "80";
}

// == error helpers ==

bool is_stale_connection_error(const error_code& ec) {
  return ec == http::error::end_of_stream || ec == asio::error::eof ||
         ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
         ec == asio::error::connection_aborted || ec == ssl::error::stream_truncated;
}

std::string endpoint_text(const Url& url) {
  return url.host + ":" + std::to_string(url.port);
}

// These phrases open the messages of failures a retry cannot fix, so that
// is_transport_misconfiguration can recognise them after context has been prepended.
constexpr std::string_view kVerificationFailed = "server certificate verification failed: ";
constexpr std::string_view kProxyAuthFailed = "the proxy refused our credentials: ";

// tls_failure explains a failed handshake; a verification failure says how to fix it.
Error tls_failure(SSL* ssl_handle, const Url& url, const error_code& ec) {
  long verify = ssl_handle == nullptr ? X509_V_OK : SSL_get_verify_result(ssl_handle);
  std::string where = "TLS handshake with " + endpoint_text(url) + " failed: ";
  if (verify != X509_V_OK) {
    where += kVerificationFailed;
  }
  if (verify == X509_V_ERR_HOSTNAME_MISMATCH || verify == X509_V_ERR_IP_ADDRESS_MISMATCH) {
    return Error(ErrorCode::kUnavailable,
                 where + "it does not name '" + url.host +
                     "'; use a host name (or address) in the URL that the certificate lists in "
                     "its subjectAltName");
  }
  if (verify != X509_V_OK) {
    return Error(ErrorCode::kUnavailable,
                 where + "it is not trusted (" + X509_verify_cert_error_string(verify) +
                     "); set gateway_ca_bundle_path (ca_bundle_path) to a PEM file holding the CA "
                     "that issued the gateway's certificate");
  }
  return Error(ErrorCode::kUnavailable, where + ec.message());
}

}  // namespace

bool is_transport_misconfiguration(const Error& error) {
  return error.code() == ErrorCode::kUnavailable &&
         (error.message().find(kVerificationFailed) != std::string::npos ||
          error.message().find(kProxyAuthFailed) != std::string::npos);
}

// == URL helpers ==

std::string Url::authority() const {
  std::string out = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  if (std::to_string(port) != default_port_text(scheme)) {
    out += ":" + std::to_string(port);
  }
  return out;
}

Result<Url> parse_url(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return Error(ErrorCode::kInvalidArgument,
                 "URL '" + std::string(text) + "' is not valid: " + std::string(why));
  };
  std::size_t sep = text.find("://");
  if (sep == std::string_view::npos) {
    return bad("it needs a scheme, e.g. https://host:port");
  }
  Url url;
  url.scheme = to_lower(text.substr(0, sep));
  if (url.scheme != "http" && url.scheme != "https") {
    return bad("only http:// and https:// are supported");
  }
  std::string_view rest = text.substr(sep + 3);
  std::size_t end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, end);
  std::string_view target = end == std::string_view::npos ? std::string_view() : rest.substr(end);
  if (authority.find('@') != std::string_view::npos) {
    return bad("credentials in the URL are not supported");
  }
  if (target.find('#') != std::string_view::npos) {
    return bad("fragments are not supported");
  }
  auto split = split_host_port(authority);
  if (!split || split->first.empty()) {
    return bad("the host or port is malformed");
  }
  url.host = split->first;
  url.port = split->second.value_or(url.scheme == "https" ? 443 : 80);
  if (target.empty()) {
    url.target = "/";
  } else if (target.front() == '?') {
    url.target = "/" + std::string(target);
  } else {
    url.target = std::string(target);
  }
  return url;
}

bool is_loopback_host(std::string_view host) {
  std::string lower = to_lower(host);
  if (!lower.empty() && lower.front() == '[' && lower.back() == ']') {
    lower = lower.substr(1, lower.size() - 2);
  }
  if (lower == "localhost" || lower == "localhost.") {
    return true;
  }
  error_code ec;
  auto address = asio::ip::make_address(lower, ec);
  return !ec && address.is_loopback();
}

bool plain_http_allowed(std::string_view host) {
  std::string lower = to_lower(host);
  if (is_loopback_host(lower)) {
    return true;
  }
  // Cloud metadata services speak plain HTTP on link-local addresses; TLS is not offered there.
  if (lower == "169.254.169.254" || lower == "metadata.google.internal" ||
      lower == "fd00:ec2::254") {
    return true;
  }
  for (const char* name :
       {"GCE_METADATA_HOST", "AZURE_IMDS_ENDPOINT", "AWS_EC2_METADATA_SERVICE_ENDPOINT"}) {
    std::string allowed = host_of_override(name);
    if (!allowed.empty() && allowed == lower) {
      return true;
    }
  }
  return false;
}

bool no_proxy_matches(std::string_view no_proxy, std::string_view host, std::uint16_t port) {
  std::string lower_host = to_lower(host);
  std::size_t start = 0;
  while (start <= no_proxy.size()) {
    std::size_t end = no_proxy.find(',', start);
    if (end == std::string_view::npos) {
      end = no_proxy.size();
    }
    std::string entry = to_lower(trim_space(no_proxy.substr(start, end - start)));
    start = end + 1;
    if (entry.empty()) {
      continue;
    }
    if (entry == "*") {
      return true;
    }
    auto split = split_host_port(entry);
    if (!split) {
      continue;
    }
    if (split->second && *split->second != port) {
      continue;
    }
    std::string pattern = split->first;
    if (pattern.rfind("*.", 0) == 0) {
      pattern = pattern.substr(1);
    }
    if (!pattern.empty() && pattern.front() == '.') {
      pattern = pattern.substr(1);
    }
    if (pattern.empty()) {
      continue;
    }
    if (lower_host == pattern) {
      return true;
    }
    if (lower_host.size() > pattern.size() &&
        lower_host.compare(lower_host.size() - pattern.size(), pattern.size(), pattern) == 0 &&
        lower_host[lower_host.size() - pattern.size() - 1] == '.') {
      return true;
    }
  }
  return false;
}

Result<std::optional<ProxyConfig>> proxy_for_environment(const Url& target) {
  if (target.scheme != "https") {
    return std::optional<ProxyConfig>();
  }
  std::string proxy_text = env_or_empty("HTTPS_PROXY");
  if (proxy_text.empty()) {
    proxy_text = env_or_empty("https_proxy");
  }
  proxy_text = std::string(trim_space(proxy_text));
  if (proxy_text.empty()) {
    return std::optional<ProxyConfig>();
  }
  std::string no_proxy = env_or_empty("NO_PROXY");
  if (no_proxy.empty()) {
    no_proxy = env_or_empty("no_proxy");
  }
  if (no_proxy_matches(no_proxy, target.host, target.port)) {
    return std::optional<ProxyConfig>();
  }

  // The proxy URL may carry user:pass; it is never quoted in a message.
  std::string_view rest = proxy_text;
  std::size_t sep = rest.find("://");
  if (sep != std::string_view::npos) {
    if (to_lower(rest.substr(0, sep)) != "http") {
      return Error(ErrorCode::kInvalidArgument,
                   "HTTPS_PROXY must be an http://host:port URL (TLS to the proxy itself is not "
                   "supported)");
    }
    rest = rest.substr(sep + 3);
  }
  std::size_t path = rest.find('/');
  std::string_view authority = rest.substr(0, path);
  ProxyConfig proxy;
  std::size_t at = authority.rfind('@');
  if (at != std::string_view::npos) {
    std::string userinfo;
    std::string_view raw = authority.substr(0, at);
    // Userinfo is percent-encoded in a URL; decode it before building the Basic credentials.
    for (std::size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] == '%' && i + 2 < raw.size() &&
          std::isxdigit(static_cast<unsigned char>(raw[i + 1])) &&
          std::isxdigit(static_cast<unsigned char>(raw[i + 2]))) {
        userinfo.push_back(
            static_cast<char>(std::stoi(std::string(raw.substr(i + 1, 2)), nullptr, 16)));
        i += 2;
      } else {
        userinfo.push_back(raw[i]);
      }
    }
    proxy.authorization = SecretString("Basic " + base64_encode(userinfo));
    OPENSSL_cleanse(userinfo.data(), userinfo.size());
    authority = authority.substr(at + 1);
  }
  auto split = split_host_port(authority);
  if (!split || split->first.empty()) {
    return Error(ErrorCode::kInvalidArgument,
                 "HTTPS_PROXY has a malformed host or port; expected http://host:port");
  }
  proxy.host = split->first;
  proxy.port = split->second.value_or(80);
  return std::optional<ProxyConfig>(std::move(proxy));
}

// == transport ==

namespace {

// Connection is one pooled connection: a plain TCP stream, or TLS over TCP.
struct Connection {
  std::unique_ptr<beast::tcp_stream> plain;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> tls;
  beast::flat_buffer buffer;

  beast::tcp_stream& tcp() { return tls ? beast::get_lowest_layer(*tls) : *plain; }

  void close() {
    error_code ignored;
    tcp().socket().shutdown(tcp::socket::shutdown_both, ignored);
    tcp().socket().close(ignored);
  }
};

// Exchange is the state of one request/response on one connection, shared between the
// coroutine and the caller that enforces the deadline.
struct Exchange {
  std::string stage;
  tcp::resolver* resolver = nullptr;  // set while a name lookup is pending, for cancellation
  std::optional<Result<HttpResponse>> result;
  bool stale = false;  // a reused connection turned out to be closed by the server
};

}  // namespace

struct HttpClient::Impl {
  explicit Impl(HttpClientOptions opts)
      : options(std::move(opts)), tls_context(ssl::context::tls_client) {}

  HttpClientOptions options;
  std::timed_mutex mutex;
  asio::io_context io;
  ssl::context tls_context;
  std::map<std::string, std::unique_ptr<Connection>> pool;

  asio::awaitable<void> open(Connection& conn, const Url& url,
                             const std::optional<ProxyConfig>& proxy, Exchange& ex);
  asio::awaitable<void> exchange(Connection& conn, const Url& url,
                                 http::request<http::string_body>& request, bool reused,
                                 Exchange& ex);
  std::optional<Result<HttpResponse>> run(Connection& conn, const Url& url,
                                          const std::optional<ProxyConfig>& proxy, bool fresh,
                                          http::request<http::string_body>& request,
                                          Deadline deadline, bool& stale);
};

asio::awaitable<void> HttpClient::Impl::open(Connection& conn, const Url& url,
                                             const std::optional<ProxyConfig>& proxy,
                                             Exchange& ex) {
  error_code ec;
  auto token = asio::redirect_error(asio::use_awaitable, ec);
  std::string connect_host = proxy ? proxy->host : url.host;
  std::uint16_t connect_port = proxy ? proxy->port : url.port;
  std::string connect_text = connect_host + ":" + std::to_string(connect_port);

  ex.stage = "resolving " + connect_host;
  tcp::resolver resolver(io);
  ex.resolver = &resolver;
  auto endpoints =
      co_await resolver.async_resolve(connect_host, std::to_string(connect_port), token);
  ex.resolver = nullptr;
  if (ec) {
    ex.result =
        Error(ErrorCode::kUnavailable, "cannot resolve '" + connect_host + "': " + ec.message() +
                                           (proxy ? " (this is the HTTPS_PROXY host)" : ""));
    co_return;
  }

  ex.stage = "connecting to " + connect_text;
  conn.plain = std::make_unique<beast::tcp_stream>(io);
  beast::tcp_stream* stream = conn.plain.get();
  co_await stream->async_connect(endpoints, token);
  if (ec) {
    ex.result =
        Error(ErrorCode::kUnavailable, "cannot connect to " + connect_text + ": " + ec.message() +
                                           (proxy ? " (this is the HTTPS_PROXY address)" : ""));
    co_return;
  }
  stream->socket().set_option(tcp::no_delay(true), ec);
  ec.clear();

  if (proxy) {
    // HTTP CONNECT tunnel (RFC 9110 section 9.3.6); TLS to the target runs inside it.
    ex.stage = "opening a tunnel through the proxy " + connect_text;
    std::string target =
        (url.host.find(':') != std::string::npos ? "[" + url.host + "]" : url.host) + ":" +
        std::to_string(url.port);
    http::request<http::empty_body> connect_request{http::verb::connect, target, 11};
    connect_request.set(http::field::host, target);
    connect_request.set(http::field::user_agent, std::string(kUserAgent));
    if (!proxy->authorization.empty()) {
      connect_request.set(http::field::proxy_authorization,
                          std::string(proxy->authorization.reveal()));
    }
    co_await http::async_write(*stream, connect_request, token);
    if (!ec) {
      http::response_parser<http::empty_body> parser;
      parser.skip(true);  // a 2xx answer to CONNECT has no body; the tunnel starts right after.
      co_await http::async_read_header(*stream, conn.buffer, parser, token);
      if (!ec && parser.get().result_int() / 100 != 2) {
        int status = static_cast<int>(parser.get().result_int());
        ex.result = Error(ErrorCode::kUnavailable,
                          (status == 407 ? std::string(kProxyAuthFailed) : std::string()) +
                              "the proxy " + connect_text + " refused to tunnel to " + target +
                              " with HTTP " + std::to_string(status) +
                              (status == 407 ? "; check the user:password in HTTPS_PROXY"
                                             : "; check HTTPS_PROXY and NO_PROXY"));
        co_return;
      }
    }
    if (ec) {
      ex.result = Error(ErrorCode::kUnavailable,
                        "the proxy " + connect_text + " failed the CONNECT: " + ec.message());
      co_return;
    }
  }

  if (url.scheme == "http") {
    co_return;
  }

  ex.stage = "TLS handshake with " + endpoint_text(url);
  conn.tls =
      std::make_unique<beast::ssl_stream<beast::tcp_stream>>(std::move(*conn.plain), tls_context);
  conn.plain.reset();
  SSL* handle = conn.tls->native_handle();
  error_code address_ec;
  asio::ip::make_address(url.host, address_ec);
  bool is_address = !address_ec;
  X509_VERIFY_PARAM* param = SSL_get0_param(handle);
  // Hostname check (RFC 6125): the certificate must name the host of the URL; SNI is sent for
  // names only (RFC 6066 section 3 forbids IP literals there).
  int configured = 0;
  if (is_address) {
    configured = X509_VERIFY_PARAM_set1_ip_asc(param, url.host.c_str());
  } else {
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    configured = X509_VERIFY_PARAM_set1_host(param, url.host.c_str(), url.host.size());
    if (configured == 1) {
      configured = static_cast<int>(SSL_set_tlsext_host_name(handle, url.host.c_str()));
    }
  }
  if (configured != 1) {
    ex.result = Error(
        ErrorCode::kInternal,
        detail::with_crypto_error("cannot set up TLS host verification for '" + url.host + "'"));
    co_return;
  }
  co_await conn.tls->async_handshake(ssl::stream_base::client, token);
  if (ec) {
    detail::take_crypto_error();
    ex.result = tls_failure(handle, url, ec);
    co_return;
  }
}

asio::awaitable<void> HttpClient::Impl::exchange(Connection& conn, const Url& url,
                                                 http::request<http::string_body>& request,
                                                 bool reused, Exchange& ex) {
  error_code ec;
  auto token = asio::redirect_error(asio::use_awaitable, ec);

  ex.stage = "sending the request to " + endpoint_text(url);
  if (conn.tls) {
    co_await http::async_write(*conn.tls, request, token);
  } else {
    co_await http::async_write(*conn.plain, request, token);
  }
  if (ec) {
    ex.stale = reused && is_stale_connection_error(ec);
    ex.result = Error(ErrorCode::kUnavailable,
                      "cannot send the request to " + endpoint_text(url) + ": " + ec.message());
    co_return;
  }

  ex.stage = "reading the response from " + endpoint_text(url);
  http::response_parser<http::string_body> parser;
  parser.header_limit(kMaxHeaderBytes);
  parser.body_limit(options.max_response_bytes);
  if (conn.tls) {
    co_await http::async_read(*conn.tls, conn.buffer, parser, token);
  } else {
    co_await http::async_read(*conn.plain, conn.buffer, parser, token);
  }
  if (ec == http::error::body_limit || ec == http::error::header_limit ||
      ec == http::error::buffer_overflow) {
    ex.result = Error(ErrorCode::kResourceExhausted,
                      "the response from " + endpoint_text(url) + " exceeds the limit of " +
                          std::to_string(options.max_response_bytes) +
                          " bytes; raise max_response_bytes if the item is really that large");
    co_return;
  }
  if (ec) {
    ex.stale = reused && is_stale_connection_error(ec);
    ex.result = Error(ErrorCode::kUnavailable,
                      "cannot read the response from " + endpoint_text(url) + ": " + ec.message());
    co_return;
  }

  auto message = parser.release();
  HttpResponse response;
  response.status = static_cast<int>(message.result_int());
  response.content_type = std::string(message[http::field::content_type]);
  response.body = SecretString(message.body());
  OPENSSL_cleanse(message.body().data(), message.body().size());
  ex.stale = !message.keep_alive();  // the server will close: do not pool the connection.
  ex.result = std::move(response);
}

std::optional<Result<HttpResponse>> HttpClient::Impl::run(Connection& conn, const Url& url,
                                                          const std::optional<ProxyConfig>& proxy,
                                                          bool fresh,
                                                          http::request<http::string_body>& request,
                                                          Deadline deadline, bool& stale) {
  Exchange ex;
  bool finished = false;
  std::exception_ptr failure;

  auto body = [&]() -> asio::awaitable<void> {
    if (fresh) {
      co_await open(conn, url, proxy, ex);
      if (ex.result) {
        co_return;
      }
    }
    co_await exchange(conn, url, request, !fresh, ex);
  };

  io.restart();
  asio::co_spawn(io, body(), [&](std::exception_ptr e) {
    finished = true;
    failure = e;
  });
  io.run_until(deadline);
  bool timed_out = !finished;
  if (timed_out) {
    // Closing the socket (or cancelling the lookup) makes the pending operation complete with
    // operation_aborted; the coroutine then ends and its frame, which refers to this stack
    // frame, is gone before we return.
    if (ex.resolver != nullptr) {
      ex.resolver->cancel();
    }
    if (conn.plain || conn.tls) {
      conn.close();
    }
    while (!finished) {
      io.restart();
      if (io.run_one() == 0) {
        break;
      }
    }
  }
  stale = ex.stale;
  if (timed_out) {
    stale = true;
    return Result<HttpResponse>(
        Error(ErrorCode::kDeadlineExceeded, "deadline exceeded while " + ex.stage));
  }
  if (failure) {
    stale = true;
    try {
      std::rethrow_exception(failure);
    } catch (const std::exception& e) {
      return Result<HttpResponse>(
          Error(ErrorCode::kInternal, std::string("HTTP transport failed: ") + e.what()));
    } catch (...) {
      return Result<HttpResponse>(Error(ErrorCode::kInternal, "HTTP transport failed"));
    }
  }
  return std::move(ex.result);
}

HttpClient::HttpClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpClient::~HttpClient() = default;

Result<std::shared_ptr<HttpClient>> HttpClient::create(HttpClientOptions options) {
  try {
    auto impl = std::make_unique<Impl>(std::move(options));
    SSL_CTX* ctx = impl->tls_context.native_handle();
    // TLS 1.2 is the floor: older versions lack modern AEAD suites and are deprecated (RFC 8996).
    if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
      return Error(ErrorCode::kInternal,
                   detail::with_crypto_error("cannot require TLS 1.2 or later"));
    }
    impl->tls_context.set_verify_mode(ssl::verify_peer);
    error_code ec;
    if (impl->options.ca_bundle_path.empty()) {
      impl->tls_context.set_default_verify_paths(ec);
      if (ec) {
        return Error(
            ErrorCode::kInternal,
            detail::with_crypto_error("cannot load the system trust store: " + ec.message()));
      }
    } else {
      impl->tls_context.load_verify_file(impl->options.ca_bundle_path, ec);
      if (ec) {
        return Error(
            ErrorCode::kInvalidArgument,
            detail::with_crypto_error("cannot load the CA bundle '" + impl->options.ca_bundle_path +
                                      "' (it must be a readable PEM file): " + ec.message()));
      }
    }
    detail::take_crypto_error();
    return std::shared_ptr<HttpClient>(new HttpClient(std::move(impl)));
  } catch (const std::exception& e) {
    return Error(ErrorCode::kInternal, std::string("cannot set up the HTTP client: ") + e.what());
  }
}

Result<HttpResponse> HttpClient::send(const HttpRequest& request, Deadline deadline) {
  try {
    auto url = parse_url(request.url);
    if (!url.ok()) {
      return url.error();
    }
    if (url->scheme == "http" && !plain_http_allowed(url->host)) {
      return Error(ErrorCode::kInvalidArgument,
                   "plain http:// to '" + url->host +
                       "' is refused: it is allowed only for loopback addresses and cloud "
                       "metadata services; use https://");
    }
    std::optional<ProxyConfig> proxy;
    if (impl_->options.use_proxy_environment) {
      auto found = proxy_for_environment(*url);
      if (!found.ok()) {
        return found.error();
      }
      proxy = std::move(*found);
    }
    http::verb verb = http::string_to_verb(request.method);
    if (verb == http::verb::unknown) {
      return Error(ErrorCode::kInvalidArgument, "unknown HTTP method '" + request.method + "'");
    }

    // == build the request ==
    http::request<http::string_body> message{verb, url->target, 11};
    message.set(http::field::host, url->authority());
    message.set(http::field::user_agent, std::string(kUserAgent));
    bool has_content_type = false;
    bool has_accept = false;
    for (const auto& [name, value] : request.headers) {
      std::string lower = to_lower(name);
      has_content_type = has_content_type || lower == "content-type";
      has_accept = has_accept || lower == "accept";
      message.set(name, value);
    }
    if (!has_content_type && (verb == http::verb::post || verb == http::verb::put)) {
      message.set(http::field::content_type, "application/json");
    }
    if (!has_accept) {
      message.set(http::field::accept, "application/json");
    }
    message.body() = std::string(request.body.reveal());
    message.keep_alive(true);
    message.prepare_payload();
    // The body holds tokens and access keys: wipe the copy however the call ends.
    struct Wipe {
      std::string& text;
      ~Wipe() { OPENSSL_cleanse(text.data(), text.size()); }
    } wipe{message.body()};

    // == one request at a time on the pooled connections ==
    std::unique_lock<std::timed_mutex> lock(impl_->mutex, std::defer_lock);
    if (!lock.try_lock_until(deadline)) {
      return Error(ErrorCode::kDeadlineExceeded,
                   "deadline exceeded while waiting for another request to " + url->host);
    }
    std::string key = url->scheme + "://" + endpoint_text(*url);
    if (proxy) {
      key += " via " + proxy->host + ":" + std::to_string(proxy->port);
    }

    for (int attempt = 0; attempt < 2; ++attempt) {
      auto pooled = impl_->pool.find(key);
      bool fresh = pooled == impl_->pool.end();
      std::unique_ptr<Connection> conn =
          fresh ? std::make_unique<Connection>() : std::move(pooled->second);
      if (!fresh) {
        impl_->pool.erase(pooled);
      }
      bool stale = false;
      auto outcome = impl_->run(*conn, *url, proxy, fresh, message, deadline, stale);
      if (!outcome) {
        return Error(ErrorCode::kInternal, "HTTP transport finished without a result");
      }
      if (outcome->ok() && !stale) {
        impl_->pool[key] = std::move(conn);
      } else if (conn->plain || conn->tls) {
        conn->close();
      }
      if (!outcome->ok() && stale && !fresh && outcome->error().code() == ErrorCode::kUnavailable) {
        // The server closed the idle pooled connection; try once more on a new one.
        continue;
      }
      return std::move(*outcome);
    }
    return Error(ErrorCode::kUnavailable, "the connection to " + url->host + " kept closing");
  } catch (const std::exception& e) {
    return Error(ErrorCode::kInternal, std::string("HTTP transport failed: ") + e.what());
  }
}

}  // namespace akeyless_upstream
