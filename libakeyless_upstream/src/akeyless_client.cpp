#include "akeyless_upstream/akeyless_client.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <functional>
#include <mutex>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <openssl/crypto.h>
#include <boost/json.hpp>

namespace akeyless_upstream {
namespace {

namespace json = boost::json;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kMaxReasonChars = 300;
constexpr std::chrono::seconds kMaxRefreshMargin{60};
constexpr std::chrono::milliseconds kFirstBackoff{200};
constexpr std::chrono::milliseconds kMaxBackoff{5000};

std::string to_lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

bool contains_any(std::string_view text, std::initializer_list<std::string_view> needles) {
  return std::any_of(needles.begin(), needles.end(), [&](std::string_view needle) {
    return text.find(needle) != std::string_view::npos;
  });
}

// sanitize_reason keeps a gateway reason printable and short, so a hostile or broken server
// cannot flood a log line or inject control characters.
std::string sanitize_reason(std::string_view reason) {
  std::string out;
  for (char c : reason) {
    if (out.size() >= kMaxReasonChars) {
      out += "...";
      break;
    }
    auto u = static_cast<unsigned char>(c);
    out.push_back(u < 0x20 || u == 0x7f ? ' ' : c);
  }
  while (!out.empty() && out.back() == ' ') {
    out.pop_back();
  }
  return out;
}

// WipedJson parses a response body into memory that is zeroed when it goes away, because
// get-certificate-value and /auth bodies hold a private key or a token.
class WipedJson {
 public:
  explicit WipedJson(std::size_t text_size)
      : buffer_(text_size * 3 + 4096), resource_(buffer_.data(), buffer_.size()) {}
  ~WipedJson() {
    value_ = json::value();
    OPENSSL_cleanse(buffer_.data(), buffer_.size());
  }
  WipedJson(const WipedJson&) = delete;
  WipedJson& operator=(const WipedJson&) = delete;

  bool parse(std::string_view text) {
    json::error_code ec;
    value_ = json::parse(text, ec, json::storage_ptr(&resource_));
    return !ec;
  }
  const json::value& value() const { return value_; }

