// OpenAPI generation from hand-built routes: document shape, operation ids and component names
// (Pixeltable's), request and response schemas per column type, nullability, required fields,
// query parameters, media values, job schemas, error statuses.
#include <doctest/doctest.h>

#include <rapidjson/document.h>
#include <rapidjson/pointer.h>

#include <set>

#include "serve/openapi/names.hpp"
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

std::vector<BoundRoute> routes() {
  return {table_route(RouteType::Insert, "/users", "/v1"),
          table_route(RouteType::Update, "/users/update", "/v1"),
          table_route(RouteType::Delete, "/users/delete", "/v1"),
          table_route(RouteType::Compute, "/users/preview", "/v1"),
          query_route("/search", "POST", false),
          query_route("/search", "GET", true)};
}

Doc build(std::vector<BoundRoute> rs = routes(), ServiceSpec s = {}) {
  s.title = "My API";
  s.prefix = "/v1";
  return Doc(build_openapi(s, rs));
}

std::string keys(const rapidjson::Value* v) {
  std::string out;
  if (v == nullptr || !v->IsObject()) return "<absent>";
  for (auto m = v->MemberBegin(); m != v->MemberEnd(); ++m)
    out += (out.empty() ? "" : ",") + std::string(m->name.GetString());
  return out;
}

}  // namespace

TEST_CASE("document header: OpenAPI 3.1, title, relative server, no security without auth") {
  Doc doc = build();
  REQUIRE_FALSE(doc.d.HasParseError());
  CHECK(doc.json("/openapi") == R"("3.1.0")");
  CHECK(doc.json("/info/title") == R"("My API")");
  CHECK(doc.at("/info/description") != nullptr);
  CHECK(doc.json("/servers/0/url") == R"(".")");
  // Redocly's security-defined: an explicit empty list says no operation needs credentials.
  CHECK(doc.json("/security") == "[]");
  CHECK(doc.at("/components/securitySchemes") == nullptr);
  // The routes (the GET and POST queries share a path), then the job status and the media files.
  CHECK(keys(doc.at("/paths")) ==
        "/v1/users,/v1/users/update,/v1/users/delete,/v1/users/preview,/search,/v1/jobs/{job_id},/v1/media/"
        "{path}");
}

TEST_CASE("auth: every operation needs the bearer token, and may answer 401") {
  ServiceSpec s;
  s.auth_tokens = {"secret"};
  Doc doc = build(routes(), s);
  CHECK(doc.json("/security") == R"([{"HTTPBearer":[]}])");
  CHECK(doc.json("/components/securitySchemes/HTTPBearer") == R"({"type":"http","scheme":"bearer"})");
  CHECK(doc.at("/paths/~1v1~1users/post/responses/401/headers/WWW-Authenticate") != nullptr);
  CHECK(doc.at("/paths/~1v1~1jobs~1{job_id}/get/responses/401") != nullptr);
  CHECK(doc.at("/paths/~1v1~1users/post/responses/429") == nullptr);
  s.rate_limit = "10/s";
  Doc limited = build(routes(), s);
  CHECK(limited.at("/paths/~1v1~1users/post/responses/429/headers/Retry-After") != nullptr);
}

TEST_CASE("operation ids are Pixeltable's endpoint names; summaries are distinct") {
  Doc doc = build();
  CHECK(doc.json("/paths/~1v1~1users/post/operationId") == R"("insert_users")");
  CHECK(doc.json("/paths/~1v1~1users~1update/post/operationId") == R"("update_users_update")");
  CHECK(doc.json("/paths/~1v1~1users~1delete/post/operationId") == R"("delete_users_delete")");
  CHECK(doc.json("/paths/~1search/post/operationId") == R"("query_search_post")");
  CHECK(doc.json("/paths/~1search/get/operationId") == R"("query_search_get")");
  CHECK(doc.json("/paths/~1v1~1jobs~1{job_id}/get/operationId") == R"("get_job_status")");
  CHECK(doc.json("/paths/~1v1~1media~1{path}/get/operationId") == R"("serve_media")");
  CHECK(doc.json("/paths/~1v1~1users/post/summary") == R"("Insert a row into app.users")");
  CHECK(doc.json("/paths/~1search/get/summary") == R"("Look up one row with app.queries.search")");
}

