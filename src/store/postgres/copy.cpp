// `pxt store copy` into a PostgreSQL store: the whole copy in one transaction holding the catalog
// lock, rows streamed with COPY ... FROM STDIN, so a failure (or a kill) leaves the target as
// empty as it was.
#include <charconv>

#include "store/postgres/pg_store.hpp"
#include "store/table_check.hpp"
#include "util/json.hpp"
#include "util/strings.hpp"

namespace pxt::pg {

namespace {

// A value in COPY's text format: \N for null, backslash escapes for the separators.
void append_copy_value(std::string& out, const Value& v) {
  switch (v.index()) {
    case 0:
      out += "\\N";
      return;
    case 1:
      out += std::to_string(std::get<int64_t>(v));
      return;
    case 2: {
      char buf[64];
      auto r = std::to_chars(buf, buf + sizeof buf, std::get<double>(v));
      out.append(buf, r.ptr);
      return;
    }
    case 3:
      out += std::get<bool>(v) ? 't' : 'f';
      return;
    default:
      for (char c : std::get<std::string>(v)) {
        switch (c) {
          case '\\':
            out += "\\\\";
            break;
          case '\t':
            out += "\\t";
            break;
          case '\n':
            out += "\\n";
            break;
          case '\r':
            out += "\\r";
            break;
          default:
            out += c;
        }
      }
  }
}

// Runs COPY table (cols) FROM STDIN, feeding it the rows `rows` produces.
Result<int64_t> copy_rows(Conn& c, const TableDef& def, const StoreCopy& copy, const TableDef& source) {
  std::vector<std::string> cols;
  for (const auto& col : def.columns) cols.push_back(quote_ident(col.name));
  PgResult start(pq().PQexec(
      c.raw(), ("COPY " + quote_ident(def.path) + " (" + join(cols, ", ") + ") FROM STDIN").c_str()));
  if (pq().PQresultStatus(start.get()) != PGRES_COPY_IN)
    return make_error(Errc::internal, "cannot copy into '" + def.path + "': " + pq().PQerrorMessage(c.raw()));
  std::string buf;
  int64_t n = 0;
  auto flush = [&]() -> Result<void> {
    if (buf.empty()) return {};
    if (pq().PQputCopyData(c.raw(), buf.data(), static_cast<int>(buf.size())) != 1)
      return make_error(Errc::busy, std::string("copying rows failed: ") + pq().PQerrorMessage(c.raw()));
    buf.clear();
    return {};
  };
  auto fed = copy.rows(source, [&](const Row& row) -> Result<void> {
    for (size_t i = 0; i < def.columns.size(); ++i) {
      if (i) buf += '\t';
      Value v = i < row.size() ? row[i] : Value();
      // A Bool column may come as 0/1 from a source that has no booleans.
      if (def.columns[i].type == ColumnType::Bool)
        if (const auto* x = std::get_if<int64_t>(&v)) v = *x != 0;
      append_copy_value(buf, v);
    }
    buf += '\n';
    ++n;
    if (buf.size() > (1 << 20)) PXT_CHECK(flush());
    if (n % 10000 == 0 && copy.progress) copy.progress(def.path, n, false);
    return {};
  });
  auto flushed = fed ? flush() : Result<void>();
  std::string abort = fed && flushed ? std::string() : (fed ? flushed.error().message : fed.error().message);
  pq().PQputCopyEnd(c.raw(), abort.empty() ? nullptr : abort.c_str());
  std::optional<Error> err;
  while (PGresult* raw = pq().PQgetResult(c.raw())) {
    PgResult r(raw);
    if (pq().PQresultStatus(raw) != PGRES_COMMAND_OK && !err) {
      const char* msg = pq().PQresultErrorField(raw, PG_DIAG_MESSAGE_PRIMARY);
      const char* ctx = pq().PQresultErrorField(raw, PG_DIAG_CONTEXT);
      err = make_error(Errc::invalid_argument, "table '" + def.path + "': " + (msg ? msg : "copy failed") +
                                                   (ctx ? std::string(" (") + ctx + ")" : ""));
    }
  }
  if (!fed) return fed.error();
  if (!flushed) return flushed.error();
  if (err) return *err;
  return n;
}

std::string json_list(const std::vector<std::string>& items) {
  JsonBuffer b;
  JsonWriter w(b);
  w.StartArray();
  for (const auto& s : items) write_string(w, s);
  w.EndArray();
  return b.GetString();
}

}  // namespace

Result<void> PgStore::import_copy(const StoreCopy& copy) {
  for (const TableDef& t : copy.tables) {
    auto ok = check_table_for_postgres(t);
    if (!ok) return make_error(Errc::invalid_argument, "table '" + t.path + "': " + ok.error().message);
  }
  PXT_TRY(Lease c, conn());
  Txn txn(*c);
  PXT_CHECK(txn.begin());
  PXT_CHECK(c->exec("SELECT pg_advisory_xact_lock(" + std::to_string(kCatalogLock) + ")"));
  PXT_TRY(auto cat, catalog_checked(*c));
  PXT_TRY(PgResult jobs, c->exec("SELECT count(*) FROM pxt.jobs"));
  if (!cat->tables.empty() || !cat->dirs.empty() || jobs.int_at(0, 0) > 0) {
    return make_error(Errc::invalid_argument, "the target store " + redacted_ + " is not empty (" +
                                                  std::to_string(cat->tables.size()) + " table(s), " +
                                                  std::to_string(cat->dirs.size()) + " directory(ies), " +
                                                  std::to_string(jobs.int_at(0, 0)) +
                                                  " job(s)); copy into an empty store");
  }
  for (const auto& d : copy.dirs) {
    Params p;
    p.add(d);
    PXT_CHECK(c->run_once("INSERT INTO pxt.dirs (path) VALUES ($1)", p));
  }
  for (const TableDef& source : copy.tables) {
    TableDef def = source;
    // A computed expression in the source's dialect (SQLite's json_extract, printf, ...) that
    // PostgreSQL cannot run is refused here, before any row moves.
    auto probed = probe_computed(*c, def);
    if (!probed)
      return make_error(Errc::invalid_argument, "table '" + def.path + "': " + probed.error().message +
                                                    " (PostgreSQL's SQL differs from SQLite's: see "
                                                    "doc/catalog.md, \"Where the engines differ\")");
    PXT_CHECK(create_table_storage(*c, def));
    PXT_TRY(int64_t n, copy_rows(*c, def, copy, source));
    if (copy.progress) copy.progress(def.path, n, true);
  }
  for (const JobRecord& j : copy.jobs) {
    Params p;
    p.add(j.id);
    p.add(j.route);
    // An unfinished job stays pending only if it carries its request (a claim can run it here);
    // one the source was running, or one without its request, ends interrupted.
    bool unfinished = j.status == "pending" || j.status == "running";
    bool interrupted = unfinished && (j.status == "running" || j.payload.empty());
    std::string status = interrupted ? "error" : j.status;
    p.add(status);
    if (status == "done") {
      p.add(j.result);
    } else {
      p.add_null();
    }
    if (status == "error") {
      p.add(interrupted ? std::string("interrupted by shutdown") : j.error);
    } else {
      p.add_null();
    }
    p.add(j.owner);
    p.add_int(j.created_ms);
    if (status == "done" || status == "error") {
      p.add_int(j.finished_ms ? j.finished_ms : j.created_ms);
    } else {
      p.add_null();
    }
    if (j.payload.empty()) {
      p.add_null();
    } else {
      p.add(j.payload);
    }
    if (j.media.empty()) {
      p.add_null();
    } else {
      p.add(json_list(j.media));
    }
    PXT_CHECK(
        c->run("INSERT INTO pxt.jobs (id, route, status, result, error, owner, created_ms, finished_ms, "
               "payload, media) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb)",
               p));
  }
  PXT_CHECK(
      c->exec("UPDATE pxt.meta SET value = (value::bigint + 1)::text WHERE key = 'generation'; "
              "NOTIFY pxt_catalog"));
  PXT_CHECK(txn.commit());
  catalog_dirty_ = true;
  return {};
}

}  // namespace pxt::pg
