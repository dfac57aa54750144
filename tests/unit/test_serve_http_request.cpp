// Request decoding and validation: FastAPI/pydantic v2's 422 shapes for every kind of bad input,
// content types, JSON syntax errors with Python's positions and messages, query parameters.
#include <doctest/doctest.h>

#include <cmath>

#include <rapidjson/document.h>
#include <rapidjson/error/error.h>

#include "serve/http/request.hpp"
#include "serve_test_support.hpp"

using namespace pxt;
using namespace pxt::test;

namespace {

std::vector<RequestField> fields() {
  return {field("id", ColumnType::Int, true, false), field("name", ColumnType::String, false, true),
          field("score", ColumnType::Float, false, true), field("tags", ColumnType::Json, false, true)};
}

struct Decoded {
  bool ok;
  DecodedFields d;
  httplib::Response res;
};

Decoded decode_body(const std::string& body, const char* content_type = "application/json",
                    std::vector<RequestField> fs = fields()) {
  httplib::Request req;
  req.method = "POST";
  req.body = body;
  if (content_type != nullptr) req.headers.emplace("Content-Type", content_type);
  Decoded out;
  out.ok = decode_json_body(fs, req, out.d, out.res);
  return out;
}

Decoded decode_query(std::initializer_list<std::pair<std::string, std::string>> params,
                     std::vector<RequestField> fs) {
  httplib::Request req;
  req.method = "GET";
  for (const auto& p : params) req.params.emplace(p.first, p.second);
  Decoded out;
  out.ok = decode_query_params(fs, req, out.d, out.res);
  return out;
}

}  // namespace

TEST_CASE("a valid body fills every field; absent optional fields are null and not present") {
  auto r = decode_body(R"({"id": 7, "name": "ann", "extra": "ignored"})");
  REQUIRE(r.ok);
  CHECK(std::get<int64_t>(r.d.values[0]) == 7);
  CHECK(std::get<std::string>(r.d.values[1]) == "ann");
  CHECK(is_null(r.d.values[2]));
  CHECK(r.d.present == std::vector<char>{1, 1, 0, 0});
}

TEST_CASE("explicit null in a nullable field is present and null") {
  auto r = decode_body(R"({"id": 1, "name": null, "tags": {"k": [1, 2]}})");
  REQUIRE(r.ok);
  CHECK(is_null(r.d.values[1]));
  CHECK(r.d.present[1] == 1);
  CHECK(std::get<std::string>(r.d.values[3]) == R"({"k":[1,2]})");
}

TEST_CASE("the last of duplicate keys wins, as in Python's json module") {
  auto r = decode_body(R"({"id": 1, "id": 2})");
  REQUIRE(r.ok);
  CHECK(std::get<int64_t>(r.d.values[0]) == 2);
}

TEST_CASE("every bad field is listed, in field order, with the whole body as input for missing ones") {
  auto r = decode_body(R"({"score": "high", "name": 5})");
  REQUIRE_FALSE(r.ok);
  CHECK(r.res.status == 422);
  CHECK(r.res.get_header_value("Content-Type") == "application/json");
  CHECK(
      r.res.body ==
      R"({"detail":[)"
      R"({"type":"missing","loc":["body","id"],"msg":"Field required","input":{"score":"high","name":5}},)"
      R"({"type":"string_type","loc":["body","name"],"msg":"Input should be a valid string","input":5},)"
      R"({"type":"float_parsing","loc":["body","score"],"msg":"Input should be a valid number, unable to parse string as a number","input":"high"}]})");
}

TEST_CASE("null for a non-nullable field is the type's error with input null") {
  auto r = decode_body(R"({"id": null})");
  REQUIRE_FALSE(r.ok);
  CHECK(
      r.res.body ==
      R"({"detail":[{"type":"int_type","loc":["body","id"],"msg":"Input should be a valid integer","input":null}]})");
}

