#pragma once
// /docs (Swagger UI) and /redoc pages and their assets, fully offline: every asset comes from the
// binary (serve/openapi/assets.hpp). URLs in the pages are relative ("openapi.json",
// "docs/assets/...") so they keep working behind a reverse-proxy prefix.
#include <httplib.h>

#include <string>
#include <string_view>

namespace pxt {

// Where the pages load their assets from, relative to /docs and /redoc.
inline constexpr std::string_view kDocsAssetPrefix = "/docs/assets/";

// ask_token: the service requires a bearer token for /openapi.json, so the page shows a token
// field (kept in the tab's sessionStorage) and sends the token with every request it makes.
std::string swagger_ui_html(std::string_view title, bool ask_token = false);
std::string redoc_html(std::string_view title, bool ask_token = false);

// Answers GET /docs/assets/<name>: the embedded asset (streamed from the binary's read-only
// data, no copy, cacheable) or 404 {"detail": "Not Found"}. Thread-safe.
void serve_docs_asset(std::string_view name, httplib::Response& res);

}  // namespace pxt
