// `pxt serve [NAME]` (a service from TOML) and `pxt serve insert|update|delete|query|compute`
// (one endpoint from flags). Both produce a ServiceSpec; everything after that is shared:
// bind_routes, then --dry-run output or run_server. No business logic here.
#include "cli/serve_cmd.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <initializer_list>
#include <memory>

#include "cli/commands.hpp"
#include "serve/config/config.hpp"
#include "serve/http/server.hpp"
#include "serve/media/janitor.hpp"
#include "store/media/image_limits.hpp"
#include "store/model/time_zone.hpp"
#include "util/json.hpp"

namespace pxt {

namespace {

struct ServeState {
  // service
  std::string name, config, host, prefix, title, log_format = "text";
  int port = 0;
  std::vector<std::string> modules, auth_tokens, forwarded_allow_ips;
  bool dry_run = false;
  CLI::App* serve = nullptr;
  CLI::App* chosen = nullptr;  // the single-endpoint form used, if any
  // single-endpoint route
  std::string table, path, query, method = "post";
  std::vector<std::string> inputs, outputs, uploads, match_columns;
  bool background = false, return_fileresponse = false, one_row = false;
  std::string sql_db_connect, sql_table, sql_db_schema, sql_method;
  std::vector<std::pair<RouteType, CLI::App*>> route_commands;

