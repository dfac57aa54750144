#include "serve/openapi/docs_pages.hpp"

#include <algorithm>
#include <cstdlib>
#include <optional>

#include "serve/http/response.hpp"
#include "serve/openapi/assets.hpp"
#include "util/strings.hpp"

#ifndef PXT_VERSION
#define PXT_VERSION "0.0.0"
#endif

namespace pxt {

namespace {

std::string html_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

// The version in asset URLs (a hash of the bytes) lets browsers cache them for a year without
// serving stale files after an upgrade.
std::string asset_url(std::string_view name) {
  std::optional<Asset> asset = find_asset(name);
  return "docs/assets/" + std::string(name) + "?v=" + std::string(asset ? asset->version : PXT_VERSION);
}

std::string_view client_accept_encoding(const httplib::Request& req) {
  auto it = req.headers.find("Accept-Encoding");
  return it == req.headers.end() ? std::string_view() : std::string_view(it->second);
}

// The q-value of one Accept-Encoding element's parameters (";q=0.5"); 1 when absent, 0 when
// malformed (a client that sends garbage gets the safe choice, identity).
double qvalue(std::string_view params) {
  double q = 1;
  while (!params.empty()) {
    size_t semi = params.find(';');
    std::string_view p = trim(params.substr(0, semi));
    params = semi == std::string_view::npos ? std::string_view() : params.substr(semi + 1);
    if (p.size() < 2 || (p[0] != 'q' && p[0] != 'Q') || p[1] != '=') continue;
    std::string text(trim(p.substr(2)));
    char* end = nullptr;
    q = std::strtod(text.c_str(), &end);
    if (text.empty() || end != text.c_str() + text.size() || q < 0 || q > 1) return 0;
  }
  return q;
}

// The token bar of protected docs, and pxtToken() which returns the token entered in this tab.
constexpr const char* kTokenBar =
    R"(<form id="pxt-auth" style="font: 14px sans-serif; padding: 8px 16px; background: #f0f0f0">
<label>API token (Bearer): <input id="pxt-token" type="password" autocomplete="off" size="40"></label>
<button type="submit">Load</button>
</form>
<script>
function pxtToken() { return sessionStorage.getItem("pxt-token") || ""; }
document.getElementById("pxt-auth").onsubmit = function (e) {
  e.preventDefault();
  sessionStorage.setItem("pxt-token", document.getElementById("pxt-token").value.trim());
  location.reload();
};
</script>
)";

}  // namespace

std::string swagger_ui_html(std::string_view title, bool ask_token) {
  std::string t = html_escape(title);
  return R"(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link type="text/css" rel="stylesheet" href=")" +
         asset_url("swagger-ui.css") + R"(">
<link rel="icon" type="image/png" href=")" +
         asset_url("favicon-32x32.png") + R"(">
<title>)" +
         t +
         R"( - Swagger UI</title>
</head>
<body>
)" + std::string(ask_token ? kTokenBar : "") +
         R"(<div id="swagger-ui"></div>
<script src=")" +
         asset_url("swagger-ui-bundle.js") + R"("></script>
<script>
window.ui = SwaggerUIBundle({
  url: "openapi.json",
  validatorUrl: null,)" +
         (ask_token ? R"(
  requestInterceptor: function (req) {
    if (pxtToken() && !req.headers.Authorization) req.headers.Authorization = "Bearer " + pxtToken();
    return req;
  },
  onComplete: function () { if (pxtToken()) window.ui.preauthorizeApiKey("HTTPBearer", pxtToken()); },)"
                    : "") +
         R"(
  dom_id: "#swagger-ui",
  layout: "BaseLayout",
  deepLinking: true,
  showExtensions: true,
  showCommonExtensions: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset]
});
</script>
</body>
</html>
)";
}

