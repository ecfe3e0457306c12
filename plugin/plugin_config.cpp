#include "plugin_config.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <utility>

#include "hcl.hpp"

namespace akeyless_upstream::plugin {

namespace {

using hcl::Kind;
using hcl::Member;
using hcl::Value;

// == key table ==

constexpr std::string_view kAccessId = "access_id";
constexpr std::string_view kAccessKey = "access_key";
constexpr std::string_view kAccessType = "access_type";
constexpr std::string_view kGatewayUrl = "akeyless_gateway_url";
constexpr std::string_view kCertificateName = "certificate_name";
constexpr std::string_view kBundleCertificateName = "bundle_certificate_name";
constexpr std::string_view kGatewayCaBundlePath = "gateway_ca_bundle_path";
constexpr std::string_view kK8sAuthConfigName = "k8s_auth_config_name";
constexpr std::string_view kK8sTokenPath = "k8s_service_account_token_path";
constexpr std::string_view kGcpAudience = "gcp_audience";
constexpr std::string_view kAzureObjectId = "azure_object_id";
constexpr std::string_view kRequestTimeout = "request_timeout";

constexpr std::array<std::string_view, 12> kKeys = {
    kAccessId,
    kAccessKey,
    kAccessType,
    kGatewayUrl,
    kCertificateName,
    kBundleCertificateName,
    kGatewayCaBundlePath,
    kK8sAuthConfigName,
    kK8sTokenPath,
    kGcpAudience,
    kAzureObjectId,
    kRequestTimeout,
};

constexpr std::array<std::string_view, 5> kAccessTypes = {"api_key", "aws_iam", "azure_ad", "gcp",
                                                          "k8s"};
constexpr std::string_view kAccessTypeList = "api_key, aws_iam, azure_ad, gcp, k8s";

// Keys of related plugins that people carry over; each gets a pointed answer rather than an edit
// distance guess.
struct KnownForeignKey {
  std::string_view key;
  std::string_view advice;
};
constexpr std::array<KnownForeignKey, 7> kForeignKeys = {{
    {"akeyless_access_type", "did you mean \"access_type\"?"},
    {"akeyless_access_key", "did you mean \"access_key\"?"},
    {"akeyless_access_key_id", "did you mean \"access_id\"?"},
    {"access_key_id", "did you mean \"access_id\"?"},
    {"custom_ca_bundle", "did you mean \"gateway_ca_bundle_path\"?"},
    {"pki_cert_issuer_name",
     "it belongs to Akeyless's PKI plugin; this plugin reads the certificate item named by "
     "\"certificate_name\""},
    {"jwt_keys_secret_name",
     "it belongs to Akeyless's PKI plugin; this plugin does not publish JWT keys"},
}};

constexpr std::chrono::milliseconds kMaxRequestTimeout = std::chrono::hours(1);

// == helpers ==

std::size_t levenshtein(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) {
    row[j] = j;
  }
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t above = row[j];
      std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + cost});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// nearest returns the candidate closest to `word` when it is close enough to be a typo: at most a
// third of the word's length in edits (and at least one, at most three).
template <std::size_t N>
std::optional<std::string_view> nearest(std::string_view word,
                                        const std::array<std::string_view, N>& candidates) {
  std::size_t limit = std::clamp<std::size_t>(word.size() / 3, 1, 3);
  std::optional<std::string_view> best;
  std::size_t best_distance = limit + 1;
  for (std::string_view candidate : candidates) {
    std::size_t distance = levenshtein(word, candidate);
    if (distance < best_distance) {
      best = candidate;
      best_distance = distance;
    }
  }
  return best;
}

std::string at(hcl::Position position) {
  return hcl::format_position(position) + ": ";
}

std::string quoted(std::string_view text) {
  std::string out = "\"";
  out += text;
  out += '"';
  return out;
}

// article_kind gives "a string", "a list", "a block", ... for messages.
std::string article_kind(Kind kind) {
  return "a " + std::string(hcl::kind_name(kind));
}

