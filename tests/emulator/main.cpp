// akeyless-gateway-emulator: a local stand-in for an Akeyless Gateway's v2 REST API (HTTPS on
// loopback) plus fake cloud metadata services (plain HTTP on a second loopback port). The network
// layer lives here: one io_context run by a few threads, one coroutine per connection (on its
// own strand), so a connection held by a "hang" fault never blocks the others. See README.md.

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio.hpp>
#include <boost/asio/experimental/as_tuple.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/json.hpp>

#include "akeyless_upstream/testing/pki.hpp"
#include "emulator.hpp"

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using asio::awaitable;
using asio::use_awaitable;
constexpr auto kNoThrow = asio::experimental::as_tuple(use_awaitable);

constexpr std::size_t kMaxRequestBody = 1024 * 1024;
constexpr std::size_t kReadLimit = std::size_t{64} * 1024 * 1024;
constexpr auto kIdleTimeout = std::chrono::seconds(120);
constexpr auto kHandshakeTimeout = std::chrono::seconds(15);

struct Options {
  std::string state_dir;
  std::string config_path;
  unsigned short port = 0;
  unsigned short metadata_port = 0;
  bool quiet = false;
};

[[noreturn]] void usage_error(const std::string& message) {
  std::cerr << "akeyless-gateway-emulator: " << message << "\n"
            << "usage: akeyless-gateway-emulator --state-dir DIR [--config FILE] [--port N] "
               "[--metadata-port N] [--quiet]\n";
  std::exit(2);
}

unsigned short parse_port(const std::string& text) {
  char* end = nullptr;
  errno = 0;
  long value = std::strtol(text.c_str(), &end, 10);
  if (errno != 0 || end == text.c_str() || *end != '\0' || value < 0 || value > 65535) {
    usage_error("invalid port '" + text + "'");
  }
  return static_cast<unsigned short>(value);
}

Options parse_options(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        usage_error(arg + " needs a value");
      }
      return argv[++i];
    };
    if (arg == "--state-dir") {
      options.state_dir = next();
    } else if (arg == "--config") {
      options.config_path = next();
    } else if (arg == "--port") {
      options.port = parse_port(next());
    } else if (arg == "--metadata-port") {
      options.metadata_port = parse_port(next());
    } else if (arg == "--quiet") {
      options.quiet = true;
    } else {
      usage_error("unknown argument '" + arg + "'");
    }
  }
  if (options.state_dir.empty()) {
    usage_error("--state-dir is required");
  }
  return options;
}

// write_file_atomically writes via a temporary file and rename, so a reader polling for the file
// never sees it half written.
bool write_file_atomically(const std::filesystem::path& path, const std::string& content) {
  std::filesystem::path temp = path;
  temp += ".tmp";
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    out << content;
    if (!out) {
      return false;
    }
  }
  std::error_code ec;
  std::filesystem::rename(temp, path, ec);
  return !ec;
}

