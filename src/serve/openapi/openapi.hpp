#pragma once
// OpenAPI 3.1 document for a service, shaped like FastAPI's (operationId, request body and response
// schemas, HTTPValidationError / ValidationError components), derived from the bound routes'
// column types. Built once at start.
#include <string>
#include <vector>

#include "serve/config/route_spec.hpp"

namespace pxt {

// Returns the compact JSON text of the document. Pure; thread-safe.
std::string build_openapi(const ServiceSpec& service, const std::vector<BoundRoute>& routes);

// FastAPI's operationId: kind + path with non-word characters as '_' + method ("insert_v1_gen_post").
std::string operation_id(const BoundRoute& route);

}  // namespace pxt
