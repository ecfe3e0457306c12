#pragma once

// Logger: the plugin's only way to write diagnostics. In plugin mode every entry is one JSON
// object per line on stderr, in the shape go-plugin's host parses and forwards into SPIRE's log
// (string "@level", "@message" and "@timestamp" with exactly six fractional digits, lines under
// 64 KiB); in command-line mode it writes human-readable lines. Thread-safe: a whole line is
// formatted first and written with one write(2) under a mutex.

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <mutex>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace akeyless_upstream::plugin {

// LogLevel: the levels hclog understands (go-plugin drops lines with any other "@level").
enum class LogLevel { kTrace, kDebug, kInfo, kWarn, kError };

// level_name gives the hclog spelling: "trace", "debug", "info", "warn", "error".
std::string_view level_name(LogLevel level) noexcept;

// LogField is one key/value pair of an entry; values are strings or numbers. Callers never pass
// secrets (tokens, keys, PEM bodies) as values.
struct LogField {
  LogField(std::string_view k, std::string_view v) : key(k), value(std::string(v)) {}
  LogField(std::string_view k, const char* v) : key(k), value(std::string(v)) {}
  LogField(std::string_view k, const std::string& v) : key(k), value(v) {}
  LogField(std::string_view k, std::int64_t v) : key(k), value(v) {}
  LogField(std::string_view k, int v) : key(k), value(static_cast<std::int64_t>(v)) {}
  LogField(std::string_view k, unsigned v) : key(k), value(static_cast<std::int64_t>(v)) {}
  LogField(std::string_view k, std::uint64_t v) : key(k), value(static_cast<std::int64_t>(v)) {}
  LogField(std::string_view k, long long v) : key(k), value(static_cast<std::int64_t>(v)) {}
  LogField(std::string_view k, double v) : key(k), value(v) {}

  std::string key;
  std::variant<std::string, std::int64_t, double> value;
};

using LogFields = std::vector<LogField>;

// LogFormat selects the output shape.
enum class LogFormat {
  kJson,   // plugin mode: hclog-style JSON lines for SPIRE's host
  kHuman,  // command line: "2026-01-02T03:04:05Z WARN message key=value"
};

// kMaxLogLine: every line, newline included, stays below go-plugin's 64 KiB stderr buffer, which
// would otherwise split it into raw Debug fragments.
inline constexpr std::size_t kMaxLogLine = 60 * 1024;
// kMaxLogValue: longer field values and messages are cut (marked with "...(truncated)").
inline constexpr std::size_t kMaxLogValue = 8 * 1024;

class Logger {
 public:
  // Logger writes to file descriptor `fd` (stderr by default).
  explicit Logger(LogFormat format, int fd = 2) : format_(format), fd_(fd) {}

  void set_min_level(LogLevel level) noexcept { min_level_ = level; }
  LogFormat format() const noexcept { return format_; }

  void log(LogLevel level, std::string_view message, const LogFields& fields = {});
  void trace(std::string_view message, const LogFields& fields = {}) {
    log(LogLevel::kTrace, message, fields);
  }
  void debug(std::string_view message, const LogFields& fields = {}) {
    log(LogLevel::kDebug, message, fields);
  }
  void info(std::string_view message, const LogFields& fields = {}) {
    log(LogLevel::kInfo, message, fields);
  }
  void warn(std::string_view message, const LogFields& fields = {}) {
    log(LogLevel::kWarn, message, fields);
  }
  void error(std::string_view message, const LogFields& fields = {}) {
    log(LogLevel::kError, message, fields);
  }

  // format_line builds the line (with its trailing newline) without writing it; exposed for
  // tests.
  std::string format_line(LogLevel level, std::string_view message, const LogFields& fields,
                          std::chrono::system_clock::time_point when) const;

 private:
  LogFormat format_;
  int fd_;
  LogLevel min_level_ = LogLevel::kDebug;
  std::mutex write_mutex_;
};

// json_escape appends `text` to `out` as the contents of a JSON string: quotes, backslashes and
// control characters escaped, invalid UTF-8 replaced by U+FFFD, so that any input yields valid
// JSON.
void json_escape(std::string_view text, std::string& out);

// rfc3339_micro formats a time as UTC "2006-01-02T15:04:05.000000Z" (hclog's JSON layout: six
// fractional digits, which go-plugin's parser requires).
std::string rfc3339_micro(std::chrono::system_clock::time_point when);

// rfc3339_seconds formats a time as UTC "2006-01-02T15:04:05Z", for certificate dates in fields.
std::string rfc3339_seconds(std::chrono::system_clock::time_point when);

// install_library_log_sinks routes gRPC's and protobuf's own diagnostics through `logger`, so
// that nothing but JSON lines reaches stderr in plugin mode. `logger` must outlive the process's
// use of gRPC.
void install_library_log_sinks(Logger* logger);

}  // namespace akeyless_upstream::plugin