 private:
  std::vector<unsigned char> buffer_;
  json::monotonic_resource resource_;
  json::value value_;
};

std::string string_field(const json::object& object, std::string_view key) {
  const json::value* value = object.if_contains(key);
  if (value == nullptr) {
    return {};
  }
  if (value->is_string()) {
    return std::string(value->as_string());
  }
  return {};
}

std::int64_t int_field(const json::object& object, std::string_view key) {
  const json::value* value = object.if_contains(key);
  if (value == nullptr) {
    return 0;
  }
  if (value->is_int64()) {
    return value->as_int64();
  }
  if (value->is_uint64()) {
    return static_cast<std::int64_t>(value->as_uint64());
  }
  if (value->is_double()) {
    return static_cast<std::int64_t>(value->as_double());
  }
  if (value->is_string()) {
    try {
      return std::stoll(std::string(value->as_string()));
    } catch (...) {
      return 0;
    }
  }
  return 0;
}

bool bool_field(const json::object& object, std::string_view key) {
  const json::value* value = object.if_contains(key);
  if (value == nullptr) {
    return false;
  }
  if (value->is_bool()) {
    return value->as_bool();
  }
  if (value->is_string()) {
    return to_lower(value->as_string()) == "true";
  }
  return false;
}

const json::object* object_field(const json::object& object, std::string_view key) {
  const json::value* value = object.if_contains(key);
  return value != nullptr ? value->if_object() : nullptr;
}

// days_from_civil: days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

// parse_rfc3339 accepts "YYYY-MM-DD[T ]HH:MM:SS[.frac](Z|+HH:MM|-HH:MM| +0000 UTC)".
std::optional<std::chrono::system_clock::time_point> parse_rfc3339(std::string_view text) {
  auto digits = [&](std::size_t pos, std::size_t count) -> std::optional<int> {
    if (pos + count > text.size()) {
      return std::nullopt;
    }
    int value = 0;
    for (std::size_t i = pos; i < pos + count; ++i) {
      if (std::isdigit(static_cast<unsigned char>(text[i])) == 0) {
        return std::nullopt;
      }
      value = value * 10 + (text[i] - '0');
    }
    return value;
  };
  if (text.size() < 19 || text[4] != '-' || text[7] != '-' ||
      (text[10] != 'T' && text[10] != 't' && text[10] != ' ') || text[13] != ':' ||
      text[16] != ':') {
    return std::nullopt;
  }
  auto year = digits(0, 4);
  auto month = digits(5, 2);
  auto day = digits(8, 2);
  auto hour = digits(11, 2);
  auto minute = digits(14, 2);
  auto second = digits(17, 2);
  if (!year || !month || !day || !hour || !minute || !second || *month < 1 || *month > 12 ||
      *day < 1 || *day > 31 || *hour > 23 || *minute > 59 || *second > 60) {
    return std::nullopt;
  }
  std::size_t pos = 19;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos])) != 0) {
      ++pos;
    }
  }
  std::int64_t offset_seconds = 0;
  std::string_view zone = text.substr(pos);
  if (zone == "Z" || zone == "z" || zone.empty() || zone == " UTC" || zone == " +0000 UTC") {
    offset_seconds = 0;
  } else if ((zone.front() == '+' || zone.front() == '-') && zone.size() == 6 && zone[3] == ':') {
    auto oh = digits(pos + 1, 2);
    auto om = digits(pos + 4, 2);
    if (!oh || !om) {
      return std::nullopt;
    }
    offset_seconds = (*oh * 3600 + *om * 60) * (zone.front() == '+' ? 1 : -1);
  } else {
    return std::nullopt;
  }
  std::int64_t days =
      days_from_civil(*year, static_cast<unsigned>(*month), static_cast<unsigned>(*day));
  std::int64_t seconds = days * 86400 + *hour * 3600 + *minute * 60 + *second - offset_seconds;
  return std::chrono::system_clock::time_point(std::chrono::seconds(seconds));
}

std::optional<std::chrono::system_clock::time_point> from_unix_number(double value) {
  if (!(value > 0)) {
    return std::nullopt;
  }
  // Values past the year 5138 in seconds are read as milliseconds (a seconds value that large
  // is not a token expiry).
  if (value > 1e11) {
    value /= 1000.0;
  }
  return std::chrono::system_clock::time_point(
      std::chrono::seconds(static_cast<std::int64_t>(value)));
}

std::optional<std::chrono::system_clock::time_point> expiration_of(const json::value& value) {
  if (value.is_int64()) {
    return from_unix_number(static_cast<double>(value.as_int64()));
  }
  if (value.is_uint64()) {
    return from_unix_number(static_cast<double>(value.as_uint64()));
  }
  if (value.is_double()) {
    return from_unix_number(value.as_double());
  }
  if (!value.is_string()) {
    return std::nullopt;
  }
  std::string_view text = value.as_string();
  if (!text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
        return std::isdigit(static_cast<unsigned char>(c)) != 0;
      })) {
    try {
      return from_unix_number(std::stod(std::string(text)));
    } catch (...) {
      return std::nullopt;
    }
  }
  return parse_rfc3339(text);
}

// hint_for: only hints that hold whatever the caller's configuration is called; the caller (the
// plugin, an embedder) adds the one that names its own setting.
std::string hint_for(ErrorCode code) {
  switch (code) {
    case ErrorCode::kResourceExhausted:
      return "; the gateway is rate limiting, retry later";
    default:
      return "";
  }
}

}  // namespace

// == wire helpers ==

