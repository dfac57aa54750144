// OpenAPI generation from hand-built routes: document shape, operation ids, request and
// response schemas per column type, nullability, required fields, query parameters.
#include <doctest/doctest.h>

#include <rapidjson/document.h>
#include <rapidjson/pointer.h>

#include "serve/openapi/openapi.hpp"
#include "serve_test_support.hpp"
#include "util/json.hpp"

using namespace pxt;
using namespace pxt::test;

namespace {

struct Doc {
  rapidjson::Document d;
  explicit Doc(const std::string& text) { d.Parse(text.c_str()); }
  const rapidjson::Value* at(const char* pointer) const { return rapidjson::Pointer(pointer).Get(d); }
  std::string json(const char* pointer) const {
    const rapidjson::Value* v = at(pointer);
    if (v == nullptr) return "<absent>";
    JsonBuffer b;
    JsonWriter w(b);
    v->Accept(w);
    return b.GetString();
  }
};

Doc build() {
  ServiceSpec s;
  s.title = "My API";
  std::vector<BoundRoute> routes = {table_route(RouteType::Insert, "/users", "/v1"),
                                    table_route(RouteType::Update, "/users/update", "/v1"),
                                    table_route(RouteType::Delete, "/users/delete", "/v1"),
                                    table_route(RouteType::Compute, "/users/preview", "/v1"),
                                    query_route("/search", "POST", false),
                                    query_route("/search", "GET", true)};
  return Doc(build_openapi(s, routes));
}

}  // namespace

TEST_CASE("document header: OpenAPI 3.1, title, relative server, every route once") {
  Doc doc = build();
  REQUIRE_FALSE(doc.d.HasParseError());
  CHECK(doc.json("/openapi") == R"("3.1.0")");
  CHECK(doc.json("/info/title") == R"("My API")");
  CHECK(doc.json("/servers/0/url") == R"(".")");
  CHECK(doc.at("/paths")->MemberCount() == 5);
  CHECK(doc.json("/paths/~1v1~1users/post/operationId") == R"("insert_v1_users_post")");
  CHECK(doc.json("/paths/~1v1~1users~1update/post/operationId") == R"("update_v1_users_update_post")");
  CHECK(doc.json("/paths/~1search/post/operationId") == R"("query_search_post")");
  CHECK(doc.json("/paths/~1search/get/operationId") == R"("query_search_get")");
}

