// HttpClient and AkeylessClient against an in-process HTTP server on loopback (plain http is
// allowed there), for the transport and client behaviours that need to count connections and
// requests. TLS, proxies and the real wire format are covered by tests/client against the
// gateway emulator.

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "akeyless_upstream/akeyless_client.hpp"
#include "akeyless_upstream/auth_provider.hpp"
#include "akeyless_upstream/http_client.hpp"
#include "akeyless_upstream/version.hpp"

namespace aku = akeyless_upstream;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using tcp = asio::ip::tcp;

namespace {

using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

// Reply tells the server what to do after the handler ran.
enum class Reply { kAnswer, kAnswerThenClose, kNoAnswer };

// FakeServer answers HTTP/1.1 on 127.0.0.1 with a handler, one thread per connection, and
// counts connections and requests.
class FakeServer {
 public:
  using Handler = std::function<Reply(const Request&, Response&)>;

  explicit FakeServer(Handler handler)
      : acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)),
        handler_(std::move(handler)) {
    accept_thread_ = std::thread([this] { accept_loop(); });
  }

  ~FakeServer() {
    stopping_ = true;
    beast::error_code ignored;
    tcp::socket poke(io_);
    poke.connect(acceptor_.local_endpoint(), ignored);
    accept_thread_.join();
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& socket : sockets_) {
      socket->shutdown(tcp::socket::shutdown_both, ignored);
    }
    for (auto& worker : workers_) {
      worker.join();
    }
  }

  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port());
  }
  int connections() const { return connections_; }
  std::vector<Request> requests() {
    std::lock_guard<std::mutex> lock(mutex_);
    return requests_;
  }
  int count(const std::string& target) {
    std::lock_guard<std::mutex> lock(mutex_);
    int n = 0;
    for (const auto& request : requests_) {
      n += request.target() == target ? 1 : 0;
    }
    return n;
  }

 private:
  void accept_loop() {
    while (true) {
      auto socket = std::make_shared<tcp::socket>(io_);
      beast::error_code ec;
      acceptor_.accept(*socket, ec);
      if (ec || stopping_) {
        return;
      }
      ++connections_;
      std::lock_guard<std::mutex> lock(mutex_);
      sockets_.push_back(socket);
      workers_.emplace_back([this, socket] { serve(*socket); });
    }
  }

  void serve(tcp::socket& socket) {
    beast::flat_buffer buffer;
    while (!stopping_) {
      Request request;
      beast::error_code ec;
      http::read(socket, buffer, request, ec);
      if (ec) {
        return;
      }
      {
        std::lock_guard<std::mutex> lock(mutex_);
        requests_.push_back(request);
      }
      Response response{http::status::ok, 11};
      response.set(http::field::content_type, "application/json");
      Reply reply = handler_(request, response);
      if (reply == Reply::kNoAnswer) {
        continue;  // read again: blocks until the client gives up and closes
      }
      response.keep_alive(true);
      response.prepare_payload();
      http::write(socket, response, ec);
      if (ec || reply == Reply::kAnswerThenClose) {
        socket.shutdown(tcp::socket::shutdown_both, ec);
        return;
      }
    }
  }

  asio::io_context io_;
  tcp::acceptor acceptor_;
  Handler handler_;
  std::thread accept_thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> connections_{0};
  std::mutex mutex_;
  std::vector<std::shared_ptr<tcp::socket>> sockets_;
  std::vector<std::thread> workers_;
  std::vector<Request> requests_;
};

aku::Deadline in_seconds(int seconds) {
  return std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
}

std::shared_ptr<aku::HttpClient> make_http(std::size_t max_response_bytes = 4 * 1024 * 1024) {
  aku::HttpClientOptions options;
  options.max_response_bytes = max_response_bytes;
  options.use_proxy_environment = false;
  auto client = aku::HttpClient::create(options);
  REQUIRE(client.ok());
  return *client;
}

aku::HttpRequest post(const std::string& url, const std::string& body) {
  aku::HttpRequest request;
  request.url = url;
  request.body = aku::SecretString(body);
  return request;
}

// fake_gateway answers /auth with a token and /get-certificate-value with an item, after
// `before_read` has had a say (it returns true when it wrote the answer itself).
Reply fake_gateway(const Request& request, Response& response,
                   const std::function<bool(Response&)>& before_read = {}) {
  if (request.target() == "/api/v2/auth") {
    response.body() = R"({"token":"t-0123456789abcdef0123456789abcdef"})";
    return Reply::kAnswer;
  }
  if (before_read && before_read(response)) {
    return Reply::kAnswer;
  }
  response.body() =
      R"({"certificate_pem":"-----BEGIN CERTIFICATE-----\n...\n-----END CERTIFICATE-----\n",)"
      R"("private_key_pem":"-----BEGIN PRIVATE KEY-----\n...\n-----END PRIVATE KEY-----\n"})";
  return Reply::kAnswer;
}

