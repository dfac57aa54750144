#include <doctest/doctest.h>

#include "export/sql_url.hpp"

using namespace pxt;

TEST_CASE("PostgreSQL URLs in SQLAlchemy spelling become libpq URIs") {
  for (const char* url : {"postgresql://u:pw@h:5433/db", "postgresql+psycopg://u:pw@h:5433/db",
                          "postgresql+psycopg2://u:pw@h:5433/db", "postgres://u:pw@h:5433/db"}) {
    INFO(url);
    auto r = parse_sql_url(url);
    REQUIRE(r);
    CHECK(r->backend == SqlBackend::Postgres);
    CHECK(r->conninfo == "postgresql://u:pw@h:5433/db");
    CHECK(r->redacted.find("pw") == std::string::npos);
  }
}

TEST_CASE("SQLite URLs: three slashes relative, four absolute") {
  auto rel = parse_sql_url("sqlite:///out/t.db");
  REQUIRE(rel);
  CHECK(rel->backend == SqlBackend::Sqlite);
  CHECK(rel->sqlite_path == "out/t.db");
  auto abs = parse_sql_url("sqlite:////var/t.db");
  REQUIRE(abs);
  CHECK(abs->sqlite_path == "/var/t.db");
  CHECK_FALSE(parse_sql_url("sqlite://"));
  CHECK_FALSE(parse_sql_url("sqlite:///:memory:"));
}

TEST_CASE("other schemes are refused naming the supported ones, without the password") {
  auto r = parse_sql_url("mysql://root:hunter2@db/x");
  REQUIRE_FALSE(r);
  CHECK(r.error().code == Errc::invalid_argument);
  CHECK(r.error().message ==
        "unsupported database URL 'mysql://root:***@db/x': supported schemes are postgresql://, "
        "postgresql+psycopg://, postgresql+psycopg2:// and sqlite:///");
  CHECK_FALSE(parse_sql_url("just-a-name"));
}

TEST_CASE("redact_url hides passwords in the authority and in query parameters") {
  CHECK(redact_url("postgresql://u:p@ss@h/db") == "postgresql://u:***@h/db");
  CHECK(redact_url("postgresql://u@h/db") == "postgresql://u@h/db");
  CHECK(redact_url("postgresql://h/db?user=u&password=x&sslmode=require") ==
        "postgresql://h/db?user=u&password=***&sslmode=require");
  CHECK(redact_url("postgresql://h/db?password=x") == "postgresql://h/db?password=***");
  CHECK(redact_url("sqlite:///a.db") == "sqlite:///a.db");
  CHECK(redact_url("not a url: a:b@c") == "not a url: a:b@c");
}
