#include "akeyless_upstream/sigv4.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <map>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <openssl/crypto.h>

namespace akeyless_upstream::sigv4 {
namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";

bool is_unreserved(unsigned char c) {
  return std::isalnum(c) != 0 || c == '-' || c == '.' || c == '_' || c == '~';
}

std::string to_lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

// percent_decode undoes %XX escapes; a malformed escape is kept as literal text (the signature
// then simply covers it encoded again), and '+' stays '+' because SigV4 queries are not forms.
std::string percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      int high = hex_value(text[i + 1]);
      int low = hex_value(text[i + 2]);
      if (high >= 0 && low >= 0) {
        out.push_back(static_cast<char>(high * 16 + low));
        i += 2;
        continue;
      }
    }
    out.push_back(text[i]);
  }
  return out;
}

// canonical_value trims a header value and collapses inner runs of spaces (SigV4 "Trimall").
std::string canonical_value(std::string_view value) {
  std::string out;
  bool pending_space = false;
  for (char c : value) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) {
      out.push_back(' ');
      pending_space = false;
    }
    out.push_back(c);
  }
  return out;
}

std::set<std::string> split_names(std::string_view only) {
  std::set<std::string> names;
  std::size_t start = 0;
  while (start <= only.size()) {
    std::size_t end = only.find(';', start);
    if (end == std::string_view::npos) {
      end = only.size();
    }
    if (end > start) {
      names.insert(to_lower(only.substr(start, end - start)));
    }
    start = end + 1;
  }
  return names;
}

// collected_headers maps lower-case name -> values joined by ',' in arrival order, restricted to
// `only` when it is non-empty. std::map keeps the names sorted as the spec requires.
std::map<std::string, std::string> collected_headers(const Request& request,
                                                     std::string_view only) {
  std::set<std::string> wanted = split_names(only);
  std::map<std::string, std::string> headers;
  for (const auto& [name, value] : request.headers) {
    std::string lower = to_lower(name);
    if (!wanted.empty() && wanted.count(lower) == 0) {
      continue;
    }
    auto [it, inserted] = headers.try_emplace(lower, canonical_value(value));
    if (!inserted) {
      it->second += ',';
      it->second += canonical_value(value);
    }
  }
  return headers;
}

std::string hmac_hex(std::span<const std::uint8_t> key, std::string_view data) {
  Sha256Digest mac = hmac_sha256(key, as_bytes(data));
  return hex_encode(mac);
}

std::string_view header_value(const Request& request, std::string_view name) {
  for (const auto& [key, value] : request.headers) {
    if (key.size() == name.size() &&
        std::equal(key.begin(), key.end(), name.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) ==
                 std::tolower(static_cast<unsigned char>(b));
        })) {
      return value;
    }
  }
  return {};
}

bool valid_amz_date(std::string_view date) {
  if (date.size() != 16 || date[8] != 'T' || date[15] != 'Z') {
    return false;
  }
  for (std::size_t i = 0; i < 15; ++i) {
    if (i != 8 && std::isdigit(static_cast<unsigned char>(date[i])) == 0) {
      return false;
    }
  }
  return true;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
    text.remove_prefix(1);
  }
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) {
    text.remove_suffix(1);
  }
  return text;
}

}  // namespace

std::string Scope::to_string() const {
  return date + "/" + region + "/" + service + "/aws4_request";
}

std::string uri_encode(std::string_view text, bool encode_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size() * 3);
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    if (is_unreserved(c) || (c == '/' && !encode_slash)) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0x0f]);
    }
  }
  return out;
}

std::string canonical_uri(std::string_view path) {
  // Non-S3 services normalise the path (RFC 3986 section 5.2.4 dot segments, empty segments
  // dropped) before encoding it.
  std::vector<std::string_view> segments;
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string_view::npos) {
      end = path.size();
    }
    std::string_view segment = path.substr(start, end - start);
    if (segment == "..") {
      if (!segments.empty()) {
        segments.pop_back();
      }
    } else if (!segment.empty() && segment != ".") {
      segments.push_back(segment);
    }
    start = end + 1;
  }

  std::string out = "/";
  for (std::size_t i = 0; i < segments.size(); ++i) {
    if (i > 0) {
      out += '/';
    }
    out += uri_encode(segments[i]);
  }
  if (!segments.empty() && !path.empty() && path.back() == '/') {
    out += '/';
  }
  return out;
}