std::shared_ptr<aku::AkeylessClient> make_client(const FakeServer& server) {
  aku::AuthConfig auth;
  auth.access_type = "api_key";
  auth.access_id = "p-test";
  auth.access_key = aku::SecretString("test-key");
  auto provider = aku::make_auth_provider(auth);
  REQUIRE(provider.ok());
  aku::AkeylessClientOptions options;
  options.gateway_url = server.url() + "/api/v2/";
  auto client = aku::AkeylessClient::create(options, *provider);
  REQUIRE(client.ok());
  return *client;
}

}  // namespace

TEST_CASE("requests are well-formed HTTP/1.1 with the standard headers", "[transport]") {
  FakeServer server([](const Request&, Response& response) {
    response.body() = "{}";
    return Reply::kAnswer;
  });
  auto http = make_http();
  auto response = http->send(post(server.url() + "/api/v2/auth", R"({"a":1})"), in_seconds(30));
  REQUIRE(response.ok());
  CHECK(response->status == 200);
  CHECK(response->content_type == "application/json");
  CHECK(response->body.reveal() == "{}");

  auto requests = server.requests();
  REQUIRE(requests.size() == 1);
  const Request& request = requests.front();
  CHECK(request.method() == http::verb::post);
  CHECK(request.target() == "/api/v2/auth");
  CHECK(request.version() == 11);
  CHECK(request[http::field::host] == server.url().substr(7));
  CHECK(request[http::field::content_length] == "7");
  CHECK(request[http::field::content_type] == "application/json");
  CHECK(request[http::field::accept] == "application/json");
  CHECK(request[http::field::user_agent] == aku::kUserAgent);
  CHECK(request.body() == R"({"a":1})");
}

TEST_CASE("consecutive requests reuse one keep-alive connection", "[transport]") {
  FakeServer server([](const Request&, Response& response) {
    response.body() = "{}";
    return Reply::kAnswer;
  });
  auto http = make_http();
  for (int i = 0; i < 5; ++i) {
    auto response = http->send(post(server.url() + "/x", "{}"), in_seconds(30));
    REQUIRE(response.ok());
  }
  CHECK(server.connections() == 1);
  CHECK(server.requests().size() == 5);
}

TEST_CASE("a pooled connection the server closed is replaced transparently", "[transport]") {
  // The server promises keep-alive but closes after every answer, as an idle timeout would.
  FakeServer server([](const Request&, Response& response) {
    response.body() = "{}";
    return Reply::kAnswerThenClose;
  });
  auto http = make_http();
  for (int i = 0; i < 3; ++i) {
    INFO("request " << i);
    auto response = http->send(post(server.url() + "/x", "{}"), in_seconds(30));
    REQUIRE(response.ok());
  }
  CHECK(server.connections() == 3);
}

TEST_CASE("a response larger than the cap is refused with kResourceExhausted", "[transport]") {
  FakeServer server([](const Request&, Response& response) {
    response.body() = std::string(64 * 1024, 'x');
    return Reply::kAnswer;
  });
  auto http = make_http(16 * 1024);
  auto response = http->send(post(server.url() + "/x", "{}"), in_seconds(30));
  REQUIRE_FALSE(response.ok());
  CHECK(response.error().code() == aku::ErrorCode::kResourceExhausted);
  CHECK(response.error().message().find("max_response_bytes") != std::string::npos);
}

TEST_CASE("a server that never answers ends at the deadline with kDeadlineExceeded",
          "[transport]") {
  FakeServer server([](const Request&, Response&) { return Reply::kNoAnswer; });
  auto http = make_http();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(500);
  auto response = http->send(post(server.url() + "/x", "{}"), deadline);
  REQUIRE_FALSE(response.ok());
  CHECK(response.error().code() == aku::ErrorCode::kDeadlineExceeded);
  CHECK(response.error().message().find("reading the response") != std::string::npos);
}

TEST_CASE("a refused connection is kUnavailable and names the address", "[transport]") {
  std::string url;
  {
    FakeServer closed([](const Request&, Response&) { return Reply::kAnswer; });
    url = closed.url();
  }
  auto http = make_http();
  auto response = http->send(post(url + "/x", "{}"), in_seconds(30));
  REQUIRE_FALSE(response.ok());
  CHECK(response.error().code() == aku::ErrorCode::kUnavailable);
  CHECK(response.error().message().find(url.substr(7)) != std::string::npos);
}

