#pragma once
// The request handling pxt serve installs on a cpp-httplib server (tuning, body limits, error
// bodies, access log), without binding a socket: run_server uses it, and so does the HTTP fuzz
// target (tests/fuzz), which feeds raw request bytes through the same code.
#include <httplib.h>

#include "serve/app/app.hpp"
#include "serve/http/access_log.hpp"

namespace pxt {

// Installs every handler for `app` on `svr`. `app` must outlive `svr`. Not thread-safe (call
// before serving).
void configure_server(httplib::Server& svr, const ServeApp& app, LogFormat log_format);

}  // namespace pxt