std::string canonical_query(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> params;
  std::size_t start = 0;
  while (start < query.size()) {
    std::size_t end = query.find('&', start);
    if (end == std::string_view::npos) {
      end = query.size();
    }
    std::string_view pair = query.substr(start, end - start);
    if (!pair.empty()) {
      std::size_t eq = pair.find('=');
      std::string_view name = pair.substr(0, eq);
      std::string_view value =
          eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
      params.emplace_back(uri_encode(percent_decode(name)), uri_encode(percent_decode(value)));
    }
    start = end + 1;
  }
  std::sort(params.begin(), params.end());

  std::string out;
  for (const auto& [name, value] : params) {
    if (!out.empty()) {
      out += '&';
    }
    out += name;
    out += '=';
    out += value;
  }
  return out;
}

std::string signed_header_names(const Request& request, std::string_view only) {
  std::string out;
  for (const auto& [name, value] : collected_headers(request, only)) {
    if (!out.empty()) {
      out += ';';
    }
    out += name;
  }
  return out;
}

std::string canonical_headers(const Request& request, std::string_view only) {
  std::string out;
  for (const auto& [name, value] : collected_headers(request, only)) {
    out += name;
    out += ':';
    out += value;
    out += '\n';
  }
  return out;
}

std::string payload_hash(std::string_view payload) {
  return hex_encode(sha256(as_bytes(payload)));
}

std::string canonical_request(const Request& request, std::string_view only) {
  std::string out = request.method;
  out += '\n';
  out += canonical_uri(request.path);
  out += '\n';
  out += canonical_query(request.query);
  out += '\n';
  out += canonical_headers(request, only);
  out += '\n';
  out += signed_header_names(request, only);
  out += '\n';
  out += payload_hash(request.payload);
  return out;
}

std::string string_to_sign(std::string_view amz_date, const Scope& scope,
                           std::string_view canonical_request_text) {
  std::string out(kAlgorithm);
  out += '\n';
  out += amz_date;
  out += '\n';
  out += scope.to_string();
  out += '\n';
  out += hex_encode(sha256(as_bytes(canonical_request_text)));
  return out;
}

Sha256Digest signing_key(const SecretString& secret_access_key, const Scope& scope) {
  SecretString seed("AWS4" + std::string(secret_access_key.reveal()));
  Sha256Digest key = hmac_sha256(as_bytes(seed.reveal()), as_bytes(scope.date));
  key = hmac_sha256(key, as_bytes(scope.region));
  key = hmac_sha256(key, as_bytes(scope.service));
  key = hmac_sha256(key, as_bytes("aws4_request"));
  return key;
}

std::string signature(const SecretString& secret_access_key, const Scope& scope,
                      std::string_view string_to_sign_text) {
  Sha256Digest key = signing_key(secret_access_key, scope);
  std::string out = hmac_hex(key, string_to_sign_text);
  OPENSSL_cleanse(key.data(), key.size());
  return out;
}

std::string authorization_header(std::string_view access_key_id, const Scope& scope,
                                 std::string_view signed_headers, std::string_view signature_hex) {
  std::string out(kAlgorithm);
  out += " Credential=";
  out += access_key_id;
  out += '/';
  out += scope.to_string();
  out += ", SignedHeaders=";
  out += signed_headers;
  out += ", Signature=";
  out += signature_hex;
  return out;
}

Status sign(Request& request, const Credentials& credentials, std::string_view region,
            std::string_view service, std::string_view amz_date) {
  if (credentials.access_key_id.empty() || credentials.secret_access_key.empty()) {
    return Error(ErrorCode::kInvalidArgument,
                 "SigV4 signing needs an access key id and a secret access key");
  }
  std::string_view existing_date = header_value(request, "x-amz-date");
  std::string date(existing_date.empty() ? amz_date : existing_date);
  if (!valid_amz_date(date)) {
    return Error(ErrorCode::kInvalidArgument,
                 "SigV4 date must be YYYYMMDD'T'HHMMSS'Z', got '" + date + "'");
  }
  if (existing_date.empty()) {
    request.headers.emplace_back("X-Amz-Date", date);
  }
  if (!credentials.session_token.empty() && header_value(request, "x-amz-security-token").empty()) {
    request.headers.emplace_back("X-Amz-Security-Token", credentials.session_token);
  }

  Scope scope{date.substr(0, 8), std::string(region), std::string(service)};
  std::string names = signed_header_names(request);
  std::string to_sign = string_to_sign(date, scope, canonical_request(request));
  std::string sig = signature(credentials.secret_access_key, scope, to_sign);
  request.headers.emplace_back("Authorization",
                               authorization_header(credentials.access_key_id, scope, names, sig));
  return Status::success();
}

