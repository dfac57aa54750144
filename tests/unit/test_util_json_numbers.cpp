#include <doctest/doctest.h>

#include "util/json_numbers.hpp"

using namespace pxt;

TEST_CASE("json_number_prefix follows RFC 8259's number grammar") {
  CHECK(json_number_prefix("123,") == 3);
  CHECK(json_number_prefix("-0.5e-3]") == 7);
  CHECK(json_number_prefix("01") == 1);   // a leading zero ends the integer part
  CHECK(json_number_prefix("1.") == 1);   // a fraction needs a digit
  CHECK(json_number_prefix("1e+") == 1);  // so does an exponent
  CHECK(json_number_prefix("1-2") == 1);
  CHECK(json_number_prefix("-") == 0);
  CHECK(json_number_prefix("-x") == 0);
  CHECK(json_number_prefix("") == 0);
}

TEST_CASE("check_json_number leaves common literals alone and canonicalises risky ones") {
  CHECK_FALSE(check_json_number("42").rewrite);
  CHECK_FALSE(check_json_number("-9223372036854775808").rewrite);  // integer path
  CHECK_FALSE(check_json_number("18446744073709551615").rewrite);
  CHECK_FALSE(check_json_number("0.5").rewrite);
  CHECK(check_json_number("123456789012345678901234").replacement == "1.2345678901234569e+23");
  CHECK(check_json_number("0." + std::string(350, '0') + "1").replacement == "0.0000000000000000e+00");
  CHECK(check_json_number("-0." + std::string(340, '0') + "5").replacement == "-0.0000000000000000e+00");
  CHECK(check_json_number("1e300").replacement == "1.0000000000000001e+300");
  CHECK(check_json_number("0.1234567890123456").replacement == "1.2345678901234559e-01");
  CHECK(check_json_number("4.9406564584124654e-324").replacement == "4.9406564584124654e-324");
  auto big = check_json_number("1.9e308");
  CHECK(big.overflow);
  CHECK(big.replacement == "0.0000000000000000e+00");
  CHECK(check_json_number("-1" + std::string(400, '0')).overflow);
  CHECK(check_json_number("-1e1158").replacement == "-0.0000000000000000e+00");  // sign kept
}

TEST_CASE("a replacement never extends the literal written just before it") {
  // fuzz_json_request: `0.<48 zeros>7940472-1e1158` became `7.9404720000000003e-49` followed by
  // the overflow's `0.0…e+00`, i.e. the exponent -490, which RapidJSON reads past its table on.
  const std::string risky[] = {
      "0." + std::string(48, '0') + "7940472", "1e-300", "1.9e308", "-1e999", "123456789012345678901234",
      "-0." + std::string(340, '0') + "5"};
  const std::string next[] = {"-1e1158", "-1e-999", "-0", "-5", "-1.5e3", "-1" + std::string(400, '0')};
  for (const auto& a : risky) {
    JsonNumberCheck first = check_json_number(a);
    REQUIRE(first.rewrite);
    for (const auto& b : next) {
      CAPTURE(a);
      CAPTURE(b);
      JsonNumberCheck second = check_json_number(b);
      std::string text = first.replacement + (second.rewrite ? second.replacement : b);
      CHECK(json_number_prefix(text) == first.replacement.size());
      CHECK((second.rewrite ? second.replacement : b).front() == '-');
    }
  }
}

TEST_CASE("JsonNumberPatch applies edits and maps offsets back") {
  JsonNumberPatch p;
  CHECK(p.empty());
  CHECK(p.original_offset(5) == 5);
  std::string original = "[1000000000000000000000, 0.00000000000000000001, x]";
  p.add(1, 22, "1e+21");
  p.add(25, 22, "1e-20");
  std::string patched = p.apply(original);
  CHECK(patched == "[1e+21, 1e-20, x]");
  CHECK(p.original_offset(0) == 0);
  CHECK(p.original_offset(3) == 1);  // inside the first replacement
  CHECK(p.original_offset(6) == 23);
  CHECK(p.original_offset(patched.find('x')) == original.find('x'));
}
