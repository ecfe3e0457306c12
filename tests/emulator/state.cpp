// The emulator's state: configuration loading, items and their versions, faults and the request
// log. Request handlers live in handlers.cpp.

#include <algorithm>
#include <cctype>
#include <ctime>
#include <fstream>
#include <iostream>
#include <sstream>

#include <openssl/rand.h>

#include "akeyless_upstream/certificate.hpp"
#include "akeyless_upstream/encoding.hpp"
#include "akeyless_upstream/testing/pki.hpp"
#include "emulator.hpp"

namespace emulator {

namespace json = boost::json;
using akeyless_upstream::ErrorCode;

// == helpers ==

std::optional<std::string> Request::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (key.size() == name.size() &&
        std::equal(key.begin(), key.end(), name.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) ==
                 std::tolower(static_cast<unsigned char>(b));
        })) {
      return value;
    }
  }
  return std::nullopt;
}

std::string rfc3339(TimePoint time) {
  std::time_t seconds = Clock::to_time_t(time);
  std::tm parts{};
  gmtime_r(&seconds, &parts);
  char text[32];
  std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &parts);
  return text;
}

std::string random_hex(std::size_t bytes) {
  akeyless_upstream::Bytes buffer(bytes);
  if (RAND_bytes(buffer.data(), static_cast<int>(buffer.size())) != 1) {
    // The emulator cannot run without randomness; there is nobody to report to but stderr.
    std::cerr << "emulator: RAND_bytes failed\n";
    std::abort();
  }
  return akeyless_upstream::hex_encode(buffer);
}

bool is_padded_base64(std::string_view text) {
  if (text.empty() || text.size() % 4 != 0) {
    return false;
  }
  auto decoded = akeyless_upstream::base64_decode(text);
  return decoded.ok() && akeyless_upstream::base64_encode(*decoded) == text;
}

Outcome json_response(int status, const json::value& body) {
  Outcome outcome;
  outcome.status = status;
  outcome.body = json::serialize(body);
  return outcome;
}

Outcome error_response(int status, std::string_view message) {
  return json_response(status, json::object{{"error", message}});
}

namespace {

Error config_error(std::string message) {
  return Error(ErrorCode::kInvalidArgument, std::move(message));
}

// Typed readers for config objects: absent keys leave `out` alone; a wrong type is an error.
Status read_string(const json::object& obj, std::string_view key, std::string& out,
                   std::string_view where) {
  const json::value* value = obj.if_contains(key);
  if (value == nullptr) {
    return Status::success();
  }
  if (!value->is_string()) {
    return config_error(std::string(where) + ": '" + std::string(key) + "' must be a string");
  }
  out = std::string(value->get_string());
  return Status::success();
}

Status read_secret(const json::object& obj, std::string_view key, SecretString& out,
                   std::string_view where) {
  std::string text;
  if (auto status = read_string(obj, key, text, where); !status.ok()) {
    return status;
  }
  if (obj.contains(key)) {
    out = SecretString(text);
  }
  std::fill(text.begin(), text.end(), '\0');
  return Status::success();
}

Status read_int(const json::object& obj, std::string_view key, std::int64_t& out,
                std::string_view where) {
  const json::value* value = obj.if_contains(key);
  if (value == nullptr) {
    return Status::success();
  }
  if (value->is_int64()) {
    out = value->get_int64();
  } else if (value->is_uint64() && value->get_uint64() < (1ULL << 62)) {
    out = static_cast<std::int64_t>(value->get_uint64());
  } else {
    return config_error(std::string(where) + ": '" + std::string(key) + "' must be an integer");
  }
  return Status::success();
}

Status read_bool(const json::object& obj, std::string_view key, bool& out, std::string_view where) {
  const json::value* value = obj.if_contains(key);
  if (value == nullptr) {
    return Status::success();
  }
  if (!value->is_bool()) {
    return config_error(std::string(where) + ": '" + std::string(key) + "' must be a boolean");
  }
  out = value->get_bool();
  return Status::success();
}

Status read_string_list(const json::object& obj, std::string_view key,
                        std::vector<std::string>& out, std::string_view where) {
  const json::value* value = obj.if_contains(key);
  if (value == nullptr) {
    return Status::success();
  }
  if (!value->is_array()) {
    return config_error(std::string(where) + ": '" + std::string(key) +
                        "' must be an array of strings");
  }
  out.clear();
  for (const auto& entry : value->get_array()) {
    if (!entry.is_string()) {
      return config_error(std::string(where) + ": '" + std::string(key) +
                          "' must be an array of strings");
    }
    out.emplace_back(entry.get_string());
  }
  return Status::success();
}

// check_keys refuses config keys this emulator does not know, so a typo fails loudly.
Status check_keys(const json::object& obj, std::initializer_list<std::string_view> allowed,
                  std::string_view where) {
  for (const auto& entry : obj) {
    if (std::find(allowed.begin(), allowed.end(), entry.key()) == allowed.end()) {
      return config_error(std::string(where) + ": unknown key '" + std::string(entry.key()) + "'");
    }
  }
  return Status::success();
}

Result<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return config_error("cannot read file " + path);
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string resolve_path(const std::string& base_dir, const std::string& path) {
  if (path.empty() || path.front() == '/' || base_dir.empty()) {
    return path;
  }
  return base_dir + "/" + path;
}

#define EMULATOR_TRY(expr)            \
  do {                                \
    if (auto s_ = (expr); !s_.ok()) { \
      return s_.error();              \
    }                                 \
  } while (false)

}  // namespace