Result<ParsedAuthorization> parse_authorization(std::string_view value) {
  value = trim(value);
  if (value.substr(0, kAlgorithm.size()) != kAlgorithm) {
    return Error(ErrorCode::kInvalidArgument, "Authorization is not AWS4-HMAC-SHA256");
  }
  value.remove_prefix(kAlgorithm.size());

  ParsedAuthorization parsed;
  std::string credential;
  bool have_headers = false;
  bool have_signature = false;
  std::size_t start = 0;
  while (start < value.size()) {
    std::size_t end = value.find(',', start);
    if (end == std::string_view::npos) {
      end = value.size();
    }
    std::string_view part = trim(value.substr(start, end - start));
    std::size_t eq = part.find('=');
    if (eq != std::string_view::npos) {
      std::string_view key = part.substr(0, eq);
      std::string_view val = part.substr(eq + 1);
      if (key == "Credential") {
        credential = std::string(val);
      } else if (key == "SignedHeaders") {
        parsed.signed_headers = std::string(val);
        have_headers = true;
      } else if (key == "Signature") {
        parsed.signature = std::string(val);
        have_signature = true;
      }
    }
    start = end + 1;
  }
  if (credential.empty()) {
    return Error(ErrorCode::kInvalidArgument, "Authorization has no Credential");
  }
  if (!have_headers || parsed.signed_headers.empty()) {
    return Error(ErrorCode::kInvalidArgument, "Authorization has no SignedHeaders");
  }
  if (!have_signature || parsed.signature.size() != 64) {
    return Error(ErrorCode::kInvalidArgument, "Authorization has no 64-digit Signature");
  }

  // Credential = <id>/<date>/<region>/<service>/aws4_request; the id itself has no '/'.
  std::vector<std::string> fields;
  std::size_t pos = 0;
  while (true) {
    std::size_t slash = credential.find('/', pos);
    fields.push_back(
        credential.substr(pos, slash == std::string::npos ? std::string::npos : slash - pos));
    if (slash == std::string::npos) {
      break;
    }
    pos = slash + 1;
  }
  if (fields.size() != 5 || fields[4] != "aws4_request" || fields[1].size() != 8) {
    return Error(ErrorCode::kInvalidArgument,
                 "Authorization Credential is not <id>/<date>/<region>/<service>/aws4_request");
  }
  parsed.access_key_id = fields[0];
  parsed.scope = Scope{fields[1], fields[2], fields[3]};
  return parsed;
}

Status verify(const Request& request, const Credentials& credentials) {
  auto parsed = parse_authorization(header_value(request, "authorization"));
  if (!parsed.ok()) {
    return parsed.error();
  }
  if (parsed->access_key_id != credentials.access_key_id) {
    return Error(ErrorCode::kUnauthenticated, "SigV4 access key id does not match");
  }
  std::string date(header_value(request, "x-amz-date"));
  if (!valid_amz_date(date) || date.substr(0, 8) != parsed->scope.date) {
    return Error(ErrorCode::kInvalidArgument,
                 "X-Amz-Date is missing or does not match the credential scope date");
  }
  std::set<std::string> signed_names = split_names(parsed->signed_headers);
  if (signed_names.count("host") == 0) {
    return Error(ErrorCode::kInvalidArgument, "SigV4 SignedHeaders must include host");
  }

  std::string to_sign =
      string_to_sign(date, parsed->scope, canonical_request(request, parsed->signed_headers));
  std::string expected = signature(credentials.secret_access_key, parsed->scope, to_sign);
  std::string received = to_lower(parsed->signature);
  if (expected.size() != received.size() ||
      CRYPTO_memcmp(expected.data(), received.data(), expected.size()) != 0) {
    return Error(ErrorCode::kUnauthenticated, "SigV4 signature does not match");
  }
  return Status::success();
}

}  // namespace akeyless_upstream::sigv4
