// libFuzzer target: the JSON request decoder (every POST route's body) and the query-string value
// parser (GET routes), with one field of every column type. Any 4xx is fine; a crash or a
// sanitizer report is a bug, and so is an answer that is not valid JSON.
#include <rapidjson/document.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "serve/http/request.hpp"
#include "store/model/values.hpp"

namespace {

const std::vector<pxt::RequestField>& fields() {
  using pxt::ColumnType;
  static const std::vector<pxt::RequestField> f = [] {
    std::vector<pxt::RequestField> v;
    const std::pair<const char*, ColumnType> cols[] = {
        {"s", ColumnType::String}, {"i", ColumnType::Int},       {"f", ColumnType::Float},
        {"b", ColumnType::Bool},   {"t", ColumnType::Timestamp}, {"d", ColumnType::Date},
        {"j", ColumnType::Json},   {"a", ColumnType::Array}};
    bool required = true;
    for (const auto& [name, type] : cols) {
      pxt::RequestField r;
      r.name = name;
      r.type = type;
      r.required = required;
      r.nullable = !required;
      required = !required;
      v.push_back(r);
    }
    return v;
  }();
  return f;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string input(reinterpret_cast<const char*>(data), size);
  httplib::Request req;
  req.body = input;
  req.headers.emplace("Content-Type", "application/json");
  httplib::Response res;
  pxt::DecodedFields out;
  bool ok = pxt::decode_json_body(fields(), req, out, res);
  if (!ok) {
    if (res.status < 400 || res.status >= 500) std::abort();
    rapidjson::Document answer;
    answer.Parse(res.body.c_str(), res.body.size());
    if (answer.HasParseError() || !answer.IsObject() || !answer.HasMember("detail")) {
      std::fprintf(stderr, "not a JSON error answer: %s\n", res.body.c_str());
      std::abort();
    }
  }
  for (const auto& f : fields()) (void)pxt::value_from_text(input, f.type);
  return 0;
}
