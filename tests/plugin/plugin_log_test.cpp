// The plugin's logger and handshake helpers, in process: JSON lines in the shape SPIRE's host
// parses, escaping of hostile text, size limits, and whole lines under concurrent writers.

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include <catch2/catch.hpp>

#include "handshake.hpp"
#include "hclog_rules.hpp"
#include "log.hpp"

using akeyless_upstream::plugin::handshake_line;
using akeyless_upstream::plugin::LogFormat;
using akeyless_upstream::plugin::Logger;
using akeyless_upstream::plugin::LogLevel;
using akeyless_upstream::plugin::rfc3339_micro;
using plugin_test::hclog_line_problem;

namespace {

std::string strip_newline(std::string line) {
  REQUIRE_FALSE(line.empty());
  REQUIRE(line.back() == '\n');
  line.pop_back();
  return line;
}

const auto kWhen = std::chrono::system_clock::time_point(
    std::chrono::microseconds(1700000000LL * 1000000 + 7));  // 2023-11-14T22:13:20.000007Z

}  // namespace

TEST_CASE(
    "a JSON log line carries string @level, @message and @timestamp with six fraction digits") {
  Logger logger(LogFormat::kJson);
  const std::string line = strip_newline(logger.format_line(
      LogLevel::kWarn, "served from cache", {{"item", "/pki/ca"}, {"count", 3}}, kWhen));
  CHECK(hclog_line_problem(line).empty());
  CHECK(line ==
        "{\"@level\":\"warn\",\"@message\":\"served from cache\","
        "\"@timestamp\":\"2023-11-14T22:13:20.000007Z\",\"item\":\"/pki/ca\",\"count\":3}");
  CHECK(rfc3339_micro(kWhen) == "2023-11-14T22:13:20.000007Z");
}

TEST_CASE("every level name is one hclog knows") {
  Logger logger(LogFormat::kJson);
  for (LogLevel level :
       {LogLevel::kTrace, LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarn, LogLevel::kError}) {
    CHECK(hclog_line_problem(strip_newline(logger.format_line(level, "m", {}, kWhen))).empty());
  }
}

TEST_CASE("hostile text is escaped into valid JSON: quotes, newlines, control bytes, bad UTF-8") {
  Logger logger(LogFormat::kJson);
  const std::string hostile = std::string("a\"b\\c\nd\re\tf") + '\x01' + '\x7f' + "\xff\xfe" +
                              "\xc3" + "caf\xc3\xa9 \xe2\x82\xac";
  const std::string line =
      strip_newline(logger.format_line(LogLevel::kError, hostile, {{hostile, hostile}}, kWhen));
  CHECK(hclog_line_problem(line).empty());
  CHECK(line.find('\n') == std::string::npos);
  boost::json::object object = boost::json::parse(line).as_object();
  const std::string message(object.at("@message").as_string());
  CHECK(message.rfind("a\"b\\c\nd\re\tf", 0) == 0);
  CHECK(message.find("caf\xc3\xa9 \xe2\x82\xac") != std::string::npos);  // valid UTF-8 kept
}

TEST_CASE("fields cannot replace the host's @ keys") {
  Logger logger(LogFormat::kJson);
  const std::string line = strip_newline(
      logger.format_line(LogLevel::kInfo, "m", {{"@level", 5}, {"@message", 1.5}}, kWhen));
  CHECK(hclog_line_problem(line).empty());
  boost::json::object object = boost::json::parse(line).as_object();
  CHECK(object.at("@level").as_string() == "info");
  CHECK(object.at("_@level").as_int64() == 5);
}

TEST_CASE("huge messages and fields are truncated so every line stays under 64 KiB") {
  Logger logger(LogFormat::kJson);
  const std::string big(200 * 1024, 'x');
  // Quotes double in size when escaped; the limit must hold anyway.
  const std::string quotes(100 * 1024, '"');
  akeyless_upstream::plugin::LogFields fields;
  for (int i = 0; i < 20; ++i) {
    fields.emplace_back("field" + std::to_string(i), i % 2 == 0 ? big : quotes);
  }
  const std::string line = strip_newline(logger.format_line(LogLevel::kInfo, big, fields, kWhen));
  CHECK(line.size() < 64 * 1024);
  CHECK(hclog_line_problem(line).empty());
  CHECK(line.find("...(truncated)") != std::string::npos);
}

TEST_CASE("concurrent writers never interleave inside a line") {
  char path[] = "/tmp/plugin-log-XXXXXX";
  const int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  {
    Logger logger(LogFormat::kJson, fd);
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
      threads.emplace_back([&logger, t] {
        for (int i = 0; i < 200; ++i) {
          logger.info(std::string(1000 + t * 100, static_cast<char>('a' + t)),
                      {{"thread", t}, {"i", i}});
        }
      });
    }
    for (auto& thread : threads) {
      thread.join();
    }
  }
  ::close(fd);
  std::ifstream in(path);
  std::string line;
  int count = 0;
  while (std::getline(in, line)) {
    INFO(line.substr(0, 120));
    CHECK(hclog_line_problem(line).empty());
    ++count;
  }
  ::unlink(path);
  CHECK(count == 8 * 200);
}

TEST_CASE("the human format is one readable line per entry") {
  Logger logger(LogFormat::kHuman);
  const std::string line =
      strip_newline(logger.format_line(LogLevel::kWarn, "upstream expires soon",
                                       {{"item", "/pki/ca"}, {"note", "two words"}}, kWhen));
  CHECK(line == "2023-11-14T22:13:20Z WARN upstream expires soon item=/pki/ca note=\"two words\"");

  // Quotes stay readable; control characters cannot start a new line.
  const std::string quoted = strip_newline(
      logger.format_line(LogLevel::kError, "item \"/pki/ca\" failed\nforged line", {}, kWhen));
  CHECK(quoted == "2023-11-14T22:13:20Z ERROR item \"/pki/ca\" failed\\nforged line");
}

TEST_CASE("the handshake line has go-plugin's six fields with an empty certificate") {
  CHECK(handshake_line("/tmp/plugin123") == "1|1|unix|/tmp/plugin123|grpc|\n");
}

TEST_CASE("a TMPDIR too long for a unix socket path is reported with the fix") {
  const char* saved = std::getenv("TMPDIR");
  const std::string saved_value = saved != nullptr ? saved : "";
  setenv("TMPDIR", ("/tmp/" + std::string(120, 'd')).c_str(), 1);
  auto path = akeyless_upstream::plugin::make_socket_path();
  if (saved != nullptr) {
    setenv("TMPDIR", saved_value.c_str(), 1);
  } else {
    unsetenv("TMPDIR");
  }
  REQUIRE_FALSE(path.ok());
  CHECK(path.error().code() == akeyless_upstream::ErrorCode::kFailedPrecondition);
  CHECK(path.error().message().find("set TMPDIR to a shorter directory") != std::string::npos);
}
