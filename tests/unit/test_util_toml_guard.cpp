// The pre-parse TOML check: limits that keep toml11 from recursing or saturating, and no false
// alarms on ordinary files (strings, comments, floats, dates, headers).
#include <doctest/doctest.h>

#include <toml.hpp>

#include <sstream>

#include "util/toml_guard.hpp"

using namespace pxt;

namespace {
std::string problem(const std::string& text) {
  auto r = check_toml_shape(text, "f.toml");
  return r.ok() ? std::string() : r.error().message;
}
}  // namespace

TEST_CASE("ordinary TOML passes the shape check") {
  CHECK(
      problem("[[service]]\nname = \"a.b.c\" # x.y.z [[[\nport = 8000\nf = 1.5e10\nd = 1979-05-27T07:32:00Z\n"
              "a = [[1, 2], [3]]\nt = { x = { y = 1 } }\ns = '''\n[[[[ \"\n'''\nm = \"\"\"\n{{{\n\"\"\"\n"
              "n = -9223372036854775808\nh = 0xffffffffffffffffffff\n") == "");
}

TEST_CASE("deep nesting, long dotted keys and 64-bit overflow are refused with file:line") {
  CHECK(problem("a = 1\nb = " + std::string(100, '[')) ==
        "f.toml:2: arrays or inline tables nested deeper than 64 levels");
  std::string inline_tables;
  for (int i = 0; i < 70; ++i) inline_tables += "{a = ";
  CHECK(problem("x = " + inline_tables).starts_with("f.toml:1: arrays or inline tables nested deeper"));
  std::string key;
  for (int i = 0; i < 70; ++i) key += "a.";
  CHECK(problem("\n\n" + key + "b = 1") == "f.toml:3: a dotted key with more than 64 parts");
  CHECK(problem("[" + key + "b]") == "f.toml:1: a dotted key with more than 64 parts");
  CHECK(problem("x = 9223372036854775808") ==
        "f.toml:1: the integer 9223372036854775808 does not fit in 64 bits");
  CHECK(problem("x = [1,\n -9_223_372_036_854_775_809]") ==
        "f.toml:2: the integer -9_223_372_036_854_775_809 does not fit in 64 bits");
  CHECK(problem("x = 9223372036854775807") == "");
  // Brackets inside strings and comments do not count.
  CHECK(problem("s = \"" + std::string(100, '[') + "\"\n# " + std::string(100, '{')) == "");
}

TEST_CASE("a file past the size limit is refused before parsing") {
  CHECK(problem(std::string(kMaxTomlBytes + 1, '#')) == "f.toml:1: the file is larger than 8 MB");
}

TEST_CASE("text that is not UTF-8 is refused with the line of the first bad byte") {
  // Inside a string this once reached toml11's own UTF-8 error path, which overflows a buffer.
  CHECK(problem("a = 1\nb = 'x\x9a'\n") == "f.toml:2: the file is not valid UTF-8 (byte 154)");
  CHECK(problem("k = \"\xed\xa0\x80\"") == "f.toml:1: the file is not valid UTF-8 (byte 237)");  // surrogate
  CHECK(problem("k = \"\xc0\xaf\"") == "f.toml:1: the file is not valid UTF-8 (byte 192)");      // overlong
  CHECK(problem("k = \"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"") == "");
}

namespace {
std::string syntax_error(const std::string& text) {
  std::istringstream in(text);
  try {
    (void)toml::parse(in, "f.toml");
  } catch (const toml::exception& e) {
    return toml_syntax_error("f.toml", e);
  }
  return {};
}
}  // namespace

TEST_CASE("toml_syntax_error shows file:line, the line and a caret under the place") {
  CHECK(syntax_error("a = 1\nname = \"x\n") ==
        "f.toml:2: TOML syntax error: the next token is not a valid string\n  2 | name = \"x\n    |        ^ "
        "here");
  CHECK(syntax_error("a = 1\nname = \n") ==
        "f.toml:2: TOML syntax error: missing value after key-value separator '='\n  2 | name = \n"
        "    |        ^ expected value, but got nothing");
  // Multi-byte characters take one column each; tabs are kept so the caret stays aligned.
  std::string m = syntax_error("a = [1,\n\t\"\xc3\xa9\", = 2]\n");
  CHECK(m.find("\n  2 | \t\"\xc3\xa9\", = 2]\n    | \t     ^") != std::string::npos);
}
