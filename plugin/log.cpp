#include "log.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <ctime>

#include <google/protobuf/stubs/logging.h>
#include <grpc/support/log.h>

namespace akeyless_upstream::plugin {
namespace {

constexpr std::string_view kTruncatedMark = "...(truncated)";

// utf8_sequence_length returns the length of the valid UTF-8 sequence starting at text[i], or 0
// when the bytes there are not valid UTF-8 (RFC 3629: no overlongs, no surrogates, <= U+10FFFF).
std::size_t utf8_sequence_length(std::string_view text, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char lead = byte(i);
  std::size_t length = 0;
  unsigned char min_second = 0x80;
  unsigned char max_second = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) {
      min_second = 0xA0;
    } else if (lead == 0xED) {
      max_second = 0x9F;
    }
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) {
      min_second = 0x90;
    } else if (lead == 0xF4) {
      max_second = 0x8F;
    }
  } else {
    return 0;
  }
  if (i + length > text.size()) {
    return 0;
  }
  if (byte(i + 1) < min_second || byte(i + 1) > max_second) {
    return 0;
  }
  for (std::size_t k = 2; k < length; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) {
      return 0;
    }
  }
  return length;
}

// truncated cuts `text` to kMaxLogValue bytes; a UTF-8 sequence cut in half is later replaced by
// json_escape.
std::string_view truncated(std::string_view text, bool& cut) {
  cut = text.size() > kMaxLogValue;
  return cut ? text.substr(0, kMaxLogValue) : text;
}

void append_json_string(std::string_view text, std::string& out) {
  bool cut = false;
  std::string_view part = truncated(text, cut);
  out += '"';
  json_escape(part, out);
  if (cut) {
    out += kTruncatedMark;
  }
  out += '"';
}

void append_number(const std::variant<std::string, std::int64_t, double>& value, std::string& out) {
  if (const auto* integer = std::get_if<std::int64_t>(&value)) {
    out += std::to_string(*integer);
    return;
  }
  const double real = std::get<double>(value);
  char buffer[64];
  // JSON has no NaN or infinity; those become strings.
  if (real != real || real > 1.7976931348623157e308 || real < -1.7976931348623157e308) {
    out += "\"non-finite\"";
    return;
  }
  std::snprintf(buffer, sizeof(buffer), "%.17g", real);
  out += buffer;
}

// human_escape is json_escape without escaping quotes and backslashes: a person reads the
// message as is, while control characters still cannot break the line.
void human_escape(std::string_view text, std::string& out) {
  std::size_t start = 0;
  for (std::size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == '"' || text[i] == '\\') {
      json_escape(text.substr(start, i - start), out);
      if (i < text.size()) {
        out += text[i];
      }
      start = i + 1;
    }
  }
}

std::string human_value(const std::variant<std::string, std::int64_t, double>& value) {
  if (const auto* text = std::get_if<std::string>(&value)) {
    bool cut = false;
    std::string_view part = truncated(*text, cut);
    std::string out(part);
    if (cut) {
      out += kTruncatedMark;
    }
    // Quote values with spaces so that a line stays readable as key=value pairs.
    if (out.find_first_of(" \t\"") != std::string::npos || out.empty()) {
      std::string quoted = "\"";
      json_escape(out, quoted);
      quoted += '"';
      return quoted;
    }
    std::string escaped;
    human_escape(out, escaped);
    return escaped;
  }
  std::string out;
  append_number(value, out);
  return out;
}