TEST_CASE("concurrent readers share one login", "[client]") {
  FakeServer server([](const Request& request, Response& response) {
    if (request.target() == "/api/v2/auth") {
      // Slow enough that every reader arrives while the login is in flight.
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    return fake_gateway(request, response);
  });
  auto client = make_client(server);
  std::atomic<int> ok{0};
  std::vector<std::thread> readers;
  for (int i = 0; i < 8; ++i) {
    readers.emplace_back([&] {
      if (client->get_certificate_value("/SPIRE/ca", std::nullopt, false, in_seconds(60)).ok()) {
        ++ok;
      }
    });
  }
  for (auto& reader : readers) {
    reader.join();
  }
  CHECK(ok == 8);
  CHECK(server.count("/api/v2/auth") == 1);
  CHECK(server.count("/api/v2/get-certificate-value") == 8);
}

TEST_CASE("a 429 from the gateway is retried and the read then succeeds", "[client]") {
  std::atomic<int> throttled{2};
  FakeServer server([&](const Request& request, Response& response) {
    return fake_gateway(request, response, [&](Response& out) {
      if (throttled-- > 0) {
        out.result(http::status::too_many_requests);
        out.body() = R"({"error":"rate limit"})";
        return true;
      }
      return false;
    });
  });
  auto client = make_client(server);
  auto value = client->get_certificate_value("/SPIRE/ca", std::nullopt, false, in_seconds(60));
  if (!value.ok()) {
    FAIL(value.error().to_string());
  }
  CHECK(server.count("/api/v2/get-certificate-value") == 3);
}

TEST_CASE("a 5xx whose reason is access denied is not retried", "[client]") {
  FakeServer server([](const Request& request, Response& response) {
    return fake_gateway(request, response, [](Response& out) {
      out.result(http::status::internal_server_error);
      out.body() = R"({"error":"access denied to /SPIRE/ca"})";
      return true;
    });
  });
  auto client = make_client(server);
  auto value = client->get_certificate_value("/SPIRE/ca", std::nullopt, false, in_seconds(60));
  REQUIRE_FALSE(value.ok());
  CHECK(value.error().code() == aku::ErrorCode::kPermissionDenied);
  CHECK(value.error().message().find("access denied to /SPIRE/ca") != std::string::npos);
  CHECK(server.count("/api/v2/get-certificate-value") == 1);
}

TEST_CASE("get-certificate-value sends version as an integer and ignore-cache as a string",
          "[client]") {
  FakeServer server(
      [](const Request& request, Response& response) { return fake_gateway(request, response); });
  auto client = make_client(server);
  REQUIRE(client->get_certificate_value("/SPIRE/ca", 3, true, in_seconds(60)).ok());
  REQUIRE(client->get_certificate_value("/SPIRE/ca", std::nullopt, false, in_seconds(60)).ok());

  std::vector<json::object> bodies;
  for (const auto& request : server.requests()) {
    if (request.target() == "/api/v2/get-certificate-value") {
      bodies.push_back(json::parse(request.body()).as_object());
    }
  }
  REQUIRE(bodies.size() == 2);
  CHECK(bodies[0].at("name").as_string() == "/SPIRE/ca");
  CHECK(bodies[0].at("version").is_int64());
  CHECK(bodies[0].at("version").as_int64() == 3);
  CHECK(bodies[0].at("ignore-cache").as_string() == "true");
  CHECK(bodies[0].at("token").as_string() == "t-0123456789abcdef0123456789abcdef");
  CHECK_FALSE(bodies[1].contains("version"));
  CHECK_FALSE(bodies[1].contains("ignore-cache"));
}

TEST_CASE("a certificates-only item reads with an optional key and is refused when one is required",
          "[client]") {
  FakeServer server([](const Request& request, Response& response) {
    return fake_gateway(request, response, [](Response& out) {
      out.body() =
          R"({"certificate_pem":"-----BEGIN CERTIFICATE-----\n...\n-----END CERTIFICATE-----\n"})";
      return true;
    });
  });
  auto client = make_client(server);

  auto roots = client->get_certificate_value("/SPIRE/roots", std::nullopt, true, in_seconds(60),
                                             aku::PrivateKeyPolicy::kOptional);
  if (!roots.ok()) {
    FAIL(roots.error().to_string());
  }
  CHECK(roots->certificate_pem.find("BEGIN CERTIFICATE") != std::string::npos);
  CHECK(roots->private_key_pem.empty());

  auto signing = client->get_certificate_value("/SPIRE/roots", std::nullopt, true, in_seconds(60));
  REQUIRE_FALSE(signing.ok());
  CHECK(signing.error().code() == aku::ErrorCode::kFailedPrecondition);
  CHECK(signing.error().message().find("has no private key") != std::string::npos);
}
