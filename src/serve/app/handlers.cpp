#include "serve/app/handlers.hpp"

#include <unistd.h>

#include <algorithm>
#include <climits>
#include <filesystem>

#include "serve/app/export_hook.hpp"
#include "serve/http/access_log.hpp"
#include "serve/http/request.hpp"
#include "serve/http/response.hpp"
#include "serve/media/janitor.hpp"
#include "store/functions/context.hpp"
#include "store/media/sweep.hpp"
#include "store/model/values.hpp"

namespace pxt {

namespace {

void write_row(JsonWriter& w, const RouteRuntime& rt, const Row& row) {
  const auto& outputs = rt.route->outputs;
  w.StartObject();
  for (size_t i = 0; i < outputs.size(); ++i) {
    write_key(w, outputs[i].name);
    write_value_json(w, row[static_cast<size_t>(rt.output_index[i])], outputs[i].type, rt.media_prefix);
  }
  w.EndObject();
}

bool row_fits(const RouteRuntime& rt, const Row& row) {
  for (int idx : rt.output_index)
    if (idx < 0 || static_cast<size_t>(idx) >= row.size()) return false;
  return true;
}

const std::string& file_output_name(const RouteRuntime& rt) {
  return rt.route->outputs[static_cast<size_t>(rt.file_output)].name;
}

const Value& file_value(const RouteRuntime& rt, const Row& row) {
  return row[static_cast<size_t>(rt.output_index[static_cast<size_t>(rt.file_output)])];
}

// Why a file response for `row` cannot be given (status 0 when it can): a null output is the
// request's doing (422), a missing file the server's (500). Pixeltable answers both with a 500
// after the write; pxt checks them before the write commits (file_check).
struct FileRefusal {
  int status = 0;
  std::string detail;
};

FileRefusal file_problem(const RouteRuntime& rt, const Row& row) {
  const auto* rel = std::get_if<std::string>(&file_value(rt, row));
  if (rel == nullptr) return {422, "output column '" + file_output_name(rt) + "' is null"};
  int fd = rt.media ? rt.media->open_beneath(*rel) : -1;
  if (fd < 0) return {500, "output file not found: '" + file_output_name(rt) + "'"};
  ::close(fd);
  return {};
}

// return_fileresponse of an insert or update route: a row whose file output is null (or whose
// file is gone) is refused inside the write, so nothing is stored and a client may fix and
// resend the request; `refused` then says why.
RowCheck file_check(const RouteRuntime& rt, FileRefusal& refused) {
  if (rt.file_output < 0) return nullptr;
  return [&rt, &refused](const Row& row) -> Result<void> {
    if (!row_fits(rt, row)) return {};  // reply_row reports it
    refused = file_problem(rt, row);
    if (refused.status == 0) return {};
    return make_error(Errc::invalid_argument, refused.detail);
  };
}

// The answer for a refused file-response write; nothing was stored.
void reply_refused_file(httplib::Response& res, const FileRefusal& refused) {
  if (refused.status >= 500) log_note_error(refused.detail);
  reply_detail(res, refused.status,
               refused.detail + (refused.status == 422 ? ", so there is no file to answer with" : "") +
                   "; nothing was stored");
}

// return_fileresponse: the single media output as the raw file. A null output is the client's
// (compute: 422) or the data's (query: 404); the write routes never get here with one.
void reply_file(const RouteRuntime& rt, const Row& row, httplib::Response& res) {
  const auto* rel = std::get_if<std::string>(&file_value(rt, row));
  if (rel == nullptr) {
    if (rt.route->spec.type == RouteType::Query)
      return reply_detail(res, 404,
                          "output column '" + file_output_name(rt) + "' is null: the row has no file");
    return reply_detail(
        res, 422, "output column '" + file_output_name(rt) + "' is null, so there is no file to answer with");
  }
  if (rt.media == nullptr || !rt.media->send(*rel, res))
    return reply_internal(res, "output file not found: '" + file_output_name(rt) + "' (" + *rel + ")");
}

void reply_row(const RouteRuntime& rt, const Row& row, httplib::Response& res) {
  if (!row_fits(rt, row)) {
    reply_internal(res, "store returned a row with " + std::to_string(row.size()) + " columns for route " +
                            rt.route->full_path);
    return;
  }
  if (rt.file_output >= 0) return reply_file(rt, row, res);
  JsonBuffer& buf = scratch_json();
  JsonWriter w(buf);
  write_row(w, rt, row);
  set_json(res, 200, buf);
}

bool decode(const RouteRuntime& rt, const httplib::Request& req, DecodedFields& d, httplib::Response& res) {
  return rt.from_query_string ? decode_query_params(rt.fields, req, d, res)
                              : decode_json_body(rt.fields, req, d, res);
}

// The adopted media files become the row's once the insert succeeded; otherwise `adopted`
// removes them.
void handle_insert(const RouteRuntime& rt, Store& store, DecodedFields& d, AdoptedMedia& adopted,
                   httplib::Response& res) {
  std::vector<Row> rows(1);
  rows[0] = std::move(d.values);
  FileRefusal refused;
  auto stored = store.insert(rt.route->table, rt.insert_columns, rows, file_check(rt, refused));
  if (!stored)
    return refused.status == 0 ? reply_error(res, stored.error()) : reply_refused_file(res, refused);
  adopted.release();
  if (stored->size() != 1) {
    return reply_internal(res, "insert returned " + std::to_string(stored->size()) + " rows, expected 1");
  }
  if (!export_row_or_reply(rt, stored->front(), res)) return;
  reply_row(rt, stored->front(), res);
}

void handle_compute(const RouteRuntime& rt, Store& store, DecodedFields& d, httplib::Response& res) {
  auto row = store.compute(rt.route->table, rt.insert_columns, d.values);
  if (!row) return reply_error(res, row.error());
  // Its files belong to no row: they move to media/transient/ and expire (serve/media/janitor.hpp).
  auto kept = keep_compute_outputs(rt.media ? rt.media->dir() : store.media_dir(), rt.route->table,
                                   rt.output_index, *row);
  if (!kept) return reply_error(res, kept.error());
  // As Pixeltable's compute routes (its insert routes' twin): export what was computed.
  if (!export_row_or_reply(rt, *row, res)) return;
  reply_row(rt, *row, res);
}

void handle_update(const RouteRuntime& rt, Store& store, DecodedFields& d, httplib::Response& res) {
  Filter filter;
  std::vector<std::pair<std::string, Value>> set;
  for (size_t j = 0; j < rt.fields.size(); ++j) {
    if (rt.field_is_key[j]) {
      filter.equals.emplace_back(rt.fields[j].name, std::move(d.values[j]));
    } else if (d.present[j]) {
      // Left out: unchanged (unlike Pixeltable, which would write null); explicit null: null.
      set.emplace_back(rt.fields[j].name, std::move(d.values[j]));
    }
  }
  if (set.empty()) {
    // Nothing to change: answer with the row as it is, or 404.
    std::optional<Row> found;
    SelectSpec spec;
    spec.filter = std::move(filter);
    spec.limit = 1;
    auto r = store.select(rt.route->table, spec, [&](const Row& row) {
      found = row;
      return false;
    });
    if (!r) return reply_error(res, r.error());
    if (!found) return reply_detail(res, 404, "row not found");
    if (!export_row_or_reply(rt, *found, res)) return;
    return reply_row(rt, *found, res);
  }
  FileRefusal refused;
  auto updated = store.update(rt.route->table, filter, set, file_check(rt, refused));
  if (!updated)
    return refused.status == 0 ? reply_error(res, updated.error()) : reply_refused_file(res, refused);
  if (updated->empty()) return reply_detail(res, 404, "row not found");
  if (!export_row_or_reply(rt, updated->front(), res)) return;
  reply_row(rt, updated->front(), res);
}

void handle_delete(const RouteRuntime& rt, Store& store, DecodedFields& d, httplib::Response& res) {
  Filter filter;
  for (size_t j = 0; j < rt.fields.size(); ++j)
    filter.equals.emplace_back(rt.fields[j].name, std::move(d.values[j]));
  auto n = store.remove(rt.route->table, filter);
  if (!n) return reply_error(res, n.error());
  JsonBuffer& buf = scratch_json();
  JsonWriter w(buf);
  w.StartObject();
  write_key(w, "num_rows");
  w.Int64(*n);
  w.EndObject();
  set_json(res, 200, buf);
}

// A query row's media values made for this request (an image function in the SELECT list,
// store/functions/query_calls.hpp) belong to no row: like a compute route's, they move to
// media/transient/ and expire (serve/media/janitor.hpp). Stored media values stay as they are.
Result<void> keep_query_outputs(const RouteRuntime& rt, const std::filesystem::path& media_dir,
                                const CreatedFiles& created, Row& row) {
  for (size_t i = 0; i < rt.route->outputs.size() && i < row.size(); ++i) {
    auto* rel = std::get_if<std::string>(&row[i]);
    const auto& made = created.files();
    if (rel == nullptr || std::find(made.begin(), made.end(), *rel) == made.end()) continue;
    PXT_TRY(*rel, media::make_transient(media_dir, *rel));
  }
  return {};
}

void handle_query(const RouteRuntime& rt, Store& store, DecodedFields& d, httplib::Response& res) {
  const QueryDef& q = rt.route->query;
  std::vector<Value> params(q.params.size());
  for (size_t i = 0; i < q.params.size(); ++i) {
    int j = rt.param_field[i];
    if (j >= 0) {
      params[i] = std::move(d.values[static_cast<size_t>(j)]);
    } else if (q.params[i].default_value) {
      params[i] = *q.params[i].default_value;
    }
  }
  // Files that image functions of the query create; any not answered is removed at the end.
  std::filesystem::path media_dir(rt.media ? rt.media->dir() : store.media_dir());
  CreatedFiles created(media_dir);
  CreatedFilesScope scope(created);
  Result<void> kept;
  JsonBuffer& buf = scratch_json();
  JsonWriter w(buf);
  bool bad_row = false;
  // [service] max_rows: like PostgREST's db-max-rows, a query never answers more rows than this
  // (the rest are not even read), whatever its LIMIT says.
  const int64_t cap = rt.max_rows > 0 ? rt.max_rows : INT64_MAX;
  int64_t answered = 0;
  bool truncated = false;
  if (!rt.route->spec.one_row && rt.file_output < 0) {
    w.StartObject();
    write_key(w, "rows");
    w.StartArray();
    auto r = store.run_query(q, params, [&](const Row& stored) {
      if (answered == cap) {
        truncated = true;
        return false;
      }
      if (!row_fits(rt, stored)) {
        bad_row = true;
        return false;
      }
      Row row = stored;
      kept = keep_query_outputs(rt, media_dir, created, row);
      if (!kept) return false;
      write_row(w, rt, row);
      ++answered;
      return true;
    });
    if (!r) return reply_error(res, r.error());
    if (!kept) return reply_error(res, kept.error());
    if (bad_row) return reply_internal(res, "query " + q.qualified_name() + " returned a short row");
    w.EndArray();
    w.EndObject();
    set_json(res, 200, buf);
    if (truncated) res.set_header("Content-Range", "0-" + std::to_string(answered - 1) + "/*");
    return;
  }
  Row first;
  int64_t count = 0;
  auto r = store.run_query(q, params, [&](const Row& row) {
    if (count++ == 0) first = row;
    return count < cap;
  });
  if (!r) return reply_error(res, r.error());
  if (count == 0) return reply_detail(res, 404, "query returned no rows");
  if (count > 1) {
    return reply_detail(
        res, 409,
        "Query returned " + std::to_string(count) +
            " rows; expected exactly 1 for one_row=True. Change the query to return exactly one row.");
  }
  if (!row_fits(rt, first))
    return reply_internal(res, "query " + q.qualified_name() + " returned a short row");
  kept = keep_query_outputs(rt, media_dir, created, first);
  if (!kept) return reply_error(res, kept.error());
  reply_row(rt, first, res);
}

}  // namespace

Result<RouteRuntime> make_runtime(const BoundRoute& route, const std::string& service_prefix,
                                  const MediaRoot* media) {
  RouteRuntime rt;
  rt.route = &route;
  rt.media = media;
  if (route.spec.return_fileresponse) {
    for (size_t i = 0; i < route.outputs.size(); ++i)
      if (route.outputs[i].type && is_media(*route.outputs[i].type)) rt.file_output = static_cast<int>(i);
  }
  rt.fields = route.fields;
  rt.media_prefix = service_prefix + "/media/";
  rt.from_query_string = route.spec.type == RouteType::Query && route.http_method == "GET";
  const RouteType type = route.spec.type;
  for (auto& f : rt.fields) {
    rt.field_names.push_back(f.name);
    bool key = type == RouteType::Delete || (type == RouteType::Update && route.table.is_pk(f.name));
    rt.field_is_key.push_back(key ? 1 : 0);
    // Update: a left-out input keeps its value, so only the key is required.
    if (type == RouteType::Update && !key) f.required = false;
  }
  rt.insert_columns = rt.field_names;
  for (const auto& u : route.uploads) rt.insert_columns.push_back(u.name);
  if (type == RouteType::Query) {
    for (const auto& p : route.query.params) {
      int found = -1;
      for (size_t j = 0; j < rt.fields.size(); ++j) {
        if (rt.fields[j].name == p.name) {
          found = static_cast<int>(j);
          if (!rt.fields[j].default_value && p.default_value) rt.fields[j].default_value = p.default_value;
          if (rt.fields[j].default_value) rt.fields[j].required = false;
        }
      }
      // Uploaded parameters follow the fields in the decoded values.
      for (size_t k = 0; k < route.uploads.size(); ++k)
        if (route.uploads[k].name == p.name) found = static_cast<int>(rt.fields.size() + k);
      rt.param_field.push_back(found);
    }
    for (size_t i = 0; i < route.outputs.size(); ++i) rt.output_index.push_back(static_cast<int>(i));
    return rt;
  }
  if (type == RouteType::Delete) return rt;  // answers {"num_rows": n}, no row outputs
  for (const auto& out : route.outputs) {
    int idx = route.table.index_of(out.name);
    if (idx < 0) {
      return make_error(Errc::internal, "route " + route.full_path + ": output column '" + out.name +
                                            "' is not in table " + route.table.path);
    }
    rt.output_index.push_back(idx);
  }
  return rt;
}

bool decode_request(const RouteRuntime& rt, Store& store, const httplib::Request& req, const Uploads* uploads,
                    DecodedRequest& out, httplib::Response& res) {
  DecodedFields& d = out.fields;
  const auto& upload_fields = rt.route->uploads;
  std::vector<const UploadPart*> files;
  if (!upload_fields.empty()) {
    static const Uploads kNone;
    if (!decode_form(rt.fields, upload_fields, req, uploads ? *uploads : kNone, d, files, res)) return false;
  } else if (!decode(rt, req, d, res)) {
    return false;
  }
  // Media values are validated and moved to their final names here, in the request's thread:
  // a background job may outlive the request's temp files.
  AdoptedMedia& adopted = out.adopted.emplace(rt.media ? rt.media->dir() : store.media_dir());
  if (!adopt_data_uris(adopted.dir(), rt.fields, d, adopted, res)) return false;
  if (!upload_fields.empty()) {
    std::vector<size_t> at(upload_fields.size());
    for (size_t k = 0; k < at.size(); ++k) at[k] = rt.fields.size() + k;
    d.values.resize(rt.fields.size() + upload_fields.size());
    if (!adopt_uploads(adopted.dir(), upload_fields, files, at, d.values, adopted, res)) return false;
  }
  return true;
}

void run_decoded(const RouteRuntime& rt, Store& store, DecodedRequest& in, httplib::Response& res) {
  DecodedFields& d = in.fields;
  AdoptedMedia& adopted = *in.adopted;
  switch (rt.route->spec.type) {
    case RouteType::Insert:
      return handle_insert(rt, store, d, adopted, res);
    case RouteType::Compute:
      return handle_compute(rt, store, d, res);
    case RouteType::Update:
      return handle_update(rt, store, d, res);
    case RouteType::Delete:
      return handle_delete(rt, store, d, res);
    case RouteType::Query:
      return handle_query(rt, store, d, res);
  }
}

void handle_route(const RouteRuntime& rt, Store& store, const httplib::Request& req, httplib::Response& res,
                  const Uploads* uploads) {
  DecodedRequest in;
  if (!decode_request(rt, store, req, uploads, in, res)) return;
  run_decoded(rt, store, in, res);
}

}  // namespace pxt
