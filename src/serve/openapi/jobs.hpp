#pragma once
// The OpenAPI pieces every service has beside its routes, as Pixeltable's router registers them:
// GET <prefix>/jobs/{job_id} (a background job's status) and GET <prefix>/media/{path} (stored
// files), and the job schemas under Pixeltable's names (BackgroundJobResponse,
// JobStatusResponse). Pure functions.
#include <string>
#include <vector>

#include "serve/openapi/json_out.hpp"
#include "serve/openapi/responses.hpp"

namespace pxt::openapi {

inline constexpr const char* kJobHandle = "BackgroundJobResponse";
inline constexpr const char* kJobStatus = "JobStatusResponse";
inline constexpr const char* kJobStatusOperation = "get_job_status";

// A background route: its job status component (<stem>JobStatus) and the component of the body
// the route would have answered, which is the job's result.
struct BackgroundRoute {
  std::string status_component;
  std::string result_component;
};

// The "<prefix>/jobs/{job_id}" and "<prefix>/media/{path}" members of "paths"; the components
// they use are added to `used`.
void write_job_path(Out& o, const std::string& prefix, const ServiceDoc& service,
                    std::vector<std::string>& used);
void write_media_path(Out& o, const std::string& prefix, const ServiceDoc& service,
                      std::vector<std::string>& used);
// Members of "schemas": BackgroundJobResponse when any route runs in the background, each
// background route's job status, and JobStatusResponse: any of those (the one, with a single
// background route), or (no background route) a status whose result may be anything.
void write_job_components(Out& o, const std::vector<BackgroundRoute>& background);

}  // namespace pxt::openapi
