#pragma once

#include <string_view>

#include "akeyless_upstream_version.h"

namespace akeyless_upstream {

// kVersion is the project version; kUserAgent names the project and version in HTTP requests.
inline constexpr std::string_view kVersion = AKEYLESS_UPSTREAM_VERSION;
inline constexpr std::string_view kUserAgent = "akeyless-upstream/" AKEYLESS_UPSTREAM_VERSION;

}  // namespace akeyless_upstream
