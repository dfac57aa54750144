#pragma once
// The one line `pxt serve` prints once it listens: URL, route count and docs URL, or the same as a
// JSON object for scripts.
#include <string>

#include "serve/config/route_spec.hpp"

namespace pxt {

// The host to show in URLs: a wildcard bind address ("0.0.0.0", "::", "") is shown as
// "localhost"; an IPv6 literal gets brackets.
std::string display_host(const std::string& host);

// The banner text (newline-terminated) for a service listening on `port`. Pure.
std::string banner_text(const ServiceSpec& service, int port, size_t routes, bool json);

// Writes banner_text to stdout and flushes it.
// True for addresses only this machine can reach (127.0.0.0/8, ::1, localhost).
bool is_loopback_host(const std::string& host);
// The one-line warning printed at start when a service without auth_tokens listens on a
// non-loopback address; "" when there is nothing to warn about.
std::string exposure_warning(const ServiceSpec& service);

void print_banner(const ServiceSpec& service, int port, size_t routes, bool json);

}  // namespace pxt
