#include "store/sqlite/db.hpp"

#include <cctype>
#include <cstring>
#include <filesystem>

#include "store/functions/registry.hpp"
#include "store/media/media.hpp"
#include "util/strings.hpp"

namespace pxt::sqlite {

namespace {

constexpr size_t kMaxCachedStatements = 512;

void value_from_sqlite(sqlite3_value* v, Value& out) {
  switch (sqlite3_value_type(v)) {
    case SQLITE_INTEGER:
      out = static_cast<int64_t>(sqlite3_value_int64(v));
      break;
    case SQLITE_FLOAT:
      out = sqlite3_value_double(v);
      break;
    case SQLITE_TEXT:
      out = std::string(reinterpret_cast<const char*>(sqlite3_value_text(v)),
                        static_cast<size_t>(sqlite3_value_bytes(v)));
      break;
    case SQLITE_BLOB: {  // a Vector
      const void* p = sqlite3_value_blob(v);
      out = std::string(p ? static_cast<const char*>(p) : "", static_cast<size_t>(sqlite3_value_bytes(v)));
      break;
    }
    default:
      out = std::monostate{};
  }
}

// `blob`: the function returns a Vector, which SQLite stores as a BLOB.
void result_value(sqlite3_context* ctx, const Value& v, bool blob) {
  switch (v.index()) {
    case 0:
      sqlite3_result_null(ctx);
      break;
    case 1:
      sqlite3_result_int64(ctx, std::get<int64_t>(v));
      break;
    case 2:
      sqlite3_result_double(ctx, std::get<double>(v));
      break;
    case 3:
      sqlite3_result_int(ctx, std::get<bool>(v) ? 1 : 0);
      break;
    default: {
      const auto& s = std::get<std::string>(v);
      if (blob) {
        sqlite3_result_blob64(ctx, s.data(), s.size(), SQLITE_TRANSIENT);
      } else {
        sqlite3_result_text64(ctx, s.data(), s.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
      }
    }
  }
}

// What a connection hands each of its functions.
struct Registered {
  std::shared_ptr<const SqlFunction> fn;
  std::filesystem::path media_dir;
};

// The last failure of a pxt function on this thread, for function_fault(): the message SQLite
// was given and the function's own error.
struct FunctionFailure {
  std::string message;  // as given to sqlite3_result_error
  Error error;          // the function's own
};
thread_local std::optional<FunctionFailure> t_function_failure;

void call_function(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  const auto& reg = *static_cast<Registered*>(sqlite3_user_data(ctx));
  const auto& fn = reg.fn;
  std::vector<Value> args(static_cast<size_t>(argc));
  FunctionContext fctx{reg.media_dir, current_created_files()};
  for (int i = 0; i < argc; ++i) {
    value_from_sqlite(argv[i], args[static_cast<size_t>(i)]);
    if (i < 32 && sqlite3_value_type(argv[i]) == SQLITE_BLOB) fctx.blob_args |= 1u << i;
  }
  try {
    Result<Value> r = call_sql_function(*fn, fctx, args);
    if (!r.ok()) {
      // Functions whose messages already name them (the model and vector functions) keep theirs.
      const std::string& m = r.error().message;
      std::string msg = m.rfind(fn->name + "(): ", 0) == 0 ? m : fn->name + "(): " + m;
      sqlite3_result_error(ctx, msg.c_str(), static_cast<int>(msg.size()));
      t_function_failure = FunctionFailure{std::move(msg), r.error()};
      return;
    }
    result_value(ctx, *r, fn->result_type == ColumnType::Vector);
  } catch (const std::exception& e) {
    std::string msg = fn->name + "(): " + e.what();
    sqlite3_result_error(ctx, msg.c_str(), static_cast<int>(msg.size()));
  }
}

void register_functions(sqlite3* db, const std::string& media_dir) {
  // Each connection holds a reference to its functions; SQLite releases it on close.
  for (const auto& fn : sql_functions()) {
    int flags = SQLITE_UTF8 | (fn->deterministic ? SQLITE_DETERMINISTIC : 0);
    sqlite3_create_function_v2(db, fn->name.c_str(), fn->arity, flags, new Registered{fn, media_dir},
                               call_function, nullptr, nullptr,
                               [](void* p) { delete static_cast<Registered*>(p); });
  }
}

}  // namespace

Result<std::unique_ptr<Conn>> Conn::open(const ConnSettings& settings) {
  // Memory statistics put a global mutex around every SQLite allocation; pxt never reads them.
  // This only takes effect before SQLite initialises (it is harmless afterwards).
  static const int memstatus_off = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  (void)memstatus_off;
  std::unique_ptr<Conn> c(new Conn());
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  int rc = sqlite3_open_v2(settings.file.c_str(), &c->db_, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = c->db_ ? sqlite3_errmsg(c->db_) : sqlite3_errstr(rc);
    return make_error(Errc::io, "cannot open the store '" + settings.file + "': " + msg);
  }
  sqlite3_extended_result_codes(c->db_, 1);
  c->busy_timeout_ms_ = settings.busy_timeout_ms;
  sqlite3_busy_timeout(c->db_, settings.busy_timeout_ms);
  std::string pragmas = std::string("PRAGMA synchronous=") + (settings.synchronous_full ? "FULL" : "NORMAL") +
                        "; PRAGMA temp_store=MEMORY; PRAGMA mmap_size=1073741824; PRAGMA cache_size=-16000; "
                        // journal_size_limit: above the WAL's bound (store/sqlite/checkpoint.cpp). LIKE
                        // compares case-sensitively, as PostgreSQL and Python do (store/functions/text.cpp).
                        "PRAGMA journal_size_limit=167772160; PRAGMA case_sensitive_like=ON;";
  PXT_CHECK(c->exec(pragmas.c_str()));
  if (settings.wal_hook) {
    sqlite3_wal_hook(c->db_, settings.wal_hook, settings.wal_hook_arg);
  } else {
    sqlite3_wal_autocheckpoint(c->db_, 0);
  }
  register_functions(c->db_, settings.media_dir);
  // The JSON table functions are connected on first use, which writes their declaration through
  // the schema table; a restricted statement (a named query) may not touch it, so they are
  // connected here, once per connection (they stay connected across schema changes).
  PXT_CHECK(c->exec("SELECT 1 FROM json_each('[]'), json_tree('[]')"));
  sqlite3_set_authorizer(c->db_, &Conn::authorize, c.get());
  return c;
}

Conn::~Conn() {
  for (auto& [sql, s] : cache_) sqlite3_finalize(s);
  sqlite3_close_v2(db_);
}

namespace {

// Error text for SQL left after the first statement, or "" when only whitespace and ';' remain.
std::string trailing_sql(const char* tail, const char* end) {
  std::string_view rest(tail, static_cast<size_t>(end - tail));
  while (!rest.empty() && (rest.front() == ';' || std::isspace(static_cast<unsigned char>(rest.front())))) {
    rest.remove_prefix(1);
  }
  if (rest.empty()) return {};
  return "only one SQL statement is allowed; found more after the first: '" +
         std::string(rest.substr(0, 40)) + "'";
}

}  // namespace

int Conn::authorize(void* self, int action, const char* a, const char* b, const char*, const char*) {
  if (!static_cast<Conn*>(self)->restricted_) return SQLITE_OK;
  // Table names arrive in a for reads and most actions; the column (b) is irrelevant here.
  (void)b;
  // The embeddings of indexes ("pxt$idx_<id>") are data, read by queries that use the index.
  if (action == SQLITE_READ && a && std::string_view(a).substr(0, 8) == "pxt$idx_") return SQLITE_OK;
  if ((action == SQLITE_READ || action == SQLITE_INSERT || action == SQLITE_UPDATE ||
       action == SQLITE_DELETE) &&
      a &&
      (std::string_view(a).substr(0, kCatalogPrefix.size()) == kCatalogPrefix ||
       std::string_view(a).substr(0, 7) == "sqlite_")) {
    return SQLITE_DENY;
  }
  return SQLITE_OK;
}

Result<sqlite3_stmt*> Conn::cached(const std::string& sql, bool restricted) {
  std::string key = restricted ? "\x01" + sql : sql;
  auto it = cache_.find(key);
  if (it != cache_.end()) return it->second;
  if (cache_.size() >= kMaxCachedStatements) {
    for (auto& [k, s] : cache_) sqlite3_finalize(s);
    cache_.clear();
    keyed_.clear();
  }
  sqlite3_stmt* s = nullptr;
  const char* tail = nullptr;
  restricted_ = restricted;
  int rc = sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &s,
                              &tail);
  restricted_ = false;
  if (rc != SQLITE_OK) return make_error(Errc::invalid_argument, sqlite3_errmsg(db_));
  if (!s) return make_error(Errc::invalid_argument, "empty SQL statement");
  if (std::string extra = trailing_sql(tail, sql.c_str() + sql.size()); !extra.empty()) {
    sqlite3_finalize(s);
    return make_error(Errc::invalid_argument, extra);
  }
  cache_.emplace(std::move(key), s);
  return s;
}

Result<OwnedStmt> Conn::prepare(std::string_view sql, bool restricted) {
  sqlite3_stmt* s = nullptr;
  const char* tail = nullptr;
  restricted_ = restricted;
  int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &s, &tail);
  restricted_ = false;
  if (rc != SQLITE_OK) return make_error(Errc::invalid_argument, sqlite3_errmsg(db_));
  OwnedStmt owned(s);
  if (!owned) return make_error(Errc::invalid_argument, "empty SQL statement");
  if (std::string extra = trailing_sql(tail, sql.data() + sql.size()); !extra.empty()) {
    return make_error(Errc::invalid_argument, extra);
  }
  return owned;
}

