// The benchmark ceiling: a raw cpp-httplib + SQLite server doing the same work as the bench
// service's routes (insert with result = upper(prompt), update by id, delete by id, GET lookup by
// id) with no validation, no logging and no catalog. It carries every tuning from
// doc/ARCHITECTURE.md "The connection layer", so pxt's figures are measured against the best this stack can
// do on this machine, not against a strawman.
//
// With --pg CONNINFO the same routes run on PostgreSQL instead (bench/routes_pg.sh): libpq, a
// pool of --pool connections (PostgREST's default, 10, as pxt's store), each statement prepared
// once per connection, one round trip per request.
//
// Usage: pxt_bench_ceiling (--db FILE | --pg CONNINFO) [--pool 10] [--host 127.0.0.1] [--port 0]
//        [--threads 72]
// Prints "port N" on stdout once listening; exits on SIGINT/SIGTERM.
#include <httplib.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

struct Options {
  std::string db;
  std::string pg;
  int pool = 10;
  std::string host = "127.0.0.1";
  int port = 0;
  int threads = 72;  // 64 keep-alive connections each park a worker, plus headroom
};

Options parse_args(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) throw std::runtime_error("missing value for " + a);
      return argv[++i];
    };
    if (a == "--db")
      o.db = next();
    else if (a == "--pg")
      o.pg = next();
    else if (a == "--pool")
      o.pool = std::stoi(next());
    else if (a == "--host")
      o.host = next();
    else if (a == "--port")
      o.port = std::stoi(next());
    else if (a == "--threads")
      o.threads = std::stoi(next());
    else
      throw std::runtime_error("unknown argument " + a);
  }
  if (o.db.empty() == o.pg.empty()) throw std::runtime_error("give --db FILE or --pg CONNINFO");
  return o;
}

void check(int rc, sqlite3* db, const char* what) {
  if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW)
    throw std::runtime_error(std::string(what) + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc)));
}

sqlite3* open_db(const std::string& path) {
  sqlite3* db = nullptr;
  check(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        nullptr),
        db, "open");
  // Same durability as pxt's default ("normal": survives a process crash). Automatic
  // checkpoints are off: the background thread does them, out of the request path.
  check(sqlite3_exec(db,
                     "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;"
                     "PRAGMA wal_autocheckpoint=0;",
                     nullptr, nullptr, nullptr),
        db, "pragmas");
  return db;
}

sqlite3_stmt* prepare(sqlite3* db, const char* sql) {
  sqlite3_stmt* st = nullptr;
  check(sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, nullptr), db, sql);
  return st;
}

// All writes go through one connection behind a lock: writers queue in-process instead of
// sleeping in SQLite's busy handler, which is what makes p99 explode at 64 connections.
struct Writer {
  std::mutex mu;
  sqlite3* db = nullptr;
  sqlite3_stmt* insert = nullptr;
  sqlite3_stmt* update = nullptr;
  sqlite3_stmt* remove = nullptr;
};

// Reads use one connection per worker thread (WAL readers never block the writer).
struct Reader {
  sqlite3* db = nullptr;
  sqlite3_stmt* lookup = nullptr;
  Reader() = default;
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;
  ~Reader() {
    sqlite3_finalize(lookup);
    sqlite3_close(db);
  }
};

std::string g_db_path;
Writer g_writer;

Reader& reader() {
  thread_local Reader r;
  if (!r.db) {
    r.db = open_db(g_db_path);
    r.lookup = prepare(r.db, "SELECT id, prompt, result FROM items WHERE id = ?");
  }
  return r;
}

void put_text(rapidjson::Writer<rapidjson::StringBuffer>& w, sqlite3_stmt* st, int col) {
  if (sqlite3_column_type(st, col) == SQLITE_NULL) {
    w.Null();
    return;
  }
  auto* p = reinterpret_cast<const char*>(sqlite3_column_text(st, col));
  w.String(p, static_cast<rapidjson::SizeType>(sqlite3_column_bytes(st, col)));
}

// Renders the current row of st (id, prompt, result) as a JSON object.
std::string row_json(sqlite3_stmt* st) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("id");
  w.Int64(sqlite3_column_int64(st, 0));
  w.Key("prompt");
  put_text(w, st, 1);
  w.Key("result");
  put_text(w, st, 2);
  w.EndObject();
  return {buf.GetString(), buf.GetSize()};
}