// == configuration ==

Status State::load_config(const json::value& config, const std::string& base_dir) {
  std::lock_guard lock(mutex_);
  if (!config.is_object()) {
    return config_error("config: the top level must be a JSON object");
  }
  const json::object& root = config.get_object();
  EMULATOR_TRY(check_keys(
      root, {"token_lifetime_seconds", "tls", "access_ids", "items", "metadata"}, "config"));
  EMULATOR_TRY(read_int(root, "token_lifetime_seconds", token_lifetime_seconds_, "config"));
  if (token_lifetime_seconds_ <= 0) {
    return config_error("config: token_lifetime_seconds must be positive");
  }

  if (const json::value* tls = root.if_contains("tls")) {
    if (!tls->is_object()) {
      return config_error("config: 'tls' must be an object");
    }
    EMULATOR_TRY(check_keys(tls->get_object(), {"dns_names", "ip_addresses"}, "config.tls"));
    EMULATOR_TRY(
        read_string_list(tls->get_object(), "dns_names", tls_names_.dns_names, "config.tls"));
    EMULATOR_TRY(
        read_string_list(tls->get_object(), "ip_addresses", tls_names_.ip_addresses, "config.tls"));
  }

  if (const json::value* list = root.if_contains("access_ids")) {
    if (!list->is_array()) {
      return config_error("config: 'access_ids' must be an array");
    }
    for (const auto& entry : list->get_array()) {
      if (!entry.is_object()) {
        return config_error("config.access_ids: each entry must be an object");
      }
      EMULATOR_TRY(add_access_id(entry.get_object()));
    }
  }

  if (const json::value* list = root.if_contains("items")) {
    if (!list->is_array()) {
      return config_error("config: 'items' must be an array");
    }
    for (const auto& entry : list->get_array()) {
      if (!entry.is_object()) {
        return config_error("config.items: each entry must be an object");
      }
      EMULATOR_TRY(add_item(entry.get_object(), base_dir));
    }
  }

  if (const json::value* meta = root.if_contains("metadata")) {
    if (!meta->is_object()) {
      return config_error("config: 'metadata' must be an object");
    }
    const json::object& m = meta->get_object();
    EMULATOR_TRY(check_keys(m, {"gce", "azure", "aws"}, "config.metadata"));
    if (const json::value* gce = m.if_contains("gce"); gce != nullptr && gce->is_object()) {
      const json::object& g = gce->get_object();
      EMULATOR_TRY(check_keys(g, {"identity_token", "audience"}, "config.metadata.gce"));
      EMULATOR_TRY(
          read_secret(g, "identity_token", metadata_.gce_identity_token, "config.metadata.gce"));
      EMULATOR_TRY(read_string(g, "audience", metadata_.gce_audience, "config.metadata.gce"));
    }
    if (const json::value* az = m.if_contains("azure"); az != nullptr && az->is_object()) {
      const json::object& a = az->get_object();
      EMULATOR_TRY(check_keys(a, {"access_token"}, "config.metadata.azure"));
      EMULATOR_TRY(
          read_secret(a, "access_token", metadata_.azure_access_token, "config.metadata.azure"));
    }
    if (const json::value* aws = m.if_contains("aws"); aws != nullptr && aws->is_object()) {
      const json::object& a = aws->get_object();
      EMULATOR_TRY(check_keys(a, {"role", "access_key_id", "secret_access_key", "session_token"},
                              "config.metadata.aws"));
      EMULATOR_TRY(read_string(a, "role", metadata_.aws_role, "config.metadata.aws"));
      EMULATOR_TRY(
          read_string(a, "access_key_id", metadata_.aws_access_key_id, "config.metadata.aws"));
      EMULATOR_TRY(read_secret(a, "secret_access_key", metadata_.aws_secret_access_key,
                               "config.metadata.aws"));
      EMULATOR_TRY(
          read_secret(a, "session_token", metadata_.aws_session_token, "config.metadata.aws"));
      if (metadata_.aws_role.empty()) {
        metadata_.aws_role = "emulator-role";
      }
    }
  }
  return Status::success();
}

