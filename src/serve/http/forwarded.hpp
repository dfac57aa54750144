#pragma once
// Which clients may speak for others ([service] forwarded_allow_ips, uvicorn's setting of the
// same name), and the base URL of the service as a client should see it (job_url).
//
// Host and X-Forwarded-* are written by whoever connects, so a URL built from them is only as
// trustworthy as the client: `Host: evil.example` with `X-Forwarded-Proto: https` would make
// pxt hand out https://evil.example/jobs/... . They are therefore believed only from the proxy
// addresses configured (none by default); any other client gets URLs built from the server's
// own address: the address and port its connection arrived on.
#include <httplib.h>

#include <string>
#include <string_view>
#include <vector>

#include "util/result.hpp"

namespace pxt {

class TrustedProxies {
 public:
  TrustedProxies() = default;
  // Entries: an IPv4 or IPv6 address, a network in CIDR form ("10.0.0.0/8", "fd00::/8") or "*"
  // (every client). Errors: invalid_argument naming the first bad entry.
  static Result<TrustedProxies> parse(const std::vector<std::string>& entries);
  // What is wrong with one entry ("" when it is valid). Pure.
  static std::string problem(std::string_view entry);
  // Whether a client at `addr` (as the connection layer writes it; an IPv4-mapped IPv6 address
  // counts as its IPv4 address) is a configured proxy. Thread-safe.
  bool contains(std::string_view addr) const;
  bool empty() const { return nets_.empty() && !any_; }

 private:
  struct Net {
    unsigned char bytes[16]{};
    int family = 0;  // 4 or 6
    int bits = 0;
  };
  std::vector<Net> nets_;
  bool any_ = false;
};

// "scheme://host:port<prefix>" for URLs handed to the client. From a trusted proxy:
// X-Forwarded-Proto ("http" or "https"), then X-Forwarded-Host or Host; from anyone else (or when
// those are missing or malformed): "http" and the address and port the connection arrived on.
// Thread-safe.
std::string public_base_url(const httplib::Request& req, std::string_view prefix,
                            const TrustedProxies& proxies);

}  // namespace pxt