std::string redoc_html(std::string_view title, bool ask_token) {
  std::string t = html_escape(title);
  return R"(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>)" +
         t +
         R"( - ReDoc</title>
<link rel="icon" type="image/png" href=")" +
         asset_url("favicon-32x32.png") + R"(">
<style>body { margin: 0; padding: 0; }</style>
</head>
<body>
<noscript>ReDoc requires Javascript to function. Please enable it to browse the documentation.</noscript>
)" + std::string(ask_token ? kTokenBar : "") +
         (ask_token ? R"(<div id="redoc"></div>)" : R"(<redoc spec-url="openapi.json"></redoc>)") + R"(
<script src=")" +
         asset_url("redoc.standalone.js") +
         R"("></script>
)" +
         (ask_token ? R"(<script>
fetch("openapi.json", { headers: { Authorization: "Bearer " + pxtToken() } })
  .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
  .then(function (spec) { Redoc.init(spec, {}, document.getElementById("redoc")); })
  .catch(function (s) { document.getElementById("redoc").textContent = "Cannot load openapi.json (" + s + "): enter the API token above."; });
</script>
)"
                    : "") +
         R"(</body>
</html>
)";
}

AssetEncoding choose_asset_encoding(std::string_view header, bool has_gzip, bool has_brotli) {
  // -1: not named. "*" stands for every coding not named; identity is acceptable unless refused.
  double gzip = -1, br = -1, identity = -1, star = -1;
  while (!header.empty()) {
    size_t comma = header.find(',');
    std::string_view item = header.substr(0, comma);
    header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
    size_t semi = item.find(';');
    std::string_view coding = trim(item.substr(0, semi));
    double q = semi == std::string_view::npos ? 1 : qvalue(item.substr(semi + 1));
    if (iequals(coding, "gzip") || iequals(coding, "x-gzip")) gzip = std::max(gzip, q);
    if (iequals(coding, "br")) br = std::max(br, q);
    if (iequals(coding, "identity")) identity = std::max(identity, q);
    if (coding == "*") star = std::max(star, q);
  }
  if (gzip < 0) gzip = star < 0 ? 0 : star;
  if (br < 0) br = star < 0 ? 0 : star;
  // Identity is always acceptable as a fallback, but competes only when the header weighs it:
  // "identity;q=1, gzip;q=0.5" gets identity, "br;q=0.1" gets brotli.
  if (identity < 0) identity = star < 0 ? 0 : star;
  if (!has_gzip) gzip = 0;
  if (!has_brotli) br = 0;
  if (br > 0 && br >= gzip && br >= identity) return AssetEncoding::Brotli;
  if (gzip > 0 && gzip >= identity) return AssetEncoding::Gzip;
  return AssetEncoding::Identity;
}

void serve_docs_asset(std::string_view name, const httplib::Request& req, httplib::Response& res) {
  std::optional<Asset> asset = find_asset(name);
  if (!asset) return reply_detail(res, 404, "Not Found");
  AssetEncoding enc =
      choose_asset_encoding(client_accept_encoding(req), !asset->gzip.empty(), !asset->brotli.empty());
  std::string_view bytes = enc == AssetEncoding::Brotli ? asset->brotli
                           : enc == AssetEncoding::Gzip ? asset->gzip
                                                        : asset->identity;
  res.status = 200;
  if (enc != AssetEncoding::Identity)
    put_header(res, "Content-Encoding", enc == AssetEncoding::Brotli ? "br" : "gzip");
  // A cache must not hand the gzip bytes to a client that did not ask for them.
  if (!asset->gzip.empty()) put_header(res, "Vary", "Accept-Encoding");
  // The pages ask for the current version: such a URL never changes content. Any other URL may.
  bool current = req.has_param("v") && req.get_param_value("v") == asset->version;
  put_header(res, "Cache-Control", current ? "public, max-age=31536000, immutable" : "no-cache");
  // A fixed-length content provider streams straight from the binary's read-only data, and the
  // connection layer never compresses a streamed response again (serve/http/writer.cpp).
  res.set_content_provider(bytes.size(), std::string(asset->content_type).c_str(),
                           [bytes](size_t offset, size_t length, httplib::DataSink& sink) {
                             size_t n = std::min<size_t>(length, 256 * 1024);
                             return sink.write(bytes.data() + offset, n);
                           });
}

}  // namespace pxt
