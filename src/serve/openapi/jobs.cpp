#include "serve/openapi/jobs.hpp"

#include "serve/openapi/schema.hpp"
#include "store/model/types.hpp"

namespace pxt::openapi {

namespace {

void string_parameter(Out& o, const char* name, const char* title, const char* description) {
  o.obj([&] {
    o.str("name", name);
    o.str("in", "path");
    o.boolean("required", true);
    o.str("description", description);
    o.obj("schema", [&] {
      o.str("type", "string");
      o.str("title", title);
    });
  });
}

// A job status whose result is `result` (a component) or, with none, anything.
void write_status_object(Out& o, const std::string& title, const std::string& result,
                         const char* description) {
  o.obj(title, [&] {
    o.obj("properties", [&] {
      o.obj("status", [&] {
        o.str("type", "string");
        o.arr("enum", [&] {
          for (const char* s : {"pending", "done", "error"}) write_string(o.w, s);
        });
        o.str("title", "Status");
      });
      o.obj("result", [&] {
        // Without a result type: any value, null included.
        if (!result.empty()) {
          o.arr("anyOf", [&] {
            o.ref(result);
            o.obj([&] { o.str("type", "null"); });
          });
        }
        o.str("title", "Result");
        o.str("description", "The body the route would have answered; set when status is done");
      });
      o.obj("error", [&] {
        o.arr("anyOf", [&] {
          o.obj([&] { o.str("type", "string"); });
          o.obj([&] { o.str("type", "null"); });
        });
        o.str("title", "Error");
        o.str("description",
              "What failed, set when status is error: the detail the route would have answered (for "
              "Pixeltable's error body, its detail object as JSON text)");
      });
    });
    o.str("type", "object");
    o.arr("required", [&] {
      for (const char* r : {"status", "result", "error"}) write_string(o.w, r);
    });
    o.str("title", title);
    o.str("description", description);
  });
}

}  // namespace

void write_job_path(Out& o, const std::string& prefix, const ServiceDoc& service,
                    std::vector<std::string>& used) {
  o.obj(prefix + "/jobs/{job_id}", [&] {
    o.obj("get", [&] {
      o.str("summary", "Get the status of a background job");
      o.str(
          "description",
          "pending while queued or running; done with the body the route would have answered as result; "
          "error with what failed as error. Jobs are kept in the store: any pxt process serving it answers.");
      o.str("operationId", kJobStatusOperation);
      o.arr("parameters",
            [&] { string_parameter(o, "job_id", "Job Id", "The id a background route answered"); });
      o.obj("responses", [&] {
        o.obj("200", [&] {
          o.str("description", "The job's status");
          o.obj("content", [&] { o.obj("application/json", [&] { o.ref("schema", kJobStatus); }); });
        });
        write_error_responses(o, job_status_errors(service), used);
      });
    });
  });
  used.emplace_back(kJobStatus);
}

void write_media_path(Out& o, const std::string& prefix, const ServiceDoc& service,
                      std::vector<std::string>& used) {
  o.obj(prefix + "/media/{path}", [&] {
    o.obj("get", [&] {
      o.str("summary", "Get a stored media file");
      o.str(
          "description",
          "The file a media value's URL points at (answers give them as /media/...). The content type is the "
          "file's; Range requests are honoured (206), and ETag / Last-Modified revalidation (304).");
      o.str("operationId", "serve_media");
      o.arr("parameters", [&] {
        string_parameter(o, "path", "Path", "The file's path under the media folder, as in a media URL");
      });
      o.obj("responses", [&] {
        auto file_content = [&] {
          o.obj("content", [&] {
            for (ColumnType t :
                 {ColumnType::Image, ColumnType::Video, ColumnType::Audio, ColumnType::Document}) {
              for (std::string_view type : file_content_types(t)) {
                o.obj(type, [&] {
                  o.obj("schema", [&] {
                    o.str("type", "string");
                    o.str("format", "binary");
                  });
                });
              }
            }
          });
        };
        o.obj("200", [&] {
          o.str("description", "The file");
          file_content();
        });
        o.obj("206", [&] {
          o.str("description", "The part of the file a Range header asked for");
          file_content();
        });
        o.obj("304", [&] { o.str("description", "The file did not change since the ETag or date given"); });
        write_error_responses(o, media_errors(service), used);
      });
    });
  });
}

void write_job_components(Out& o, const std::vector<BackgroundRoute>& background) {
  if (!background.empty()) {
    o.obj(kJobHandle, [&] {
      o.obj("properties", [&] {
        o.obj("id", [&] {
          o.str("type", "string");
          o.str("title", "Id");
        });
        o.obj("job_url", [&] {
          o.str("type", "string");
          o.str("format", "uri");
          o.str("title", "Job Url");
          o.str("description", "Where to poll the job's status (GET)");
        });
      });
      o.str("type", "object");
      o.arr("required", [&] {
        for (const char* r : {"id", "job_url"}) write_string(o.w, r);
      });
      o.str("title", kJobHandle);
    });
  }
  for (const auto& b : background)
    write_status_object(o, b.status_component, b.result_component,
                        "Status of a job of this background route.");
  if (background.empty()) return write_status_object(o, kJobStatus, "", "Status of a background job.");
  // One background route: its job status, under Pixeltable's name too (an anyOf of one schema is
  // what linters call illogical).
  if (background.size() == 1) return o.ref(kJobStatus, background.front().status_component);
  o.obj(kJobStatus, [&] {
    o.arr("anyOf", [&] {
      for (const auto& b : background) o.ref(b.status_component);
    });
    o.str("title", kJobStatus);
    o.str("description", "Status of a background job: the job status of the route that started it.");
  });
}

}  // namespace pxt::openapi
