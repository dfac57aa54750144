#include "serve/app/export_hook.hpp"

#include "export/sql_export.hpp"
#include "serve/http/access_log.hpp"
#include "serve/http/response.hpp"

namespace pxt {

Result<void> export_row(const RouteRuntime& rt, const Row& row) {
  const BoundRoute& route = *rt.route;
  if (!route.exporter) return {};
  std::vector<Value> values;
  values.reserve(route.outputs.size());
  for (size_t i = 0; i < route.outputs.size(); ++i) {
    const int idx = rt.output_index[i];
    if (idx < 0 || static_cast<size_t>(idx) >= row.size())
      return make_error(Errc::internal, "export: the store returned a short row");
    const Value& v = row[static_cast<size_t>(idx)];
    const auto& type = route.outputs[i].type;
    // As in the response body, a media value is its URL.
    if (type && is_media(*type) && std::holds_alternative<std::string>(v))
      values.emplace_back(rt.media_prefix + std::get<std::string>(v));
    else
      values.push_back(v);
  }
  return route.exporter->write_row(values);
}

// Pixeltable's details, which clients match: "export_sql update affected 0 rows; expected 1" for
// an update that found no target row, "export_sql write failed" for anything else (pxt adds the
// reason, redacted; the log has it whole).
bool export_row_or_reply(const RouteRuntime& rt, const Row& row, httplib::Response& res) {
  auto r = export_row(rt, row);
  if (r) return true;
  log_note_error(r.error().message);
  if (r.error().code == Errc::not_found) {
    reply_detail(res, 500, "export_sql update affected 0 rows; expected 1");
  } else {
    reply_detail(res, 500, "export_sql write failed: " + redact_secrets(r.error().message));
  }
  return false;
}

}  // namespace pxt
