// The HCL v1 reader: the forms SPIRE hands over as hcl_configuration, the syntax HCL v1 allows in
// server.conf, error positions, and finding one plugin's plugin_data in a whole server.conf.

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include <catch2/catch.hpp>

#include "hcl.hpp"

using namespace akeyless_upstream;
using namespace akeyless_upstream::plugin;

namespace {

hcl::Value parse_ok(std::string_view text) {
  auto value = hcl::parse(text);
  INFO((value.ok() ? std::string() : value.error().message()));
  REQUIRE(value.ok());
  return std::move(value).value();
}

std::string parse_error(std::string_view text) {
  auto value = hcl::parse(text);
  REQUIRE_FALSE(value.ok());
  CHECK(value.error().code() == ErrorCode::kInvalidArgument);
  return value.error().message();
}

std::string string_at(const hcl::Value& root, std::string_view key) {
  const hcl::Value* value = root.find(key);
  INFO("key " << key);
  REQUIRE(value != nullptr);
  REQUIRE(value->is_string());
  return value->as_string();
}

// A temporary file removed when the test ends.
class TempFile {
 public:
  explicit TempFile(const std::string& content) {
    path_ = (std::filesystem::temp_directory_path() /
             ("hcl_test_" + std::to_string(reinterpret_cast<std::uintptr_t>(this)) + ".hcl"))
                .string();
    std::ofstream(path_) << content;
  }
  ~TempFile() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace

TEST_CASE("parse reads plugin_data as SPIRE's HCL printer prints a block", "[hcl]") {
  auto root = parse_ok("a = \"x\"\n\nb = 3\n\nnested {\n  k = \"v\"\n}");
  REQUIRE(root.is_object());
  REQUIRE(root.as_object().size() == 3);
  CHECK(root.as_object()[0].key == "a");
  CHECK(root.as_object()[1].key == "b");
  CHECK(root.as_object()[2].key == "nested");
  CHECK(string_at(root, "a") == "x");
  CHECK(root.find("b")->as_integer() == 3);
  const hcl::Value* nested = root.find("nested");
  REQUIRE(nested != nullptr);
  REQUIRE(nested->is_object());
  CHECK(string_at(*nested, "k") == "v");
}

TEST_CASE("parse reads the quoted-key form SPIRE prints for a JSON server.conf", "[hcl]") {
  auto root = parse_ok("\"a\" = \"x\"\n\n\"b\" = 3\n\n\"nested\" = {\n  \"k\" = \"v\"\n}");
  CHECK(string_at(root, "a") == "x");
  CHECK(root.find("b")->as_integer() == 3);
  REQUIRE(root.find("nested")->is_object());
  CHECK(string_at(*root.find("nested"), "k") == "v");
}

TEST_CASE("parse reads a JSON document", "[hcl]") {
  auto root = parse_ok(R"({"a": "x", "n": -2.5, "t": true, "l": [1, "two"], "o": {"k": "v"}})");
  CHECK(string_at(root, "a") == "x");
  CHECK(root.find("n")->as_double() == Approx(-2.5));
  CHECK(root.find("t")->as_bool());
  REQUIRE(root.find("l")->as_list().size() == 2);
  CHECK(string_at(*root.find("o"), "k") == "v");
}

TEST_CASE("parse reads a lone quoted string as a string value", "[hcl]") {
  auto root = parse_ok("\"text\"");
  REQUIRE(root.is_string());
  CHECK(root.as_string() == "text");
  CHECK(parse_ok("[1, 2]").is_list());
  CHECK(parse_ok("3").is_number());
}

TEST_CASE("parse gives an empty object for empty or comment-only text", "[hcl]") {
  CHECK(parse_ok("").as_object().empty());
  CHECK(parse_ok("  \n\t\n").as_object().empty());
  CHECK(parse_ok("# nothing\n// here\n/* at\nall */").as_object().empty());
}

TEST_CASE("parse skips all three kinds of comment", "[hcl]") {
  auto root = parse_ok(
      "# hash comment\n"
      "a = \"x\" # trailing hash\n"
      "// slash comment\n"
      "b = \"y\" // trailing slashes\n"
      "/* block\n   comment = \"not a key\" */\n"
      "c = /* inline */ \"z\"\n");
  REQUIRE(root.as_object().size() == 3);
  CHECK(string_at(root, "a") == "x");
  CHECK(string_at(root, "b") == "y");
  CHECK(string_at(root, "c") == "z");
  CHECK(root.find("comment") == nullptr);
}

TEST_CASE("parse keeps comment markers inside strings", "[hcl]") {
  auto root = parse_ok("u = \"https://gw:8000/api/v2#x\"\n");
  CHECK(string_at(root, "u") == "https://gw:8000/api/v2#x");
}

TEST_CASE("parse reads heredocs, plain and indented", "[hcl]") {
  SECTION("<<EOF keeps the lines as written") {
    auto root = parse_ok("pem = <<EOF\nline one\n  line two\nEOF\nafter = 1\n");
    CHECK(string_at(root, "pem") == "line one\n  line two\n");
    CHECK(root.find("after")->as_integer() == 1);
  }
  SECTION("<<-EOF removes the closing line's indentation") {
    auto root = parse_ok("block {\n  pem = <<-EOT\n    first\n      second\n    EOT\n}\n");
    CHECK(string_at(*root.find("block"), "pem") == "first\n  second\n");
  }
  SECTION("a heredoc keeps quotes, hashes and escapes literally") {
    auto root = parse_ok("t = <<X\n\"quoted\" # not a comment \\n\nX\n");
    CHECK(string_at(root, "t") == "\"quoted\" # not a comment \\n\n");
  }
  SECTION("an unclosed heredoc is an error at its start") {
    CHECK(parse_error("a = 1\nt = <<EOF\nno end\n") ==
          "line 2, column 5: heredoc is not closed by a line holding only its anchor");
  }
}

TEST_CASE("parse reads numbers, bools, lists and nested blocks", "[hcl]") {
  auto root = parse_ok(
      "i = 42\n"
      "neg = -7\n"
      "f = 1.5\n"
      "e = 2e3\n"
      "h = 0x1f\n"
      "yes = true\n"
      "no = false\n"
      "list = [\"a\", 2, true,]\n"
      "empty = []\n"
      "outer {\n  inner = { deep = \"d\" }\n}\n");
  CHECK(root.find("i")->as_integer() == 42);
  CHECK(root.find("neg")->as_integer() == -7);
  CHECK_FALSE(root.find("f")->as_integer().has_value());
  CHECK(root.find("f")->as_double() == Approx(1.5));
  CHECK(root.find("e")->as_double() == Approx(2000));
  CHECK(root.find("h")->as_integer() == 31);
  CHECK(root.find("yes")->as_bool());
  CHECK_FALSE(root.find("no")->as_bool());
  const hcl::List& list = root.find("list")->as_list();
  REQUIRE(list.size() == 3);
  CHECK(list[0].as_string() == "a");
  CHECK(list[1].as_integer() == 2);
  CHECK(list[2].as_bool());
  CHECK(root.find("empty")->as_list().empty());
  CHECK(string_at(*root.find("outer")->find("inner"), "deep") == "d");
}

TEST_CASE("parse nests labelled blocks under their labels", "[hcl]") {
  auto root = parse_ok("plugins {\n  UpstreamAuthority \"akeyless_sm\" {\n    x = 1\n  }\n}\n");
  const hcl::Value* body = root.find("plugins")->find("UpstreamAuthority")->find("akeyless_sm");
  REQUIRE(body != nullptr);
  CHECK(body->find("x")->as_integer() == 1);
}

TEST_CASE("parse merges repeated blocks with one key into a list", "[hcl]") {
  auto root = parse_ok("NodeAttestor \"a\" {}\nNodeAttestor \"b\" {}\nNodeAttestor \"c\" {}\n");
  const hcl::Value* attestors = root.find("NodeAttestor");
  REQUIRE(attestors->is_list());
  REQUIRE(attestors->as_list().size() == 3);
  CHECK(attestors->as_list()[1].find("b") != nullptr);
  CHECK(hcl::objects_in(*attestors).size() == 3);
}

TEST_CASE("parse rejects a key that is assigned twice, naming both lines", "[hcl]") {
  CHECK(parse_error("a = 1\nb = 2\na = 3\n") ==
        "line 3, column 1: key \"a\" is set more than once (first on line 1); keep one");
}

TEST_CASE("parse decodes string escapes and passes interpolations through", "[hcl]") {
  auto root = parse_ok(R"(s = "tab\tnl\nq\"bs\\u\u00e9\U0001F600"
i = "${env("HOME")}/x"
j = "a${b}c"
)");
  CHECK(string_at(root, "s") == "tab\tnl\nq\"bs\\u\xC3\xA9\xF0\x9F\x98\x80");
  CHECK(string_at(root, "i") == "${env(\"HOME\")}/x");
  CHECK(string_at(root, "j") == "a${b}c");
}

TEST_CASE("parse joins a JSON surrogate pair into one code point", "[hcl]") {
  auto root = parse_ok(R"({"s": "\ud83d\ude00"})");
  CHECK(string_at(root, "s") == "\xF0\x9F\x98\x80");
  CHECK_THAT(parse_error(R"({"s": "\ud83d"})"), Catch::Contains("not a valid Unicode"));
}

TEST_CASE("parse errors give line and column and say what was expected", "[hcl]") {
  CHECK(parse_error("certificate_name = \"c\"\n\naccess_id \n  ]") ==
        "line 4, column 3: expected '=' after key \"access_id\", found ']'");
  CHECK(parse_error("a = \"x\"\nb = \"unterminated\n") ==
        "line 2, column 5: string is not closed with '\"' before the end of the line");
  CHECK(parse_error("a = [1, 2\n") == "line 1, column 5: list is not closed with ']'");
  CHECK(parse_error("a = [1 2]") ==
        "line 1, column 8: expected ',' or ']' in list, found a number");
  CHECK(parse_error("block {\n  a = 1\n") == "line 3, column 1: block is not closed with '}'");
  CHECK(parse_error("a = 1\n/* open") == "line 2, column 1: comment '/*' is not closed with '*/'");
  CHECK(parse_error("a = bare") ==
        "line 1, column 5: expected a value, found a bare word (strings need double quotes)");
  CHECK(parse_error("a = \"\\q\"") ==
        "line 1, column 6: unknown escape sequence in string (use \\n \\t \\r \\\" \\\\ or "
        "\\uXXXX)");
  CHECK(parse_error("a = 12abc") ==
        "line 1, column 5: invalid number (a value that is not a number must be in double "
        "quotes)");
  CHECK(parse_error("a = 1\n  @") == "line 2, column 3: unexpected character '@'");
  CHECK(parse_error("x \"label\" = 1") ==
        "line 1, column 11: expected '{' after the labels of block \"x\", found '='");
  CHECK(parse_error("{\"a\" = }") == "line 1, column 8: expected a value, found '}'");
  CHECK(parse_error("a = null") ==
        "line 1, column 5: null is not supported; leave the key out instead");
}

TEST_CASE("parse rejects hostile nesting instead of exhausting the stack", "[hcl]") {
  CHECK(parse_error("a = " + std::string(100000, '[')) ==
        "line 1, column 104: blocks and lists are nested more than 100 levels deep");
  std::string blocks;
  for (int i = 0; i < 200; ++i) {
    blocks += "b { ";
  }
  CHECK_THAT(parse_error(blocks), Catch::Contains("nested more than 100 levels deep"));
  std::string fine = "a = " + std::string(50, '[') + std::string(50, ']');
  CHECK(parse_ok(fine).find("a")->is_list());
}

TEST_CASE("parse errors never repeat a string's content", "[hcl]") {
  const std::string secret = "Zq9+SecretKeyMaterial/0123456789abcdefXYZ==";
  for (const std::string& text : {
           "access_key \"" + secret + "\" = 1",
           "access_key = \"" + secret + "\" \"" + secret + "\"",
           "\"" + secret + "\" x",
           "access_key = [\"" + secret + "\" \"" + secret + "\"]",
           "access_key = \"" + secret + "\n",
           secret + " = 1 x",
       }) {
    auto result = hcl::parse(text);
    REQUIRE_FALSE(result.ok());
    CHECK_THAT(result.error().message(), !Catch::Contains("SecretKeyMaterial"));
  }
}

TEST_CASE("safe_key_for_message shows identifiers and hides key-shaped text", "[hcl]") {
  CHECK(hcl::safe_key_for_message("access_id") == "\"access_id\"");
  CHECK(hcl::safe_key_for_message("UpstreamAuthority") == "\"UpstreamAuthority\"");
  CHECK(hcl::safe_key_for_message("Ab3dEf9hIj") == "(not shown)");
  CHECK(hcl::safe_key_for_message("a+b/c=") == "(not shown)");
  CHECK(hcl::safe_key_for_message(std::string(60, 'a')) == "(not shown)");
}

TEST_CASE("value positions and end offsets cover the value's source text", "[hcl]") {
  std::string text = "a = 1\nblock {\n  k = \"v\"\n}\nlist = [1, 2]\n";
  auto root = parse_ok(text);
  const hcl::Value* block = root.find("block");
  CHECK(block->position().line == 2);
  CHECK(block->position().column == 7);
  CHECK(text.substr(block->position().offset, block->end_offset() - block->position().offset) ==
        "{\n  k = \"v\"\n}");
  const hcl::Value* list = root.find("list");
  CHECK(text.substr(list->position().offset, list->end_offset() - list->position().offset) ==
        "[1, 2]");
}

TEST_CASE("to_hcl prints a tree that parses back to the same values", "[hcl]") {
  auto root = parse_ok(R"({"a b": "q\"uote\n", "n": -3, "t": false, "i": "${x("y")}",
                          "l": [1, {"k": "v"}], "o": {"deep": {"x": "y"}}})");
  std::string printed = hcl::to_hcl(root);
  auto again = parse_ok(printed);
  CHECK(hcl::to_hcl(again) == printed);
  CHECK(string_at(again, "a b") == "q\"uote\n");
  CHECK(string_at(again, "i") == "${x(\"y\")}");
  CHECK(again.find("n")->as_integer() == -3);
  CHECK(string_at(*again.find("o")->find("deep"), "x") == "y");
  CHECK(hcl::to_hcl(hcl::Value::make_string("text", {})) == "\"text\"\n");
}

TEST_CASE("find_plugin_data takes plugin_data from an HCL server.conf", "[hcl]") {
  const std::string conf = R"(server {
  bind_address = "0.0.0.0"
  trust_domain = "example.org"
}

plugins {
  DataStore "sql" {
    plugin_data { database_type = "sqlite3" }
  }
  UpstreamAuthority "akeyless_sm" {
    plugin_cmd = "/opt/spire/plugins/akeyless-upstream-sm"
    plugin_checksum = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
    plugin_data {
      akeyless_gateway_url = "https://gw:8000/api/v2"
      certificate_name = "/SPIRE/ca"
    }
  }
  KeyManager "memory" { plugin_data {} }
}
)";
  auto found = hcl::find_plugin_data(conf, "UpstreamAuthority", "akeyless_sm");
  INFO((found.ok() ? std::string() : found.error().message()));
  REQUIRE(found.ok());
  REQUIRE(found->inline_value.has_value());
  CHECK(string_at(*found->inline_value, "certificate_name") == "/SPIRE/ca");
  CHECK(found->inline_value->find("plugin_cmd") == nullptr);
  CHECK(found->file_path.empty());
}