Result<std::string> normalize_base_url(std::string_view gateway_url) {
  std::string base(gateway_url);
  while (!base.empty() && std::isspace(static_cast<unsigned char>(base.back())) != 0) {
    base.pop_back();
  }
  while (!base.empty() && base.back() == '/') {
    base.pop_back();
  }
  if (base.empty()) {
    return Error(ErrorCode::kInvalidArgument,
                 "gateway_url is empty; use e.g. https://gateway:8000/api/v2 or "
                 "https://api.akeyless.io");
  }
  auto url = parse_url(base);
  if (!url.ok()) {
    return url.error().with_context("gateway_url");
  }
  if (url->target.find('?') != std::string::npos) {
    return Error(ErrorCode::kInvalidArgument, "gateway_url must not carry a query string");
  }
  if (url->scheme == "http" && !is_loopback_host(url->host)) {
    return Error(ErrorCode::kInvalidArgument,
                 "gateway_url uses plain http:// to '" + url->host +
                     "', which would send tokens and keys unencrypted; use https:// (http:// is "
                     "accepted only for loopback addresses)");
  }
  return base;
}

std::string operation_url(std::string_view base_url, std::string_view operation) {
  std::string out(base_url);
  while (!out.empty() && out.back() == '/') {
    out.pop_back();
  }
  while (!operation.empty() && operation.front() == '/') {
    operation.remove_prefix(1);
  }
  out += '/';
  out += operation;
  return out;
}

std::optional<std::chrono::system_clock::time_point> parse_token_expiration(
    std::string_view json_value) {
  json::error_code ec;
  json::value value = json::parse(json_value, ec);
  if (ec) {
    return std::nullopt;
  }
  return expiration_of(value);
}

Error map_gateway_error(std::string_view operation, int status, std::string_view body) {
  // The reason: `error` of a {"error": "..."} body, else the start of a non-JSON body.
  std::string reason;
  json::error_code ec;
  json::value parsed = json::parse(body, ec);
  if (!ec && parsed.is_object()) {
    const json::value* error = parsed.as_object().if_contains("error");
    if (error != nullptr && error->is_string()) {
      reason = std::string(error->as_string());
    } else if (error != nullptr) {
      reason = json::serialize(*error);
    }
  } else if (ec) {
    reason = std::string(body.substr(0, kMaxReasonChars));
  }
  reason = sanitize_reason(reason);
  std::string lower = to_lower(reason);

  ErrorCode code;
  if (status == 401) {
    code = ErrorCode::kUnauthenticated;
  } else if (status == 429) {
    code = ErrorCode::kResourceExhausted;
  } else if (status == 403 ||
             contains_any(lower, {"unauthorized", "forbidden", "not allowed", "access denied",
                                  "permission denied", "not authorized"})) {
    code = ErrorCode::kPermissionDenied;
  } else if (contains_any(lower, {"unknown command"})) {
    // What a gateway says to a POST on a path that is not a v2 operation: the base URL is wrong
    // (an /api/v1 base, or a missing /api/v2 on port 8000), not the item.
    code = ErrorCode::kInvalidArgument;
  } else if (status == 404 || contains_any(lower, {"not found", "doesn't exist", "does not exist",
                                                   "item not found"})) {
    code = ErrorCode::kNotFound;
  } else if (contains_any(lower, {"not certificate", "not a certificate"})) {
    // A read of another item type through the certificate operations.
    code = ErrorCode::kFailedPrecondition;
  } else if (status >= 500 || status < 100) {
    code = ErrorCode::kUnavailable;
  } else if (status >= 400) {
    code = ErrorCode::kInvalidArgument;
  } else {
    // A 1xx/3xx final answer means the URL is not the v2 API (a redirect to a console, say).
    code = ErrorCode::kUnavailable;
  }

  std::string message =
      std::string(operation) + ": the gateway answered HTTP " + std::to_string(status);
  if (!reason.empty()) {
    message += ": " + reason;
  }
  message += hint_for(code);
  if (code == ErrorCode::kInvalidArgument && contains_any(lower, {"unknown command"})) {
    message += " (the URL is not a v2 API operation)";
  }
  if (status >= 300 && status < 400) {
    message += "; check that gateway_url is the v2 API base (e.g. https://gateway:8000/api/v2)";
  }
  return Error(code, std::move(message));
}