  // Service flags exist on `serve` and on each single-endpoint form.
  bool given(const char* flag) const { return serve->count(flag) > 0 || (chosen && chosen->count(flag) > 0); }
};

// The service flags, on `serve` and on each single-endpoint form (so each --help lists them).
void add_service_flags(CLI::App* cmd, ServeState& st) {
  cmd->add_option("--config", st.config,
                  "service file ([[service]] entries or a pyproject.toml); with insert|update|... only its "
                  "service settings (host, port, prefix, title, modules) are used");
  cmd->add_option("--host", st.host, "bind address (overrides the file's; default 0.0.0.0)");
  cmd->add_option("--port", st.port, "bind port (overrides the file's; default 8000)")
      ->check(CLI::Range(1, 65535));
  cmd->add_option("--prefix", st.prefix, "URL prefix for every route, e.g. /v1");
  cmd->add_option("--title", st.title, "title shown in the OpenAPI docs");
  cmd->add_option("--modules", st.modules, "schema modules to load first (e.g. myapp.schema)");
  cmd->add_option("--auth-token", st.auth_tokens,
                  "require 'Authorization: Bearer TOKEN' on every route but /healthz (repeatable; adds to "
                  "the file's auth_tokens); pass it from the environment, e.g. --auth-token \"$API_TOKEN\"")
      ->allow_extra_args(false);
  cmd->add_option("--forwarded-allow-ips", st.forwarded_allow_ips,
                  "proxy addresses or networks whose Host and X-Forwarded-Proto/-Host are believed when "
                  "building URLs (comma-separated, e.g. 127.0.0.1,10.0.0.0/8, or '*'; replaces the file's "
                  "forwarded_allow_ips; default: none)")
      ->delimiter(',')
      ->allow_extra_args(false);
  cmd->add_flag("--dry-run", st.dry_run, "validate and print the routes, then exit without serving");
  cmd->add_option("--log-format", st.log_format, "access log format")->check(CLI::IsMember({"text", "json"}));
}

void add_export_sql_flags(CLI::App* cmd, ServeState& st) {
  cmd->add_option("--export-sql-db-connect", st.sql_db_connect,
                  "connection string of an external SQL target");
  cmd->add_option("--export-sql-table", st.sql_table, "target table (required with --export-sql-db-connect)");
  cmd->add_option("--export-sql-db-schema", st.sql_db_schema, "schema of the target table");
  cmd->add_option("--export-sql-method", st.sql_method, "how rows are written (default: insert)")
      ->check(CLI::IsMember({"insert", "update", "merge"}));
}

void add_route_command(CLI::App* serve, ServeState& st, RouteType type, const char* help,
                       std::initializer_list<const char*> examples) {
  CLI::App* cmd = serve->add_subcommand(std::string(route_type_name(type)), help);
  std::string footer = examples.size() == 1 ? "Example:" : "Examples:";
  for (const char* e : examples) footer += std::string("\n  ") + e;
  cmd->footer(footer);
  st.route_commands.emplace_back(type, cmd);
  if (type == RouteType::Query)
    cmd->add_option("--query", st.query, "query to serve: module.name or module:name")->required();
  else
    cmd->add_option("--table", st.table, "table path (dir.table or dir/table)")->required();
  cmd->add_option("--path", st.path, "URL path of the endpoint, e.g. /generate")->required();
  if (type != RouteType::Delete)
    cmd->add_option("--inputs", st.inputs, "request fields (default: per route type)");
  if (type == RouteType::Insert || type == RouteType::Query || type == RouteType::Compute)
    cmd->add_option("--uploadfile-inputs", st.uploads, "media columns or parameters sent as file uploads");
  if (type != RouteType::Delete && type != RouteType::Query)
    cmd->add_option("--outputs", st.outputs, "response columns (default: all columns)");
  if (type != RouteType::Delete)
    cmd->add_flag("--return-fileresponse", st.return_fileresponse,
                  "return the single media output as a file");
  cmd->add_flag("--background", st.background, "run as a background job and return a job handle");
  if (type == RouteType::Delete)
    cmd->add_option("--match-columns", st.match_columns, "columns to match (default: primary key)");
  if (type == RouteType::Query) {
    cmd->add_flag("--one-row", st.one_row, "return exactly one row (404 when none, 409 when several)");
    cmd->add_option("--method", st.method, "HTTP method (default: post)")
        ->check(CLI::IsMember({"get", "post"}));
  }
  if (type == RouteType::Insert || type == RouteType::Update || type == RouteType::Compute)
    add_export_sql_flags(cmd, st);
  add_service_flags(cmd, st);
}

RouteSpec route_from_flags(const ServeState& st, RouteType type, const CLI::App* cmd) {
  RouteSpec r;
  r.type = type;
  r.location = "command line";
  r.table = st.table;
  r.path = st.path;
  r.query = st.query;
  r.method = st.method;
  r.background = st.background;
  r.return_fileresponse = st.return_fileresponse;
  r.one_row = st.one_row;
  r.uploadfile_inputs = st.uploads;
  auto given = [&](const char* flag) {
    const CLI::Option* o = cmd->get_option_no_throw(flag);  // each form has only its own flags
    return o && o->count() > 0;
  };
  if (given("--inputs")) r.inputs = st.inputs;
  if (given("--outputs")) r.outputs = st.outputs;
  if (given("--match-columns")) r.match_columns = st.match_columns;
  bool any_sql =
      given("--export-sql-table") || given("--export-sql-db-schema") || given("--export-sql-method");
  if (given("--export-sql-db-connect")) {
    if (!given("--export-sql-table")) throw UsageError("--export-sql-db-connect requires --export-sql-table");
    r.export_sql = ExportSqlSpec{st.sql_db_connect, st.sql_table, st.sql_db_schema,
                                 st.sql_method.empty() ? "insert" : st.sql_method};
  } else if (any_sql) {
    throw UsageError(
        "--export-sql-table, --export-sql-db-schema and --export-sql-method require --export-sql-db-connect");
  }
  return r;
}

// Service-level flags override the file's settings; errors then point at the command line.
void apply_overrides(const ServeState& st, ServiceSpec& s) {
  auto set = [&](const char* flag, const char* key, auto& field, const auto& value) {
    if (!st.given(flag)) return;
    field = value;
    s.key_locations[key] = "command line";
  };
  set("--host", "host", s.host, st.host);
  set("--port", "port", s.port, st.port);
  set("--prefix", "prefix", s.prefix, st.prefix);
  set("--title", "title", s.title, st.title);
  for (const auto& t : st.auth_tokens) {
    s.auth_tokens.push_back(t);
    s.key_locations["auth_tokens"] = "command line";
  }
  if (st.given("--forwarded-allow-ips")) {
    s.forwarded_allow_ips = st.forwarded_allow_ips;
    s.key_locations["forwarded_allow_ips"] = "command line";
  }
  for (const auto& m : st.modules) {
    if (std::find(s.modules.begin(), s.modules.end(), m) != s.modules.end()) continue;
    s.modules.push_back(m);
    s.key_locations.emplace("modules", "command line");  // keeps the file's line if it has one
  }
}

ServiceSpec service_from_args(ServeState& st, CliContext& ctx) {
  for (const auto& [type, cmd] : st.route_commands) {
    if (!cmd->parsed()) continue;
    st.chosen = cmd;
    if (!st.name.empty())
      throw UsageError("a service name ('" + st.name + "') cannot be combined with `pxt serve " +
                       std::string(route_type_name(type)) + "`");
    ServiceSpec s;
    s.name = "pxt-serve";
    s.location = "command line";
    if (!st.config.empty()) {  // take the file's service settings, serve only this route
      s = select_service(load_services(st.config).take(), "").take();
      s.routes.clear();
    }
    s.routes.push_back(route_from_flags(st, type, cmd));
    return s;
  }
  std::string file = st.config.empty() ? find_service_config(ctx.home()).take() : st.config;
  return select_service(load_services(file).take(), st.name).take();
}

// The errno names Pixeltable's CLI reports in its JSON error record (it does EADDRINUSE; the
// others a script may meet binding a port are named the same way).
const char* bind_errno_name(int err) {
  switch (err) {
    case EADDRINUSE:
      return "EADDRINUSE";
    case EACCES:
      return "EACCES";
    case EADDRNOTAVAIL:
      return "EADDRNOTAVAIL";
    default:
      return nullptr;
  }
}

// Pixeltable's --json error record on stderr: {"status": "error", ["code": ..., "port": N,]
// "message": ...}.
void print_json_error(const std::string& message, const char* code = nullptr, int port = 0) {
  JsonBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  write_key(w, "status");
  write_string(w, "error");
  if (code != nullptr) {
    write_key(w, "code");
    write_string(w, code);
    write_key(w, "port");
    w.Int(port);
  }
  write_key(w, "message");
  write_string(w, message);
  w.EndObject();
  std::fprintf(stderr, "%s\n", buf.GetString());
}

// Reports why serving failed: JSON under --json (naming the errno of a failed bind), else the
// CLI's "pxt: error: ...".
void report_serve_error(const CliContext& ctx, const ServiceSpec& service, const ServeOutcome& outcome) {
  const std::string& message = outcome.status.error().message;
  if (!ctx.json) return print_error(message);
  const char* code = bind_errno_name(outcome.bind_errno);
  print_json_error(message, code, service.port);
}

void run_serve(ServeState& st, CliContext& ctx) {
  ServiceSpec service = service_from_args(st, ctx);
  apply_overrides(st, service);
  // Bad values are left to bind_routes, which reports them with their file:line.
  if (service.durability == "normal" || service.durability == "full")
    ctx.store_options.durability = service.durability;
  if (service.write_timeout_ms >= 1 && service.write_timeout_ms <= 3600000)
    ctx.store_options.busy_timeout_ms = static_cast<int>(service.write_timeout_ms);
  configure_models(ctx.home(), service.config_file);
  ctx.models_configured = true;
  if (service.job_lease_s >= 1 && service.job_lease_s <= 86400)
    ctx.store_options.lease_ms = static_cast<int>(service.job_lease_s * 1000);
  Store& store = ctx.store();
  auto routes = bind_routes(store, service).take();
  // The service's values and limits (checked by bind_routes with their file:line).
  if (!service.time_zone.empty()) set_default_time_zone(TimeZone::load(service.time_zone).take());
  if (service.max_image_pixels > 0) media::set_max_image_pixels(service.max_image_pixels);
  if (st.dry_run) {
    std::string out =
        ctx.json ? describe_routes_json(service, routes) : describe_routes_text(service, routes);
    std::fwrite(out.data(), 1, out.size(), stdout);
    return;
  }
  ServerOptions options;
  options.json_banner = ctx.json;
  options.log_format = st.log_format;
  // Before serving: the orphan sweep's basis must predate every file this process writes. The
  // sweep itself runs once the server listens.
  MediaJanitor janitor(store);
  options.on_listening = [&janitor] { janitor.server_listening(); };
  ServeOutcome outcome = run_server(store, service, routes, options);
  if (!outcome.status) report_serve_error(ctx, service, outcome);
  if (outcome.exit_now) {
    // A job is still running: the store cannot be closed under it (its row is already marked
    // interrupted; SQLite rolls back its unfinished write).
    std::fflush(stdout);
    std::fflush(stderr);
    std::_Exit(outcome.status ? *outcome.status : 1);
  }
  ctx.exit_status = outcome.status ? *outcome.status : 1;
}

}  // namespace

CLI::App* add_serve_command(CLI::App& app, CliContext& ctx) {
  auto st = std::make_shared<ServeState>();
  CLI::App* serve = app.add_subcommand("serve", "serve tables and queries as HTTP endpoints");
  st->serve = serve;
  serve->add_option("NAME", st->name,
                    "the service's `name` (optional when there is one); read from --config FILE, else the "
                    "nearest pyproject.toml with [[tool.pixeltable.service]], else $PXT_HOME/config.toml");
  add_service_flags(serve, *st);
  add_route_command(
      serve, *st, RouteType::Insert, "serve one insert endpoint",
      {"pxt serve insert --table demo.prompts --path /generate --inputs id prompt --outputs id shout",
       "pxt serve insert --table demo.images --path /resize --uploadfile-inputs image "
       "--inputs width height --outputs resized --return-fileresponse",
       "pxt serve insert --table demo.prompts --path /generate --background --port 8001"});
  add_route_command(serve, *st, RouteType::Update, "serve one update endpoint (by primary key)",
                    {"pxt serve update --table demo.prompts --path /update --inputs prompt"});
  add_route_command(serve, *st, RouteType::Delete, "serve one delete endpoint",
                    {"pxt serve delete --table demo.prompts --path /delete",
                     "pxt serve delete --table demo.prompts --path /delete-by-tag --match-columns tag"});
  add_route_command(serve, *st, RouteType::Query, "serve one query endpoint",
                    {"pxt serve query --query schema.search --path /search --method get --modules schema",
                     "pxt serve query --query myapp.queries.search_docs --path /search"});
  add_route_command(serve, *st, RouteType::Compute, "serve one compute endpoint (evaluates, stores nothing)",
                    {"pxt serve compute --table demo.prompts --path /preview --inputs prompt"});
  serve->callback([st, &ctx] {
    if (!ctx.json) return run_serve(*st, ctx);
    // With --json, scripts get errors as JSON on stderr too (Pixeltable's record).
    try {
      run_serve(*st, ctx);
    } catch (const Failure& e) {
      print_json_error(e.what());
      ctx.exit_status = 1;
    } catch (const UsageError& e) {
      print_json_error(e.what());
      ctx.exit_status = 2;
    }
  });
  return serve;
}

}  // namespace pxt
