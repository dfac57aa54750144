#pragma once
// The one line `pxt serve` prints once it listens: URL, route count and docs URL, or the same as a
// JSON object for scripts.
#include <string>

#include "serve/route_spec.hpp"

namespace pxt {

// The host to show in URLs: a wildcard bind address ("0.0.0.0", "::", "") is shown as
// "localhost"; an IPv6 literal gets brackets.
std::string display_host(const std::string& host);

// The banner text (newline-terminated) for a service listening on `port`. Pure.
std::string banner_text(const ServiceSpec& service, int port, size_t routes, bool json);

// Writes banner_text to stdout and flushes it.
void print_banner(const ServiceSpec& service, int port, size_t routes, bool json);

}  // namespace pxt
