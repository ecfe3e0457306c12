#pragma once

// The gateway emulator's shared state and request handling, independent of the network layer:
// configuration, access ids, certificate items with versions, tokens, faults and the request
// log. server.cpp feeds parsed HTTP requests to handle_request() and carries out the Outcome.
// See README.md in this directory for the behaviour this implements.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json.hpp>

#include "akeyless_upstream/private_key.hpp"
#include "akeyless_upstream/result.hpp"
#include "akeyless_upstream/secret.hpp"

namespace emulator {

using akeyless_upstream::Error;
using akeyless_upstream::Result;
using akeyless_upstream::SecretString;
using akeyless_upstream::Status;
using Clock = std::chrono::system_clock;
using TimePoint = Clock::time_point;

// AwsCredential is one key pair an aws_iam access id accepts.
struct AwsCredential {
  std::string access_key_id;
  SecretString secret_access_key;
  std::string session_token;  // empty: the request must not carry X-Amz-Security-Token
};

// AccessIdConfig is one configured auth method (access id) and the credentials it accepts.
struct AccessIdConfig {
  std::string access_id;
  std::string access_type;  // wire names: access_key, k8s, gcp, azure_ad, aws_iam
  SecretString access_key;
  std::string k8s_auth_config_name;
  SecretString k8s_service_account_token;
  std::string gcp_audience = "akeyless.io";
  SecretString gce_identity_token;
  SecretString azure_access_token;
  std::vector<AwsCredential> aws_credentials;
  std::vector<std::string> read_patterns{"*"};
  std::optional<std::int64_t> token_lifetime_seconds;
};

// GenerateSpec says how a generated certificate item is (re)made.
struct GenerateSpec {
  std::string kind = "root";  // "root" or "intermediate"
  akeyless_upstream::KeyType key_type = akeyless_upstream::KeyType::kEcP256;
  std::string common_name;
  std::int64_t ttl_days = 365;
  std::string bundle_item;
  bool include_chain = false;
};

// ItemVersion is one stored value of an item.
struct ItemVersion {
  int version = 1;
  std::string certificate_pem;
  SecretString private_key_pem;
  TimePoint created;
};

// Item is a certificate item (or another item type, which only describe-item shows).
struct Item {
  std::string name;
  std::string type = "CERTIFICATE";
  std::vector<ItemVersion> versions;
  std::optional<GenerateSpec> generate;
  TimePoint created;
  TimePoint modified;
};

// Fault is one queued misbehaviour.
struct Fault {
  int id = 0;
  std::string operation;
  std::string kind;
  int status = 503;
  std::string error = "injected fault";
  std::int64_t latency_ms = 0;
  std::size_t size_bytes = 16 * 1024 * 1024;
  std::int64_t retry_after = -1;
  std::int64_t remaining = 0;  // 0: until cleared
};

// LogEntry is one line of the request log; it never holds a secret.
struct LogEntry {
  std::int64_t seq = 0;
  std::string time;
  std::string port;
  std::string operation;
  std::string access_type;
  std::string access_id;
  std::string item;
  int status = 0;
  std::string fault;
};

// MetadataConfig holds what the fake cloud metadata services answer.
struct MetadataConfig {
  SecretString gce_identity_token;
  std::string gce_audience;
  SecretString azure_access_token;
  std::string aws_role;
  std::string aws_access_key_id;
  SecretString aws_secret_access_key;
  SecretString aws_session_token;
};

// TlsNames are the SubjectAltName entries of the emulator's server certificate.
struct TlsNames {
  std::vector<std::string> dns_names{"localhost"};
  std::vector<std::string> ip_addresses{"127.0.0.1"};
};

// Request is the part of an HTTP request the handlers look at.
struct Request {
  std::string method;
  std::string target;  // path plus query
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  bool body_too_large = false;

  // header returns the first value of a header (case-insensitive name), or nullopt.
  std::optional<std::string> header(std::string_view name) const;
};

// Outcome is what the server must do with a request.
struct Outcome {
  enum class Action { kRespond, kDrop, kHang };
  Action action = Action::kRespond;
  std::chrono::milliseconds delay{0};
  int status = 200;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

// PortKind tells which listener received a request.
enum class PortKind { kGateway, kMetadata };

// State is the whole emulated gateway. Thread-safe: every public call takes the mutex.
class State {
 public:
  // load_config applies a parsed config file; relative file paths are resolved against
  // `base_dir`. Errors name the offending key.
  Status load_config(const boost::json::value& config, const std::string& base_dir);

  const TlsNames& tls_names() const { return tls_names_; }
  void set_quiet(bool quiet) { quiet_ = quiet; }

  // handle_request answers one request on the given port. Never throws.
  Outcome handle_request(const Request& request, PortKind port);

 private:
  // Handlers; the mutex is held by handle_request.
  Outcome handle_gateway(const Request& request, std::string_view operation, LogEntry& log);
  Outcome handle_auth(const boost::json::object& body, LogEntry& log);
  Outcome handle_get_certificate_value(const boost::json::object& body, LogEntry& log);
  Outcome handle_describe_item(const boost::json::object& body, LogEntry& log);
  Outcome handle_validate_token(const boost::json::object& body, LogEntry& log);
  Outcome handle_metadata(const Request& request, std::string_view operation, LogEntry& log);
  Outcome handle_admin(const Request& request, LogEntry& log);

  // check_token resolves a token to its access id; on failure fills `error` with a 401.
  const AccessIdConfig* check_token(const boost::json::object& body, Outcome& error, LogEntry& log);
  Result<const Item*> readable_item(const AccessIdConfig& access, const std::string& name,
                                    Outcome& error);

  Status add_access_id(const boost::json::object& spec);
  Status add_item(const boost::json::object& spec, const std::string& base_dir);
  Result<int> rotate_item(const std::string& name, const boost::json::object& spec);
  Status generate_version(Item& item, const GenerateSpec& spec);
  void store_version(Item& item, std::string certificate_pem, SecretString private_key_pem);
  std::optional<Fault> take_fault(std::string_view operation);
  void record(LogEntry entry);

  std::mutex mutex_;
  bool quiet_ = false;
  TlsNames tls_names_;
  std::int64_t token_lifetime_seconds_ = 3600;
  std::map<std::string, AccessIdConfig> access_ids_;
  std::map<std::string, Item> items_;
  struct TokenInfo {
    std::string access_id;
    TimePoint issued;
    TimePoint expires;
    bool revoked = false;
  };
  std::map<std::string, TokenInfo> tokens_;
  std::map<std::string, TimePoint> imds_tokens_;
  std::deque<Fault> faults_;
  int next_fault_id_ = 1;
  std::vector<LogEntry> log_;
  std::int64_t next_seq_ = 1;
  MetadataConfig metadata_;
};

// rfc3339 formats a time as "YYYY-MM-DDTHH:MM:SSZ" (UTC).
std::string rfc3339(TimePoint time);

// random_hex returns `bytes` random bytes as lower-case hex.
std::string random_hex(std::size_t bytes);

// is_padded_base64 is true when `text` is standard-alphabet base64 with correct padding and
// canonical trailing bits (decoding and re-encoding gives the same text).
bool is_padded_base64(std::string_view text);

// json_response builds a respond Outcome with a JSON body.
Outcome json_response(int status, const boost::json::value& body);
// error_response builds `{"error": message}` with the given status.
Outcome error_response(int status, std::string_view message);

}  // namespace emulator
