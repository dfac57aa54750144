#pragma once
// export_sql: writes each row a route answers into a table of an external PostgreSQL or SQLite
// database. A target is validated once, when the route is registered (the table exists, every
// column fits, update/merge have a usable primary key); requests then only write.
//
// Connections: one pool per distinct db_connect, shared by every route that uses it. A
// connection found broken before a statement is sent is replaced and the statement sent once
// more; a failure after sending is never retried, since the row may have been applied.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "store/model/types.hpp"

namespace pxt {

enum class ExportMethod { Insert, Update, Merge };

// What a route asks for (its [routes.export_sql] table, after ${VAR} substitution).
struct ExportTarget {
  std::string db_connect;
  std::string table;
  std::string db_schema;  // empty: the database's default (PostgreSQL: current_schema(); SQLite: main)
  std::string method = "insert";
};

// One column of the row written: the route's outputs, in response order. type nullopt: unknown.
struct ExportColumn {
  std::string name;
  std::optional<ColumnType> type;
};

class SqlExport {
 public:
  virtual ~SqlExport() = default;
  // Writes one row: values[i] belongs to columns[i]; media values already rendered as URLs.
  // Errors: not_found when an update matches no target row (an update does not insert); io for
  // every other failure. The message names the target (password redacted) and the reason.
  // Thread-safe.
  virtual Result<void> write_row(const std::vector<Value>& values) = 0;
  // "table 'public.t' in postgresql://u:***@h/db", for messages. Never holds a password.
  virtual const std::string& target_name() const = 0;
};

// Connects (or reuses the pool of this db_connect) and validates the target for these columns.
// Errors (invalid_argument): unsupported URL, unreachable database, missing table or column,
// incompatible type, missing primary key; each message names the target and the column, never
// the password. Thread-safe.
Result<std::shared_ptr<SqlExport>> open_sql_export(const ExportTarget& target,
                                                   const std::vector<ExportColumn>& columns);

// Failed writes per target since start ("table 't' in postgresql://u:***@h/db" -> count), for
// /metrics. Thread-safe.
std::vector<std::pair<std::string, int64_t>> export_failure_counts();

}  // namespace pxt
