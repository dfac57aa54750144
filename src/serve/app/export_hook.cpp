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

bool export_row_or_reply(const RouteRuntime& rt, const Row& row, httplib::Response& res) {
  auto r = export_row(rt, row);
  if (r) return true;
  log_note_error(r.error().message);
  reply_detail(res, 500, redact_secrets(r.error().message));
  return false;
}

}  // namespace pxt