bool is_loopback_host(std::string_view host) {
  std::string lower(host);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lower == "localhost" || lower == "[::1]") {
    return true;
  }
  // 127.0.0.0/8, written as a dotted quad.
  if (lower.rfind("127.", 0) != 0) {
    return false;
  }
  int parts = 0;
  std::size_t start = 0;
  while (start <= lower.size()) {
    std::size_t end = lower.find('.', start);
    if (end == std::string::npos) {
      end = lower.size();
    }
    std::string_view part = std::string_view(lower).substr(start, end - start);
    unsigned value = 0;
    auto [ptr, ec] = std::from_chars(part.data(), part.data() + part.size(), value);
    if (part.empty() || ec != std::errc() || ptr != part.data() + part.size() || value > 255) {
      return false;
    }
    ++parts;
    start = end + 1;
  }
  return parts == 4;
}

// check_gateway_url returns a problem with akeyless_gateway_url, or nullopt. The URL itself is
// never repeated: it could carry credentials.
std::optional<std::string> check_gateway_url(std::string_view url) {
  constexpr std::string_view kExample = "\"https://gateway.example.com:8000/api/v2\"";
  if (std::any_of(url.begin(), url.end(), [](unsigned char c) { return c <= 0x20 || c == 0x7f; })) {
    return "akeyless_gateway_url contains whitespace or control characters";
  }
  std::size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) {
    return "akeyless_gateway_url must be a URL starting with https://, for example " +
           std::string(kExample);
  }
  std::string scheme(url.substr(0, scheme_end));
  std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (scheme != "https" && scheme != "http") {
    return "akeyless_gateway_url must use https:// (found another scheme), for example " +
           std::string(kExample);
  }

  std::string_view rest = url.substr(scheme_end + 3);
  std::size_t authority_end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, authority_end);
  if (authority_end != std::string_view::npos &&
      rest.find_first_of("?#", authority_end) != std::string_view::npos) {
    return "akeyless_gateway_url must not contain a query or fragment ('?' or '#'); API paths "
           "are appended to it";
  }
  if (authority.find('@') != std::string_view::npos) {
    return "akeyless_gateway_url must not contain user:password@; authenticate with access_id "
           "and access_type instead";
  }

  std::string_view host = authority;
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    std::size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      return "akeyless_gateway_url has an IPv6 address without its closing ']'";
    }
    host = authority.substr(0, close + 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') {
        return "akeyless_gateway_url has text after its IPv6 address that is not a :port";
      }
      port = after.substr(1);
      if (port.empty()) {
        port = "x";  // reported as an invalid port below
      }
    }
  } else if (std::size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
    if (port.empty()) {
      port = "x";
    }
  }
  if (host.empty() || host == "[]") {
    return "akeyless_gateway_url has no host name, for example " + std::string(kExample);
  }
  if (!port.empty()) {
    unsigned value = 0;
    auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || ptr != port.data() + port.size() || value == 0 || value > 65535) {
      return "akeyless_gateway_url has an invalid port; use a number from 1 to 65535";
    }
  }

  // The access key and the tokens travel in the request bodies; over plain http they would be
  // readable on the network. Loopback never leaves the machine (a local gateway or a test
  // emulator), so that is the one place http is allowed.
  if (scheme == "http" && !is_loopback_host(host)) {
    return "akeyless_gateway_url uses http:// for a host that is not loopback; credentials and "
           "tokens would cross the network unencrypted. Use https:// (http:// is accepted only "
           "for localhost, 127.0.0.0/8 and [::1])";
  }
  return std::nullopt;
}

// readable_file_problem returns why `path` cannot be read as a file, or nullopt.
std::optional<std::string> readable_file_problem(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    int saved = errno;
    return std::string(std::strerror(saved != 0 ? saved : ENOENT));
  }
  // Opening a directory succeeds on Linux; reading from it does not.
  char byte = 0;
  file.read(&byte, 1);
  if (file.bad()) {
    return std::string("it is not a readable file");
  }
  return std::nullopt;
}

std::string access_type_advice() {
  return "set access_type to one of: " + std::string(kAccessTypeList);
}

// == analysis ==

