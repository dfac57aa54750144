#pragma once
// The handler of each route kind (insert, update, delete, compute, query). Everything a request
// needs is resolved once at start into a RouteRuntime, so a request does no catalog lookups and
// no name resolution.
#include <httplib.h>

#include <string>
#include <vector>

#include "serve/request.hpp"
#include "serve/route_spec.hpp"
#include "store/store.hpp"

namespace pxt {

struct RouteRuntime {
  const BoundRoute* route = nullptr;
  std::vector<RequestField> fields;      // as bound; update: non-key fields are optional
  std::vector<std::string> field_names;  // the column list for Store::insert / compute
  std::vector<char> field_is_key;        // update: primary key (the filter); delete: every field
  std::vector<int> output_index;         // where each output sits in the row the store returns
  std::vector<int> param_field;          // query: for each q.params[i], its field or -1
  std::string media_prefix;              // "<service prefix>/media/"
  bool from_query_string = false;        // GET query routes read query parameters
};

// Resolves a bound route. Errors (internal): an output or key that is not in the table, which
// means the binder and the store disagree.
Result<RouteRuntime> make_runtime(const BoundRoute& route, const std::string& service_prefix);

// Answers one request for the route: decodes and validates, calls the store, writes the JSON
// answer (or the FastAPI-shaped error) into res. Does not throw for bad input or store errors;
// the caller still guards against exceptions (e.g. bad_alloc). Thread-safe.
void handle_route(const RouteRuntime& rt, Store& store, const httplib::Request& req, httplib::Response& res);

// The two halves of handle_route, so that a background job runs exactly what the synchronous
// route runs. decode_request does everything that needs the HTTP request: validation (false,
// with the 422/400 answer in res) and anything else the work must not read from the request
// later (an upload must be moved into media/ here, before a job is queued). run_decoded does the
// store work and writes the answer; it may run on another thread after the request is gone.
bool decode_request(const RouteRuntime& rt, const httplib::Request& req, DecodedFields& d,
                    httplib::Response& res);
void run_decoded(const RouteRuntime& rt, Store& store, DecodedFields& d, httplib::Response& res);

}  // namespace pxt
