// `pxt columns PATH` (the column table) and `pxt describe PATH`: everything a newcomer asks about
// a table in one place: row count, primary key, indexes, the column table, the computed columns
// in the order they are evaluated with what each reads, and the routes of the service file that
// serve the table (--config FILE, else the file `pxt serve` would read, when there is one).
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <memory>

#include "cli/commands.hpp"
#include "cli/output.hpp"
#include "serve/config/config.hpp"
#include "store/expr/computed.hpp"
#include "util/strings.hpp"

namespace pxt {

namespace {

struct RouteRef {
  std::string method, path, type, service;
};

struct ServiceRoutes {
  std::string file;   // "" when no service file was found (routes unknowable)
  std::string error;  // the file could not be read: said instead of the routes
  std::vector<RouteRef> routes;
};

// The routes of `file` (or the file `pxt serve` would use) that name table `path`. A missing
// default file is not an error: the routes are simply not knowable.
ServiceRoutes routes_for(CliContext& ctx, const std::string& config, const std::string& path) {
  ServiceRoutes out;
  if (config.empty()) {
    auto found = find_service_config(ctx.home());
    if (!found) return out;
    out.file = *found;
  } else {
    out.file = config;
  }
  auto services = load_services(out.file);
  if (!services) {
    if (!config.empty()) throw Failure(services.error());
    out.error = services.error().message;
    return out;
  }
  for (const auto& s : *services) {
    for (const auto& r : s.routes) {
      if (r.type == RouteType::Query) continue;  // reads tables through a module's query
      auto table = normalize_path(r.table);
      if (!table || *table != path) continue;
      out.routes.push_back({"POST", s.prefix + r.path, std::string(route_type_name(r.type)), s.name});
    }
  }
  return out;
}

std::string reads_text(const ColumnDef& c) {
  return c.depends_on.empty() ? "reads no column" : "reads " + join(c.depends_on, ", ");
}

void print_describe_json(const TableDef& t, int64_t rows, const std::vector<int>& order,
                         const ServiceRoutes& sr) {
  Out out;
  JsonWriter& w = out.json();
  w.StartObject();
  write_key(w, "path");
  write_string(w, t.path);
  write_key(w, "version");
  w.Int64(t.version);
  write_key(w, "primary_key");
  w.StartArray();
  for (const auto& k : t.primary_key) write_string(w, k);
  w.EndArray();
  write_key(w, "rows");
  w.Int64(rows);
  write_key(w, "indexes");
  w.StartArray();
  if (!t.primary_key.empty()) {
    w.StartObject();
    write_key(w, "kind");
    write_string(w, "primary key");
    write_key(w, "columns");
    w.StartArray();
    for (const auto& k : t.primary_key) write_string(w, k);
    w.EndArray();
    w.EndObject();
  }
  for (const auto& i : t.indexes) {
    w.StartObject();
    write_key(w, "kind");
    write_string(w, "embedding");
    write_key(w, "name");
    write_string(w, i.name);
    write_key(w, "columns");
    w.StartArray();
    write_string(w, i.column);
    w.EndArray();
    write_key(w, "embedding");
    write_string(w, i.embedding);
    write_key(w, "metric");
    write_string(w, i.metric);
    write_key(w, "ef_search");
    w.Int(i.ef_search);
    w.EndObject();
  }
  w.EndArray();
  write_key(w, "columns");
  write_columns_json(w, t);
  write_key(w, "computed_order");
  w.StartArray();
  for (int i : order) write_string(w, t.columns[static_cast<size_t>(i)].name);
  w.EndArray();
  write_key(w, "service_file");
  if (sr.file.empty()) {
    w.Null();
  } else {
    write_string(w, sr.file);
  }
  write_key(w, "routes");
  w.StartArray();
  for (const auto& r : sr.routes) {
    w.StartObject();
    write_key(w, "service");
    write_string(w, r.service);
    write_key(w, "method");
    write_string(w, r.method);
    write_key(w, "path");
    write_string(w, r.path);
    write_key(w, "type");
    write_string(w, r.type);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  out.done_json();
  out.put('\n');
}

void print_describe_text(const TableDef& t, int64_t rows, const std::vector<int>& order,
                         const ServiceRoutes& sr) {
  std::string pk = t.primary_key.empty() ? "(none)" : join(t.primary_key, ", ");
  std::vector<std::string> all;
  if (!t.primary_key.empty()) all.push_back("primary key (" + join(t.primary_key, ", ") + ")");
  for (const auto& i : t.indexes) {
    all.push_back("embedding index " + i.name + " on " + i.column + ": " + i.embedding + ", metric " +
                  i.metric + ", ef_search " + std::to_string(i.ef_search));
  }
  std::string indexes = all.empty() ? "(none)" : join(all, "\n         ");
  std::printf("table '%s' (schema version %lld)\nrows: %lld\nprimary key: %s\nindexes: %s\n\n%s",
              t.path.c_str(), static_cast<long long>(t.version), static_cast<long long>(rows), pk.c_str(),
              indexes.c_str(), columns_text(t).c_str());
  if (!order.empty()) {
    std::printf("\ncomputed on insert, in this order (and on update when what they read changes):\n");
    for (int i : order) {
      const ColumnDef& c = t.columns[static_cast<size_t>(i)];
      std::printf("  %s = %s  (%s; %s)\n", c.name.c_str(), c.computed.c_str(),
                  std::string(type_name(c.type)).c_str(), reads_text(c).c_str());
    }
  }
  if (sr.file.empty()) {
    std::printf(
        "\nroutes: no service file found (pass --config FILE to list the routes serving this table)\n");
  } else if (!sr.error.empty()) {
    std::printf("\nroutes: %s cannot be read: %s\n", sr.file.c_str(), sr.error.c_str());
  } else if (sr.routes.empty()) {
    std::printf("\nroutes: none in %s serve this table\n", sr.file.c_str());
  } else {
    std::printf("\nroutes in %s:\n", sr.file.c_str());
    std::vector<std::vector<std::string>> rows_out;
    for (const auto& r : sr.routes) rows_out.push_back({"  " + r.method, r.path, r.type, r.service});
    std::string table = render_table({"  method", "path", "type", "service"}, rows_out, 80);
    std::fputs(table.c_str(), stdout);
  }
}

void run_describe(CliContext& ctx, const std::string& path, const std::string& config) {
  TableDef t = require_table(ctx, path);
  int64_t rows = ctx.store().count(t, Filter{}).take();
  std::vector<int> order;
  for (int i : computed_order(t).take()) {
    if (t.columns[static_cast<size_t>(i)].is_computed()) order.push_back(i);
  }
  ServiceRoutes sr = routes_for(ctx, config, t.path);
  if (ctx.json) {
    print_describe_json(t, rows, order, sr);
  } else {
    print_describe_text(t, rows, order, sr);
  }
}

}  // namespace

std::string columns_text(const TableDef& t) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& c : t.columns) {
    rows.push_back({c.name, std::string(type_name(c.type)), c.required ? "yes" : "",
                    t.is_pk(c.name) ? "yes" : "", c.computed});
  }
  return render_table({"column", "type", "required", "primary key", "computed"}, rows, 80);
}