TEST_CASE("a background route and its synchronous twin: distinct summaries and ids") {
  BoundRoute bg = table_route(RouteType::Insert, "/users/bg", "/v1");
  bg.spec.background = true;
  Doc doc = build({table_route(RouteType::Insert, "/users", "/v1"), bg,
                   table_route(RouteType::Insert, "/people", "/v1")});
  CHECK(doc.json("/paths/~1v1~1users~1bg/post/operationId") == R"("insert_users_bg")");
  CHECK(doc.json("/paths/~1v1~1users~1bg/post/summary") ==
        R"("Insert a row into app.users, as a background job")");
  // Two synchronous inserts into one table: the path tells them apart.
  CHECK(doc.json("/paths/~1v1~1users/post/summary") == R"x("Insert a row into app.users (POST /v1/users)")x");
  CHECK(doc.json("/paths/~1v1~1people/post/summary") ==
        R"x("Insert a row into app.users (POST /v1/people)")x");
}

TEST_CASE("names: Pixeltable's path stem, endpoint name, and clashes") {
  CHECK(openapi::path_stem("/v1/generate-text") == "V1Generate-text");
  CHECK(openapi::path_stem("/items/BigOnes") == "ItemsBigones");  // Python's str.capitalize()
  CHECK(openapi::path_stem("/a b/c{d}") == "A_bC_d_");
  CHECK(openapi::path_stem("/") == "");
  CHECK(openapi::operation_id(table_route(RouteType::Insert, "/gen-text.v2/", "/api")) ==
        "insert_gen_text_v2");
  CHECK(openapi::operation_id(table_route(RouteType::Delete, "/", "/api")) == "delete_root");
  // An insert at /delete would make "DeleteResponse", the delete routes' shared component.
  auto names =
      openapi::name_operations({table_route(RouteType::Insert, "/delete"),
                                table_route(RouteType::Update, "/x"), table_route(RouteType::Insert, "/x")},
                               "", {"DeleteResponse"});
  CHECK(names[0].stem == "Delete2");
  CHECK(names[1].stem == "XUpdate");
  CHECK(names[2].stem == "XInsert");
}

TEST_CASE("request bodies: inline, titled Body_<operationId>, types, nullability, required list") {
  Doc doc = build();
  CHECK(doc.json("/paths/~1v1~1users/post/requestBody/required") == "true");
  const std::string req = "/paths/~1v1~1users/post/requestBody/content/application~1json/schema";
  CHECK(doc.json((req + "/title").c_str()) == R"("Body_insert_users")");
  CHECK(doc.json((req + "/properties/id").c_str()) == R"({"type":"integer","title":"Id"})");
  CHECK(doc.json((req + "/properties/name").c_str()) ==
        R"({"anyOf":[{"type":"string"},{"type":"null"}],"title":"Name","default":null})");
  CHECK(doc.json((req + "/properties/score/anyOf/0").c_str()) == R"({"type":"number"})");
  // Json accepts anything, null included.
  CHECK(doc.json((req + "/properties/tags").c_str()) == R"({"title":"Tags","default":null})");
  CHECK(doc.json((req + "/required").c_str()) == R"(["id"])");
}

TEST_CASE("media: answers are URI references with a contentMediaType; JSON inputs data: URIs; uploads") {
  BoundRoute r = table_route(RouteType::Insert, "/users", "/v1");
  r.fields.push_back(field("avatar", ColumnType::Image, false, true));
  RequestField clip = field("clip", ColumnType::Audio, true, false);
  BoundRoute up = table_route(RouteType::Insert, "/upload", "/v1");
  up.uploads = {clip};
  Doc doc = build({r, up});
  CHECK(doc.json("/components/schemas/UsersResponse/properties/photo/anyOf/0") ==
        R"({"type":"string","format":"uri-reference","contentMediaType":"image/*"})");
  CHECK(
      doc.json(
          "/paths/~1v1~1users/post/requestBody/content/application~1json/schema/properties/avatar/anyOf/0") ==
      R"({"type":"string","format":"uri","contentMediaType":"image/*"})");
  const std::string form = "/paths/~1v1~1upload/post/requestBody/content/multipart~1form-data/schema";
  CHECK(doc.json((form + "/properties/clip").c_str()) ==
        R"({"type":"string","format":"binary","contentMediaType":"audio/*","title":"Clip"})");
  CHECK(doc.json((form + "/required").c_str()) == R"(["id","clip"])");
}

TEST_CASE("a file response declares the media types of its column, and no JSON component") {
  BoundRoute img = table_route(RouteType::Insert, "/thumb", "/v1");
  img.spec.return_fileresponse = true;
  img.outputs = {out("photo", ColumnType::Image)};
  BoundRoute doc_route = table_route(RouteType::Compute, "/pdf", "/v1");
  doc_route.spec.return_fileresponse = true;
  doc_route.outputs = {out("file", ColumnType::Document)};
  Doc doc = build({img, doc_route});
  CHECK(keys(doc.at("/paths/~1v1~1thumb/post/responses/200/content")) == "image/*");
  CHECK(doc.json("/paths/~1v1~1thumb/post/responses/200/content/image~1*/schema") ==
        R"({"type":"string","format":"binary"})");
  CHECK(keys(doc.at("/paths/~1v1~1pdf/post/responses/200/content")) ==
        "application/pdf,text/html,text/markdown,text/plain");
  CHECK(doc.at("/components/schemas/ThumbResponse") == nullptr);
}