struct Analysis {
  PluginConfig config;
  std::vector<std::string> problems;
};

class Analyzer {
 public:
  Analyzer(std::string_view text, const EnvLookup& env) : text_(text), env_(env) {}

  Analysis run() {
    analyse();
    scrub();
    return std::move(result_);
  }

 private:
  void problem(std::string text) { result_.problems.push_back(std::move(text)); }

  void analyse() {
    auto root = hcl::parse(text_);
    if (!root.ok()) {
      problem("plugin_data is not valid HCL: " + root.error().message());
      return;
    }
    if (!root->is_object()) {
      problem(
          "plugin_data must be a block of keys, as in `plugin_data { access_id = \"p-...\" "
          "... }`, not " +
          article_kind(root->kind()));
      return;
    }
    const hcl::Object& members = root->as_object();
    if (members.empty()) {
      // SPIRE sends "" for `plugin_data {}`.
      problem(
          "plugin_data is empty; set at least akeyless_gateway_url, certificate_name, "
          "access_id, and access_key (API key, or the " +
          std::string(kAccessKeyEnv) +
          " environment variable) or access_type with that method's keys");
      return;
    }

    for (const Member& member : members) {
      check_member(member);
    }

    PluginConfig& config = result_.config;
    config.gateway_url = text_of(kGatewayUrl);
    config.certificate_name = text_of(kCertificateName);
    config.bundle_certificate_name = text_of(kBundleCertificateName);
    config.gateway_ca_bundle_path = text_of(kGatewayCaBundlePath);
    config.auth.access_id = text_of(kAccessId);
    config.auth.k8s_auth_config_name = text_of(kK8sAuthConfigName);
    config.auth.azure_object_id = text_of(kAzureObjectId);
    if (std::string path = text_of(kK8sTokenPath); !path.empty()) {
      config.auth.k8s_service_account_token_path = path;
    }
    if (std::string audience = text_of(kGcpAudience); !audience.empty()) {
      config.auth.gcp_audience = audience;
    }
    resolve_access_key();
    resolve_access_type();
    check_method_keys();
    check_endpoint();
    check_timeout();
  }

  // check_member reports unknown keys and values of the wrong type, and remembers the rest.
  void check_member(const Member& member) {
    auto known = std::find(kKeys.begin(), kKeys.end(), member.key);
    if (known == kKeys.end()) {
      report_unknown_key(member);
      return;
    }
    const Value& value = member.value;
    if (member.key == kRequestTimeout) {
      if (!value.is_string() && !value.is_number()) {
        problem(at(member.key_position) +
                "request_timeout must be a duration string such as \"30s\" or a whole number "
                "of seconds, found " +
                article_kind(value.kind()));
        return;
      }
    } else if (!value.is_string()) {
      problem(at(member.key_position) + member.key + " must be a string, found " +
              article_kind(value.kind()) + (value.is_object() ? " (write key = \"value\")" : ""));
      return;
    }
    values_.emplace_back(*known, &member);
  }

  void report_unknown_key(const Member& member) {
    std::string shown = hcl::safe_key_for_message(member.key);
    std::string text = at(member.key_position) + "unknown key " + shown;
    for (const KnownForeignKey& foreign : kForeignKeys) {
      if (foreign.key == member.key) {
        problem(text + "; " + std::string(foreign.advice));
        return;
      }
    }
    if (auto suggestion = nearest(member.key, kKeys)) {
      problem(text + "; did you mean " + quoted(*suggestion) + "?");
      return;
    }
    std::string list;
    for (std::string_view key : kKeys) {
      list += list.empty() ? "" : ", ";
      list += key;
    }
    problem(text + "; valid keys are: " + list);
  }

  const Member* member_of(std::string_view key) const {
    for (const auto& [name, member] : values_) {
      if (name == key) {
        return member;
      }
    }
    return nullptr;
  }

  // text_of gives a string key's value, or "" when it is absent (or was of the wrong type,
  // already reported).
  std::string text_of(std::string_view key) const {
    const Member* member = member_of(key);
    return member != nullptr && member->value.is_string() ? member->value.as_string()
                                                          : std::string();
  }