TEST_CASE("malformed JSON: json_invalid at Python's character position with Python's message") {
  auto r = decode_body(R"({"id": 1,})");
  REQUIRE_FALSE(r.ok);
  CHECK(r.res.status == 422);
  CHECK(r.res.body ==
        R"({"detail":[{"type":"json_invalid","loc":["body",9],"msg":"JSON decode error","input":{},)"
        R"("ctx":{"error":"Expecting property name enclosed in double quotes"}}]})");
  // Positions count characters, not bytes.
  CHECK(decode_body("{\"\xc3\xa4\": 1,}").res.body.find(R"("loc":["body",8])") != std::string::npos);
  CHECK(decode_body(R"({"id": 1} x)").res.body.find(R"("loc":["body",10])") != std::string::npos);
  CHECK(decode_body(R"({"id": 1} x)").res.body.find("Extra data") != std::string::npos);
  CHECK(decode_body(R"({"id": })").res.body.find("Expecting value") != std::string::npos);
  CHECK(decode_body("   ").res.body.find(R"("loc":["body",3])") != std::string::npos);
}

TEST_CASE("a NUL byte is JSON text like any other character, not the end of the body") {
  // RapidJSON stops at a NUL as if the text ended there, which would accept `{...}\0garbage`;
  // Python's json module calls everything after the value "Extra data".
  auto trailing = decode_body(std::string("{\"id\": 1}\0garbage", 17));
  REQUIRE_FALSE(trailing.ok);
  CHECK(trailing.res.status == 422);
  CHECK(trailing.res.body.find("Extra data") != std::string::npos);
  CHECK(trailing.res.body.find(R"("loc":["body",9])") != std::string::npos);
  auto lone = decode_body(std::string("{\"id\": 1}\0", 10));
  REQUIRE_FALSE(lone.ok);
  CHECK(lone.res.body.find("Extra data") != std::string::npos);
  auto inside = decode_body(std::string("{\"id\": \0 1}", 11));
  REQUIRE_FALSE(inside.ok);
  CHECK(inside.res.body.find("Expecting value") != std::string::npos);
  auto in_string = decode_body(std::string("{\"id\": 1, \"name\": \"a\0b\"}", 24));
  REQUIRE_FALSE(in_string.ok);
  CHECK(in_string.res.status == 422);
}

TEST_CASE("numbers past the double range are infinity, as Python's json reads them; answers stay JSON") {
  // A Float takes it (pydantic's allow_inf_nan); RapidJSON alone parses -2e308 as -inf silently and
  // refuses 9e308, Python's json reads both as infinity.
  for (const char* big : {"-2e308", "1e400", "9e308", "1.9e308"}) {
    INFO(big);
    auto r = decode_body(std::string(R"({"id": 1, "score": )") + big + "}");
    REQUIRE(r.ok);
    CHECK(std::isinf(std::get<double>(r.d.values[2])));
  }
  // An Int: pydantic's finite_number at the field, not a JSON decode error; inf is echoed as
  // Python shows it, so the answer stays valid JSON.
  auto i = decode_body(R"({"id": 1e400})");
  REQUIRE_FALSE(i.ok);
  CHECK(i.res.status == 422);
  CHECK(
      i.res.body ==
      R"({"detail":[{"type":"finite_number","loc":["body","id"],"msg":"Input should be a finite number","input":"inf"}]})");
  auto neg = decode_body(R"({"id": -1e400})");
  CHECK(neg.res.body.find(R"("input":"-inf")") != std::string::npos);
  // Python's json reads NaN, Infinity and -Infinity too.
  auto nan = decode_body(R"({"id": 1, "score": NaN})");
  REQUIRE(nan.ok);
  CHECK(std::isnan(std::get<double>(nan.d.values[2])));
  auto minf = decode_body(R"({"id": 1, "score": -Infinity})");
  REQUIRE(minf.ok);
  CHECK(std::get<double>(minf.d.values[2]) < 0);
  // ... but not RapidJSON's extra spellings.
  for (const char* bad :
       {R"({"id": 1, "score": Inf})", R"({"id": 1, "score": -NaN})", R"({"id": 1, "score": Infinit})"}) {
    INFO(bad);
    auto r = decode_body(bad);
    REQUIRE_FALSE(r.ok);
    CHECK(r.res.body.find(R"("type":"json_invalid")") != std::string::npos);
    CHECK(r.res.body.find("Expecting value") != std::string::npos);
    CHECK(r.res.body.find(R"("loc":["body",19])") != std::string::npos);
  }
  // Deeper in a Json field: JSON cannot carry it, so the field is refused; the echo stays JSON.
  for (const char* big : {"9e308", "1.9e308", "NaN"}) {
    INFO(big);
    auto n = decode_body(std::string(R"({"id": 1, "tags": [[1.5e308, )") + big + "]]}");
    REQUIRE_FALSE(n.ok);
    CHECK(n.res.status == 422);
    CHECK(n.res.body.find(R"("type":"finite_number","loc":["body","tags"])") != std::string::npos);
    rapidjson::Document parsed;
    parsed.Parse(n.res.body.c_str());
    CHECK_FALSE(parsed.HasParseError());
  }
}

