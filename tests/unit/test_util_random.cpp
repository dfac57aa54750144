#include <doctest/doctest.h>

#include <set>

#include "util/random.hpp"

TEST_CASE("random_hex has two characters per byte and does not repeat") {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    std::string s = pxt::random_hex(16);
    CHECK(s.size() == 32);
    CHECK(s.find_first_not_of("0123456789abcdef") == std::string::npos);
    seen.insert(s);
  }
  CHECK(seen.size() == 100);
}

TEST_CASE("random_urlsafe encodes 16 bytes as 22 URL-safe characters") {
  std::string s = pxt::random_urlsafe(16);
  CHECK(s.size() == 22);
  CHECK(s.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") ==
        std::string::npos);
  CHECK(pxt::random_urlsafe(3).size() == 4);
}