// == client ==

struct AkeylessClient::Impl {
  AkeylessClientOptions options;
  std::string base_url;
  std::shared_ptr<AuthProvider> auth;
  std::shared_ptr<HttpClient> gateway_http;
  std::shared_ptr<HttpClient> metadata_http;

  std::timed_mutex login_mutex;  // one login at a time; others wait for its token
  std::mutex state_mutex;        // guards the fields below
  SecretString token;
  Clock::time_point refresh_at{};
  std::uint64_t token_generation = 0;
  std::mt19937_64 random{std::random_device{}()};

  Deadline cap(Deadline deadline) const {
    return std::min(deadline, Clock::now() + options.request_timeout);
  }

  std::chrono::milliseconds backoff(int attempt) {
    std::chrono::milliseconds ceiling = std::min<std::chrono::milliseconds>(
        kMaxBackoff, kFirstBackoff * (1LL << std::min(attempt, 10)));
    std::lock_guard<std::mutex> lock(state_mutex);
    // "Equal jitter": half fixed, half random, so retries spread out but still back off.
    std::uniform_int_distribution<std::chrono::milliseconds::rep> spread(ceiling.count() / 2,
                                                                         ceiling.count());
    return std::chrono::milliseconds(spread(random));
  }

  // post sends one operation with retries on transient failures (transport kUnavailable, 5xx,
  // 429) and returns the 200 body. A 401 is returned at once for the caller to handle.
  Result<HttpResponse> post(std::string_view operation,
                            const std::function<Result<SecretString>()>& make_body,
                            Deadline deadline);
  Result<SecretString> login(Deadline deadline, std::uint64_t& generation);
  Result<SecretString> current_token(Deadline deadline, bool force,
                                     std::optional<std::uint64_t> rejected,
                                     std::uint64_t& generation);
  Result<HttpResponse> call(std::string_view operation, const json::object& fields,
                            Deadline deadline);
};

Result<HttpResponse> AkeylessClient::Impl::post(
    std::string_view operation, const std::function<Result<SecretString>()>& make_body,
    Deadline deadline) {
  HttpRequest request;
  request.method = "POST";
  request.url = operation_url(base_url, operation);
  request.headers = {{"Content-Type", "application/json"}, {"Accept", "application/json"}};

  for (int attempt = 0;; ++attempt) {
    auto body = make_body();
    if (!body.ok()) {
      return body.error();
    }
    request.body = std::move(*body);
    auto response = gateway_http->send(request, deadline);
    request.body = SecretString();

    std::optional<Error> failure;
    bool retryable = false;
    if (!response.ok()) {
      failure = response.error().with_context(operation);
      retryable = response.error().code() == ErrorCode::kUnavailable &&
                  !is_transport_misconfiguration(response.error());
    } else if (response->status != 200) {
      failure = map_gateway_error(operation, response->status, response->body.reveal());
      int status = response->status;
      // A 5xx whose reason names a definite answer (access denied, not found) is not transient.
      retryable = (status >= 500 && failure->code() == ErrorCode::kUnavailable) || status == 429 ||
                  status == 408;
    } else {
      std::string type = to_lower(response->content_type);
      if (!type.empty() && type.find("json") == std::string::npos) {
        return Error(ErrorCode::kUnavailable,
                     std::string(operation) + ": the gateway answered with content type '" +
                         sanitize_reason(response->content_type) +
                         "' instead of application/json; check that gateway_url is the v2 API "
                         "base (e.g. https://gateway:8000/api/v2)");
      }
      return std::move(*response);
    }

    if (!retryable) {
      return *failure;
    }
    auto pause = backoff(attempt);
    if (Clock::now() + pause >= deadline) {
      return failure->code() == ErrorCode::kDeadlineExceeded
                 ? *failure
                 : Error(failure->code(), failure->message() + " (gave up after " +
                                              std::to_string(attempt + 1) +
                                              " attempts within the deadline)");
    }
    std::this_thread::sleep_for(pause);
  }
}