TEST_CASE("literals RapidJSON 1.1 mis-parses are decoded exactly, never crash (fuzz_json_request)") {
  const std::string zeros(350, '0');
  // 0.<350 zeros>1 crashed the server inside RapidJSON; it underflows to 0.0, as in Python.
  auto tiny = decode_body(R"({"id": 1, "score": 0.)" + zeros + "1}");
  REQUIRE(tiny.ok);
  CHECK(std::get<double>(tiny.d.values[2]) == 0.0);
  // -0.<340 zeros>5 came back as 9.98e+291.
  auto neg = decode_body(R"({"id": 1, "score": -0.)" + std::string(340, '0') + "5}");
  REQUIRE(neg.ok);
  CHECK(std::get<double>(neg.d.values[2]) == 0.0);
  // A value in range written with hundreds of leading zeros keeps its exact value.
  auto small = decode_body(R"({"id": 1, "score": 0.)" + std::string(300, '0') + "123e300}");
  REQUIRE(small.ok);
  CHECK(std::get<double>(small.d.values[2]) == 0.123);
  // Inside a Json field, the rewritten literal is what gets stored.
  auto deep = decode_body(R"({"id": 1, "tags": [0.)" + zeros + "1, 2.5]}");
  REQUIRE(deep.ok);
  CHECK(std::get<std::string>(deep.d.values[3]) == "[0.0,2.5]");
  // Text after a rewritten literal that made the body invalid keeps it invalid: 1.9e0…0 then
  // e308 must not become the literal 1.9e308 (fuzz_json_request found that one too).
  auto glued = decode_body(R"({"id": 1, "tags": [1.9e)" + std::string(40, '0') + "e308]}");
  REQUIRE_FALSE(glued.ok);
  CHECK(glued.res.body.find("Expecting ',' delimiter") != std::string::npos);
  CHECK(glued.res.body.find(R"("loc":["body",63])") != std::string::npos);
  // An overflowing literal right after a rewritten one kept its '-', so the two do not merge into
  // an exponent of -490 (a third fuzz_json_request crash).
  auto merged = decode_body(R"({"id": 1, "score": 0.)" + std::string(48, '0') + "7940472-1e1158}");
  REQUIRE_FALSE(merged.ok);
  CHECK(merged.res.body.find("Expecting ',' delimiter") != std::string::npos);
  // A syntax error after a rewritten literal is still reported where it is in the original body.
  auto bad = decode_body(R"({"id": 1, "score": 0.)" + zeros + "1 x}");
  REQUIRE_FALSE(bad.ok);
  size_t at = std::string(R"({"id": 1, "score": 0.)").size() + zeros.size() + 2;
  CHECK(bad.res.body.find("\"loc\":[\"body\"," + std::to_string(at) + "]") != std::string::npos);
}