emulator::Request to_request(const http::request<http::string_body>& message) {
  emulator::Request request;
  request.method = std::string(message.method_string());
  request.target = std::string(message.target());
  for (const auto& field : message) {
    request.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  request.body = message.body();
  return request;
}

http::response<http::string_body> to_response(const emulator::Outcome& outcome, unsigned version,
                                              bool keep_alive) {
  http::response<http::string_body> response{static_cast<http::status>(outcome.status), version};
  response.set(http::field::server, "akeyless-gateway-emulator");
  response.set(http::field::content_type, outcome.content_type);
  for (const auto& [name, value] : outcome.headers) {
    response.set(name, value);
  }
  response.body() = outcome.body;
  response.keep_alive(keep_alive);
  response.prepare_payload();
  return response;
}

// hold_until_closed reads and discards until the peer closes: a "hang" fault never answers, but
// must notice when the client gives up so the connection does not linger.
awaitable<void> hold_until_closed(tcp::socket& socket) {
  char scratch[4096];
  for (;;) {
    auto [ec, n] = co_await socket.async_read_some(asio::buffer(scratch), kNoThrow);
    if (ec) {
      co_return;
    }
  }
}

// serve_http runs the HTTP/1.1 keep-alive loop over an established stream (TLS or plain).
template <typename Stream>
awaitable<void> serve_http(Stream& stream, emulator::State& state, emulator::PortKind kind) {
  beast::flat_buffer buffer;
  for (;;) {
    http::request_parser<http::string_body> parser;
    // The parser reads up to kReadLimit so that an oversized (but not absurd) body can still be
    // answered with 413; closing mid-upload would make the client see a reset instead.
    parser.body_limit(kReadLimit);
    parser.header_limit(64 * 1024);
    beast::get_lowest_layer(stream).expires_after(kIdleTimeout);
    auto [read_ec, read_n] = co_await http::async_read(stream, buffer, parser, kNoThrow);
    bool too_large = read_ec == http::error::body_limit;
    if (read_ec && !too_large) {
      co_return;  // closed, timed out or garbage: nothing to answer
    }

    emulator::Request request = to_request(parser.get());
    request.body_too_large = too_large || request.body.size() > kMaxRequestBody;
    emulator::Outcome outcome = state.handle_request(request, kind);
    bool keep_alive = parser.get().keep_alive() && !too_large;

    if (outcome.delay.count() > 0) {
      asio::steady_timer timer(co_await asio::this_coro::executor);
      timer.expires_after(outcome.delay);
      co_await timer.async_wait(kNoThrow);
    }
    auto& socket = beast::get_lowest_layer(stream).socket();
    if (outcome.action == emulator::Outcome::Action::kDrop) {
      beast::error_code ignored;
      socket.shutdown(tcp::socket::shutdown_both, ignored);
      socket.close(ignored);
      co_return;
    }
    if (outcome.action == emulator::Outcome::Action::kHang) {
      beast::get_lowest_layer(stream).expires_never();
      co_await hold_until_closed(socket);
      co_return;
    }

    auto response = to_response(outcome, parser.get().version(), keep_alive);
    beast::get_lowest_layer(stream).expires_after(kIdleTimeout);
    auto [write_ec, write_n] = co_await http::async_write(stream, response, kNoThrow);
    if (write_ec || !keep_alive) {
      co_return;
    }
  }
}

awaitable<void> serve_tls(tcp::socket socket, ssl::context& tls, emulator::State& state) {
  beast::ssl_stream<beast::tcp_stream> stream(beast::tcp_stream(std::move(socket)), tls);
  beast::get_lowest_layer(stream).expires_after(kHandshakeTimeout);
  auto [ec] = co_await stream.async_handshake(ssl::stream_base::server, kNoThrow);
  if (ec) {
    co_return;  // e.g. a client that does not trust our CA aborts here
  }
  co_await serve_http(stream, state, emulator::PortKind::kGateway);
  if (beast::get_lowest_layer(stream).socket().is_open()) {
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(2));
    co_await stream.async_shutdown(kNoThrow);
  }
}

awaitable<void> serve_plain(tcp::socket socket, emulator::State& state) {
  beast::tcp_stream stream(std::move(socket));
  co_await serve_http(stream, state, emulator::PortKind::kMetadata);
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

awaitable<void> accept_loop(tcp::acceptor& acceptor, ssl::context* tls, emulator::State& state) {
  auto& context = static_cast<asio::io_context&>(acceptor.get_executor().context());
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(asio::make_strand(context), kNoThrow);
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) {
        co_return;
      }
      continue;  // e.g. EMFILE; keep serving the connections we have
    }
    auto executor = socket.get_executor();
    if (tls != nullptr) {
      asio::co_spawn(executor, serve_tls(std::move(socket), *tls, state), asio::detached);
    } else {
      asio::co_spawn(executor, serve_plain(std::move(socket), state), asio::detached);
    }
  }
}

int fail(const std::string& message) {
  std::cerr << "akeyless-gateway-emulator: " << message << "\n";
  return 2;
}