  void resolve_access_key() {
    const Member* member = member_of(kAccessKey);
    if (member != nullptr && !member->value.as_string().empty()) {
      result_.config.auth.access_key = SecretString(member->value.as_string());
      access_key_from_file_ = true;
      return;
    }
    if (env_) {
      if (auto from_env = env_(kAccessKeyEnv); from_env && !from_env->empty()) {
        result_.config.auth.access_key = SecretString(*from_env);
      }
    }
  }

  void resolve_access_type() {
    AuthConfig& auth = result_.config.auth;
    const Member* member = member_of(kAccessType);
    if (member != nullptr) {
      std::string type = member->value.as_string();
      // "access_key" is Akeyless's own wire name for the API key method.
      if (type == "access_key") {
        type = "api_key";
      }
      if (std::find(kAccessTypes.begin(), kAccessTypes.end(), type) != kAccessTypes.end()) {
        auth.access_type = type;
        return;
      }
      std::string text = at(member->value.position()) + "access_type " +
                         hcl::safe_key_for_message(member->value.as_string()) +
                         " is not supported; ";
      if (auto suggestion = nearest(type, kAccessTypes)) {
        text += "did you mean " + quoted(*suggestion) + "? ";
      }
      problem(text + "The methods are: " + std::string(kAccessTypeList));
      return;
    }

    // Inference for configurations written for Akeyless's own plugin, which has no
    // access_type key: an access key means API key, a K8s auth config name means k8s.
    // The order is: access_key in plugin_data, then k8s_auth_config_name, then the key in the
    // environment (a stray variable must not override an explicit k8s set-up).
    bool k8s_named = !auth.k8s_auth_config_name.empty();
    if (access_key_from_file_ || (!k8s_named && !auth.access_key.empty())) {
      auth.access_type = "api_key";
    } else if (k8s_named) {
      auth.access_type = "k8s";
    } else {
      problem("access_type is not set and cannot be inferred (there is no access_key, no " +
              std::string(kAccessKeyEnv) + " and no k8s_auth_config_name); " +
              access_type_advice());
    }
  }

  void check_method_keys() {
    const AuthConfig& auth = result_.config.auth;
    if (auth.access_type.empty()) {
      return;
    }
    std::string method = "access_type " + quoted(auth.access_type);
    if (auth.access_id.empty()) {
      problem("access_id is required for " + method +
              " (the access ID of the Akeyless auth method, \"p-...\")");
    }
    if (auth.access_type == "api_key" && auth.access_key.empty()) {
      problem("access_key is required for " + method + "; set it in plugin_data or in the " +
              std::string(kAccessKeyEnv) + " environment variable");
    }
    if (auth.access_type == "k8s" && auth.k8s_auth_config_name.empty()) {
      problem("k8s_auth_config_name is required for " + method +
              " (the name of the Kubernetes auth config created on the Akeyless Gateway)");
    }
  }

  void check_endpoint() {
    const PluginConfig& config = result_.config;
    if (config.gateway_url.empty()) {
      problem(
          "akeyless_gateway_url is required (the Akeyless Gateway API v2 endpoint, for "
          "example \"https://gateway.example.com:8000/api/v2\")");
    } else if (auto url_problem = check_gateway_url(config.gateway_url)) {
      problem(at(member_of(kGatewayUrl)->value.position()) + *url_problem);
    }
    if (config.certificate_name.empty()) {
      problem(
          "certificate_name is required (the full name of the Akeyless certificate item, "
          "for example \"/SPIRE/SVID/upstream-ca\")");
    }
    if (!config.gateway_ca_bundle_path.empty()) {
      if (auto file_problem = readable_file_problem(config.gateway_ca_bundle_path)) {
        problem(at(member_of(kGatewayCaBundlePath)->value.position()) + "gateway_ca_bundle_path " +
                quoted(config.gateway_ca_bundle_path) + " cannot be read: " + *file_problem +
                " (give a PEM file of the CA certificates that issued the gateway's TLS "
                "certificate, or leave the key out to use the system trust store)");
      }
    }
  }

