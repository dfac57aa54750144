#pragma once
// Parsing of export_sql.db_connect URLs (SQLAlchemy spelling) and their redaction for messages.
// Pure functions; thread-safe.
#include <string>
#include <string_view>

#include "util/result.hpp"

namespace pxt {

enum class SqlBackend { Postgres, Sqlite };

struct SqlUrl {
  SqlBackend backend = SqlBackend::Postgres;
  std::string conninfo;     // Postgres: a libpq URI ("postgresql://..."; the "+driver" part removed)
  std::string sqlite_path;  // Sqlite: the file ("sqlite:///a.db" -> "a.db", "sqlite:////a.db" -> "/a.db")
  std::string redacted;     // the URL as given, with any password replaced by "***"
};

// Accepts postgresql://, postgresql+psycopg://, postgresql+psycopg2://, postgres://, sqlite:///PATH.
// Errors (invalid_argument): any other scheme, naming the supported ones (the URL redacted).
Result<SqlUrl> parse_sql_url(std::string_view url);

// The URL with the password of "scheme://user:password@host" and any "password=..." query
// parameter replaced by "***". Anything that is not a URL is returned unchanged.
std::string redact_url(std::string_view url);

}  // namespace pxt
