#include <doctest/doctest.h>

#include "util/strings.hpp"

using namespace pxt;

TEST_CASE("did_you_mean suggests close names, including swapped letters") {
  std::vector<std::string> cols{"id", "name", "prompt", "port"};
  CHECK(did_you_mean("promt", cols) == ", did you mean 'prompt'?");
  CHECK(did_you_mean("nmae", cols) == ", did you mean 'name'?");
  CHECK(did_you_mean("prot", cols) == ", did you mean 'port'?");
  CHECK(did_you_mean("NAME", cols) == ", did you mean 'name'?");
  CHECK(did_you_mean("zzzzzz", cols).empty());
  CHECK(closest_match("x", {}).empty());
}

TEST_CASE("did_you_mean_path matches whole paths, else their last part") {
  std::vector<std::string> paths{"demo.prompts", "demo.images", "other.t"};
  CHECK(did_you_mean_path("demo.promts", paths) == ", did you mean 'demo.prompts'?");
  CHECK(did_you_mean_path("promts", paths) == ", did you mean 'demo.prompts'?");
  CHECK(did_you_mean_path("images", paths) == ", did you mean 'demo.images'?");
  CHECK(did_you_mean_path("x.imagse", paths) == ", did you mean 'demo.images'?");
  CHECK(did_you_mean_path("zzzzzz", paths).empty());
  CHECK(did_you_mean_path("t", {}).empty());
}

TEST_CASE("identifiers, splitting and quoting") {
  CHECK(is_identifier("a_1"));
  CHECK(is_identifier("_x"));
  CHECK_FALSE(is_identifier("1a"));
  CHECK_FALSE(is_identifier("a-b"));
  CHECK_FALSE(is_identifier(""));
  CHECK(split("a.b.c", '.') == std::vector<std::string>{"a", "b", "c"});
  CHECK(split("", '.') == std::vector<std::string>{""});
  CHECK(join({"a", "b"}, ", ") == "a, b");
  CHECK(trim("  x y \n") == "x y");
  CHECK(quote_ident("a\"b") == "\"a\"\"b\"");
  CHECK(quote_literal("it's") == "'it''s'");
  CHECK(quoted_list({"a", "b"}) == "'a', 'b'");
  CHECK(iequals("Int", "INT"));
  CHECK_FALSE(iequals("Int", "Inte"));
}
