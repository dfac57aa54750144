// forwarded_allow_ips (serve/http/forwarded.hpp): which clients may name the public host and
// scheme, and the base URL everyone else gets (the server's own address).
#include <doctest/doctest.h>

#include "serve/http/forwarded.hpp"

using namespace pxt;

namespace {
httplib::Request from(const std::string& peer) {
  httplib::Request req;
  req.remote_addr = peer;
  req.local_addr = "10.1.2.3";
  req.local_port = 8000;
  req.headers.emplace("Host", "evil.example");
  req.headers.emplace("X-Forwarded-Proto", "https");
  return req;
}
}  // namespace

TEST_CASE("without trusted proxies, Host and X-Forwarded-* are ignored: the server's own address") {
  TrustedProxies none;
  CHECK(public_base_url(from("127.0.0.1"), "/v1", none) == "http://10.1.2.3:8000/v1");
  httplib::Request v6 = from("::1");
  v6.local_addr = "::1";
  CHECK(public_base_url(v6, "", none) == "http://[::1]:8000");
  httplib::Request mapped = from("::ffff:127.0.0.1");
  mapped.local_addr = "::ffff:127.0.0.1";
  CHECK(public_base_url(mapped, "", none) == "http://127.0.0.1:8000");
}

TEST_CASE("a trusted proxy names the scheme and host; others do not") {
  auto proxies = TrustedProxies::parse({"127.0.0.1", "10.0.0.0/8", "fd00::/8"}).take();
  CHECK(public_base_url(from("127.0.0.1"), "/v1", proxies) == "https://evil.example/v1");
  CHECK(public_base_url(from("10.200.0.9"), "", proxies) == "https://evil.example");
  CHECK(public_base_url(from("::ffff:10.0.0.1"), "", proxies) == "https://evil.example");
  CHECK(public_base_url(from("fd12::1"), "", proxies) == "https://evil.example");
  CHECK(public_base_url(from("11.0.0.1"), "", proxies) == "http://10.1.2.3:8000");
  CHECK(public_base_url(from("fe80::1"), "", proxies) == "http://10.1.2.3:8000");
  // X-Forwarded-Host wins over Host; the first of a list; junk falls back to the own address.
  httplib::Request req = from("127.0.0.1");
  req.headers.emplace("X-Forwarded-Host", "api.example.com:8443, inner");
  CHECK(public_base_url(req, "", proxies) == "https://api.example.com:8443");
  httplib::Request odd = from("127.0.0.1");
  odd.headers.erase("Host");
  odd.headers.emplace("Host", "a/b@c");
  odd.headers.erase("X-Forwarded-Proto");
  odd.headers.emplace("X-Forwarded-Proto", "gopher");
  CHECK(public_base_url(odd, "", proxies) == "http://10.1.2.3:8000");
  auto all = TrustedProxies::parse({"*"}).take();
  CHECK(all.contains("203.0.113.5"));
}

TEST_CASE("entries: addresses, networks and '*'; anything else names the problem") {
  CHECK(TrustedProxies::problem("127.0.0.1") == "");
  CHECK(TrustedProxies::problem("10.0.0.0/8") == "");
  CHECK(TrustedProxies::problem("::1") == "");
  CHECK(TrustedProxies::problem("*") == "");
  CHECK(TrustedProxies::problem("10.0.0.300").find("is not an IP address") == 0);
  CHECK(TrustedProxies::problem("localhost").find("is not an IP address") == 0);
  CHECK(TrustedProxies::problem("10.0.0.0/33") == "has an invalid prefix length: expected /0 to /32");
  CHECK(TrustedProxies::problem("::/x") == "has an invalid prefix length: expected /0 to /128");
  auto bad = TrustedProxies::parse({"127.0.0.1", "nope"});
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message.find("'nope' is not an IP address") == 0);
}
