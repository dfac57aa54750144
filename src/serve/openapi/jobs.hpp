#pragma once
// The OpenAPI pieces for background jobs (serve/openapi/openapi.cpp uses them when a route has
// background = true): the job handle a background route answers, and GET <prefix>/jobs/{job_id}.
// Pure functions.
#include <string>

#include "util/json.hpp"

namespace pxt::openapi {

// The "<prefix>/jobs/{job_id}" member of "paths".
void write_job_path(JsonWriter& w, const std::string& prefix);
// The JobHandle and JobStatus members of "schemas".
void write_job_components(JsonWriter& w);

}  // namespace pxt::openapi