Result<SecretString> AkeylessClient::Impl::login(Deadline deadline, std::uint64_t& generation) {
  auto response = post(
      "auth", [&] { return auth->auth_request_body(*metadata_http, deadline); }, deadline);
  if (!response.ok()) {
    return response.error().with_context("authentication with access type '" +
                                         std::string(auth->access_type()) + "' failed");
  }

  WipedJson parsed(response->body.size());
  if (!parsed.parse(response->body.reveal()) || !parsed.value().is_object()) {
    return Error(ErrorCode::kUnavailable,
                 "auth: the gateway's answer is not a JSON object; check gateway_url");
  }
  const json::object& object = parsed.value().as_object();
  const json::value* token_value = object.if_contains("token");
  if (token_value == nullptr || !token_value->is_string() || token_value->as_string().empty()) {
    return Error(ErrorCode::kUnavailable, "auth: the gateway's answer has no token");
  }
  SecretString token(std::string_view(token_value->as_string()));

  // Lifetime: the answer's expiration when usable, else the configured default.
  auto lifetime = std::chrono::duration_cast<Clock::duration>(options.default_token_lifetime);
  if (const json::value* expiration = object.if_contains("expiration")) {
    auto expires = expiration_of(*expiration);
    auto now = std::chrono::system_clock::now();
    if (expires && *expires > now) {
      lifetime = std::chrono::duration_cast<Clock::duration>(*expires - now);
    }
  }
  auto margin = std::min<Clock::duration>(kMaxRefreshMargin, lifetime / 10);

  std::lock_guard<std::mutex> lock(state_mutex);
  this->token = token;
  refresh_at = Clock::now() + lifetime - margin;
  generation = ++token_generation;
  return token;
}

Result<SecretString> AkeylessClient::Impl::current_token(Deadline deadline, bool force,
                                                         std::optional<std::uint64_t> rejected,
                                                         std::uint64_t& generation) {
  auto usable = [&]() -> bool {
    if (token.empty() || Clock::now() >= refresh_at) {
      return false;
    }
    if (rejected) {
      return token_generation != *rejected;  // someone else logged in since the 401
    }
    return !force;
  };
  {
    std::lock_guard<std::mutex> lock(state_mutex);
    if (usable()) {
      generation = token_generation;
      return token;
    }
  }
  std::unique_lock<std::timed_mutex> login_lock(login_mutex, std::defer_lock);
  if (!login_lock.try_lock_until(deadline)) {
    return Error(ErrorCode::kDeadlineExceeded,
                 "deadline exceeded while waiting for another authentication to finish");
  }
  if (!force || rejected) {
    std::lock_guard<std::mutex> lock(state_mutex);
    if (usable()) {
      generation = token_generation;
      return token;
    }
  }
  return login(deadline, generation);
}

Result<HttpResponse> AkeylessClient::Impl::call(std::string_view operation,
                                                const json::object& fields, Deadline deadline) {
  std::optional<std::uint64_t> rejected;
  for (int pass = 0; pass < 2; ++pass) {
    std::uint64_t generation = 0;
    auto token = current_token(deadline, rejected.has_value(), rejected, generation);
    if (!token.ok()) {
      return token.error();
    }
    auto make_body = [&]() -> Result<SecretString> {
      json::object body = fields;
      body["token"] = std::string_view(token->reveal());
      std::string text = json::serialize(body);
      auto& copy = body["token"].as_string();
      OPENSSL_cleanse(copy.data(), copy.size());
      SecretString secret(text);
      OPENSSL_cleanse(text.data(), text.size());
      return secret;
    };
    auto response = post(operation, make_body, deadline);
    if (!response.ok() && response.error().code() == ErrorCode::kUnauthenticated && pass == 0) {
      // An expired or revoked token: log in again once and retry.
      rejected = generation;
      continue;
    }
    return response;
  }
  return Error(ErrorCode::kUnauthenticated,
               std::string(operation) + ": the gateway refused a freshly issued token");
}

