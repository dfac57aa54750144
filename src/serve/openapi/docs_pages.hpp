#pragma once
// /docs (Swagger UI) and /redoc pages and their assets, fully offline: every asset comes from the
// binary (serve/openapi/assets.hpp), and nothing a page loads points to another host. URLs in the
// pages are relative ("openapi.json", "docs/assets/...") so they keep working behind a
// reverse-proxy prefix.
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

// Content-Encoding an asset is sent with.
enum class AssetEncoding { Identity, Gzip, Brotli };
// Picks the encoding for an Accept-Encoding header value (RFC 9110 12.5.3: q-values, "*",
// "identity"): the most preferred of those stored, brotli before gzip on a tie, identity when
// the header weighs it higher; identity when the header is absent or accepts neither. Pure;
// thread-safe.
AssetEncoding choose_asset_encoding(std::string_view accept_encoding, bool has_gzip, bool has_brotli);

// Answers GET /docs/assets/<name>: the embedded asset, in the best stored encoding the client
// accepts (streamed from the binary's read-only data, no copy), cacheable for a year when the
// request carries the asset's current ?v=; or 404 {"detail": "Not Found"}. Thread-safe.
void serve_docs_asset(std::string_view name, const httplib::Request& req, httplib::Response& res);

}  // namespace pxt