  void check_timeout() {
    const Member* member = member_of(kRequestTimeout);
    if (member == nullptr) {
      return;
    }
    const Value& value = member->value;
    std::string where = at(value.position());
    std::chrono::milliseconds timeout{0};
    if (value.is_number()) {
      auto seconds = value.as_integer();
      if (!seconds) {
        problem(where +
                "request_timeout as a number is whole seconds; write a duration string "
                "such as \"1500ms\" for fractions");
        return;
      }
      if (*seconds <= 0 || *seconds > kMaxRequestTimeout.count() / 1000) {
        problem(where + "request_timeout must be more than 0 and at most 1h");
        return;
      }
      timeout = std::chrono::seconds(*seconds);
    } else {
      auto parsed = parse_duration(value.as_string());
      if (!parsed.ok()) {
        problem(where + parsed.error().message());
        return;
      }
      timeout = *parsed;
    }
    if (timeout <= std::chrono::milliseconds(0) || timeout > kMaxRequestTimeout) {
      problem(where + "request_timeout must be at least 1ms and at most 1h");
      return;
    }
    result_.config.request_timeout = timeout;
  }

  // scrub is the last line of defence: no message may contain the access key, whichever way it
  // got there.
  void scrub() {
    std::string_view secret = result_.config.auth.access_key.reveal();
    std::optional<std::string> from_env;
    if (env_) {
      from_env = env_(kAccessKeyEnv);
    }
    for (std::string& text : result_.problems) {
      for (std::string_view needle :
           {secret, from_env ? std::string_view(*from_env) : std::string_view()}) {
        if (needle.size() < 4) {
          continue;
        }
        for (std::size_t pos = text.find(needle); pos != std::string::npos;
             pos = text.find(needle, pos)) {
          text.replace(pos, needle.size(), "(redacted)");
          pos += std::strlen("(redacted)");
        }
      }
    }
    if (from_env) {
      std::fill(from_env->begin(), from_env->end(), '\0');
    }
  }

  std::string_view text_;
  const EnvLookup& env_;
  Analysis result_;
  std::vector<std::pair<std::string_view, const Member*>> values_;
  bool access_key_from_file_ = false;
};

}  // namespace

EnvLookup process_env() {
  return [](std::string_view name) -> std::optional<std::string> {
    std::string key(name);
    const char* value = std::getenv(key.c_str());
    if (value == nullptr) {
      return std::nullopt;
    }
    return std::string(value);
  };
}

Result<PluginConfig> parse_plugin_config(std::string_view hcl_text, const EnvLookup& env) {
  // TODO: the parse tree's copy of access_key is released without being zeroed (SecretString
  // zeroes only its own copy); a core dump taken during Configure could show it.
  Analysis analysis = Analyzer(hcl_text, env).run();
  if (analysis.problems.empty()) {
    return std::move(analysis.config);
  }
  std::string text = analysis.problems.front();
  if (analysis.problems.size() > 1) {
    std::size_t more = analysis.problems.size() - 1;
    text += " (and " + std::to_string(more) + " more problem" + (more == 1 ? "" : "s") + ")";
  }
  return Error(ErrorCode::kInvalidArgument, std::move(text));
}

std::vector<std::string> validate_plugin_config(std::string_view hcl_text, const EnvLookup& env) {
  return Analyzer(hcl_text, env).run().problems;
}

