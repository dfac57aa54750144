#pragma once
// The HTTP server: cpp-httplib tuned per doc/ARCHITECTURE.md ("cpp-httplib settings"), one router for
// every route kind plus /openapi.json, /docs, /redoc, /healthz, /media and /jobs.
#include <functional>
#include <string>
#include <vector>

#include "serve/config/route_spec.hpp"
#include "store/store.hpp"

namespace pxt {

struct ServerOptions {
  bool json_banner = false;         // print the start banner as one JSON object
  std::string log_format = "text";  // access log format: text | json
  // Called once the socket listens, just before connections are accepted (background work that
  // must not delay the first answer starts here).
  std::function<void()> on_listening;
};

// Binds, prints the banner, serves until SIGINT/SIGTERM, finishes in-flight requests.
// Returns the exit status: 0 after SIGTERM, 130 after SIGINT, 1 when the port is in use or
// the address cannot be bound ("port N is already in use" on stderr).
int run_server(Store& store, const ServiceSpec& service, const std::vector<BoundRoute>& routes,
               const ServerOptions& options);

}  // namespace pxt