Status State::add_access_id(const json::object& spec) {
  AccessIdConfig access;
  const std::string where = "access id";
  EMULATOR_TRY(
      check_keys(spec,
                 {"access_id", "access_type", "access_key", "k8s_auth_config_name",
                  "k8s_service_account_token", "gcp_audience", "gce_identity_token",
                  "azure_access_token", "aws_credentials", "read", "token_lifetime_seconds"},
                 where));
  EMULATOR_TRY(read_string(spec, "access_id", access.access_id, where));
  EMULATOR_TRY(read_string(spec, "access_type", access.access_type, where));
  if (access.access_id.empty()) {
    return config_error("access id: 'access_id' is required");
  }
  const std::string named = "access id " + access.access_id;
  EMULATOR_TRY(read_secret(spec, "access_key", access.access_key, named));
  EMULATOR_TRY(read_string(spec, "k8s_auth_config_name", access.k8s_auth_config_name, named));
  EMULATOR_TRY(
      read_secret(spec, "k8s_service_account_token", access.k8s_service_account_token, named));
  EMULATOR_TRY(read_string(spec, "gcp_audience", access.gcp_audience, named));
  EMULATOR_TRY(read_secret(spec, "gce_identity_token", access.gce_identity_token, named));
  EMULATOR_TRY(read_secret(spec, "azure_access_token", access.azure_access_token, named));
  EMULATOR_TRY(read_string_list(spec, "read", access.read_patterns, named));
  if (spec.contains("token_lifetime_seconds")) {
    std::int64_t lifetime = 0;
    EMULATOR_TRY(read_int(spec, "token_lifetime_seconds", lifetime, named));
    if (lifetime <= 0) {
      return config_error(named + ": token_lifetime_seconds must be positive");
    }
    access.token_lifetime_seconds = lifetime;
  }
  if (const json::value* creds = spec.if_contains("aws_credentials")) {
    if (!creds->is_array()) {
      return config_error(named + ": 'aws_credentials' must be an array");
    }
    for (const auto& entry : creds->get_array()) {
      if (!entry.is_object()) {
        return config_error(named + ": each aws_credentials entry must be an object");
      }
      AwsCredential credential;
      EMULATOR_TRY(check_keys(entry.get_object(),
                              {"access_key_id", "secret_access_key", "session_token"}, named));
      EMULATOR_TRY(
          read_string(entry.get_object(), "access_key_id", credential.access_key_id, named));
      EMULATOR_TRY(read_secret(entry.get_object(), "secret_access_key",
                               credential.secret_access_key, named));
      EMULATOR_TRY(
          read_string(entry.get_object(), "session_token", credential.session_token, named));
      if (credential.access_key_id.empty() || credential.secret_access_key.empty()) {
        return config_error(named + ": aws_credentials need access_key_id and secret_access_key");
      }
      access.aws_credentials.push_back(std::move(credential));
    }
  }

  // Each method needs its credential; a half-configured access id would accept nothing.
  const std::string& type = access.access_type;
  bool complete = false;
  if (type == "access_key") {
    complete = !access.access_key.empty();
  } else if (type == "k8s") {
    complete = !access.k8s_auth_config_name.empty() && !access.k8s_service_account_token.empty();
  } else if (type == "gcp") {
    complete = !access.gce_identity_token.empty() && !access.gcp_audience.empty();
  } else if (type == "azure_ad") {
    complete = !access.azure_access_token.empty();
  } else if (type == "aws_iam") {
    complete = !access.aws_credentials.empty();
  } else {
    return config_error(named + ": access_type must be one of access_key, k8s, gcp, azure_ad, " +
                        "aws_iam");
  }
  if (!complete) {
    return config_error(named + ": missing the credential fields its access_type " + type +
                        " needs (see tests/emulator/README.md)");
  }
  access_ids_[access.access_id] = std::move(access);
  return Status::success();
}

