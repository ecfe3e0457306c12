#pragma once

// Small text helpers shared by the network sources.

#include <cctype>
#include <cstdlib>
#include <string>
#include <string_view>

namespace akeyless_upstream::detail {

// trim_space drops leading and trailing whitespace (isspace in the C locale).
inline std::string_view trim_space(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())) != 0) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())) != 0) {
    text.remove_suffix(1);
  }
  return text;
}

// env_or_empty reads an environment variable at call time (tests and operators may change it
// between calls); unset reads as empty.
inline std::string env_or_empty(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? std::string() : std::string(value);
}

}  // namespace akeyless_upstream::detail