TEST_CASE("a fraction or exponent after NaN/Infinity is Python's error, not a number (fuzz_json_request)") {
  const std::string zeros(400, '0');
  // RapidJSON read NaN.5 as 0.5; these three crashed the server inside RapidJSON (CI's fuzz run).
  struct Case {
    std::string body, message;
    size_t at;
  };
  const Case cases[] = {
      {R"({"id": 1, "score": NaN.5})", "Expecting ',' delimiter", 22},
      {R"({"id": 1, "score": NaN.)" + zeros + "1}", "Expecting ',' delimiter", 22},
      {R"({"id": 1, "score": NaNe5})", "Expecting ',' delimiter", 22},
      {R"({"id": 1, "score": -InfinityE5})", "Expecting ',' delimiter", 28},
      {R"({"id": 1, "score": Inf.)" + zeros + "1}", "Expecting value", 19},
      {R"({"id": 1, "score": -Inf.)" + zeros + "1}", "Expecting value", 19},
      {R"({"id": 1, Nope: 2})", "Expecting property name enclosed in double quotes", 10},
      {R"({"id": 1, "tags": [1 Nope]})", "Expecting ',' delimiter", 21},
  };
  for (const Case& c : cases) {
    INFO(c.body.substr(0, 40));
    auto r = decode_body(c.body);
    REQUIRE_FALSE(r.ok);
    CHECK(r.res.status == 422);
    CHECK(r.res.body.find(R"("type":"json_invalid")") != std::string::npos);
    CHECK(r.res.body.find(c.message) != std::string::npos);
    CHECK(r.res.body.find("\"loc\":[\"body\"," + std::to_string(c.at) + "]") != std::string::npos);
  }
}

TEST_CASE("an unfinished number is refused where Python's json stops, with its message") {
  struct Case {
    const char* body;
    const char* message;
    size_t at;
  };
  // Python's number pattern leaves '.', 'e' or a lone '-' unread; what follows the number decides
  // the message. RapidJSON stopped one byte later, always with "Expecting value".
  const Case cases[] = {
      {R"({"id": 1.})", "Expecting ',' delimiter", 8},
      {R"({"id": 1e})", "Expecting ',' delimiter", 8},
      {R"({"id": 1.5e+})", "Expecting ',' delimiter", 10},
      {R"({"id": 1.5E-})", "Expecting ',' delimiter", 10},
      {R"({"id": -})", "Expecting value", 7},
      {R"({"id": -x})", "Expecting value", 7},
      {R"({"id": -.5})", "Expecting value", 7},
      {R"({"id": 01})", "Expecting ',' delimiter", 8},
      {"1e", "Extra data", 1},
  };
  for (const Case& c : cases) {
    INFO(c.body);
    auto r = decode_body(c.body);
    REQUIRE_FALSE(r.ok);
    CHECK(r.res.body.find(c.message) != std::string::npos);
    CHECK(r.res.body.find("\"loc\":[\"body\"," + std::to_string(c.at) + "]") != std::string::npos);
  }
}

TEST_CASE("python_json_error maps RapidJSON codes to json.JSONDecodeError messages") {
  CHECK(python_json_error(rapidjson::kParseErrorObjectMissColon) == "Expecting ':' delimiter");
  CHECK(python_json_error(rapidjson::kParseErrorArrayMissCommaOrSquareBracket) == "Expecting ',' delimiter");
  CHECK(python_json_error(rapidjson::kParseErrorValueInvalid) == "Expecting value");
  CHECK(python_json_error(rapidjson::kParseErrorStringEscapeInvalid) == "Invalid \\escape");
}

TEST_CASE("a body that is not an object is model_attributes_type; no body or JSON null is missing") {
  auto arr = decode_body("[1, 2]");
  CHECK(arr.res.body ==
        R"({"detail":[{"type":"model_attributes_type","loc":["body"],)"
        R"("msg":"Input should be a valid dictionary or object to extract fields from","input":[1,2]}]})");
  CHECK(decode_body("\"text\"").res.body.find(R"("input":"text")") != std::string::npos);
  auto empty = decode_body("");
  CHECK(empty.res.status == 422);
  CHECK(empty.res.body ==
        R"({"detail":[{"type":"missing","loc":["body"],"msg":"Field required","input":null}]})");
  CHECK(decode_body("null").res.body == empty.res.body);
}

