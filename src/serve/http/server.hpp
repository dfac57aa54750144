#pragma once
// The HTTP server: the event-driven connection layer (serve/http/reactor.hpp; doc/ARCHITECTURE.md
// "The connection layer"), one router for
// every route kind plus /openapi.json, /docs, /redoc, /healthz, /media and /jobs.
#include <functional>
#include <string>
#include <vector>

#include "serve/config/route_spec.hpp"
#include "store/store.hpp"
#include "util/result.hpp"

namespace pxt {

struct ServerOptions {
  bool json_banner = false;         // print the start banner as one JSON object
  std::string log_format = "text";  // access log format: text | json
  // Called once the socket listens, just before connections are accepted (background work that
  // must not delay the first answer starts here).
  std::function<void()> on_listening;
};

struct ServeOutcome {
  // The exit status (0 after SIGTERM, 130 after SIGINT), or why serving failed: the port is in
  // use ("port N is already in use"), the address cannot be bound, the host does not resolve.
  Result<int> status = 0;
  // A background job was still running after the shutdown wait: the store cannot be closed under
  // it, so the caller must end the process at once (std::_Exit) once it has reported `status`.
  bool exit_now = false;
  // The errno of a failed bind (EADDRINUSE: the port is in use), 0 otherwise; --json reports it
  // as {"status": "error", "code": "EADDRINUSE", "port": N, ...} as Pixeltable's CLI does.
  int bind_errno = 0;
};

// Binds, prints the banner, serves until SIGINT/SIGTERM, finishes in-flight requests. Prints
// nothing on failure: the caller reports the error.
ServeOutcome run_server(Store& store, const ServiceSpec& service, const std::vector<BoundRoute>& routes,
                        const ServerOptions& options);

}  // namespace pxt
