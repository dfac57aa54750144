#include "serve/http/forwarded.hpp"

#include <arpa/inet.h>

#include <cstring>

namespace pxt {

namespace {

// Parses an address into 4 or 16 bytes; an IPv4-mapped IPv6 address becomes IPv4. 0 when invalid.
int parse_addr(std::string_view text, unsigned char* out) {
  std::string s(text);
  if (inet_pton(AF_INET, s.c_str(), out) == 1) return 4;
  if (inet_pton(AF_INET6, s.c_str(), out) != 1) return 0;
  static const unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(out, kMapped, 12) == 0) {
    std::memmove(out, out + 12, 4);
    return 4;
  }
  return 6;
}

bool prefix_equal(const unsigned char* a, const unsigned char* b, int bits) {
  int whole = bits / 8, rest = bits % 8;
  if (std::memcmp(a, b, static_cast<size_t>(whole)) != 0) return false;
  if (rest == 0) return true;
  auto mask = static_cast<unsigned char>(0xff << (8 - rest));
  return (a[whole] & mask) == (b[whole] & mask);
}

std::string first_value(const httplib::Request& req, const char* name) {
  auto it = req.headers.find(name);
  if (it == req.headers.end()) return "";
  std::string_view v = it->second;
  v = v.substr(0, v.find(','));  // a chain of proxies: the first one met the client
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  return std::string(v);
}

// host[:port] with nothing that would change the URL's meaning (no '/', '@', '?', '#', spaces).
bool valid_authority(std::string_view h) {
  if (h.empty()) return false;
  for (unsigned char c : h) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              std::strchr("-._~:[]%", c) != nullptr;
    if (!ok || c == 0) return false;
  }
  return true;
}

std::string own_authority(const httplib::Request& req) {
  std::string addr = req.local_addr;
  if (addr.rfind("::ffff:", 0) == 0 && addr.find('.') != std::string::npos) addr = addr.substr(7);
  if (addr.empty()) addr = "localhost";
  bool v6 = addr.find(':') != std::string::npos;
  return (v6 ? "[" + addr + "]" : addr) + ":" + std::to_string(req.local_port);
}

}  // namespace

std::string TrustedProxies::problem(std::string_view entry) {
  if (entry == "*") return "";
  size_t slash = entry.find('/');
  unsigned char bytes[16];
  int family = parse_addr(entry.substr(0, slash), bytes);
  if (family == 0)
    return "is not an IP address or network (e.g. \"127.0.0.1\", \"10.0.0.0/8\", \"::1\" or \"*\")";
  if (slash == std::string_view::npos) return "";
  std::string_view bits = entry.substr(slash + 1);
  int max = family == 4 ? 32 : 128;
  if (bits.empty() || bits.size() > 3 || bits.find_first_not_of("0123456789") != std::string_view::npos ||
      std::stoi(std::string(bits)) > max)
    return "has an invalid prefix length: expected /0 to /" + std::to_string(max);
  return "";
}

Result<TrustedProxies> TrustedProxies::parse(const std::vector<std::string>& entries) {
  TrustedProxies t;
  for (const auto& e : entries) {
    if (std::string p = problem(e); !p.empty()) return make_error(Errc::invalid_argument, "'" + e + "' " + p);
    if (e == "*") {
      t.any_ = true;
      continue;
    }
    Net n;
    size_t slash = e.find('/');
    n.family = parse_addr(std::string_view(e).substr(0, slash), n.bytes);
    n.bits = slash == std::string::npos ? (n.family == 4 ? 32 : 128) : std::stoi(e.substr(slash + 1));
    t.nets_.push_back(n);
  }
  return t;
}

bool TrustedProxies::contains(std::string_view addr) const {
  if (any_) return true;
  if (nets_.empty()) return false;
  unsigned char bytes[16];
  int family = parse_addr(addr, bytes);
  for (const auto& n : nets_)
    if (n.family == family && prefix_equal(bytes, n.bytes, n.bits)) return true;
  return false;
}

std::string public_base_url(const httplib::Request& req, std::string_view prefix,
                            const TrustedProxies& proxies) {
  std::string scheme = "http", host;
  if (proxies.contains(req.remote_addr)) {
    std::string proto = first_value(req, "X-Forwarded-Proto");
    if (proto == "https" || proto == "http") scheme = proto;
    host = first_value(req, "X-Forwarded-Host");
    if (!valid_authority(host)) host = first_value(req, "Host");
    if (!valid_authority(host)) host.clear();
  }
  if (host.empty()) host = own_authority(req);
  return scheme + "://" + host + std::string(prefix);
}

}  // namespace pxt
