#pragma once

// A reader for HCL v1, the configuration language of SPIRE's server.conf, and for the JSON form
// HCL v1 also accepts. SPIRE hands a plugin its plugin_data re-printed by HCL v1's printer (block
// form, or quoted keys when server.conf is JSON), or the bytes of plugin_data_file unchanged; this
// reader turns either into a value tree. It also finds one plugin's plugin_data inside a whole
// server.conf, for the command line's `check --config FILE`.
//
// Error messages carry "line L, column C" and never quote a value: a value may be an access key.
// Keys are quoted only when they look like identifiers (see safe_key_for_message).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "akeyless_upstream/result.hpp"

namespace akeyless_upstream::plugin::hcl {

// Position is a 1-based line and column (columns count bytes) in the parsed text, and the
// 0-based byte offset of the same place.
struct Position {
  int line = 1;
  int column = 1;
  std::size_t offset = 0;
};

// format_position gives "line L, column C", the prefix of every parse error.
std::string format_position(Position position);

class Value;
struct Member;

// List is an HCL list `[a, b]`, or the list that repeated blocks with one key become.
using List = std::vector<Value>;
// Object is a block body: members in the order written, each key once (repeated blocks with the
// same key are merged into one member whose value is a list, as HCL v1's decoder does).
using Object = std::vector<Member>;

// Kind names what a Value holds.
enum class Kind { kString, kNumber, kBool, kList, kObject };

// kind_name gives the word used in messages: "string", "number", "bool", "list", "block".
std::string_view kind_name(Kind kind) noexcept;

// Value is one node of the tree: a string, a number (kept as written), a bool, a list or an
// object. Accessors for the wrong kind abort; check kind() first.
class Value {
 public:
  // Number keeps the literal text so that integers of any size and floats survive unchanged.
  struct Number {
    std::string text;
  };

  // An empty string. Defined out of line: Member is incomplete here, and some standard
  // libraries instantiate the members of std::vector<Member> for an inline constructor.
  Value();

  static Value make_string(std::string text, Position position);
  static Value make_number(std::string text, Position position);
  static Value make_bool(bool value, Position position);
  static Value make_list(List items, Position position);
  static Value make_object(Object members, Position position);

  Kind kind() const noexcept { return static_cast<Kind>(data_.index()); }
  // position is where the value starts (for an object written as a block, its opening brace).
  Position position() const noexcept { return position_; }
  // end_offset is the byte offset just past the value's last character in the parsed text, so
  // that text.substr(position().offset, end_offset() - position().offset) is its source.
  std::size_t end_offset() const noexcept { return end_offset_; }
  void set_end_offset(std::size_t offset) noexcept { end_offset_ = offset; }

  bool is_string() const noexcept { return kind() == Kind::kString; }
  bool is_number() const noexcept { return kind() == Kind::kNumber; }
  bool is_bool() const noexcept { return kind() == Kind::kBool; }
  bool is_list() const noexcept { return kind() == Kind::kList; }
  bool is_object() const noexcept { return kind() == Kind::kObject; }

  const std::string& as_string() const;
  // number_text is the number as written ("-3", "1.5e3", "0x1f").
  const std::string& number_text() const;
  // as_integer gives the number when it is an integer that fits in int64; nullopt otherwise.
  std::optional<std::int64_t> as_integer() const;
  // as_double gives the number as a double (nullopt when the text does not convert).
  std::optional<double> as_double() const;
  bool as_bool() const;
  const List& as_list() const;
  List& as_list();
  const Object& as_object() const;
  Object& as_object();

  // find returns the member value with this key of an object, or nullptr (also when this value
  // is not an object).
  const Value* find(std::string_view key) const;

 private:
  // The order of alternatives matches Kind.
  std::variant<std::string, Number, bool, List, Object> data_;
  Position position_;
  std::size_t end_offset_ = 0;
};

// Member is one `key = value` (or `key { ... }`) of an object.
struct Member {
  std::string key;
  Value value;
  // key_position is where the key starts; used by callers to place their own messages.
  Position key_position;
};

// parse reads an HCL v1 body ("a = 1  b { c = 2 }") into an object, or a JSON document (text
// whose first significant character is '{') into the object it holds. A text that is one lone
// value, such as `"text"` (SPIRE's print of `plugin_data = "text"`), `3` or `[1, 2]`, parses to
// that value. Empty or comment-only text gives an empty object.
// Errors: kInvalidArgument, "line L, column C: <what was expected>".
Result<Value> parse(std::string_view text);

// to_hcl prints a value as HCL v1 that parse reads back to an equal tree: an object as a body
// of `key = value` lines (without outer braces), anything else as a lone value.
std::string to_hcl(const Value& value);

// objects_in yields the objects a value stands for: itself if it is an object, its object
// elements if it is a list (HCL v1's JSON form writes blocks as lists of objects).
std::vector<const Object*> objects_in(const Value& value);

// PluginData is one plugin's configuration as found in server.conf: either an inline
// plugin_data value or the path and content of plugin_data_file.
struct PluginData {
  // inline_value is set when plugin_data is present. An absent plugin_data (and no
  // plugin_data_file) leaves both this and file_path empty.
  std::optional<Value> inline_value;
  // file_path and file_content are set when plugin_data_file is used instead.
  std::string file_path;
  std::string file_content;
};

// find_plugin_data parses a whole server.conf (HCL or JSON) and returns the configuration of
// `plugins { <plugin_type> "<plugin_name>" { ... } }`. plugin_data_file is read from the path as
// written, relative to the current directory (SPIRE resolves it against its own working
// directory, so run the check from there).
// Errors: kInvalidArgument for a syntax error, a missing plugins block or plugin, or both
// plugin_data and plugin_data_file set; kNotFound when plugin_data_file cannot be read.
Result<PluginData> find_plugin_data(std::string_view server_conf, std::string_view plugin_type,
                                    std::string_view plugin_name);

// safe_key_for_message returns the key quoted ("\"access_id\"") when it looks like an
// identifier of reasonable length, and a neutral word otherwise, so that a secret pasted where a
// key belongs is never repeated in a message.
std::string safe_key_for_message(std::string_view key);

}  // namespace akeyless_upstream::plugin::hcl