Result<void> Conn::exec(const char* sql) {
  char* msg = nullptr;
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &msg);
  if (rc == SQLITE_OK) return {};
  sqlite3_free(msg);
  return map_error(db_, rc);
}

Result<int64_t> Conn::scalar_int(const std::string& sql) {
  PXT_TRY(sqlite3_stmt * s, cached(sql));
  StmtUse use(s);
  int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW) return static_cast<int64_t>(sqlite3_column_int64(s, 0));
  if (rc == SQLITE_DONE) return int64_t{0};
  return map_error(db_, rc);
}

Error busy_error(int timeout_ms) {
  return make_error(Errc::busy, "the store is locked by another process (waited " +
                                    std::to_string(timeout_ms) + " ms); try again");
}

std::optional<Error> function_fault(sqlite3* db) {
  if (!t_function_failure || db == nullptr) return std::nullopt;
  FunctionFailure f = std::move(*t_function_failure);
  t_function_failure.reset();
  if (f.message != sqlite3_errmsg(db)) return std::nullopt;
  const Errc c = f.error.code;
  if (c != Errc::no_space && c != Errc::io && c != Errc::unsupported && f.error.pxt_code == ErrorCode::none)
    return std::nullopt;
  f.error.message = std::move(f.message);
  return std::move(f.error);
}

