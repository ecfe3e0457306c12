#pragma once

// Byte encodings and digests used across the library: base64 (standard alphabet, padded, as
// Akeyless's cloud-id and token fields use), lower-case hex, SHA-1/SHA-256 and HMAC-SHA256.

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "akeyless_upstream/result.hpp"

namespace akeyless_upstream {

using Bytes = std::vector<std::uint8_t>;
using Sha256Digest = std::array<std::uint8_t, 32>;
using Sha1Digest = std::array<std::uint8_t, 20>;

inline std::span<const std::uint8_t> as_bytes(std::string_view text) noexcept {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

// base64_encode: RFC 4648 section 4, with padding.
std::string base64_encode(std::span<const std::uint8_t> data);
inline std::string base64_encode(std::string_view text) {
  return base64_encode(as_bytes(text));
}

// base64_decode accepts the standard alphabet with or without padding; whitespace is not
// allowed. Errors: kInvalidArgument naming the offset of the first bad character.
Result<Bytes> base64_decode(std::string_view text);

// hex_encode: lower-case, two digits per byte, no separators.
std::string hex_encode(std::span<const std::uint8_t> data);
// hex_colon_encode: upper-case pairs joined by ':' (the way fingerprints are shown to people).
std::string hex_colon_encode(std::span<const std::uint8_t> data);

Sha256Digest sha256(std::span<const std::uint8_t> data);
Sha1Digest sha1(std::span<const std::uint8_t> data);
Sha256Digest hmac_sha256(std::span<const std::uint8_t> key, std::span<const std::uint8_t> data);

}  // namespace akeyless_upstream