// == items ==

void State::store_version(Item& item, std::string certificate_pem, SecretString private_key_pem) {
  ItemVersion version;
  version.version = item.versions.empty() ? 1 : item.versions.back().version + 1;
  version.certificate_pem = std::move(certificate_pem);
  version.private_key_pem = std::move(private_key_pem);
  version.created = Clock::now();
  item.versions.push_back(std::move(version));
  item.modified = Clock::now();
}

Status State::generate_version(Item& item, const GenerateSpec& spec) {
  namespace pki = akeyless_upstream::testing;
  pki::CaOptions root_options;
  root_options.key_type = spec.key_type;
  root_options.lifetime = std::chrono::hours(24 * spec.ttl_days);
  root_options.common_name = spec.common_name.empty() ? item.name : spec.common_name;

  if (spec.kind == "root") {
    auto root = pki::make_self_signed(root_options);
    if (!root.ok()) {
      return root.error().with_context("generating root for item " + item.name);
    }
    auto key_pem = root->key.to_pkcs8_pem();
    if (!key_pem.ok()) {
      return key_pem.error();
    }
    store_version(item, root->certificate.pem(), std::move(*key_pem));
    return Status::success();
  }

  // An intermediate: a fresh root signs it; the root goes (without its key) to the bundle item.
  pki::CaOptions parent_options = root_options;
  parent_options.common_name = root_options.common_name + " Root";
  auto root = pki::make_self_signed(parent_options);
  if (!root.ok()) {
    return root.error().with_context("generating root for item " + item.name);
  }
  auto intermediate = pki::issue(*root, root_options);
  if (!intermediate.ok()) {
    return intermediate.error().with_context("generating intermediate for item " + item.name);
  }
  auto key_pem = intermediate->key.to_pkcs8_pem();
  if (!key_pem.ok()) {
    return key_pem.error();
  }
  std::string certificate_pem = intermediate->certificate.pem();
  if (spec.include_chain) {
    certificate_pem += root->certificate.pem();
  }
  store_version(item, std::move(certificate_pem), std::move(*key_pem));

  if (!spec.bundle_item.empty()) {
    Item& bundle = items_[spec.bundle_item];
    if (bundle.name.empty()) {
      bundle.name = spec.bundle_item;
      bundle.created = Clock::now();
    }
    store_version(bundle, root->certificate.pem(), SecretString());
  }
  return Status::success();
}

