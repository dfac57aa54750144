#include "export/sql_url.hpp"

#include <array>

#include "util/strings.hpp"

namespace pxt {

namespace {

// The password sits between the first ':' after "://" and the last '@' of the authority (a
// password may itself contain '@' when not percent-encoded, as psql also tolerates).
std::string redact_userinfo(std::string_view url) {
  size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return std::string(url);
  size_t start = scheme + 3;
  size_t end = url.find_first_of("/?#", start);
  std::string_view authority = url.substr(start, end == std::string_view::npos ? url.npos : end - start);
  size_t at = authority.rfind('@');
  if (at == std::string_view::npos) return std::string(url);
  size_t colon = authority.find(':');
  if (colon == std::string_view::npos || colon > at) return std::string(url);
  std::string out(url.substr(0, start + colon + 1));
  out += "***";
  out += url.substr(start + at);
  return out;
}

std::string redact_password_param(std::string s) {
  size_t q = s.find('?');
  if (q == std::string::npos) return s;
  size_t pos = q;
  while (pos < s.size()) {
    size_t key = pos + 1;
    size_t next = s.find('&', key);
    if (s.compare(key, 9, "password=") == 0) {
      size_t value = key + 9;
      size_t stop = next == std::string::npos ? s.size() : next;
      s.replace(value, stop - value, "***");
      next = s.find('&', value);
    }
    if (next == std::string::npos) break;
    pos = next;
  }
  return s;
}

}  // namespace

std::string redact_url(std::string_view url) { return redact_password_param(redact_userinfo(url)); }

Result<SqlUrl> parse_sql_url(std::string_view url) {
  SqlUrl out;
  out.redacted = redact_url(url);
  size_t sep = url.find("://");
  std::string scheme = sep == std::string_view::npos ? "" : to_lower(url.substr(0, sep));
  static const std::array<const char*, 4> pg{"postgresql", "postgresql+psycopg", "postgresql+psycopg2",
                                             "postgres"};
  for (const char* s : pg) {
    if (scheme != s) continue;
    out.backend = SqlBackend::Postgres;
    out.conninfo = "postgresql" + std::string(url.substr(sep));
    return out;
  }
  if (scheme == "sqlite" || scheme == "sqlite+pysqlite") {
    std::string_view rest = url.substr(sep + 3);
    if (rest.empty() || rest[0] != '/' || rest.size() < 2)
      return make_error(Errc::invalid_argument,
                        "SQLite URL '" + out.redacted +
                            "' must name a file: 'sqlite:///relative.db' or 'sqlite:////absolute/path.db'");
    out.backend = SqlBackend::Sqlite;
    out.sqlite_path = std::string(rest.substr(1));
    if (size_t q = out.sqlite_path.find('?'); q != std::string::npos) out.sqlite_path.resize(q);
    if (out.sqlite_path.empty() || out.sqlite_path == ":memory:")
      return make_error(Errc::invalid_argument, "SQLite URL '" + out.redacted +
                                                    "' must name a file (an in-memory database is gone " +
                                                    "when the connection closes)");
    return out;
  }
  return make_error(Errc::invalid_argument,
                    "unsupported database URL '" + out.redacted +
                        "': supported schemes are postgresql://, postgresql+psycopg://, "
                        "postgresql+psycopg2:// and sqlite:///");
}

}  // namespace pxt
