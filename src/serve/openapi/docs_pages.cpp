#include "serve/openapi/docs_pages.hpp"

#include <algorithm>

#include "serve/http/response.hpp"
#include "serve/openapi/assets.hpp"

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

// The version in asset URLs lets browsers cache them for long without serving stale files after
// an upgrade.
std::string asset_url(std::string_view name) {
  return "docs/assets/" + std::string(name) + "?v=" PXT_VERSION;
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
  url: "openapi.json",)" +
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

void serve_docs_asset(std::string_view name, httplib::Response& res) {
  std::optional<Asset> asset = find_asset(name);
  if (!asset) return reply_detail(res, 404, "Not Found");
  res.status = 200;
  res.set_header("Cache-Control", "public, max-age=604800");
  // A content provider streams straight from the binary's read-only data; httplib also leaves
  // fixed-length providers uncompressed, which spares a multi-second brotli pass per fetch.
  std::string_view bytes = asset->bytes;
  res.set_content_provider(bytes.size(), std::string(asset->content_type).c_str(),
                           [bytes](size_t offset, size_t length, httplib::DataSink& sink) {
                             size_t n = std::min<size_t>(length, 256 * 1024);
                             return sink.write(bytes.data() + offset, n);
                           });
}

}  // namespace pxt
