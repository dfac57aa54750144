#include "serve/openapi/jobs.hpp"

#include <cstring>

namespace pxt::openapi {

namespace {

void raw_object(JsonWriter& w, const char* json) {
  w.RawValue(json, std::strlen(json), rapidjson::kObjectType);
}

const char* kJobPath =
    R"({"get":{"summary":"Background job status","operationId":"get_job_status",)"
    R"("description":"pending while queued or running; done with the route's response as result; )"
    R"(error with the message the route would have answered as detail.",)"
    R"("parameters":[{"name":"job_id","in":"path","required":true,)"
    R"("schema":{"type":"string","title":"Job Id"}}],)"
    R"("responses":{"200":{"description":"Successful Response","content":{"application/json":)"
    R"({"schema":{"$ref":"#/components/schemas/JobStatus"}}}},)"
    R"("404":{"description":"Unknown job id","content":{"application/json":)"
    R"({"schema":{"$ref":"#/components/schemas/HTTPError"}}}}}}})";

const char* kJobHandle = R"({"properties":{"id":{"type":"string","title":"Id"},)"
                         R"("job_url":{"type":"string","title":"Job Url"}},)"
                         R"("type":"object","required":["id","job_url"],"title":"JobHandle"})";

const char* kJobStatus = R"({"properties":{"status":{"type":"string","enum":["pending","done","error"],)"
                         R"("title":"Status"},)"
                         R"("result":{"anyOf":[{"type":"object"},{"type":"null"}],"title":"Result"},)"
                         R"("error":{"anyOf":[{"type":"string"},{"type":"null"}],"title":"Error"}},)"
                         R"("type":"object","required":["status","result","error"],"title":"JobStatus"})";

}  // namespace

void write_job_path(JsonWriter& w, const std::string& prefix) {
  write_key(w, prefix + "/jobs/{job_id}");
  raw_object(w, kJobPath);
}

void write_job_components(JsonWriter& w) {
  write_key(w, "JobHandle");
  raw_object(w, kJobHandle);
  write_key(w, "JobStatus");
  raw_object(w, kJobStatus);
}

}  // namespace pxt::openapi