TEST_CASE("find_plugin_data takes plugin_data from a JSON server.conf", "[hcl]") {
  const std::string conf = R"({
  "server": {"trust_domain": "example.org"},
  "plugins": {
    "KeyManager": [{"memory": {"plugin_data": {}}}],
    "UpstreamAuthority": [{"akeyless_sm": {
      "plugin_cmd": "/opt/spire/plugins/akeyless-upstream-sm",
      "plugin_checksum": "abc",
      "plugin_data": {"certificate_name": "/SPIRE/ca", "request_timeout": 10}
    }}]
  }
})";
  auto found = hcl::find_plugin_data(conf, "UpstreamAuthority", "akeyless_sm");
  REQUIRE(found.ok());
  REQUIRE(found->inline_value.has_value());
  CHECK(string_at(*found->inline_value, "certificate_name") == "/SPIRE/ca");
  CHECK(found->inline_value->find("request_timeout")->as_integer() == 10);
}

TEST_CASE("find_plugin_data reads plugin_data_file when that is set instead", "[hcl]") {
  TempFile data("certificate_name = \"/from/file\"\n");
  const std::string conf =
      "plugins {\n  UpstreamAuthority \"akeyless_sm\" {\n"
      "    plugin_cmd = \"/bin/p\"\n    plugin_data_file = \"" +
      data.path() + "\"\n  }\n}\n";
  auto found = hcl::find_plugin_data(conf, "UpstreamAuthority", "akeyless_sm");
  REQUIRE(found.ok());
  CHECK_FALSE(found->inline_value.has_value());
  CHECK(found->file_path == data.path());
  CHECK(found->file_content == "certificate_name = \"/from/file\"\n");
}

