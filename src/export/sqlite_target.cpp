// export_sql's SQLite backend. The target file must exist (a typo must not create an empty
// database); the connection waits for locks held by other writers up to kBusyTimeoutMs.
#include <sqlite3.h>

#include <cctype>
#include <map>

#include "export/sql_backend.hpp"
#include "util/strings.hpp"

namespace pxt {

namespace {

constexpr int kBusyTimeoutMs = 5000;

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// SQLite's type affinity rules (https://sqlite.org/datatype3.html, 3.1), refined by the names
// people use for booleans, JSON and times, which SQLite itself stores as NUMERIC.
TargetKind sqlite_kind_of(const std::string& declared) {
  const std::string t = upper(declared);
  auto has = [&](const char* s) { return t.find(s) != std::string::npos; };
  if (has("INT")) return TargetKind::Int;
  if (has("CHAR") || has("CLOB") || has("TEXT")) return TargetKind::Text;
  if (t.empty() || has("BLOB")) return TargetKind::Any;
  if (has("REAL") || has("FLOA") || has("DOUB")) return TargetKind::Float;
  if (has("BOOL")) return TargetKind::Bool;
  if (has("JSON")) return TargetKind::Json;
  if (has("DATETIME") || has("TIMESTAMP")) return TargetKind::Timestamp;
  if (has("DATE")) return TargetKind::Date;
  return TargetKind::Numeric;
}

class SqliteConnection final : public SqlConnection {
 public:
  explicit SqliteConnection(sqlite3* db) : db_(db) {}
  SqliteConnection(const SqliteConnection&) = delete;
  SqliteConnection& operator=(const SqliteConnection&) = delete;
  ~SqliteConnection() override {
    for (auto& [sql, st] : cache_) sqlite3_finalize(st);
    sqlite3_close_v2(db_);
  }

  bool usable() override { return !broken_; }
  std::string placeholder(int i) const override { return "?" + std::to_string(i); }

  Result<int64_t> execute(const std::string& sql, const std::vector<Value>& values, bool* sent) override {
    *sent = false;
    sqlite3_stmt* st = nullptr;
    if (auto it = cache_.find(sql); it != cache_.end()) {
      st = it->second;
    } else {
      if (sqlite3_prepare_v3(db_, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &st, nullptr) != SQLITE_OK)
        return make_error(Errc::io, sqlite3_errmsg(db_));
      cache_.emplace(sql, st);
    }
    for (size_t i = 0; i < values.size(); ++i) bind(st, static_cast<int>(i + 1), values[i]);
    *sent = true;
    int rc = sqlite3_step(st);
    std::string error = rc == SQLITE_DONE || rc == SQLITE_ROW ? "" : sqlite3_errmsg(db_);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (!error.empty()) {
      // A statement prepared against a table that was dropped must not stay cached.
      cache_.erase(sql);
      sqlite3_finalize(st);
      return make_error(Errc::io, error);
    }
    return static_cast<int64_t>(sqlite3_changes(db_));
  }

  Result<std::optional<TableShape>> describe(const std::string& schema, const std::string& table) override {
    const std::string db = schema.empty() ? "main" : schema;
    std::string sql = "PRAGMA " + quote_ident(db) + ".table_xinfo(" + quote_literal(table) + ")";
    TableShape shape;
    shape.qualified = db + "." + table;
    bool autoinc_candidate = false;
    auto r = each_row(sql, [&](sqlite3_stmt* st) {
      TargetColumn c;
      c.name = text(st, 1);
      c.type = text(st, 2);
      c.kind = sqlite_kind_of(c.type);
      c.not_null = sqlite3_column_int(st, 3) != 0;
      c.has_default = sqlite3_column_type(st, 4) != SQLITE_NULL;
      c.pk_position = sqlite3_column_int(st, 5);
      c.generated = sqlite3_column_int(st, 6) >= 2;  // 2: virtual, 3: stored generated column
      if (c.pk_position > 0 && upper(c.type) == "INTEGER") autoinc_candidate = true;
      shape.columns.push_back(std::move(c));
    });
    if (!r) return r.error();
    if (shape.columns.empty()) return std::optional<TableShape>();
    // A lone INTEGER PRIMARY KEY is the rowid: SQLite assigns it when left out.
    int pk_count = 0;
    for (const auto& c : shape.columns) pk_count += c.pk_position > 0;
    if (autoinc_candidate && pk_count == 1)
      for (auto& c : shape.columns)
        if (c.pk_position > 0) c.has_default = true;
    return std::optional<TableShape>(std::move(shape));
  }

  Result<std::vector<std::string>> table_names(const std::string& schema) override {
    const std::string db = schema.empty() ? "main" : schema;
    std::vector<std::string> names;
    auto r = each_row("SELECT name FROM " + quote_ident(db) +
                          ".sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY 1",
                      [&](sqlite3_stmt* st) { names.push_back(text(st, 0)); });
    if (!r) return r.error();
    return names;
  }

 private:
  static std::string text(sqlite3_stmt* st, int col) {
    const unsigned char* t = sqlite3_column_text(st, col);
    return t ? reinterpret_cast<const char*>(t) : "";
  }

  static void bind(sqlite3_stmt* st, int i, const Value& v) {
    if (const auto* n = std::get_if<int64_t>(&v))
      sqlite3_bind_int64(st, i, *n);
    else if (const auto* d = std::get_if<double>(&v))
      sqlite3_bind_double(st, i, *d);
    else if (const auto* b = std::get_if<bool>(&v))
      sqlite3_bind_int(st, i, *b ? 1 : 0);
    else if (const auto* s = std::get_if<std::string>(&v))
      sqlite3_bind_text(st, i, s->data(), static_cast<int>(s->size()), SQLITE_TRANSIENT);
    else
      sqlite3_bind_null(st, i);
  }

  template <class F>
  Result<void> each_row(const std::string& sql, F&& f) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) {
      std::string e = sqlite3_errmsg(db_);
      sqlite3_finalize(st);
      return make_error(Errc::io, e);
    }
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) f(st);
    std::string e = rc == SQLITE_DONE ? "" : sqlite3_errmsg(db_);
    sqlite3_finalize(st);
    if (!e.empty()) return make_error(Errc::io, e);
    return {};
  }

  sqlite3* db_;
  bool broken_ = false;
  std::map<std::string, sqlite3_stmt*> cache_;
};

}  // namespace

Result<std::unique_ptr<SqlConnection>> connect_sqlite(const SqlUrl& url) {
  sqlite3* db = nullptr;
  int rc =
      sqlite3_open_v2(url.sqlite_path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string why = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close_v2(db);
    return make_error(Errc::io, "cannot open SQLite database '" + url.sqlite_path + "' (" + url.redacted +
                                    "): " + why + " (the file must exist)");
  }
  sqlite3_busy_timeout(db, kBusyTimeoutMs);
  return std::unique_ptr<SqlConnection>(new SqliteConnection(db));
}

}  // namespace pxt