Error map_error(sqlite3* db, int rc, std::string_view what) {
  std::string prefix = what.empty() ? std::string() : std::string(what) + ": ";
  int primary = rc & 0xff;
  std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  if (primary == SQLITE_ERROR) {
    if (auto fault = function_fault(db)) {
      fault->message = prefix + msg;
      return std::move(*fault);
    }
  }
  if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) {
    return make_error(Errc::busy, prefix + "the store is locked by another process; try again (" + msg + ")");
  }
  if (primary == SQLITE_CONSTRAINT || primary == SQLITE_MISMATCH || primary == SQLITE_RANGE ||
      primary == SQLITE_TOOBIG || primary == SQLITE_ERROR) {
    return make_error(Errc::invalid_argument, prefix + msg);
  }
  // A full disk is told apart from other I/O failures: it is the operator's to fix, not a bug.
  if (primary == SQLITE_FULL ||
      (primary == SQLITE_IOERR && db && media::is_no_space(sqlite3_system_errno(db)))) {
    return make_error(Errc::no_space, prefix + "the disk is full (" + msg + ")");
  }
  if (primary == SQLITE_IOERR || primary == SQLITE_CANTOPEN || primary == SQLITE_READONLY ||
      primary == SQLITE_PERM) {
    return make_error(Errc::io, prefix + msg);
  }
  return make_error(Errc::internal, prefix + msg);
}

int bind_value(sqlite3_stmt* s, int i, const Value& v) {
  switch (v.index()) {
    case 0:
      return sqlite3_bind_null(s, i);
    case 1:
      return sqlite3_bind_int64(s, i, std::get<int64_t>(v));
    case 2:
      return sqlite3_bind_double(s, i, std::get<double>(v));
    case 3:
      return sqlite3_bind_int(s, i, std::get<bool>(v) ? 1 : 0);
    default: {
      const auto& str = std::get<std::string>(v);
      return sqlite3_bind_text64(s, i, str.data(), str.size(), SQLITE_STATIC, SQLITE_UTF8);
    }
  }
}

void read_value(sqlite3_stmt* s, int i, std::optional<ColumnType> type, Value& out) {
  switch (sqlite3_column_type(s, i)) {
    case SQLITE_INTEGER: {
      int64_t n = sqlite3_column_int64(s, i);
      if (type == ColumnType::Bool) {
        out = n != 0;
      } else if (type == ColumnType::Float) {
        out = static_cast<double>(n);
      } else {
        out = n;
      }
      return;
    }
    case SQLITE_FLOAT:
      out = sqlite3_column_double(s, i);
      return;
    case SQLITE_TEXT:
    case SQLITE_BLOB: {  // BLOB: a Vector
      const char* p = sqlite3_column_type(s, i) == SQLITE_BLOB
                          ? static_cast<const char*>(sqlite3_column_blob(s, i))
                          : reinterpret_cast<const char*>(sqlite3_column_text(s, i));
      size_t n = static_cast<size_t>(sqlite3_column_bytes(s, i));
      if (p == nullptr) p = "";
      if (auto* str = std::get_if<std::string>(&out)) {
        str->assign(p, n);
      } else {
        out = std::string(p, n);
      }
      return;
    }
    default:
      out = std::monostate{};
  }
}

const char* sql_type(ColumnType t) {
  switch (t) {
    case ColumnType::Int:
    case ColumnType::Bool:
      return "INTEGER";
    case ColumnType::Float:
      return "REAL";
    case ColumnType::Vector:
      return "BLOB";
    default:
      return "TEXT";
  }
}

}  // namespace pxt::sqlite
