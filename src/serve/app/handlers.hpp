#pragma once
// The handler of each route kind (insert, update, delete, compute, query). Everything a request
// needs is resolved once at start into a RouteRuntime, so a request does no catalog lookups and
// no name resolution.
#include <httplib.h>

#include <optional>
#include <string>
#include <vector>

#include "serve/config/route_spec.hpp"
#include "serve/http/uploads.hpp"
#include "serve/media/serve.hpp"
#include "store/store.hpp"

namespace pxt {

struct RouteRuntime {
  const BoundRoute* route = nullptr;
  std::vector<RequestField> fields;         // as bound; update: non-key fields are optional
  std::vector<std::string> field_names;     // the column list for Store::insert / compute
  std::vector<char> field_is_key;           // update: primary key (the filter); delete: every field
  std::vector<int> output_index;            // where each output sits in the row the store returns
  std::vector<int> param_field;             // query: for each q.params[i], its field or -1
  std::string media_prefix;                 // "<service prefix>/media/"
  bool from_query_string = false;           // GET query routes read query parameters
  std::vector<std::string> insert_columns;  // field_names, then the upload columns
  int file_output = -1;                     // return_fileresponse: the media output's index
  const MediaRoot* media = nullptr;         // serves file responses; its dir() adopts uploads
  int64_t max_rows = 0;                     // query routes: at most this many rows; 0: no cap
};

// Resolves a bound route. Errors (internal): an output or key that is not in the table, which
// means the binder and the store disagree.
Result<RouteRuntime> make_runtime(const BoundRoute& route, const std::string& service_prefix,
                                  const MediaRoot* media = nullptr);

// Answers one request for the route: decodes and validates, calls the store, writes the JSON
// answer (or the FastAPI-shaped error) into res. Does not throw for bad input or store errors;
// the caller still guards against exceptions (e.g. bad_alloc). `uploads`: the file parts the
// server streamed to temp files (routes with uploadfile_inputs). Media values are validated and
// adopted here, in the request's thread, before the store is called. Thread-safe.
void handle_route(const RouteRuntime& rt, Store& store, const httplib::Request& req, httplib::Response& res,
                  const Uploads* uploads = nullptr);

// A request decoded and validated, its media adopted into media/ (and removed again unless the
// work stores them): everything the work needs, so it may outlive the request.
struct DecodedRequest {
  DecodedFields fields;
  std::optional<AdoptedMedia> adopted;
};

// The two halves of handle_route, so that a background job runs exactly what the synchronous
// route runs. decode_request does everything that needs the HTTP request, in its thread:
// validation (false, with the 422/400 answer in res), data URIs and uploads adopted into media/
// (the request's temp files are gone by the time a job runs). run_decoded does the store work
// (export_sql included) and writes the answer; it may run on another thread later.
bool decode_request(const RouteRuntime& rt, Store& store, const httplib::Request& req, const Uploads* uploads,
                    DecodedRequest& out, httplib::Response& res);
void run_decoded(const RouteRuntime& rt, Store& store, DecodedRequest& in, httplib::Response& res);

}  // namespace pxt