struct Body {
  int64_t id = 0;
  const char* prompt = nullptr;  // null: JSON null or absent
  rapidjson::SizeType prompt_len = 0;
  rapidjson::Document doc;
};

// No validation beyond what keeps the server from crashing: that is the point of a ceiling.
bool parse_body(const std::string& text, Body& b) {
  b.doc.Parse(text.data(), text.size());
  if (b.doc.HasParseError() || !b.doc.IsObject()) return false;
  auto id = b.doc.FindMember("id");
  if (id == b.doc.MemberEnd() || !id->value.IsInt64()) return false;
  b.id = id->value.GetInt64();
  auto pr = b.doc.FindMember("prompt");
  if (pr != b.doc.MemberEnd() && pr->value.IsString()) {
    b.prompt = pr->value.GetString();
    b.prompt_len = pr->value.GetStringLength();
  }
  return true;
}

void bind_prompt(sqlite3_stmt* st, int idx, const Body& b) {
  if (b.prompt)
    sqlite3_bind_text(st, idx, b.prompt, static_cast<int>(b.prompt_len), SQLITE_STATIC);
  else
    sqlite3_bind_null(st, idx);
}

const char* kJson = "application/json";

void bad_request(httplib::Response& res) {
  res.status = 400;
  res.set_content(R"({"detail":"bad request"})", kJson);
}

void not_found(httplib::Response& res) {
  res.status = 404;
  res.set_content(R"({"detail":"Not found"})", kJson);
}

// Runs a write statement that returns the row (RETURNING) and answers with it, or 404.
void write_returning(sqlite3_stmt* st, httplib::Response& res) {
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    res.set_content(row_json(st), kJson);
    sqlite3_reset(st);  // finishes the statement so the write commits
  } else {
    int reset_rc = sqlite3_reset(st);
    if (rc == SQLITE_DONE) return not_found(res);
    res.status = 500;
    res.set_content(std::string(R"({"detail":")") + sqlite3_errstr(reset_rc) + "\"}", kJson);
  }
}

void handle_insert(const httplib::Request& req, httplib::Response& res) {
  Body b;
  if (!parse_body(req.body, b)) return bad_request(res);
  std::lock_guard lock(g_writer.mu);
  sqlite3_stmt* st = g_writer.insert;
  sqlite3_bind_int64(st, 1, b.id);
  bind_prompt(st, 2, b);
  write_returning(st, res);
  sqlite3_clear_bindings(st);
}

void handle_update(const httplib::Request& req, httplib::Response& res) {
  Body b;
  if (!parse_body(req.body, b)) return bad_request(res);
  std::lock_guard lock(g_writer.mu);
  sqlite3_stmt* st = g_writer.update;
  bind_prompt(st, 1, b);
  sqlite3_bind_int64(st, 2, b.id);
  write_returning(st, res);
  sqlite3_clear_bindings(st);
}

void handle_delete(const httplib::Request& req, httplib::Response& res) {
  Body b;
  if (!parse_body(req.body, b)) return bad_request(res);
  int changes = 0;
  {
    std::lock_guard lock(g_writer.mu);
    sqlite3_stmt* st = g_writer.remove;
    sqlite3_bind_int64(st, 1, b.id);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
      res.status = 500;
      res.set_content(R"({"detail":"delete failed"})", kJson);
      return;
    }
    changes = sqlite3_changes(g_writer.db);
  }
  res.set_content("{\"num_rows\":" + std::to_string(changes) + "}", kJson);
}

void handle_lookup(const httplib::Request& req, httplib::Response& res) {
  std::string id = req.get_param_value("id");
  if (id.empty()) return bad_request(res);
  Reader& r = reader();
  sqlite3_bind_int64(r.lookup, 1, std::strtoll(id.c_str(), nullptr, 10));
  if (sqlite3_step(r.lookup) == SQLITE_ROW)
    res.set_content(row_json(r.lookup), kJson);
  else
    not_found(res);
  sqlite3_reset(r.lookup);
}

// ---- PostgreSQL ----

// A connection with the four statements prepared on it.
struct PgConn {
  PGconn* c = nullptr;
  ~PgConn() {
    if (c) PQfinish(c);
  }
};

// The pool: at most `size` connections; a request waits for a free one.
struct PgPool {
  std::string conninfo;
  std::mutex mu;
  std::condition_variable freed;
  std::vector<std::unique_ptr<PgConn>> idle;
  size_t open = 0, size = 10;