void write_columns_json(JsonWriter& w, const TableDef& t) {
  w.StartArray();
  for (const auto& c : t.columns) {
    start_column_object(w, c.name, type_name(c.type));
    write_key(w, "required");
    w.Bool(c.required);
    write_key(w, "computed");
    if (c.is_computed()) {
      write_string(w, c.computed);
    } else {
      w.Null();
    }
    write_key(w, "primary_key");
    w.Bool(t.is_pk(c.name));
    w.EndObject();
  }
  w.EndArray();
}

CLI::App* add_describe_command(CLI::App& app, CliContext& ctx) {
  auto* cmd = app.add_subcommand("describe");
  auto o = std::make_shared<std::pair<std::string, std::string>>();
  cmd->add_option("PATH", o->first, "table path")->required();
  cmd->add_option("--config", o->second,
                  "service file whose routes to list (default: the file `pxt serve` would read, if any)");
  cmd->callback([&ctx, o] { run_describe(ctx, o->first, o->second); });
  return cmd;
}

CLI::App* add_columns_command(CLI::App& app, CliContext& ctx) {
  auto* cmd = app.add_subcommand("columns");
  auto path = std::make_shared<std::string>();
  cmd->add_option("PATH", *path, "table path")->required();
  cmd->callback([&ctx, path] {
    TableDef t = require_table(ctx, *path);
    if (ctx.json) {
      Out out;
      write_columns_json(out.json(), t);
      out.done_json();
      out.put('\n');
    } else {
      std::fputs(columns_text(t).c_str(), stdout);
    }
  });
  return cmd;
}

}  // namespace pxt