TEST_CASE("responses: outputs typed, required; update inputs optional without default") {
  Doc doc = build();
  CHECK(doc.json("/paths/~1v1~1users/post/responses/200/content/application~1json/schema/$ref") ==
        R"("#/components/schemas/UsersResponse")");
  CHECK(doc.json("/components/schemas/UsersResponse/required") == R"(["id","name","photo","shout"])");
  CHECK(doc.json("/paths/~1v1~1users~1delete/post/responses/200/content/application~1json/schema/$ref") ==
        R"("#/components/schemas/DeleteResponse")");
  CHECK(doc.json("/components/schemas/DeleteResponse/properties/num_rows/type") == R"("integer")");
  const std::string req = "/paths/~1v1~1users~1update/post/requestBody/content/application~1json/schema";
  CHECK(doc.json((req + "/required").c_str()) == R"(["id"])");
  CHECK(doc.json((req + "/properties/name").c_str()) ==
        R"({"anyOf":[{"type":"string"},{"type":"null"}],"title":"Name"})");
  CHECK(doc.json("/components/schemas/ValidationError/required") == R"(["loc","msg","type"])");
  CHECK(doc.json("/components/schemas/HTTPValidationError/properties/detail/items/$ref") ==
        R"("#/components/schemas/ValidationError")");
}

TEST_CASE("query routes: Pixeltable's RowResponse / Response, GET parameters with defaults") {
  Doc doc = build();
  CHECK(doc.json("/components/schemas/SearchPostResponse/properties/rows/items/$ref") ==
        R"("#/components/schemas/SearchPostRowResponse")");
  CHECK(doc.json("/components/schemas/SearchPostRowResponse/properties/n") == R"({"title":"N"})");
  const std::string body = "/paths/~1search/post/requestBody/content/application~1json/schema";
  CHECK(doc.json((body + "/properties/limit").c_str()) ==
        R"({"type":"integer","title":"Limit","default":10})");
  CHECK(doc.json((body + "/required").c_str()) == R"(["q"])");
  const std::string get = "/paths/~1search/get";
  CHECK(doc.json((get + "/requestBody").c_str()) == "<absent>");
  CHECK(doc.json((get + "/parameters/0").c_str()) ==
        R"({"name":"q","in":"query","required":true,"schema":{"type":"string","title":"Q"}})");
  CHECK(doc.json((get + "/parameters/1/required").c_str()) == "false");
  CHECK(doc.json((get + "/parameters/1/schema/default").c_str()) == "10");
  CHECK(doc.json((get + "/responses/200/content/application~1json/schema/$ref").c_str()) ==
        R"("#/components/schemas/SearchGetRowResponse")");
  CHECK(doc.at("/components/schemas/SearchGetResponse") == nullptr);  // one_row: the bare row
}

TEST_CASE("background routes: BackgroundJobResponse, a job status per route whose result is its answer") {
  BoundRoute ins = table_route(RouteType::Insert, "/users/bg", "/v1");
  ins.spec.background = true;
  BoundRoute del = table_route(RouteType::Delete, "/users/delete", "/v1");
  del.spec.background = true;
  Doc doc = build({ins, del});
  CHECK(doc.json("/paths/~1v1~1users~1bg/post/responses/200/content/application~1json/schema/$ref") ==
        R"("#/components/schemas/BackgroundJobResponse")");
  CHECK(doc.json("/paths/~1v1~1users~1bg/post/responses/200/links/JobStatus/operationId") ==
        R"("get_job_status")");
  CHECK(doc.json("/components/schemas/BackgroundJobResponse/required") == R"(["id","job_url"])");
  CHECK(doc.json("/components/schemas/UsersBgJobStatus/properties/result/anyOf/0/$ref") ==
        R"("#/components/schemas/UsersBgResponse")");
  CHECK(doc.json("/components/schemas/UsersDeleteJobStatus/properties/result/anyOf/0/$ref") ==
        R"("#/components/schemas/DeleteResponse")");
  CHECK(
      doc.json("/components/schemas/JobStatusResponse/anyOf") ==
      R"([{"$ref":"#/components/schemas/UsersBgJobStatus"},{"$ref":"#/components/schemas/UsersDeleteJobStatus"}])");
  CHECK(doc.json("/paths/~1v1~1jobs~1{job_id}/get/responses/200/content/application~1json/schema/$ref") ==
        R"("#/components/schemas/JobStatusResponse")");
  CHECK(doc.json("/paths/~1v1~1users~1bg/post/responses/503/headers/Retry-After/schema/type") ==
        R"("integer")");
  // Without background routes the job route is still there (jobs live in the store).
  Doc plain = build({table_route(RouteType::Insert, "/users", "/v1")});
  CHECK(plain.at("/components/schemas/BackgroundJobResponse") == nullptr);
  CHECK(plain.json("/components/schemas/JobStatusResponse/properties/result/anyOf") == "<absent>");
  CHECK(plain.json("/components/schemas/JobStatusResponse/properties/result/title") == R"("Result")");
}

TEST_CASE("GET /media/{path} is documented with the file types and its statuses") {
  Doc doc = build();
  const std::string media = "/paths/~1v1~1media~1{path}/get";
  CHECK(doc.json((media + "/parameters/0/name").c_str()) == R"("path")");
  CHECK(keys(doc.at((media + "/responses").c_str())) == "200,206,304,404,413,416,500");
  CHECK(doc.at((media + "/responses/200/content/image~1*").c_str()) != nullptr);
  CHECK(doc.at((media + "/responses/200/content/application~1pdf").c_str()) != nullptr);
}

TEST_CASE("no component is left unreferenced, and every $ref resolves") {
  BoundRoute bg = table_route(RouteType::Insert, "/users/bg", "/v1");
  bg.spec.background = true;
  std::vector<BoundRoute> rs = routes();
  rs.push_back(bg);
  Doc doc = build(rs);
  std::set<std::string> referenced;
  std::vector<const rapidjson::Value*> stack = {&doc.d};
  while (!stack.empty()) {
    const rapidjson::Value* v = stack.back();
    stack.pop_back();
    if (v->IsObject()) {
      for (auto m = v->MemberBegin(); m != v->MemberEnd(); ++m) {
        if (std::string(m->name.GetString()) == "$ref") {
          std::string ref = m->value.GetString();
          REQUIRE(ref.rfind("#/components/schemas/", 0) == 0);
          CHECK_MESSAGE(doc.at(ref.substr(1).c_str()) != nullptr, ref);
          referenced.insert(ref.substr(std::string("#/components/schemas/").size()));
        }
        stack.push_back(&m->value);
      }
    } else if (v->IsArray()) {
      for (auto& e : v->GetArray()) stack.push_back(&e);
    }
  }
  const rapidjson::Value* schemas = doc.at("/components/schemas");
  REQUIRE(schemas != nullptr);
  for (auto m = schemas->MemberBegin(); m != schemas->MemberEnd(); ++m)
    CHECK_MESSAGE(referenced.count(m->name.GetString()) == 1, m->name.GetString());
  CHECK(referenced.size() > 10);
}

TEST_CASE("statuses: every one a route can answer, Pixeltable's error body where the store answers") {
  Doc doc = build();
  const std::string insert = "/paths/~1v1~1users/post/responses";
  CHECK(keys(doc.at(insert.c_str())) == "200,400,409,413,422,500,503,507");
  auto schema = [&](const std::string& at) {
    return doc.json((at + "/content/application~1json/schema").c_str());
  };
  // 400: an unreadable body, or a computed column that failed (its table has one: shout).
  CHECK(
      schema(insert + "/400") ==
      R"({"anyOf":[{"$ref":"#/components/schemas/HTTPError"},{"$ref":"#/components/schemas/PixeltableError"}]})");
  // 422: FastAPI's validation list, or CONSTRAINT_VIOLATION (a duplicate key) and its kin.
  CHECK(
      schema(insert + "/422") ==
      R"({"anyOf":[{"$ref":"#/components/schemas/HTTPValidationError"},{"$ref":"#/components/schemas/PixeltableError"}]})");
  CHECK(schema(insert + "/409") == R"({"$ref":"#/components/schemas/HTTPError"})");  // the table changed
  CHECK(schema(insert + "/503") == R"({"$ref":"#/components/schemas/PixeltableError"})");
  CHECK(doc.at((insert + "/503/headers/Retry-After").c_str()) != nullptr);
  CHECK(schema(insert + "/507") == R"({"$ref":"#/components/schemas/PixeltableError"})");
  CHECK(doc.json((insert + "/507/description").c_str()).find("FILE_CACHE_FULL") != std::string::npos);
  CHECK(keys(doc.at("/paths/~1v1~1users~1update/post/responses")) == "200,400,404,409,413,422,500,503,507");
  CHECK(keys(doc.at("/paths/~1v1~1users~1delete/post/responses")) == "200,400,409,413,422,500,503,507");
  // A GET reads no body: no 400 for it; a query may fail on its values (400) or lose its table (404).
  CHECK(keys(doc.at("/paths/~1search/get/responses")) == "200,400,404,409,413,422,500,503");
  CHECK(
      schema("/paths/~1search/get/responses/404") ==
      R"({"anyOf":[{"$ref":"#/components/schemas/PixeltableError"},{"$ref":"#/components/schemas/HTTPError"}]})");
  CHECK(keys(doc.at("/paths/~1v1~1jobs~1{job_id}/get/responses")) == "200,404,413,500,503");
  const std::string detail = "/components/schemas/PixeltableErrorDetail";
  CHECK(doc.json((detail + "/required").c_str()) == R"(["error_code","message","retryable"])");
  CHECK(doc.json((detail + "/properties/error_code/enum/0").c_str()) == R"("INTERNAL_ERROR")");
  CHECK(doc.json((detail + "/properties/retry_after/type").c_str()) == R"("number")");
  CHECK(doc.json("/components/schemas/PixeltableError/properties/detail/$ref") ==
        R"("#/components/schemas/PixeltableErrorDetail")");
}

TEST_CASE("statuses of file responses, uploads, exports and background routes") {
  BoundRoute file = table_route(RouteType::Insert, "/thumb", "/v1");
  file.spec.return_fileresponse = true;
  file.outputs = {out("photo", ColumnType::Image)};
  file.uploads = {field("photo", ColumnType::Image, true, false)};
  BoundRoute bg = table_route(RouteType::Insert, "/users/bg", "/v1");
  bg.spec.background = true;
  BoundRoute exported = table_route(RouteType::Update, "/users/update", "/v1");
  exported.spec.export_sql = ExportSqlSpec{};
  Doc doc = build({file, bg, exported});
  // A null file output is refused before anything is stored (422); a missing file is the server's.
  CHECK(doc.json("/paths/~1v1~1thumb/post/responses/422/content/application~1json/schema/anyOf/2/$ref") ==
        R"("#/components/schemas/HTTPError")");
  CHECK(doc.json("/paths/~1v1~1thumb/post/responses/500/description").find("file is missing") !=
        std::string::npos);
  CHECK(doc.json("/paths/~1v1~1thumb/post/responses/500/description").find("media library") !=
        std::string::npos);
  CHECK(keys(doc.at("/paths/~1v1~1users~1bg/post/responses")) == "200,400,413,422,500,503,507");
  CHECK(doc.json("/paths/~1v1~1users~1bg/post/responses/503/content/application~1json/schema/$ref") ==
        R"("#/components/schemas/HTTPError")");
  CHECK(doc.json("/paths/~1v1~1users~1update/post/responses/500/description").find("export_sql") !=
        std::string::npos);
}
