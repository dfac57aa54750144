#pragma once
// What the OpenAPI document calls each route: its operationId, the stem of its component names,
// its summary and description. Names follow Pixeltable's FastAPIRouter where a generated client
// can see them (component names: "<PathStr>Response", "<PathStr>RowResponse", "DeleteResponse"),
// so a client generated against a Pixeltable service compiles against pxt. Pure functions.
#include <string>
#include <string_view>
#include <vector>

#include "serve/config/route_spec.hpp"

namespace pxt::openapi {

struct OperationNames {
  // Pixeltable's endpoint name: kind + path ("insert_items", "query_search"), unique in the
  // document; a code generator makes it insertItems() / querySearch().
  std::string operation_id;
  // Pixeltable's path_str ("/v1/generate-text" -> "V1Generate-text"), unique in the document: the
  // route's components are stem + "Response", "RowResponse", "JobStatus".
  std::string stem;
  std::string summary;  // unique in the document: ReDoc and Swagger UI show it as the title
  std::string description;
};

// Pixeltable's path_str: each non-empty segment of `path` with Python's str.capitalize(), joined;
// characters a component name may not hold become '_'. "" for "/".
std::string path_stem(std::string_view path);
// Pixeltable's endpoint name: "<kind>_<path without its outer slashes, '/' -> '_'>" ("root" for
// "/"), every character other than a letter, digit or '_' as '_'.
std::string operation_id(const BoundRoute& route);

// One entry per route, in order; `reserved` are shared component names a stem must not produce.
std::vector<OperationNames> name_operations(const std::vector<BoundRoute>& routes, std::string_view prefix,
                                            const std::vector<std::string>& reserved);

}  // namespace pxt::openapi
