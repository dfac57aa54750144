#pragma once
// RouteSpec / ServiceSpec: one struct for every source (TOML service files, the single-endpoint
// CLI, tests). BoundRoute is a RouteSpec validated against the catalog, ready to serve.
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "store/model/schema.hpp"
#include "store/models/uses.hpp"

namespace pxt {

class SqlExport;  // export/sql_export.hpp

enum class RouteType { Insert, Update, Delete, Query, Compute };
std::string_view route_type_name(RouteType t);  // "insert", ...

struct ExportSqlSpec {
  std::string db_connect;
  std::string table;
  std::string db_schema;          // empty: the target's default
  std::string method = "insert";  // insert | update | merge
};

struct RouteSpec {
  RouteType type = RouteType::Insert;
  std::string path;
  bool background = false;
  std::string table;                               // insert, update, delete, compute
  std::optional<std::vector<std::string>> inputs;  // nullopt: the reference's default
  std::vector<std::string> uploadfile_inputs;
  std::optional<std::vector<std::string>> outputs;  // nullopt: all columns
  bool return_fileresponse = false;
  std::optional<ExportSqlSpec> export_sql;
  std::optional<std::vector<std::string>> match_columns;  // delete; nullopt: primary key
  std::string query;                                      // query routes: "mod.sub.name" or "mod.sub:name"
  bool one_row = false;
  std::string method = "post";  // query routes: "get" | "post"
  std::string location;         // "file:line" of the entry, or "command line"
  // "file:line" of each key given in a TOML entry, so later checks (e.g. against the catalog)
  // can point at the exact line; keys not listed fall back to `location`.
  std::map<std::string, std::string> key_locations;
};

struct ServiceSpec {
  std::string name;
  std::string title = "Pixeltable";
  std::string prefix;
  std::string host = "0.0.0.0";
  int port = 8000;
  std::vector<std::string> modules;
  std::vector<RouteSpec> routes;
  std::string config_file;  // where it was read from ("" for the CLI form)
  std::string location;     // "file:line" of the [[service]] entry, or "command line"
  std::map<std::string, std::string> key_locations;  // as in RouteSpec
  // Limits and later-issue settings ([service] keys beyond the reference).
  // 32 MB, PocketBase's cap: a prompt with a pasted document fits (Pixeltable sets no limit).
  int64_t max_body_mb = 32;
  int64_t max_upload_mb = 100;
  // Background jobs (serve/jobs/jobs.hpp).
  int64_t job_workers = 0;        // 0: the number of cores
  int64_t job_queue_max = 10000;  // waiting jobs beyond which a background route answers 503
  int64_t job_ttl_s = 86400;      // finished jobs are kept this long
  int64_t job_shutdown_s = 10;    // how long shutdown waits for running jobs
  int64_t job_lease_s = 15;       // shared stores: a silent process's running jobs are interrupted after this
  // Security and limits (README "Security and limits"). Tokens are secrets: never print them.
  std::vector<std::string> auth_tokens;   // empty: no auth
  bool docs_public = false;               // /openapi.json readable without a token
  std::vector<std::string> cors_origins;  // empty: no CORS headers
  std::string rate_limit;                 // "N/s" | "N/m" | "N/h"; empty: unlimited
  bool rate_limit_shared = false;         // shared stores: one bucket per client for every process
  int64_t read_timeout_s = 10;            // slow-client limit, see serve/http/reactor.hpp
  // Clients whose Host and X-Forwarded-* headers are believed (serve/http/forwarded.hpp); empty:
  // none, URLs are built from the server's own address.
  std::vector<std::string> forwarded_allow_ips;
  std::string durability = "normal";  // "normal": survives a process crash; "full": also power loss
  int64_t write_timeout_ms = 5000;    // a write waiting longer for the store's lock gets 503
  // Values and hostile input (README "Security and limits", doc/timestamps.md).
  std::string time_zone;         // naive Timestamps and answers; empty: the home's (default UTC)
  int64_t max_image_pixels = 0;  // 0: store/media/image_limits.hpp's default (Pillow's bomb limit)
  int64_t max_rows = 100000;     // query routes answer at most this many rows; 0: no cap
};

// A field of a request (JSON key, form field or query parameter).
struct RequestField {
  std::string name;
  ColumnType type = ColumnType::String;
  bool required = false;               // must be present in the request
  bool nullable = true;                // null accepted
  std::optional<Value> default_value;  // query parameters with defaults
  // Int fields: the least value accepted (pydantic's ge); a query parameter used in LIMIT or
  // OFFSET gets 0, since SQLite reads a negative LIMIT as no limit at all.
  std::optional<int64_t> minimum;
};

struct BoundRoute {
  RouteSpec spec;
  std::string full_path;                // prefix + path
  std::string http_method;              // "POST" or "GET"
  TableDef table;                       // insert, update, delete, compute (the snapshot at registration)
  QueryDef query;                       // query routes
  std::vector<RequestField> fields;     // body/query fields in order: insert/compute: inputs;
                                        // update: primary key then inputs; delete: match
                                        // columns; query: parameters
  std::vector<RequestField> uploads;    // multipart file fields
  std::vector<ResultColumn> outputs;    // response columns in order
  std::shared_ptr<SqlExport> exporter;  // export_sql: validated target, shared pool; else null
  // The models the route's table (computed columns, embedding indexes) or query calls, with
  // literal names (store/models/uses.hpp); checked against the configured providers when bound.
  std::vector<models::ModelUse> model_uses;
};

}  // namespace pxt
