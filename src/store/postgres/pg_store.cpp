// The PostgreSQL store: opening (the URL, the pool, the `pxt` schema), the cached catalog and the
// listener that hears other processes' catalog changes. Catalog operations are in catalog.cpp,
// writes in write.cpp, reads in read.cpp, named queries in query.cpp, jobs in jobs.cpp.
#include "store/postgres/pg_store.hpp"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include <rapidjson/document.h>

#include "store/expr/computed.hpp"
#include "store/media/media.hpp"
#include "util/process.hpp"
#include "util/strings.hpp"

namespace pxt::pg {

namespace {

// The schema of a new store (doc/catalog.md, "The PostgreSQL store"). Every statement is
// idempotent: processes opening a fresh database at once all run it, one after another under
// the catalog lock.
const char* kSchemaDdl = R"sql(
CREATE SCHEMA IF NOT EXISTS pxt;
CREATE TABLE IF NOT EXISTS pxt.meta (key text PRIMARY KEY, value text NOT NULL);
CREATE TABLE IF NOT EXISTS pxt.dirs (path text COLLATE "C" PRIMARY KEY);
CREATE TABLE IF NOT EXISTS pxt.tables (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  path text COLLATE "C" NOT NULL UNIQUE,
  version bigint NOT NULL
);
CREATE TABLE IF NOT EXISTS pxt.columns (
  table_id bigint NOT NULL REFERENCES pxt.tables(id) ON DELETE CASCADE,
  position int NOT NULL,
  name text NOT NULL,
  type text NOT NULL,
  required boolean NOT NULL,
  computed text NOT NULL DEFAULT '',
  depends_on jsonb NOT NULL DEFAULT '[]',
  pk_position int,
  PRIMARY KEY (table_id, position)
);
CREATE TABLE IF NOT EXISTS pxt.jobs (
  id text PRIMARY KEY,
  route text NOT NULL,
  status text NOT NULL,
  result text,
  error text,
  owner text NOT NULL,
  created_ms bigint NOT NULL,
  finished_ms bigint,
  payload text,
  media jsonb,
  runner text,
  started_ms bigint
);
CREATE INDEX IF NOT EXISTS jobs_unfinished ON pxt.jobs (created_ms) WHERE finished_ms IS NULL;
CREATE INDEX IF NOT EXISTS jobs_finished ON pxt.jobs (finished_ms) WHERE finished_ms IS NOT NULL;
CREATE TABLE IF NOT EXISTS pxt.processes (
  owner text PRIMARY KEY,
  started_at timestamptz NOT NULL DEFAULT now(),
  lease_until timestamptz NOT NULL
);
CREATE UNLOGGED TABLE IF NOT EXISTS pxt.rate_buckets (
  key text PRIMARY KEY,
  tokens float8 NOT NULL,
  at timestamptz NOT NULL,
  full_at timestamptz NOT NULL
);
CREATE OR REPLACE FUNCTION pxt.rate_take(k text, burst float8, rate float8, want bigint,
                                         OUT taken bigint, OUT wait_s float8)
LANGUAGE plpgsql AS $$
DECLARE
  t float8;
  ts timestamptz := clock_timestamp();
BEGIN
  INSERT INTO pxt.rate_buckets VALUES (k, burst, ts, ts) ON CONFLICT (key) DO NOTHING;
  SELECT least(burst, b.tokens + greatest(0, extract(epoch FROM ts - b.at)) * rate) INTO t
    FROM pxt.rate_buckets b WHERE b.key = k FOR UPDATE;
  taken := least(want, floor(t))::bigint;
  t := t - taken;
  wait_s := CASE WHEN taken > 0 THEN 0 ELSE (1 - t) / rate END;
  UPDATE pxt.rate_buckets SET tokens = t, at = ts, full_at = ts + (burst - t) / rate * interval '1 second'
    WHERE key = k;
  IF random() < 0.001 THEN
    DELETE FROM pxt.rate_buckets WHERE full_at < ts;  -- a full bucket is the same as none
  END IF;
END $$;
CREATE OR REPLACE FUNCTION pxt.table_current(tid bigint, ver bigint) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
BEGIN
  PERFORM 1 FROM pxt.tables WHERE id = tid AND version = ver;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'table schema changed since route was registered' USING ERRCODE = 'PXT01';
  END IF;
  RETURN true;
END $$;
)sql";

}  // namespace

// ---- transactions ----

Txn::~Txn() {
  if (active_ && !c_.broken()) (void)c_.exec("ROLLBACK");
}

Result<void> Txn::begin(const char* sql) {
  PXT_CHECK(c_.exec(sql));
  active_ = true;
  return {};
}

