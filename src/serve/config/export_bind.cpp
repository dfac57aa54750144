// export_sql at registration: opens the route's target (sharing the pool of its db_connect) and
// validates it against the route's outputs, so a bad target fails `pxt serve` and --dry-run.
#include "export/sql_export.hpp"
#include "serve/config/detail.hpp"

namespace pxt::config_detail {

bool bind_export_sql(BoundRoute& b, Errors& errs) {
  const ExportSqlSpec& x = *b.spec.export_sql;
  if (x.db_connect.empty() || x.table.empty()) return false;  // reported by check_route_static
  ExportTarget target{x.db_connect, x.table, x.db_schema, x.method};
  std::vector<ExportColumn> columns;
  for (const auto& o : b.outputs) columns.push_back({o.name, o.type});
  auto e = open_sql_export(target, columns);
  if (!e) {
    // Connection problems belong to db_connect; everything else to the table.
    const std::string& m = e.error().message;
    bool url = m.rfind("cannot connect", 0) == 0 || m.rfind("cannot open", 0) == 0 ||
               m.rfind("unsupported database URL", 0) == 0 || m.rfind("SQLite URL", 0) == 0;
    const char* key = url ? "export_sql.db_connect" : "export_sql.table";
    auto it = b.spec.key_locations.find(key);
    errs.add(it != b.spec.key_locations.end() ? it->second : location_of(b.spec, "export_sql"), key,
             "route " + b.http_method + " " + b.full_path + ": " + m);
    return false;
  }
  b.exporter = std::move(e).value();
  return true;
}

}  // namespace pxt::config_detail