int run(int argc, char** argv) {
  Options options = parse_options(argc, argv);
  std::signal(SIGPIPE, SIG_IGN);

  // == configuration ==
  emulator::State state;
  state.set_quiet(options.quiet);
  if (!options.config_path.empty()) {
    std::ifstream in(options.config_path, std::ios::binary);
    if (!in) {
      return fail("cannot read config file " + options.config_path);
    }
    std::ostringstream text;
    text << in.rdbuf();
    boost::json::error_code ec;
    boost::json::value config = boost::json::parse(text.str(), ec);
    if (ec) {
      return fail("config file " + options.config_path + " is not valid JSON: " + ec.message());
    }
    std::string base_dir = std::filesystem::path(options.config_path).parent_path().string();
    if (auto status = state.load_config(config, base_dir); !status.ok()) {
      return fail(status.error().message());
    }
  }

  // == TLS: a fresh CA and a server certificate for the loopback names ==
  namespace pki = akeyless_upstream::testing;
  pki::CaOptions ca_options;
  ca_options.common_name = "akeyless-gateway-emulator CA";
  ca_options.lifetime = std::chrono::hours(24 * 30);
  auto ca = pki::make_self_signed(ca_options);
  if (!ca.ok()) {
    return fail("generating the TLS CA: " + ca.error().message());
  }
  pki::CaOptions server_options;
  server_options.common_name = "akeyless-gateway-emulator";
  server_options.is_ca = false;
  server_options.key_cert_sign = false;
  server_options.server_auth = true;
  server_options.dns_sans = state.tls_names().dns_names;
  server_options.ip_sans = state.tls_names().ip_addresses;
  server_options.lifetime = std::chrono::hours(24 * 7);
  auto server_cert = pki::issue(*ca, server_options);
  if (!server_cert.ok()) {
    return fail("generating the TLS server certificate: " + server_cert.error().message());
  }
  auto server_key = server_cert->key.to_pkcs8_pem();
  if (!server_key.ok()) {
    return fail("encoding the TLS server key: " + server_key.error().message());
  }
  ssl::context tls(ssl::context::tls_server);
  tls.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                  ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  try {
    std::string chain = server_cert->certificate.pem();
    tls.use_certificate_chain(asio::buffer(chain));
    tls.use_private_key(asio::buffer(server_key->reveal().data(), server_key->reveal().size()),
                        ssl::context::pem);
  } catch (const std::exception& e) {
    return fail(std::string("loading the TLS server certificate: ") + e.what());
  }

  // == listeners ==
  std::filesystem::path state_dir(options.state_dir);
  std::error_code dir_ec;
  std::filesystem::create_directories(state_dir, dir_ec);
  if (dir_ec) {
    return fail("cannot create state dir " + options.state_dir + ": " + dir_ec.message());
  }
  asio::io_context context;
  tcp::acceptor gateway(context);
  tcp::acceptor metadata(context);
  try {
    auto loopback = asio::ip::make_address("127.0.0.1");
    for (auto [acceptor, port] :
         {std::pair{&gateway, options.port}, std::pair{&metadata, options.metadata_port}}) {
      tcp::endpoint endpoint(loopback, port);
      acceptor->open(endpoint.protocol());
      acceptor->set_option(tcp::acceptor::reuse_address(true));
      acceptor->bind(endpoint);
      acceptor->listen(asio::socket_base::max_listen_connections);
    }
  } catch (const std::exception& e) {
    return fail(std::string("cannot listen on 127.0.0.1: ") + e.what());
  }
  const std::string endpoint =
      "https://127.0.0.1:" + std::to_string(gateway.local_endpoint().port());
  const std::string metadata_endpoint =
      "http://127.0.0.1:" + std::to_string(metadata.local_endpoint().port());

  if (!write_file_atomically(state_dir / "gateway-ca.pem", ca->certificate.pem()) ||
      !write_file_atomically(state_dir / "endpoint", endpoint + "\n") ||
      !write_file_atomically(state_dir / "metadata-endpoint", metadata_endpoint + "\n")) {
    return fail("cannot write to state dir " + options.state_dir);
  }

  // == serve ==
  asio::co_spawn(context, accept_loop(gateway, &tls, state), asio::detached);
  asio::co_spawn(context, accept_loop(metadata, nullptr, state), asio::detached);
  asio::signal_set signals(context, SIGTERM, SIGINT);
  signals.async_wait([&](const boost::system::error_code&, int signal_number) {
    std::cerr << "akeyless-gateway-emulator: signal " << signal_number << ", stopping\n";
    beast::error_code ignored;
    gateway.close(ignored);
    metadata.close(ignored);
    context.stop();
  });

  std::cout << "listening " << endpoint << " metadata " << metadata_endpoint << std::endl;

  std::vector<std::thread> threads;
  threads.reserve(3);
  for (int i = 0; i < 3; ++i) {
    threads.emplace_back([&context] { context.run(); });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    // Nothing should throw this far; if it does, say so instead of aborting silently.
    return fail(std::string("unexpected error: ") + e.what());
  }
}