Result<void> Txn::commit() {
  active_ = false;
  PXT_CHECK(c_.exec("COMMIT"));
  return {};
}

std::vector<std::string> Catalog::table_paths() const {
  std::vector<std::string> out;
  for (const auto& [p, t] : tables) out.push_back(p);
  return out;
}

std::vector<std::string> Catalog::dir_paths() const { return {dirs.begin(), dirs.end()}; }

// ---- opening ----

namespace {

struct ParsedUrl {
  std::string conninfo;
  std::string redacted;
  int pool_size = 10;
  int pool_timeout_ms = 5000;
  int group_commit = 2;
};

// pxt's own settings ride in the URL's query (pool_size, pool_timeout_ms, group_commit) and are removed
// before libpq sees it, which refuses parameters it does not know.
Result<ParsedUrl> parse_url(const std::string& url) {
  ParsedUrl out;
  size_t q = url.find('?');
  out.conninfo = url.substr(0, q);
  std::vector<std::string> kept;
  if (q != std::string::npos) {
    for (const auto& kv : split(url.substr(q + 1), '&')) {
      if (kv.empty()) continue;
      size_t eq = kv.find('=');
      std::string key = kv.substr(0, eq), value = eq == std::string::npos ? "" : kv.substr(eq + 1);
      auto number = [&](int lo, int hi) -> Result<int> {
        char* end = nullptr;
        long n = std::strtol(value.c_str(), &end, 10);
        if (value.empty() || *end != '\0' || n < lo || n > hi)
          return make_error(Errc::invalid_argument, "store URL parameter " + key + "='" + value +
                                                        "' must be a number from " + std::to_string(lo) +
                                                        " to " + std::to_string(hi));
        return static_cast<int>(n);
      };
      if (key == "pool_size") {
        PXT_TRY(out.pool_size, number(1, 1000));
      } else if (key == "pool_timeout_ms") {
        PXT_TRY(out.pool_timeout_ms, number(1, 3600000));
      } else if (key == "group_commit") {
        PXT_TRY(out.group_commit, number(0, 1000));
      } else {
        kept.push_back(kv);
      }
    }
  }
  if (!kept.empty()) out.conninfo += "?" + join(kept, "&");
  // The password (user:password@ or password=...) never appears in a message.
  out.redacted = out.conninfo;
  size_t scheme = out.redacted.find("://");
  size_t at = out.redacted.find('@', scheme == std::string::npos ? 0 : scheme + 3);
  size_t colon = scheme == std::string::npos ? std::string::npos : out.redacted.find(':', scheme + 3);
  if (at != std::string::npos && colon != std::string::npos && colon < at)
    out.redacted.replace(colon + 1, at - colon - 1, "***");
  size_t pw = out.redacted.find("password=");
  if (pw != std::string::npos) {
    size_t end = out.redacted.find('&', pw);
    out.redacted.replace(pw + 9, (end == std::string::npos ? out.redacted.size() : end) - pw - 9, "***");
  }
  return out;
}

// Stores open in this process per database: the process's lease row is removed when the last
// one closes (a process may open one database twice, e.g. a test).
std::mutex g_leases_mu;
std::map<std::string, int>& lease_holders() {
  static std::map<std::string, int> holders;
  return holders;
}

}  // namespace

Result<void> PgStore::init_schema(Conn& c) {
  PXT_TRY(PgResult exists, c.exec("SELECT to_regclass('pxt.meta') IS NOT NULL"));
  if (exists.text(0, 0) == "t") {
    PXT_TRY(PgResult v, c.exec("SELECT value FROM pxt.meta WHERE key = 'format_version'"));
    int64_t format = v.rows() ? std::strtoll(std::string(v.text(0, 0)).c_str(), nullptr, 10) : 0;
    if (format > kFormatVersion) {
      return make_error(Errc::unsupported,
                        "the store " + redacted_ + " was written by a newer pxt (catalog format " +
                            std::to_string(format) + "; this pxt reads format " +
                            std::to_string(kFormatVersion) + " and older): upgrade pxt or use another store");
    }
    if (format == kFormatVersion) return {};
  }
  Txn txn(c);
  PXT_CHECK(txn.begin());
  PXT_CHECK(c.exec("SELECT pg_advisory_xact_lock(" + std::to_string(kCatalogLock) + ")"));
  PXT_CHECK(c.exec(kSchemaDdl));
  PXT_CHECK(
      c.exec("INSERT INTO pxt.meta VALUES ('format_version', '" + std::to_string(kFormatVersion) +
             "'), ('generation', '1'), ('data_schema', current_schema()) ON CONFLICT (key) DO NOTHING"));
  return txn.commit();
}