AkeylessClient::AkeylessClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
AkeylessClient::~AkeylessClient() = default;

Result<std::shared_ptr<AkeylessClient>> AkeylessClient::create(AkeylessClientOptions options,
                                                               std::shared_ptr<AuthProvider> auth) {
  try {
    if (!auth) {
      return Error(ErrorCode::kInvalidArgument, "an AuthProvider is required");
    }
    if (options.request_timeout <= std::chrono::milliseconds::zero()) {
      return Error(ErrorCode::kInvalidArgument, "request_timeout must be positive");
    }
    if (options.default_token_lifetime <= std::chrono::seconds::zero()) {
      return Error(ErrorCode::kInvalidArgument, "default_token_lifetime must be positive");
    }
    if (options.max_response_bytes == 0) {
      return Error(ErrorCode::kInvalidArgument, "max_response_bytes must be positive");
    }
    auto base = normalize_base_url(options.gateway_url);
    if (!base.ok()) {
      return base.error();
    }

    HttpClientOptions gateway_options;
    gateway_options.ca_bundle_path = options.ca_bundle_path;
    gateway_options.max_response_bytes = options.max_response_bytes;
    auto gateway_http = HttpClient::create(gateway_options);
    if (!gateway_http.ok()) {
      return gateway_http.error().with_context("gateway_ca_bundle_path");
    }
    // Metadata services are link-local: never through a proxy, and their answers are small.
    HttpClientOptions metadata_options;
    metadata_options.max_response_bytes = 1024 * 1024;
    metadata_options.use_proxy_environment = false;
    auto metadata_http = HttpClient::create(metadata_options);
    if (!metadata_http.ok()) {
      return metadata_http.error();
    }

    auto impl = std::make_unique<Impl>();
    impl->options = std::move(options);
    impl->base_url = std::move(*base);
    impl->auth = std::move(auth);
    impl->gateway_http = std::move(*gateway_http);
    impl->metadata_http = std::move(*metadata_http);
    return std::shared_ptr<AkeylessClient>(new AkeylessClient(std::move(impl)));
  } catch (const std::exception& e) {
    return Error(ErrorCode::kInternal,
                 std::string("cannot create the Akeyless client: ") + e.what());
  }
}

const std::string& AkeylessClient::base_url() const {
  return impl_->base_url;
}

Status AkeylessClient::authenticate(Deadline deadline) {
  try {
    std::uint64_t generation = 0;
    auto token = impl_->current_token(impl_->cap(deadline), true, std::nullopt, generation);
    if (!token.ok()) {
      return token.error();
    }
    return Status::success();
  } catch (const std::exception& e) {
    return Error(ErrorCode::kInternal, std::string("authentication failed: ") + e.what());
  }
}

