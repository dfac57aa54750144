#include "util/random.hpp"

#include <sys/random.h>

#include <cerrno>
#include <system_error>
#include <vector>

namespace pxt {

namespace {

std::vector<unsigned char> random_bytes(int n) {
  std::vector<unsigned char> out(static_cast<size_t>(n));
  size_t got = 0;
  while (got < out.size()) {
    ssize_t r = getrandom(out.data() + got, out.size() - got, 0);
    if (r < 0) {
      if (errno == EINTR) continue;
      throw std::system_error(errno, std::generic_category(), "getrandom");
    }
    got += static_cast<size_t>(r);
  }
  return out;
}

}  // namespace

std::string random_hex(int bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  s.reserve(static_cast<size_t>(bytes) * 2);
  for (unsigned char b : random_bytes(bytes)) {
    s += kHex[b >> 4];
    s += kHex[b & 0xf];
  }
  return s;
}

std::string random_urlsafe(int bytes) {
  static constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::vector<unsigned char> in = random_bytes(bytes);
  std::string s;
  uint32_t acc = 0;
  int bits = 0;
  for (unsigned char b : in) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      s += kB64[(acc >> bits) & 0x3f];
    }
  }
  if (bits > 0) s += kB64[(acc << (6 - bits)) & 0x3f];
  return s;
}

}  // namespace pxt