Result<std::unique_ptr<Store>> PgStore::create(const StoreOptions& options) {
  PXT_TRY(ParsedUrl url, parse_url(options.url));
  PXT_CHECK(pg_api());
  std::unique_ptr<PgStore> s(new PgStore());
  s->home_ = options.home;
  s->media_dir_ = !options.media_dir.empty() ? options.media_dir : options.home + "/media";
  s->redacted_ = url.redacted;
  std::error_code ec;
  std::filesystem::create_directories(s->media_dir_, ec);
  if (ec)
    return make_error(Errc::io, "cannot create the media folder '" + s->media_dir_ + "': " + ec.message());
  media::sweep_temp(s->media_dir_);
  s->lease_ms_ = std::max(options.lease_ms, 300);
  ConnConfig config;
  config.conninfo = url.conninfo;
  config.redacted = url.redacted;
  config.lock_timeout_ms = options.busy_timeout_ms;
  {
    // The first connection creates the schema and learns where user tables live; every pooled
    // connection then puts that schema first on its search path.
    PXT_TRY(auto c, Conn::open(config));
    if (auto r = s->init_schema(*c); !r) {
      if (r.error().code == Errc::unsupported) return r.error();
      return make_error(r.error().code, "cannot open the store " + url.redacted + ": " + r.error().message);
    }
    if (auto r = s->init_index_schema(*c); !r)
      return make_error(r.error().code, "cannot open the store " + url.redacted + ": " + r.error().message);
    PXT_TRY(PgResult schema, c->exec("SELECT value FROM pxt.meta WHERE key = 'data_schema'"));
    config.search_path = schema.rows() ? std::string(schema.text(0, 0)) : "public";
    // Registered before this process does anything: survivors and sweeps see it at once.
    PXT_CHECK(s->lease_renew(*c));
    std::lock_guard lock(g_leases_mu);
    ++lease_holders()[url.conninfo];
  }
  s->pool_ = std::make_unique<Pool>(config, url.pool_size, url.pool_timeout_ms);
  s->group_max_leaders_ = url.group_commit;
  if (::pipe2(s->wake_fd_, O_CLOEXEC | O_NONBLOCK) != 0)
    return make_error(Errc::io, "cannot create the store's wake-up pipe");
  s->listener_ = std::thread([p = s.get()] { p->listen_loop(); });
  return std::unique_ptr<Store>(std::move(s));
}

PgStore::~PgStore() {
  if (graphs_) graphs_->save_all();
  stop_ = true;
  if (wake_fd_[1] >= 0) (void)!::write(wake_fd_[1], "x", 1);
  if (listener_.joinable()) listener_.join();
  for (int fd : wake_fd_)
    if (fd >= 0) ::close(fd);
  if (!pool_) return;
  bool last = false;
  {
    std::lock_guard lock(g_leases_mu);
    auto it = lease_holders().find(pool_->config().conninfo);
    if (it != lease_holders().end() && --it->second == 0) {
      lease_holders().erase(it);
      last = true;
    }
  }
  // A clean close ends the lease at once (a killed process's lease just expires).
  if (last) {
    if (auto c = conn(); c.ok()) {
      Params p;
      p.add(process_tag());
      (void)(*c)->run("DELETE FROM pxt.processes WHERE owner = $1", p);
    }
  }
}

Result<Lease> PgStore::conn() { return pool_->acquire(); }

Result<void> PgStore::ping() {
  PXT_TRY(Lease c, conn());
  PXT_CHECK(c->run("SELECT 1", {}));
  return {};
}

// ---- the catalog ----

