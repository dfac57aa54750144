#pragma once
// The export_sql step of insert and update handlers: after the store write succeeded, the row
// the route answers with is written to the route's external table. Called from the handler's
// work function, so it also runs inside background jobs.
#include <httplib.h>

#include "serve/app/handlers.hpp"

namespace pxt {

// Writes the response row (outputs in order, media as URLs) to the route's export target; does
// nothing when the route has none. Errors (io): the detail to answer with HTTP 500; it names the
// target with the password redacted. The store write is not rolled back. Thread-safe.
Result<void> export_row(const RouteRuntime& rt, const Row& row);

// export_row, answering 500 {"detail": ...} into res on failure. Returns whether it succeeded.
bool export_row_or_reply(const RouteRuntime& rt, const Row& row, httplib::Response& res);

}  // namespace pxt
