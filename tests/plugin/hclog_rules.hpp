#pragma once

// The rules go-plugin's host applies to every stderr line of a plugin before it reaches SPIRE's
// log (go-plugin client.go logStderr and log_entry.go parseJSON): a JSON object whose "@message",
// "@level" and "@timestamp" are strings (anything else panics inside SPIRE), a level hclog knows,
// a timestamp in the layout 2006-01-02T15:04:05.000000Z07:00, and a line shorter than the 64 KiB
// read buffer.

#include <regex>
#include <string>
#include <vector>

#include <boost/json.hpp>

namespace plugin_test {

// hclog_line_problem returns why `line` (without its newline) would not be parsed as a JSON log
// entry by SPIRE's host, or an empty string when it would.
inline std::string hclog_line_problem(const std::string& line) {
  if (line.size() + 1 >= 64 * 1024) {
    return "line of " + std::to_string(line.size()) + " bytes reaches the 64 KiB buffer";
  }
  boost::system::error_code ec;
  boost::json::value value = boost::json::parse(line, ec);
  if (ec) {
    return "not JSON: " + ec.message();
  }
  if (!value.is_object()) {
    return "not a JSON object";
  }
  const boost::json::object& object = value.as_object();
  for (const char* key : {"@message", "@level", "@timestamp"}) {
    const boost::json::value* field = object.if_contains(key);
    if (field == nullptr) {
      return std::string("missing ") + key;
    }
    if (!field->is_string()) {
      return std::string(key) + " is not a string";
    }
  }
  static const std::vector<std::string> kLevels = {"trace", "debug", "info", "warn", "error"};
  const std::string level(object.at("@level").as_string());
  bool known = false;
  for (const std::string& allowed : kLevels) {
    known = known || level == allowed;
  }
  if (!known) {
    return "unknown @level \"" + level + "\"";
  }
  static const std::regex kTimestamp(
      R"(^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}(Z|[+-]\d{2}:\d{2})$)");
  const std::string timestamp(object.at("@timestamp").as_string());
  if (!std::regex_match(timestamp, kTimestamp)) {
    return "@timestamp \"" + timestamp + "\" is not 2006-01-02T15:04:05.000000Z07:00";
  }
  return "";
}

}  // namespace plugin_test