Result<std::shared_ptr<const Catalog>> PgStore::reload(Conn& c) {
  auto cat = std::make_shared<Catalog>();
  // One snapshot for the three reads (a change committing in between would mix two catalogs),
  // unless the caller's transaction holds the catalog lock already.
  bool own = pq().PQtransactionStatus(c.raw()) == PQTRANS_IDLE;
  Txn txn(c);
  if (own) PXT_CHECK(txn.begin("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"));
  PXT_TRY(PgResult gen, c.run("SELECT value::bigint FROM pxt.meta WHERE key = 'generation'", {}));
  cat->generation = gen.rows() ? gen.int_at(0, 0) : 0;
  PXT_TRY(PgResult dirs, c.run("SELECT path FROM pxt.dirs", {}));
  for (int i = 0; i < dirs.rows(); ++i) cat->dirs.emplace(dirs.text(i, 0));
  PXT_TRY(PgResult r,
          c.run("SELECT t.id, t.path, t.version, c.name, c.type, c.required, c.computed, "
                "c.depends_on::text, c.pk_position, coalesce(to_regclass(quote_ident(t.path))::oid, 0) "
                "FROM pxt.tables t JOIN pxt.columns c ON "
                "c.table_id = t.id ORDER BY t.id, c.position",
                {}));
  std::map<int64_t, std::vector<IndexDef>> indexes;
  PXT_CHECK(load_indexes(c, indexes));
  if (own) PXT_CHECK(txn.commit());
  std::shared_ptr<TableInfo> cur;
  std::vector<std::pair<int64_t, std::string>> pk;
  auto finish = [&]() -> Result<void> {
    if (!cur) return {};
    std::sort(pk.begin(), pk.end());
    for (auto& [pos, name] : pk) cur->def.primary_key.push_back(name);
    pk.clear();
    auto order = computed_order(cur->def);
    if (!order.ok()) return make_error(Errc::internal, "corrupt catalog: " + order.error().message);
    cur->order = *order;
    auto compiled = compile_table(cur->def);
    if (!compiled.ok()) return make_error(Errc::internal, "corrupt catalog: " + compiled.error().message);
    cur->compiled = std::move(*compiled);
    cur->guard =
        "pxt.table_current(" + std::to_string(cur->def.id) + ", " + std::to_string(cur->def.version) + ")";
    std::vector<std::string> names;
    for (const auto& col : cur->def.columns) names.push_back(quote_ident(col.name));
    cur->columns = join(names, ", ");
    if (auto ix = indexes.find(cur->def.id); ix != indexes.end()) cur->def.indexes = ix->second;
    // Writes to an indexed table learn each row's "pxt$row", the key of its embeddings.
    cur->returning = cur->def.indexes.empty() ? cur->columns : cur->columns + ", \"pxt$row\"";
    cur->groupable = groupable(*cur);
    cat->tables[cur->def.path] = cur;
    return {};
  };
  for (int i = 0; i < r.rows(); ++i) {
    int64_t id = r.int_at(i, 0);
    if (!cur || cur->def.id != id) {
      PXT_CHECK(finish());
      cur = std::make_shared<TableInfo>();
      cur->def.id = id;
      cur->def.path = std::string(r.text(i, 1));
      cur->def.version = r.int_at(i, 2);
      cur->qname = quote_ident(cur->def.path);
      cur->oid = static_cast<Oid>(r.int_at(i, 9));
    }
    ColumnDef col;
    col.name = std::string(r.text(i, 3));
    PXT_TRY(col.type, parse_column_type(r.text(i, 4)));
    col.required = r.text(i, 5) == "t";
    col.computed = std::string(r.text(i, 6));
    rapidjson::Document deps;
    std::string deps_text(r.text(i, 7));
    deps.Parse(deps_text.c_str());
    if (deps.IsArray()) {
      for (const auto& d : deps.GetArray())
        if (d.IsString()) col.depends_on.emplace_back(d.GetString());
    }
    if (!r.null(i, 8)) pk.emplace_back(r.int_at(i, 8), col.name);
    cur->def.columns.push_back(std::move(col));
  }
  PXT_CHECK(finish());
  std::shared_ptr<const Catalog> out = cat;
  std::lock_guard lock(catalog_mu_);
  if (!catalog_ || catalog_->generation <= out->generation) catalog_ = out;
  return out;
}

Result<std::shared_ptr<const Catalog>> PgStore::catalog_checked(Conn& c) {
  std::shared_ptr<const Catalog> cat;
  {
    std::lock_guard lock(catalog_mu_);
    cat = catalog_;
  }
  if (cat) {
    PXT_TRY(PgResult gen, c.run("SELECT value::bigint FROM pxt.meta WHERE key = 'generation'", {}));
    if (gen.rows() && gen.int_at(0, 0) == cat->generation) return cat;
  }
  catalog_dirty_ = false;
  return reload(c);
}

Result<std::shared_ptr<const Catalog>> PgStore::catalog_cached(Conn& c) {
  if (listening_ && !catalog_dirty_) {
    std::lock_guard lock(catalog_mu_);
    if (catalog_) return catalog_;
  }
  if (!listening_) return catalog_checked(c);
  catalog_dirty_ = false;  // before the reload: a notification arriving during it sets it again
  return reload(c);
}

std::shared_ptr<const TableInfo> Catalog::current(const TableDef& t) const {
  auto it = tables.find(t.path);
  if (it == tables.end() || it->second->def.id != t.id || it->second->def.version != t.version)
    return nullptr;
  return it->second;
}