TEST_CASE("find_plugin_data explains what is missing or contradictory", "[hcl]") {
  auto message = [](std::string_view conf) {
    auto found = hcl::find_plugin_data(conf, "UpstreamAuthority", "akeyless_sm");
    REQUIRE_FALSE(found.ok());
    return found.error().to_string();
  };
  CHECK(message("server { }") == "INVALID_ARGUMENT: server.conf has no `plugins { ... }` block");
  CHECK(message("plugins { UpstreamAuthority \"disk\" { } }") ==
        "INVALID_ARGUMENT: server.conf has no UpstreamAuthority \"akeyless_sm\" block inside "
        "`plugins { ... }`");
  CHECK(message("plugins { UpstreamAuthority \"akeyless_sm\" {\n plugin_data { }\n"
                " plugin_data_file = \"x\" } }") ==
        "INVALID_ARGUMENT: UpstreamAuthority \"akeyless_sm\": only one of [plugin_data, "
        "plugin_data_file] can be used");
  CHECK_THAT(message("plugins { UpstreamAuthority \"akeyless_sm\" {\n"
                     " plugin_data_file = \"/nonexistent/akeyless.hcl\" } }"),
             Catch::StartsWith("NOT_FOUND: UpstreamAuthority \"akeyless_sm\": cannot read "
                               "plugin_data_file \"/nonexistent/akeyless.hcl\""));
  CHECK_THAT(message("plugins {\n a = }"), Catch::StartsWith("INVALID_ARGUMENT: line 2, column 6"));
}
