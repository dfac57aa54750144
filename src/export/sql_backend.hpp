#pragma once
// The backend side of export_sql (internal to src/export): a connection that can describe a
// table and run one parameterised statement. One connection is used by one thread at a time.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "export/sql_url.hpp"
#include "store/model/types.hpp"

namespace pxt {

// How a target column stores values, as far as the compatibility check cares.
enum class TargetKind { Text, Int, Float, Numeric, Bool, Json, Timestamp, Date, Any, Other };

struct TargetColumn {
  std::string name;
  std::string type;  // as the database spells it ("integer", "TEXT"), for messages
  TargetKind kind = TargetKind::Other;
  bool not_null = false;
  bool has_default = false;  // a default, identity or autoincrement: may be left out of an insert
  bool generated = false;    // cannot be written
  int pk_position = 0;       // 1-based position in the primary key; 0: not part of it
};

struct TableShape {
  std::string qualified;  // "public.t" / "main.t", for messages
  std::vector<TargetColumn> columns;
};

class SqlConnection {
 public:
  virtual ~SqlConnection() = default;
  // The table's columns; nullopt when there is no such table. Errors: the query failed.
  virtual Result<std::optional<TableShape>> describe(const std::string& schema, const std::string& table) = 0;
  // Tables of the schema, for "did you mean". Errors: the query failed.
  virtual Result<std::vector<std::string>> table_names(const std::string& schema) = 0;
  // Runs one statement with values bound to its placeholders and returns the number of rows it
  // changed. On error, *sent says whether the statement may have reached the database.
  virtual Result<int64_t> execute(const std::string& sql, const std::vector<Value>& values, bool* sent) = 0;
  // False when the connection is known to be unusable (closed by the server, failed before).
  // Costs no round trip.
  virtual bool usable() = 0;
  // "$1" (PostgreSQL) or "?1" (SQLite).
  virtual std::string placeholder(int i) const = 0;
};

// Errors (io): the database cannot be reached or opened; the message names the target (redacted).
Result<std::unique_ptr<SqlConnection>> connect_postgres(const SqlUrl& url);
Result<std::unique_ptr<SqlConnection>> connect_sqlite(const SqlUrl& url);

}  // namespace pxt