Result<std::shared_ptr<const TableInfo>> PgStore::fresh(Conn& c, const TableDef& t) {
  PXT_TRY(auto cat, catalog_cached(c));
  if (auto info = cat->current(t)) return info;
  // The cache may be older than the caller's definition (made by another process just now).
  PXT_TRY(cat, catalog_checked(c));
  if (auto info = cat->current(t)) return info;
  return stale_error();
}

std::shared_ptr<const TableInfo> PgStore::fresh_cached(const TableDef& t) {
  if (!listening_ || catalog_dirty_) return nullptr;
  std::lock_guard lock(catalog_mu_);
  return catalog_ ? catalog_->current(t) : nullptr;
}

Result<void> PgStore::change_catalog(const std::function<Result<void>(Conn&, const Catalog&)>& body) {
  PXT_TRY(Lease c, conn());
  Txn txn(*c);
  PXT_CHECK(txn.begin());
  PXT_CHECK(c->exec("SELECT pg_advisory_xact_lock(" + std::to_string(kCatalogLock) + ")"));
  PXT_TRY(auto cat, catalog_checked(*c));
  PXT_CHECK(body(*c, *cat));
  PXT_CHECK(
      c->exec("UPDATE pxt.meta SET value = (value::bigint + 1)::text WHERE key = 'generation'; "
              "NOTIFY pxt_catalog"));
  PXT_CHECK(txn.commit());
  catalog_dirty_ = true;
  return {};
}

// ---- the listener ----

void PgStore::listen_loop() {
  int backoff_ms = 100;
  const auto renew_every = std::chrono::milliseconds(lease_ms_ / 3);
  while (!stop_) {
    auto c = Conn::open(pool_->config());
    if (c && (*c)->exec("LISTEN pxt_catalog; LISTEN pxt_jobs") && lease_renew(**c)) {
      backoff_ms = 100;
      catalog_dirty_ = true;  // changes made while no one listened
      listening_ = true;
      auto renewed = std::chrono::steady_clock::now();
      while (!stop_) {
        pollfd fds[2] = {{(*c)->socket(), POLLIN, 0}, {wake_fd_[0], POLLIN, 0}};
        auto left = renew_every - (std::chrono::steady_clock::now() - renewed);
        int timeout = static_cast<int>(std::clamp<int64_t>(
            std::chrono::duration_cast<std::chrono::milliseconds>(left).count(), 0, 1000));
        int n = ::poll(fds, 2, timeout);
        if (n < 0 && errno != EINTR) break;
        if (stop_) break;
        if (n > 0 && (fds[0].revents & (POLLIN | POLLHUP | POLLERR))) {
          if (!pq().PQconsumeInput((*c)->raw())) break;
          while (PGnotify* note = pq().PQnotifies((*c)->raw())) {
            std::string channel = note->relname;
            pq().PQfreemem(note);
            if (channel == "pxt_catalog") catalog_dirty_ = true;
            if (channel == "pxt_jobs") {
              std::lock_guard lock(announced_mu_);
              if (announced_) announced_();
            }
          }
        }
        if ((*c)->broken()) break;
        if (std::chrono::steady_clock::now() - renewed >= renew_every) {
          if (!lease_renew(**c)) break;  // a lease that cannot be renewed expires: reconnect
          renewed = std::chrono::steady_clock::now();
        }
      }
    }
    listening_ = false;
    catalog_dirty_ = true;
    if (stop_) break;
    pollfd wake{wake_fd_[0], POLLIN, 0};
    (void)::poll(&wake, 1, backoff_ms);
    backoff_ms = std::min(backoff_ms * 2, 5000);
  }
}

Result<std::string> PgStore::get_setting(std::string_view key) {
  PXT_CHECK(check_setting(key, ""));
  PXT_TRY(Lease c, conn());
  Params p;
  p.add("setting." + std::string(key));
  PXT_TRY(PgResult r, c->run("SELECT value FROM pxt.meta WHERE key = $1", p));
  return r.rows() == 0 ? std::string() : std::string(r.text(0, 0));
}

Result<void> PgStore::set_setting(std::string_view key, std::string_view value) {
  PXT_CHECK(check_setting(key, value));
  PXT_TRY(Lease c, conn());
  Params p;
  p.add("setting." + std::string(key));
  if (value.empty()) {
    PXT_CHECK(c->run("DELETE FROM pxt.meta WHERE key = $1", p));
    return {};
  }
  p.add(std::string(value));
  PXT_CHECK(c->run(
      "INSERT INTO pxt.meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = $2", p));
  return {};
}

}  // namespace pxt::pg