std::string format_utc(std::chrono::system_clock::time_point when, bool micro) {
  const auto since_epoch = when.time_since_epoch();
  auto seconds = std::chrono::floor<std::chrono::seconds>(since_epoch);
  const auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(since_epoch - seconds).count();
  const std::time_t t = static_cast<std::time_t>(seconds.count());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buffer[64];
  if (micro) {
    std::snprintf(buffer, sizeof(buffer), "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ",
                  tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<long long>(micros));
  } else {
    std::snprintf(buffer, sizeof(buffer), "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  }
  return buffer;
}

Logger* g_library_logger = nullptr;

void grpc_log_sink(gpr_log_func_args* args) {
  if (g_library_logger == nullptr || args == nullptr || args->message == nullptr) {
    return;
  }
  // gRPC's INFO and DEBUG output is internal detail; only its errors are operator news.
  LogLevel level = LogLevel::kDebug;
  if (args->severity == GPR_LOG_SEVERITY_ERROR) {
    level = LogLevel::kError;
  }
  g_library_logger->log(level, args->message,
                        {{"source", "grpc"},
                         {"file", args->file != nullptr ? args->file : ""},
                         {"line", args->line}});
}

void protobuf_log_sink(google::protobuf::LogLevel level, const char* filename, int line,
                       const std::string& message) {
  if (g_library_logger == nullptr) {
    return;
  }
  LogLevel ours = LogLevel::kDebug;
  if (level == google::protobuf::LOGLEVEL_WARNING) {
    ours = LogLevel::kWarn;
  } else if (level >= google::protobuf::LOGLEVEL_ERROR) {
    ours = LogLevel::kError;
  }
  g_library_logger->log(
      ours, message,
      {{"source", "protobuf"}, {"file", filename != nullptr ? filename : ""}, {"line", line}});
}

}  // namespace

std::string_view level_name(LogLevel level) noexcept {
  switch (level) {
    case LogLevel::kTrace:
      return "trace";
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

void json_escape(std::string_view text, std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (std::size_t i = 0; i < text.size();) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      switch (c) {
        case '"':
          out += "\\\"";
          break;
        case '\\':
          out += "\\\\";
          break;
        case '\n':
          out += "\\n";
          break;
        case '\r':
          out += "\\r";
          break;
        case '\t':
          out += "\\t";
          break;
        default:
          if (c < 0x20 || c == 0x7F) {
            out += "\\u00";
            out += kHex[c >> 4];
            out += kHex[c & 0xF];
          } else {
            out += static_cast<char>(c);
          }
      }
      ++i;
      continue;
    }
    const std::size_t length = utf8_sequence_length(text, i);
    if (length == 0) {
      out += "\\ufffd";
      ++i;
      continue;
    }
    out.append(text.substr(i, length));
    i += length;
  }
}

std::string rfc3339_micro(std::chrono::system_clock::time_point when) {
  return format_utc(when, true);
}

std::string rfc3339_seconds(std::chrono::system_clock::time_point when) {
  return format_utc(when, false);
}

std::string Logger::format_line(LogLevel level, std::string_view message, const LogFields& fields,
                                std::chrono::system_clock::time_point when) const {
  std::string line;
  if (format_ == LogFormat::kJson) {
    line += "{\"@level\":\"";
    line += level_name(level);
    line += "\",\"@message\":";
    append_json_string(message, line);
    line += ",\"@timestamp\":\"";
    line += rfc3339_micro(when);
    line += '"';
    for (const LogField& field : fields) {
      // Keys starting with '@' are the host's; a field may not override them.
      std::string key = field.key.empty() || field.key[0] == '@' ? "_" + field.key : field.key;
      std::string entry = ",";
      append_json_string(key, entry);
      entry += ':';
      if (const auto* text = std::get_if<std::string>(&field.value)) {
        append_json_string(*text, entry);
      } else {
        append_number(field.value, entry);
      }
      // Fields that would push the line past the limit are dropped, the entry itself is kept.
      if (line.size() + entry.size() + 2 >= kMaxLogLine) {
        line += ",\"fields_dropped\":true";
        break;
      }
      line += entry;
    }
    line += "}\n";
    return line;
  }

  line += rfc3339_seconds(when);
  line += ' ';
  std::string level_text(level_name(level));
  for (char& c : level_text) {
    c = static_cast<char>(c - 'a' + 'A');
  }
  line += level_text;
  line += ' ';
  bool cut = false;
  std::string_view part = truncated(message, cut);
  std::string escaped;
  human_escape(part, escaped);
  line += escaped;
  if (cut) {
    line += kTruncatedMark;
  }
  for (const LogField& field : fields) {
    std::string entry = " " + field.key + "=" + human_value(field.value);
    if (line.size() + entry.size() + 2 >= kMaxLogLine) {
      break;
    }
    line += entry;
  }
  line += '\n';
  return line;
}

void Logger::log(LogLevel level, std::string_view message, const LogFields& fields) {
  if (level < min_level_) {
    return;
  }
  std::string line;
  try {
    line = format_line(level, message, fields, std::chrono::system_clock::now());
  } catch (...) {
    // Out of memory while formatting: nothing sensible can be logged.
    return;
  }
  std::lock_guard<std::mutex> lock(write_mutex_);
  std::string_view rest = line;
  while (!rest.empty()) {
    const ssize_t written = ::write(fd_, rest.data(), rest.size());
    if (written < 0) {
      if (errno == EINTR) {
        continue;
      }
      return;  // stderr is gone (host died): there is nowhere left to report to.
    }
    rest.remove_prefix(static_cast<std::size_t>(written));
  }
}

void install_library_log_sinks(Logger* logger) {
  g_library_logger = logger;
  gpr_set_log_function(grpc_log_sink);
  google::protobuf::SetLogHandler(protobuf_log_sink);
}

}  // namespace akeyless_upstream::plugin
