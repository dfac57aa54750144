#pragma once
// A thin layer over JsonWriter for the OpenAPI document's nested objects: obj("k", [&] { ... })
// instead of StartObject/Key/EndObject triples. Not thread-safe (one per document being built).
#include <string>
#include <string_view>

#include "util/json.hpp"

namespace pxt::openapi {

inline constexpr std::string_view kSchemaRef = "#/components/schemas/";

struct Out {
  JsonWriter& w;

  void key(std::string_view k) { write_key(w, k); }
  void str(std::string_view k, std::string_view v) {
    key(k);
    write_string(w, v);
  }
  void boolean(std::string_view k, bool v) {
    key(k);
    w.Bool(v);
  }
  template <class F>
  void obj(F&& body) {
    w.StartObject();
    body();
    w.EndObject();
  }
  template <class F>
  void obj(std::string_view k, F&& body) {
    key(k);
    obj(body);
  }
  template <class F>
  void arr(std::string_view k, F&& body) {
    key(k);
    w.StartArray();
    body();
    w.EndArray();
  }
  // {"$ref": "#/components/schemas/<component>"}
  void ref(std::string_view component) {
    obj([&] { str("$ref", std::string(kSchemaRef) + std::string(component)); });
  }
  void ref(std::string_view k, std::string_view component) {
    key(k);
    ref(component);
  }
  // A schema that is one component, or any of several.
  template <class Names>
  void one_of_refs(std::string_view k, const Names& components) {
    if (components.size() == 1) return ref(k, *components.begin());
    obj(k, [&] {
      arr("anyOf", [&] {
        for (const auto& c : components) ref(c);
      });
    });
  }
};

}  // namespace pxt::openapi