Result<CertificateValue> AkeylessClient::get_certificate_value(std::string_view name,
                                                               std::optional<int> version,
                                                               bool ignore_cache, Deadline deadline,
                                                               PrivateKeyPolicy key_policy) {
  try {
    if (name.empty()) {
      return Error(ErrorCode::kInvalidArgument, "the certificate item name is empty");
    }
    json::object fields;
    fields["name"] = name;
    if (version) {
      fields["version"] = *version;
    }
    if (ignore_cache) {
      // The API takes this flag as the string "true", not a JSON boolean.
      fields["ignore-cache"] = "true";
    }
    auto response = impl_->call("get-certificate-value", fields, impl_->cap(deadline));
    if (!response.ok()) {
      return response.error().with_context("reading certificate item '" + std::string(name) + "'");
    }

    WipedJson parsed(response->body.size());
    if (!parsed.parse(response->body.reveal()) || !parsed.value().is_object()) {
      return Error(ErrorCode::kUnavailable, "reading certificate item '" + std::string(name) +
                                                "': the gateway's answer is not a JSON object");
    }
    const json::object& object = parsed.value().as_object();
    CertificateValue value;
    value.certificate_pem = string_field(object, "certificate_pem");
    if (value.certificate_pem.empty()) {
      return Error(ErrorCode::kFailedPrecondition,
                   "item '" + std::string(name) +
                       "' returned no certificate_pem; it must be a certificate item");
    }
    const json::value* key = object.if_contains("private_key_pem");
    bool has_key = key != nullptr && key->is_string() && !key->as_string().empty();
    if (!has_key && key_policy == PrivateKeyPolicy::kOptional) {
      return value;
    }
    if (!has_key) {
      return Error(ErrorCode::kFailedPrecondition,
                   "certificate item '" + std::string(name) +
                       "' has no private key; store the CA's key with the certificate "
                       "(akeyless create-certificate --private-key ...)");
    }
    value.private_key_pem = SecretString(std::string_view(key->as_string()));
    return value;
  } catch (const std::exception& e) {
    return Error(ErrorCode::kInternal, std::string("get-certificate-value failed: ") + e.what());
  }
}

Result<ItemDescription> AkeylessClient::describe_item(std::string_view name, Deadline deadline) {
  try {
    if (name.empty()) {
      return Error(ErrorCode::kInvalidArgument, "the item name is empty");
    }
    json::object fields;
    fields["name"] = name;
    auto response = impl_->call("describe-item", fields, impl_->cap(deadline));
    if (!response.ok()) {
      return response.error().with_context("describing item '" + std::string(name) + "'");
    }
    json::error_code ec;
    json::value parsed = json::parse(response->body.reveal(), ec);
    if (ec || !parsed.is_object()) {
      return Error(ErrorCode::kUnavailable, "describing item '" + std::string(name) +
                                                "': the gateway's answer is not a JSON object");
    }
    const json::object& object = parsed.as_object();
    ItemDescription item;
    item.item_name = string_field(object, "item_name");
    item.item_type = string_field(object, "item_type");
    item.last_version = int_field(object, "last_version");
    item.modification_date = string_field(object, "modification_date");
    if (item.item_type != "CERTIFICATE") {
      return Error(ErrorCode::kFailedPrecondition,
                   "item '" + std::string(name) + "' is of type '" +
                       sanitize_reason(item.item_type) +
                       "', not CERTIFICATE; certificate_name must name a certificate item");
    }
    if (const json::object* general = object_field(object, "item_general_info")) {
      if (const json::object* chain_info = object_field(*general, "certificate_chain_info")) {
        item.expiration_date = string_field(*chain_info, "expiration_date");
        item.has_private_key = bool_field(*chain_info, "certificate_has_private_key");
        const json::value* chain = chain_info->if_contains("certificate_chain");
        if (chain != nullptr && chain->is_array()) {
          for (const json::value& entry : chain->as_array()) {
            if (!entry.is_object()) {
              continue;
            }
            const json::object& cert = entry.as_object();
            CertificateChainEntry out;
            out.subject = string_field(cert, "subject");
            out.issuer = string_field(cert, "issuer");
            out.not_before = string_field(cert, "not_before");
            out.not_after = string_field(cert, "not_after");
            out.serial_number = string_field(cert, "serial_number");
            out.sha_256_fingerprint = string_field(cert, "sha_256_fingerprint");
            out.is_ca = bool_field(cert, "is_ca");
            item.certificate_chain.push_back(std::move(out));
          }
        }
      }
    }
    return item;
  } catch (const std::exception& e) {
    return Error(ErrorCode::kInternal, std::string("describe-item failed: ") + e.what());
  }
}

}  // namespace akeyless_upstream
