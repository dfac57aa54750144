#pragma once
// OpenAPI 3.1 document for a service, shaped like the one Pixeltable's FastAPI router produces
// (component names, request body and response schemas, HTTPValidationError / ValidationError),
// derived from the bound routes' column types, and exact where generated clients rely on it:
// every status a route can answer with its body schema, media values as URI references with
// their contentMediaType, a job status schema per background route. Built once at start.
#include <string>
#include <vector>

#include "serve/config/route_spec.hpp"

namespace pxt {

// Returns the compact JSON text of the document. Pure; thread-safe.
std::string build_openapi(const ServiceSpec& service, const std::vector<BoundRoute>& routes);

}  // namespace pxt
