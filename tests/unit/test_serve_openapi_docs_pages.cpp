// The docs pages and their assets: Accept-Encoding negotiation for the pre-compressed assets,
// the stored forms of each asset, and the pages' offline settings.
#include <doctest/doctest.h>

#include "serve/openapi/assets.hpp"
#include "serve/openapi/docs_pages.hpp"

using namespace pxt;

TEST_CASE("choose_asset_encoding reads Accept-Encoding as RFC 9110 does") {
  auto pick = [](const char* header) { return choose_asset_encoding(header, true, true); };
  CHECK(pick("") == AssetEncoding::Identity);
  CHECK(pick("gzip") == AssetEncoding::Gzip);
  CHECK(pick("gzip, deflate, br, zstd") == AssetEncoding::Brotli);  // a tie: the smaller form
  CHECK(pick("br;q=0.5, gzip") == AssetEncoding::Gzip);
  CHECK(pick("gzip;q=0") == AssetEncoding::Identity);
  CHECK(pick("gzip;q=0.0, br;q=0") == AssetEncoding::Identity);
  CHECK(pick("identity") == AssetEncoding::Identity);
  CHECK(pick("identity;q=1, gzip;q=0.5") == AssetEncoding::Identity);
  CHECK(pick("br;q=0.1") == AssetEncoding::Brotli);
  CHECK(pick("*") == AssetEncoding::Brotli);
  CHECK(pick("*, br;q=0") == AssetEncoding::Gzip);
  CHECK(pick("*;q=0") == AssetEncoding::Identity);
  CHECK(pick(" GZip ; Q=0.7 ") == AssetEncoding::Gzip);
  CHECK(pick("x-gzip") == AssetEncoding::Gzip);
  CHECK(pick("gzip;q=abc") == AssetEncoding::Identity);  // malformed: not accepted
  CHECK(pick("gzip;q=2") == AssetEncoding::Identity);
  CHECK(pick("compress, deflate") == AssetEncoding::Identity);
  // Only what is stored: a binary asset has no compressed form.
  CHECK(choose_asset_encoding("gzip, br", false, false) == AssetEncoding::Identity);
  CHECK(choose_asset_encoding("gzip, br", true, false) == AssetEncoding::Gzip);
}

TEST_CASE("text assets are stored compressed, binary ones once; versions are content hashes") {
  for (const char* name : {"swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js"}) {
    std::optional<Asset> a = find_asset(name);
    REQUIRE(a);
    CHECK(a->identity.size() > 1000);
    CHECK(!a->gzip.empty());
    CHECK(!a->brotli.empty());
    CHECK(a->gzip.size() < a->identity.size() / 2);
    CHECK(a->brotli.size() < a->gzip.size());
    CHECK(a->version.size() == 16);
  }
  std::optional<Asset> png = find_asset("favicon-32x32.png");
  REQUIRE(png);
  CHECK(png->gzip.empty());
  CHECK(png->brotli.empty());
  CHECK(find_asset("swagger-ui-bundle.js")->version != find_asset("redoc.standalone.js")->version);
  CHECK_FALSE(find_asset("nope.js"));
}

TEST_CASE("ReDoc's bundle is served without the logo it would fetch from Redocly's CDN") {
  std::optional<Asset> redoc = find_asset("redoc.standalone.js");
  REQUIRE(redoc);
  CHECK(redoc->identity.find("cdn.redoc.ly") == std::string_view::npos);
}

TEST_CASE("the pages name each asset with its version and turn Swagger UI's validator off") {
  std::string docs = swagger_ui_html("T");
  CHECK(docs.find("docs/assets/swagger-ui-bundle.js?v=" +
                  std::string(find_asset("swagger-ui-bundle.js")->version)) != std::string::npos);
  CHECK(docs.find("validatorUrl: null") != std::string::npos);
  std::string redoc = redoc_html("T");
  CHECK(redoc.find("docs/assets/redoc.standalone.js?v=" +
                   std::string(find_asset("redoc.standalone.js")->version)) != std::string::npos);
}