Result<std::string> plugin_data_from_file(std::string_view file_text,
                                          std::string_view plugin_name) {
  auto root = hcl::parse(file_text);
  if (!root.ok()) {
    return root.error();
  }
  // A plugin_data body never has a `plugins` key (it would be reported as unknown); a
  // server.conf always has one.
  if (!root->is_object() || root->find("plugins") == nullptr) {
    return std::string(file_text);
  }

  auto found = hcl::find_plugin_data(file_text, "UpstreamAuthority", plugin_name);
  if (!found.ok()) {
    return found.error();
  }
  if (found->inline_value) {
    // Keep the value's own source text, moved to its place by blank lines and spaces, so that
    // lines and columns in messages point into FILE.
    const Value& value = *found->inline_value;
    hcl::Position start = value.position();
    std::string text(static_cast<std::size_t>(start.line - 1), '\n');
    text.append(static_cast<std::size_t>(start.column - 1), ' ');
    text += file_text.substr(start.offset, value.end_offset() - start.offset);
    return text;
  }
  if (!found->file_path.empty()) {
    return std::move(found->file_content);
  }
  return Error(ErrorCode::kInvalidArgument,
               "UpstreamAuthority " + quoted(plugin_name) +
                   " has neither plugin_data nor plugin_data_file; add a plugin_data block");
}

Result<std::chrono::milliseconds> parse_duration(std::string_view text) {
  auto invalid = [&]() {
    return Error(ErrorCode::kInvalidArgument,
                 "request_timeout is not a duration; write it like \"30s\", \"1m30s\" or "
                 "\"500ms\" (units ns, us, ms, s, m, h), or as whole seconds");
  };
  if (text.empty()) {
    return invalid();
  }
  if (std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    std::int64_t seconds = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
    if (ec != std::errc() || seconds > std::int64_t{24} * 3600) {
      return Error(ErrorCode::kInvalidArgument, "request_timeout is too large");
    }
    return std::chrono::milliseconds(seconds * 1000);
  }

  std::string_view rest = text;
  if (rest.front() == '-') {
    return Error(ErrorCode::kInvalidArgument, "request_timeout must not be negative");
  }
  if (rest.front() == '+') {
    rest.remove_prefix(1);
  }
  if (rest.empty()) {
    return invalid();
  }

  struct Unit {
    std::string_view name;
    long double nanoseconds;
  };
  // Longer names first so that "ms" is not read as "m" followed by "s".
  static constexpr std::array<Unit, 8> kUnits = {{
      {"ns", 1.0L},
      {"us", 1e3L},
      {"\xC2\xB5s", 1e3L},  // U+00B5 micro sign
      {"\xCE\xBCs", 1e3L},  // U+03BC Greek small letter mu
      {"ms", 1e6L},
      {"s", 1e9L},
      {"m", 60e9L},
      {"h", 3600e9L},
  }};

  long double total = 0;
  while (!rest.empty()) {
    std::size_t digits_end = rest.find_first_not_of("0123456789.");
    std::string_view number = rest.substr(0, digits_end);
    if (number.empty() || number == "." || std::count(number.begin(), number.end(), '.') > 1) {
      return invalid();
    }
    rest.remove_prefix(number.size());

    const Unit* unit = nullptr;
    for (const Unit& candidate : kUnits) {
      if (rest.substr(0, candidate.name.size()) == candidate.name &&
          (unit == nullptr || candidate.name.size() > unit->name.size())) {
        unit = &candidate;
      }
    }
    if (unit == nullptr) {
      return Error(ErrorCode::kInvalidArgument,
                   "request_timeout needs a unit after each number (ns, us, ms, s, m, h), as "
                   "in \"30s\"");
    }
    rest.remove_prefix(unit->name.size());

    // Whole and fractional parts are read separately: from_chars for long double is not
    // available everywhere.
    std::size_t dot = number.find('.');
    std::string_view whole = number.substr(0, dot);
    std::string_view fraction = dot == std::string_view::npos ? "" : number.substr(dot + 1);
    long double value = 0;
    for (char c : whole) {
      value = value * 10 + (c - '0');
    }
    long double scale = 0.1L;
    for (char c : fraction) {
      value += (c - '0') * scale;
      scale /= 10;
    }
    total += value * unit->nanoseconds;
    if (total > 86400e9L) {
      return Error(ErrorCode::kInvalidArgument, "request_timeout is too large");
    }
  }
  if (total > 0 && total < 1e6L) {
    return Error(ErrorCode::kInvalidArgument, "request_timeout must be at least 1ms");
  }
  return std::chrono::milliseconds(static_cast<std::int64_t>(total / 1e6L));
}

}  // namespace akeyless_upstream::plugin