TEST_CASE("content types: JSON and +json parse; no header parses; anything else is raw bytes") {
  CHECK(decode_body(R"({"id": 1})", "application/json; charset=utf-8").ok);
  CHECK(decode_body(R"({"id": 1})", "application/vnd.api+json").ok);
  CHECK(decode_body(R"({"id": 1})", "Application/JSON").ok);
  CHECK(decode_body(R"({"id": 1})", nullptr).ok);
  auto form = decode_body(R"({"id": 1})", "application/x-www-form-urlencoded");
  REQUIRE_FALSE(form.ok);
  CHECK(form.res.body == R"({"detail":[{"type":"model_attributes_type","loc":["body"],)"
                         R"("msg":"Input should be a valid dictionary or object to extract fields from",)"
                         R"("input":"{\"id\": 1}"}]})");
  CHECK_FALSE(decode_body(R"({"id": 1})", "text/plain").ok);
  CHECK(is_json_content_type(""));
  CHECK_FALSE(is_json_content_type("application/jsonx"));
  CHECK_FALSE(is_json_content_type("text/json"));
}

TEST_CASE("invalid UTF-8 and absurd nesting are refused like FastAPI's body parse failure (400)") {
  auto utf = decode_body("{\"id\": 1, \"name\": \"\xff\"}");
  CHECK(utf.res.status == 400);
  CHECK(utf.res.body == R"({"detail":"There was an error parsing the body"})");
  std::string deep(kMaxJsonDepth + 1, '[');
  deep += std::string(kMaxJsonDepth + 1, ']');
  CHECK(decode_body(deep).res.status == 400);
  // Just under the limit is fine (and not an object).
  std::string ok_deep(kMaxJsonDepth, '[');
  ok_deep += std::string(kMaxJsonDepth, ']');
  CHECK(decode_body(ok_deep).res.status == 422);
  // Brackets inside strings do not count.
  CHECK(decode_body(R"({"id": 1, "name": ")" + std::string(2000, '[') + R"("})").ok);
}

TEST_CASE("an echoed raw body that is not UTF-8 is made valid") {
  auto r = decode_body("a\xff", "text/plain");
  CHECK(r.res.body.find("a\xef\xbf\xbd") != std::string::npos);
}

TEST_CASE("a route without fields ignores the body entirely") {
  auto r = decode_body("not json at all", "application/json", {});
  CHECK(r.ok);
}

TEST_CASE("query parameters: typed with value_from_text, defaults, loc starts with query") {
  std::vector<RequestField> fs = {field("q", ColumnType::String, true, false),
                                  field("limit", ColumnType::Int, false, false)};
  fs[1].default_value = Value(int64_t{10});
  auto ok = decode_query({{"q", "sun"}}, fs);
  REQUIRE(ok.ok);
  CHECK(std::get<std::string>(ok.d.values[0]) == "sun");
  CHECK(std::get<int64_t>(ok.d.values[1]) == 10);
  CHECK(ok.d.present == std::vector<char>{1, 0});

  auto last = decode_query({{"q", "a"}, {"q", "b"}, {"limit", "3"}}, fs);
  REQUIRE(last.ok);
  CHECK(std::get<std::string>(last.d.values[0]) == "b");
  CHECK(std::get<int64_t>(last.d.values[1]) == 3);

  auto bad = decode_query({{"limit", "ten"}}, fs);
  REQUIRE_FALSE(bad.ok);
  CHECK(bad.res.status == 422);
  CHECK(bad.res.body ==
        R"({"detail":[{"type":"missing","loc":["query","q"],"msg":"Field required","input":null},)"
        R"({"type":"int_parsing","loc":["query","limit"],)"
        R"("msg":"Input should be a valid integer, unable to parse string as an integer","input":"ten"}]})");
}
