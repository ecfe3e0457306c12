#pragma once

// AWS Signature Version 4, as the aws_iam auth method needs it (a signed, never-sent STS
// GetCallerIdentity request) and as a verifier (the gateway emulator) recomputes it from the
// headers it received. The pieces are exposed one by one so that a verifier can rebuild each
// step: canonical request -> string to sign -> signing key -> signature -> Authorization.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "akeyless_upstream/encoding.hpp"
#include "akeyless_upstream/result.hpp"
#include "akeyless_upstream/secret.hpp"

namespace akeyless_upstream::sigv4 {

// Credentials: an access key pair plus the session token of temporary credentials.
struct Credentials {
  std::string access_key_id;
  SecretString secret_access_key;
  std::string session_token;  // empty for long-term keys
};

// Request is the part of an HTTP request that SigV4 covers. `path` is the decoded path ("/" when
// empty); `query` is the raw query string without '?', as it appears on the request line; header
// names may be in any case and may repeat (values of a repeated name are joined with ',').
struct Request {
  std::string method;
  std::string path = "/";
  std::string query;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string payload;
};

// Scope names the key derivation inputs: date is YYYYMMDD, taken from the X-Amz-Date value.
struct Scope {
  std::string date;
  std::string region;
  std::string service;

  // to_string gives "<date>/<region>/<service>/aws4_request".
  std::string to_string() const;
};

// uri_encode percent-encodes every byte outside RFC 3986's unreserved set, upper-case hex. With
// encode_slash false, '/' is kept (for paths).
std::string uri_encode(std::string_view text, bool encode_slash = true);

// canonical_uri normalises the path (removes "." and ".." segments and empty segments) and
// encodes each segment.
std::string canonical_uri(std::string_view path);

// canonical_query sorts the parameters by encoded name then value, each name and value decoded
// from the raw query and re-encoded with uri_encode; a parameter without '=' gets an empty value.
std::string canonical_query(std::string_view query);

// signed_header_names gives the lower-case, sorted, de-duplicated header names joined by ';'.
// With `only` non-empty, just the names listed there (a SignedHeaders value) are kept.
std::string signed_header_names(const Request& request, std::string_view only = {});

// canonical_headers gives "name:value\n" per signed header (lower-case name, value trimmed with
// inner runs of spaces collapsed, repeated names joined with ','), sorted by name.
std::string canonical_headers(const Request& request, std::string_view only = {});

// payload_hash is the lower-case hex SHA-256 of the payload.
std::string payload_hash(std::string_view payload);

// canonical_request builds the canonical request of the SigV4 spec. With `only` non-empty (a
// verifier passing the received SignedHeaders), only those headers are covered.
std::string canonical_request(const Request& request, std::string_view only = {});

// string_to_sign: "AWS4-HMAC-SHA256\n<amz_date>\n<scope>\n<hex sha256(canonical request)>".
std::string string_to_sign(std::string_view amz_date, const Scope& scope,
                           std::string_view canonical_request_text);

// signing_key derives kSigning = HMAC chain over "AWS4"+secret, date, region, service,
// "aws4_request".
Sha256Digest signing_key(const SecretString& secret_access_key, const Scope& scope);

// signature is the lower-case hex HMAC-SHA256 of the string to sign under the signing key.
std::string signature(const SecretString& secret_access_key, const Scope& scope,
                      std::string_view string_to_sign_text);

// authorization_header gives the Authorization value:
// "AWS4-HMAC-SHA256 Credential=<id>/<scope>, SignedHeaders=<names>, Signature=<hex>".
std::string authorization_header(std::string_view access_key_id, const Scope& scope,
                                 std::string_view signed_headers, std::string_view signature_hex);

// sign adds to `request` the headers SigV4 needs and signs every header it then carries:
// X-Amz-Date (amz_date, YYYYMMDD'T'HHMMSS'Z', unless the request has one already),
// X-Amz-Security-Token (when the credentials have a session token) and Authorization. The
// caller sets Host (and Content-Type) before signing. Errors: kInvalidArgument for a malformed
// amz_date or missing credentials.
Status sign(Request& request, const Credentials& credentials, std::string_view region,
            std::string_view service, std::string_view amz_date);

// ParsedAuthorization is an Authorization header split into its parts.
struct ParsedAuthorization {
  std::string access_key_id;
  Scope scope;
  std::string signed_headers;  // "host;x-amz-date"
  std::string signature;       // lower-case hex
};

// parse_authorization splits an "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=...,
// Signature=..." value. Errors: kInvalidArgument naming the missing or malformed part.
Result<ParsedAuthorization> parse_authorization(std::string_view value);

// verify recomputes the signature of a received request (whose headers include Authorization
// and X-Amz-Date) with the given secret and compares it in constant time. Errors:
// kInvalidArgument for a malformed Authorization header, kUnauthenticated when the signature or
// the access key id does not match.
Status verify(const Request& request, const Credentials& credentials);

}  // namespace akeyless_upstream::sigv4