  std::unique_ptr<PgConn> take() {
    std::unique_lock lock(mu);
    freed.wait(lock, [&] { return !idle.empty() || open < size; });
    if (!idle.empty()) {
      auto c = std::move(idle.back());
      idle.pop_back();
      return c;
    }
    ++open;
    lock.unlock();
    auto c = std::make_unique<PgConn>();
    c->c = PQconnectdb(conninfo.c_str());
    if (PQstatus(c->c) != CONNECTION_OK) throw std::runtime_error(PQerrorMessage(c->c));
    for (auto [name, sql] : {std::pair<const char*, const char*>{
                                 "ins",
                                 "INSERT INTO items(id, prompt, result) VALUES ($1, $2, upper($2)) "
                                 "RETURNING id, prompt, result"},
                             {"upd",
                              "UPDATE items SET prompt = $1, result = upper($1) WHERE id = $2 "
                              "RETURNING id, prompt, result"},
                             {"del", "DELETE FROM items WHERE id = $1"},
                             {"get", "SELECT id, prompt, result FROM items WHERE id = $1"}}) {
      PGresult* r = PQprepare(c->c, name, sql, 0, nullptr);
      bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
      PQclear(r);
      if (!ok) throw std::runtime_error(PQerrorMessage(c->c));
    }
    return c;
  }
  void give(std::unique_ptr<PgConn> c) {
    std::lock_guard lock(mu);
    if (PQstatus(c->c) == CONNECTION_OK) {
      idle.push_back(std::move(c));
    } else {
      --open;
    }
    freed.notify_one();
  }
};

PgPool g_pool;

// Runs a prepared statement and answers with its row as JSON (404 when none, num_rows for del).
void pg_run(const char* name, std::vector<const char*> params, httplib::Response& res, bool count) {
  auto c = g_pool.take();
  PGresult* r =
      PQexecPrepared(c->c, name, static_cast<int>(params.size()), params.data(), nullptr, nullptr, 0);
  auto st = PQresultStatus(r);
  if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
    res.status = 500;
    res.set_content(R"({"detail":"statement failed"})", kJson);
  } else if (count) {
    res.set_content(std::string("{\"num_rows\":") + PQcmdTuples(r) + "}", kJson);
  } else if (PQntuples(r) == 0) {
    not_found(res);
  } else {
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    w.StartObject();
    w.Key("id");
    w.Int64(std::strtoll(PQgetvalue(r, 0, 0), nullptr, 10));
    for (int col : {1, 2}) {
      w.Key(col == 1 ? "prompt" : "result");
      if (PQgetisnull(r, 0, col))
        w.Null();
      else
        w.String(PQgetvalue(r, 0, col), static_cast<rapidjson::SizeType>(PQgetlength(r, 0, col)));
    }
    w.EndObject();
    res.set_content(std::string(buf.GetString(), buf.GetSize()), kJson);
  }
  PQclear(r);
  g_pool.give(std::move(c));
}

void pg_insert(const httplib::Request& req, httplib::Response& res) {
  Body b;
  if (!parse_body(req.body, b)) return bad_request(res);
  std::string id = std::to_string(b.id), prompt = b.prompt ? std::string(b.prompt, b.prompt_len) : "";
  pg_run("ins", {id.c_str(), b.prompt ? prompt.c_str() : nullptr}, res, false);
}

void pg_update(const httplib::Request& req, httplib::Response& res) {
  Body b;
  if (!parse_body(req.body, b)) return bad_request(res);
  std::string id = std::to_string(b.id), prompt = b.prompt ? std::string(b.prompt, b.prompt_len) : "";
  pg_run("upd", {b.prompt ? prompt.c_str() : nullptr, id.c_str()}, res, false);
}

void pg_delete(const httplib::Request& req, httplib::Response& res) {
  Body b;
  if (!parse_body(req.body, b)) return bad_request(res);
  std::string id = std::to_string(b.id);
  pg_run("del", {id.c_str()}, res, true);
}

void pg_lookup(const httplib::Request& req, httplib::Response& res) {
  std::string id = req.get_param_value("id");
  if (id.empty()) return bad_request(res);
  pg_run("get", {id.c_str()}, res, false);
}

// Exposes the listening socket so its backlog can be raised after bind (0.11.4 listens with 5).
class Server : public httplib::Server {
 public:
  int socket_fd() const { return static_cast<int>(svr_sock_); }
};

std::atomic<bool> g_stop{false};

