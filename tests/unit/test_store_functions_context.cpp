// The memo of calls computed ahead of a write (CreatedFiles::remember / take) and call keys.
#include <doctest/doctest.h>

#include "store/functions/context.hpp"

using namespace pxt;

TEST_CASE("a remembered value is taken once, and only after computing ahead") {
  CreatedFiles memo("/nonexistent-media");
  std::string key = call_key("document_text", {Value(std::string("d/a.pdf"))});
  memo.set_ahead(true);
  memo.remember(key, Value(std::string("text")));
  memo.remember(key, Value(std::string("text")));  // the same call in two rows
  memo.remember(call_key("f", {Value(int64_t(1))}), Value());
  CHECK_FALSE(memo.take(key).has_value());  // each call made ahead computes its own value
  memo.set_ahead(false);
  for (int i = 0; i < 2; ++i) {
    auto v = memo.take(key);
    REQUIRE(v.has_value());
    REQUIRE(v->ok());
    CHECK(std::get<std::string>(**v) == "text");
  }
  CHECK_FALSE(memo.take(key).has_value());
  auto null = memo.take(call_key("f", {Value(int64_t(1))}));
  REQUIRE(null.has_value());
  CHECK(is_null(**null));
  CHECK_FALSE(memo.take(call_key("f", {Value(int64_t(2))})).has_value());
}

TEST_CASE("a remembered error answers every identical call, ahead or not") {
  CreatedFiles memo("/nonexistent-media");
  std::string key = call_key("f", {Value(std::string("x"))});
  memo.set_ahead(true);
  memo.remember(key, make_error(Errc::no_space, "the disk is full"));
  for (bool ahead : {true, false, false}) {
    memo.set_ahead(ahead);
    auto e = memo.take(key);
    REQUIRE(e.has_value());
    REQUIRE_FALSE(e->ok());
    CHECK(e->error().code == Errc::no_space);
    CHECK(e->error().message == "the disk is full");
  }
}

TEST_CASE("call keys tell functions, argument types and values apart") {
  CHECK(call_key("f", {Value(int64_t(1))}) == call_key("f", {Value(int64_t(1))}));
  CHECK(call_key("f", {Value(int64_t(1))}) != call_key("g", {Value(int64_t(1))}));
  CHECK(call_key("f", {Value(int64_t(1))}) != call_key("f", {Value(std::string("1"))}));
  CHECK(call_key("f", {Value(int64_t(1))}) != call_key("f", {Value(1.0)}));
  CHECK(call_key("f", {Value(), Value(int64_t(1))}) != call_key("f", {Value(int64_t(1)), Value()}));
  // A text holding the separator is not two arguments.
  std::string a("a"), b("b"), joined = "a" + call_key("", {Value(b)});
  CHECK(call_key("f", {Value(a), Value(b)}) != call_key("f", {Value(joined)}));
}