Status State::add_item(const json::object& spec, const std::string& base_dir) {
  Item item;
  EMULATOR_TRY(check_keys(spec,
                          {"name", "type", "certificate_file", "private_key_file",
                           "certificate_pem", "private_key_pem", "generate", "value"},
                          "item"));
  EMULATOR_TRY(read_string(spec, "name", item.name, "item"));
  if (item.name.empty()) {
    return config_error("item: 'name' is required");
  }
  const std::string where = "item " + item.name;
  EMULATOR_TRY(read_string(spec, "type", item.type, where));
  item.created = Clock::now();
  item.modified = item.created;

  if (item.type != "CERTIFICATE") {
    // Other item types exist only so that clients can be shown a wrong-type item.
    item.versions.push_back(ItemVersion{1, "", SecretString(), Clock::now()});
    items_[item.name] = std::move(item);
    return Status::success();
  }

  std::string certificate_pem;
  SecretString private_key_pem;
  EMULATOR_TRY(read_string(spec, "certificate_pem", certificate_pem, where));
  EMULATOR_TRY(read_secret(spec, "private_key_pem", private_key_pem, where));
  std::string certificate_file;
  std::string key_file;
  EMULATOR_TRY(read_string(spec, "certificate_file", certificate_file, where));
  EMULATOR_TRY(read_string(spec, "private_key_file", key_file, where));
  if (!certificate_file.empty()) {
    auto text = read_file(resolve_path(base_dir, certificate_file));
    if (!text.ok()) {
      return text.error().with_context(where);
    }
    certificate_pem = std::move(*text);
  }
  if (!key_file.empty()) {
    auto text = read_file(resolve_path(base_dir, key_file));
    if (!text.ok()) {
      return text.error().with_context(where);
    }
    private_key_pem = SecretString(*text);
    std::fill(text->begin(), text->end(), '\0');
  }

  if (const json::value* gen = spec.if_contains("generate")) {
    if (!gen->is_object()) {
      return config_error(where + ": 'generate' must be an object");
    }
    const json::object& g = gen->get_object();
    EMULATOR_TRY(check_keys(
        g, {"kind", "key_type", "common_name", "ttl_days", "bundle_item", "include_chain"},
        where + ".generate"));
    GenerateSpec generate;
    std::string key_type = "ec-p256";
    EMULATOR_TRY(read_string(g, "kind", generate.kind, where));
    EMULATOR_TRY(read_string(g, "key_type", key_type, where));
    EMULATOR_TRY(read_string(g, "common_name", generate.common_name, where));
    EMULATOR_TRY(read_int(g, "ttl_days", generate.ttl_days, where));
    EMULATOR_TRY(read_string(g, "bundle_item", generate.bundle_item, where));
    EMULATOR_TRY(read_bool(g, "include_chain", generate.include_chain, where));
    if (generate.kind != "root" && generate.kind != "intermediate") {
      return config_error(where + ": generate.kind must be \"root\" or \"intermediate\"");
    }
    auto type = akeyless_upstream::key_type_from_name(key_type);
    if (!type) {
      return config_error(where + ": unknown generate.key_type '" + key_type +
                          "' (ec-p256, ec-p384, rsa-2048, rsa-3072, rsa-4096)");
    }
    generate.key_type = *type;
    if (generate.bundle_item == item.name) {
      return config_error(where + ": bundle_item must name another item");
    }
    EMULATOR_TRY(generate_version(item, generate));
    item.generate = generate;
  } else if (!certificate_pem.empty()) {
    store_version(item, std::move(certificate_pem), std::move(private_key_pem));
  } else {
    return config_error(where + ": a CERTIFICATE item needs certificate_pem, certificate_file " +
                        "or generate");
  }
  items_[item.name] = std::move(item);
  return Status::success();
}

Result<int> State::rotate_item(const std::string& name, const json::object& spec) {
  auto it = items_.find(name);
  if (it == items_.end()) {
    return Error(ErrorCode::kNotFound, "item not found: " + name);
  }
  Item& item = it->second;
  std::string certificate_pem;
  SecretString private_key_pem;
  EMULATOR_TRY(read_string(spec, "certificate_pem", certificate_pem, "rotate"));
  EMULATOR_TRY(read_secret(spec, "private_key_pem", private_key_pem, "rotate"));
  if (!certificate_pem.empty()) {
    store_version(item, std::move(certificate_pem), std::move(private_key_pem));
  } else if (item.generate) {
    EMULATOR_TRY(generate_version(item, *item.generate));
  } else {
    return config_error("item " + name +
                        " was not generated; give certificate_pem (and private_key_pem)");
  }
  return item.versions.back().version;
}

// == faults and log ==

std::optional<Fault> State::take_fault(std::string_view operation) {
  static constexpr std::string_view kMetadataPrefix = "gce-";
  for (auto it = faults_.begin(); it != faults_.end(); ++it) {
    const std::string& wanted = it->operation;
    bool is_metadata = operation.starts_with(kMetadataPrefix) || operation.starts_with("azure-") ||
                       operation.starts_with("aws-");
    bool matches = wanted == operation || (wanted == "*" && !is_metadata) ||
                   (wanted == "metadata-*" && is_metadata);
    if (!matches) {
      continue;
    }
    Fault fault = *it;
    if (it->remaining > 0 && --it->remaining == 0) {
      faults_.erase(it);
    }
    return fault;
  }
  return std::nullopt;
}

void State::record(LogEntry entry) {
  entry.seq = next_seq_++;
  entry.time = rfc3339(Clock::now());
  if (!quiet_) {
    std::ostringstream line;
    line << "emulator: seq=" << entry.seq << " port=" << entry.port << " op=" << entry.operation;
    if (!entry.access_type.empty()) {
      line << " access_type=" << entry.access_type;
    }
    if (!entry.access_id.empty()) {
      line << " access_id=" << entry.access_id;
    }
    if (!entry.item.empty()) {
      line << " item=" << entry.item;
    }
    line << " status=" << entry.status;
    if (!entry.fault.empty()) {
      line << " fault=" << entry.fault;
    }
    line << "\n";
    std::cerr << line.str() << std::flush;
  }
  log_.push_back(std::move(entry));
}

}  // namespace emulator