// Keeps the WAL short without making a request pay for the checkpoint: a passive checkpoint
// every 100 ms, off the request path. Under sustained writes it never finds the WAL idle, and
// SQLite only rewinds the WAL when a write starts on a fully checkpointed log, so the file keeps
// growing while the load lasts (the data pages stay checkpointed, so reads do not slow down).
// A second pass under the write lock would let the next write rewind it, but that pass fsyncs
// while every writer waits (2-40 ms measured here), so it is only taken past kRewindFrames.
constexpr int kRewindFrames = 256 * 1024;  // about 1 GB of 4 KB pages

void checkpoint_loop() {
  sqlite3* db = open_db(g_db_path);
  while (!g_stop) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    int log = 0, done = 0;
    sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_PASSIVE, &log, &done);
    if (log > kRewindFrames) {
      std::lock_guard lock(g_writer.mu);
      sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_PASSIVE, &log, &done);
    }
  }
  sqlite3_close(db);
}

void setup_writer() {
  g_writer.db = open_db(g_db_path);
  check(sqlite3_exec(g_writer.db,
                     "CREATE TABLE IF NOT EXISTS items(id INTEGER PRIMARY KEY, prompt TEXT, result TEXT)",
                     nullptr, nullptr, nullptr),
        g_writer.db, "create table");
  g_writer.insert = prepare(g_writer.db,
                            "INSERT INTO items(id, prompt, result) VALUES (?1, ?2, upper(?2)) "
                            "RETURNING id, prompt, result");
  g_writer.update = prepare(g_writer.db,
                            "UPDATE items SET prompt = ?1, result = upper(?1) WHERE id = ?2 "
                            "RETURNING id, prompt, result");
  g_writer.remove = prepare(g_writer.db, "DELETE FROM items WHERE id = ?1");
}

int run(const Options& o) {
  const bool pg = !o.pg.empty();
  if (pg) {
    g_pool.conninfo = o.pg;
    g_pool.size = static_cast<size_t>(o.pool);
    PGconn* c = PQconnectdb(o.pg.c_str());
    if (PQstatus(c) != CONNECTION_OK) throw std::runtime_error(PQerrorMessage(c));
    PQclear(PQexec(c, "CREATE TABLE IF NOT EXISTS items(id bigint PRIMARY KEY, prompt text, result text)"));
    PQfinish(c);
  } else {
    g_db_path = o.db;
    setup_writer();
  }

  // Signals are taken by one thread with sigwait (blocked everywhere else), so stopping the
  // server happens outside a signal handler.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);

  Server svr;
  svr.set_tcp_nodelay(true);
  svr.set_keep_alive_max_count(1000000);
  int threads = o.threads;
  svr.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
  svr.Post("/insert", pg ? pg_insert : handle_insert);
  svr.Post("/update", pg ? pg_update : handle_update);
  svr.Post("/delete", pg ? pg_delete : handle_delete);
  svr.Get("/lookup", pg ? pg_lookup : handle_lookup);

  int port = o.port;
  if (port == 0)
    port = svr.bind_to_any_port(o.host);
  else if (!svr.bind_to_port(o.host, port))
    port = -1;
  if (port < 0) {
    std::fprintf(stderr, "ceiling: cannot bind %s:%d\n", o.host.c_str(), o.port);
    return 1;
  }
  // Linux lets a second listen() raise the backlog of a listening socket.
  if (::listen(svr.socket_fd(), 4096) != 0) std::perror("ceiling: listen backlog");

  std::thread checkpointer(pg ? +[] {} : &checkpoint_loop);
  std::atomic<bool> signalled{false};
  std::thread stopper([&] {
    int sig = 0;
    sigwait(&sigs, &sig);
    signalled = true;
    svr.stop();
  });
  std::printf("port %d\n", port);
  std::fflush(stdout);
  svr.listen_after_bind();
  g_stop = true;
  checkpointer.join();
  if (!signalled) kill(getpid(), SIGTERM);  // listen failed on its own: release the stopper
  stopper.join();
  // The pool's threads have exited (closing their readers); closing the last connection
  // checkpoints and removes the WAL, so the next start does not have to replay it.
  if (!pg) {
    for (auto* st : {g_writer.insert, g_writer.update, g_writer.remove}) sqlite3_finalize(st);
    sqlite3_close(g_writer.db);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(parse_args(argc, argv));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ceiling: %s\n", e.what());
    return 2;
  }
}
