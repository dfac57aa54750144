#pragma once
// Raw request bytes through the connection protocol pxt serve uses (serve/http/session.hpp),
// without sockets: for the HTTP fuzz target (tests/fuzz) and the unit tests.
#include <string>
#include <string_view>

#include "serve/app/app.hpp"
#include "serve/http/access_log.hpp"

namespace pxt {

// Feeds `bytes` to a fresh session of `app`, `chunk` bytes at a time (0: all at once), then
// closes the client's side, and returns every byte the server wrote back. Thread-safe.
std::string serve_bytes(const ServeApp& app, std::string_view bytes, size_t chunk = 0,
                        LogFormat log_format = LogFormat::Text);

}  // namespace pxt