TEST_CASE("insert request body: types, anyOf null for nullable columns, required list") {
  Doc doc = build();
  CHECK(doc.json("/paths/~1v1~1users/post/requestBody/content/application~1json/schema/$ref") ==
        R"("#/components/schemas/InsertV1UsersRequest")");
  CHECK(doc.json("/paths/~1v1~1users/post/requestBody/required") == "true");
  const char* req = "/components/schemas/InsertV1UsersRequest";
  CHECK(doc.json((std::string(req) + "/properties/id").c_str()) == R"({"type":"integer","title":"Id"})");
  CHECK(doc.json((std::string(req) + "/properties/name").c_str()) ==
        R"({"anyOf":[{"type":"string"},{"type":"null"}],"title":"Name","default":null})");
  CHECK(doc.json((std::string(req) + "/properties/score/anyOf/0").c_str()) == R"({"type":"number"})");
  // Json accepts anything, null included.
  CHECK(doc.json((std::string(req) + "/properties/tags").c_str()) == R"({"title":"Tags","default":null})");
  CHECK(doc.json((std::string(req) + "/required").c_str()) == R"(["id"])");
}

TEST_CASE("responses: outputs typed (media as uri), 422 for routes with fields, 404/409 where they apply") {
  Doc doc = build();
  const char* resp = "/components/schemas/InsertV1UsersResponse";
  CHECK(doc.json((std::string(resp) + "/properties/photo/anyOf/0").c_str()) ==
        R"({"type":"string","format":"uri"})");
  CHECK(doc.json((std::string(resp) + "/required").c_str()) == R"(["id","name","photo","shout"])");
  CHECK(doc.json("/paths/~1v1~1users/post/responses/422/content/application~1json/schema/$ref") ==
        R"("#/components/schemas/HTTPValidationError")");
  CHECK(doc.json("/paths/~1v1~1users/post/responses/409/description") != "<absent>");
  CHECK(doc.json("/paths/~1v1~1users/post/responses/404") == "<absent>");
  CHECK(doc.json("/paths/~1v1~1users~1update/post/responses/404/content/application~1json/schema/$ref") ==
        R"("#/components/schemas/HTTPError")");
  CHECK(doc.json("/components/schemas/DeleteV1UsersDeleteResponse/properties/num_rows/type") ==
        R"("integer")");
  CHECK(doc.json("/components/schemas/ValidationError/required") == R"(["loc","msg","type"])");
  CHECK(doc.json("/components/schemas/HTTPValidationError/properties/detail/items/$ref") ==
        R"("#/components/schemas/ValidationError")");
}

TEST_CASE("update inputs are optional (left out = unchanged) and carry no default; the key is required") {
  Doc doc = build();
  const char* req = "/components/schemas/UpdateV1UsersUpdateRequest";
  CHECK(doc.json((std::string(req) + "/required").c_str()) == R"(["id"])");
  CHECK(doc.json((std::string(req) + "/properties/name").c_str()) ==
        R"({"anyOf":[{"type":"string"},{"type":"null"}],"title":"Name"})");
}

TEST_CASE("query routes: rows array, one_row bare row with 404/409, GET parameters with defaults") {
  Doc doc = build();
  CHECK(doc.json("/components/schemas/QuerySearchResponse/properties/rows/items/$ref") ==
        R"("#/components/schemas/QuerySearchRow")");
  CHECK(doc.json("/components/schemas/QuerySearchRow/properties/n") == R"({"title":"N"})");
  CHECK(doc.json("/components/schemas/QuerySearchRequest/properties/limit") ==
        R"({"type":"integer","title":"Limit","default":10})");
  CHECK(doc.json("/components/schemas/QuerySearchRequest/required") == R"(["q"])");
  const char* get = "/paths/~1search/get";
  CHECK(doc.json((std::string(get) + "/requestBody").c_str()) == "<absent>");
  CHECK(doc.json((std::string(get) + "/parameters/0").c_str()) ==
        R"({"name":"q","in":"query","required":true,"schema":{"type":"string","title":"Q"}})");
  CHECK(doc.json((std::string(get) + "/parameters/1/required").c_str()) == "false");
  CHECK(doc.json((std::string(get) + "/parameters/1/schema/default").c_str()) == "10");
  CHECK(doc.json((std::string(get) + "/responses/200/content/application~1json/schema/$ref").c_str()) ==
        R"("#/components/schemas/QuerySearchGetRow")");
  CHECK(doc.json((std::string(get) + "/responses/404/description").c_str()) != "<absent>");
  CHECK(doc.json((std::string(get) + "/responses/409/description").c_str()) != "<absent>");
}

TEST_CASE("every $ref points at a component that exists") {
  Doc doc = build();
  std::vector<const rapidjson::Value*> stack = {&doc.d};
  int refs = 0;
  while (!stack.empty()) {
    const rapidjson::Value* v = stack.back();
    stack.pop_back();
    if (v->IsObject()) {
      for (auto m = v->MemberBegin(); m != v->MemberEnd(); ++m) {
        if (std::string(m->name.GetString()) == "$ref") {
          std::string ref = m->value.GetString();
          REQUIRE(ref.rfind("#/components/schemas/", 0) == 0);
          CHECK_MESSAGE(doc.at(ref.substr(1).c_str()) != nullptr, ref);
          ++refs;
        }
        stack.push_back(&m->value);
      }
    } else if (v->IsArray()) {
      for (auto& e : v->GetArray()) stack.push_back(&e);
    }
  }
  CHECK(refs > 10);
}

TEST_CASE("operation_id replaces every non-word character") {
  BoundRoute r = table_route(RouteType::Insert, "/gen-text.v2", "/api");
  CHECK(operation_id(r) == "insert_api_gen_text_v2_post");
}
