// Embedding indexes and Vector columns of the PostgreSQL store (doc/catalog.md, "Embedding
// indexes on PostgreSQL"). PostgreSQL cannot call pxt's functions, so pxt computes every embedding
// itself and keeps them in one table per index, pxt."idx_<id>" (rid = the row's "pxt$row", vec
// real[], seq): the truth the in-process HNSW graph (store/index/graph_cache.hpp) catches up with
// before every query, as on SQLite. A write that stores rows of an indexed table writes their
// embeddings in the same transaction; their change numbers come from the index's catalog row
// (pxt.indexes.change_seq), whose row lock orders them by commit, so a graph that has read up to
// seq N never misses a change numbered below N.
#include <algorithm>
#include <filesystem>

#include "store/expr/computed.hpp"
#include "store/functions/context.hpp"
#include "store/index/index_def.hpp"
#include "store/model/vector.hpp"
#include "store/postgres/pg_store.hpp"
#include "util/strings.hpp"

namespace pxt::pg {

namespace {

const char* kIndexesDdl = R"sql(
CREATE TABLE IF NOT EXISTS pxt.indexes (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  table_id bigint NOT NULL REFERENCES pxt.tables(id) ON DELETE CASCADE,
  name text NOT NULL,
  column_name text NOT NULL,
  embedding text NOT NULL,
  metric text NOT NULL,
  ef_search int NOT NULL,
  dimension int NOT NULL DEFAULT 0,
  change_seq bigint NOT NULL DEFAULT 0,
  UNIQUE (table_id, name)
);
ALTER TABLE pxt.columns ADD COLUMN IF NOT EXISTS vector_dim int NOT NULL DEFAULT 0;
INSERT INTO pxt.meta VALUES ('store_id', md5(random()::text || clock_timestamp()::text))
  ON CONFLICT (key) DO NOTHING;
)sql";

std::string stale_function(int64_t id) {
  return "pxt." + quote_ident("idx_" + std::to_string(id) + "_stale");
}

// The index's expression with its column as the parameter :pxt_value, cut into pxt calls. On
// PostgreSQL an embedding must be made of pxt's own calls over the column and literals (what
// embed(text, 'provider/model') is): nothing is left for the server to compute.
Result<QueryCalls> embedding_calls(const TableDef& def, const IndexDef& idx) {
  std::vector<std::string> replacement;
  for (const auto& col : def.columns)
    replacement.push_back(iequals(col.name, idx.column) ? ":pxt_value" : "NULL");
  std::string sql = "SELECT " + substitute_columns(idx.embedding, def, replacement,
                                                   [](std::string_view w) { return is_reserved_word(w); });
  // substitute_columns parenthesises each reference; a call's argument must be the bare parameter.
  for (size_t at; (at = sql.find("(:pxt_value)")) != std::string::npos;) sql.replace(at, 12, ":pxt_value");
  auto calls = extract_query_calls(sql);
  if (!calls)
    return make_error(Errc::invalid_argument,
                      "embedding expression '" + idx.embedding + "': " + calls.error().message);
  std::string shape = render(calls->sql, [](int slot) { return "@" + std::to_string(slot); });
  if (calls->calls.empty() || trim(shape) != "SELECT @" + std::to_string(calls->calls.size() - 1)) {
    return make_error(Errc::invalid_argument,
                      "the embedding expression '" + idx.embedding +
                          "' cannot be indexed on a PostgreSQL store: there an embedding must be pxt's own "
                          "function calls over the column and literals, e.g. embed(" +
                          idx.column + ", 'openai/text-embedding-3-small')");
  }
  return std::move(*calls);
}

// One embedding: calls evaluated innermost first with the column's value for :pxt_value.
Result<Value> eval_embedding(const QueryCalls& calls, const Value& value, const FunctionContext& base) {
  std::vector<Value> results(calls.calls.size());
  FunctionContext ctx = base;
  for (size_t i = 0; i < calls.calls.size(); ++i) {
    const QueryCall& call = calls.calls[i];
    std::vector<Value> args;
    ctx.blob_args = 0;
    for (const QueryCallArg& a : call.args) {
      if (a.kind == QueryCallArg::Kind::Call) {
        args.push_back(results[static_cast<size_t>(a.call)]);
        if (calls.calls[static_cast<size_t>(a.call)].fn->result_type == ColumnType::Vector &&
            args.size() <= 32)
          ctx.blob_args |= 1u << (args.size() - 1);
      } else if (a.kind == QueryCallArg::Kind::Param) {
        args.push_back(value);
      } else {
        args.push_back(a.literal);
      }
      if (const bool* b = std::get_if<bool>(&args.back())) args.back() = int64_t(*b ? 1 : 0);
    }
    Result<Value> out = call_sql_function(*call.fn, ctx, args);
    if (!out) {
      Error e = out.error();
      if (e.message.rfind(call.fn->name + "(): ", 0) != 0) e.message = call.fn->name + "(): " + e.message;
      return e;
    }
    results[i] = std::move(*out);
  }
  return results.back();
}

Error index_failure(const IndexDef& idx, Error e) {
  e.cause = e.pxt_code != ErrorCode::none ? e.message : std::string();
  e.message = "embedding index '" + idx.name + "' failed: " + e.message;
  if (e.pxt_code == ErrorCode::none && e.code != Errc::busy && e.code != Errc::no_space && e.code != Errc::io)
    e = with_code(std::move(e), ErrorCode::unsupported_operation);
  return e;
}

std::string text_array(const std::vector<std::string>& items, const std::vector<bool>& null) {
  std::string out = "{";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += ',';
    if (null[i]) {
      out += "NULL";
      continue;
    }
    out += '"';
    for (char ch : items[i]) {
      if (ch == '"' || ch == '\\') out += '\\';
      out += ch;
    }
    out += '"';
  }
  return out + "}";
}

std::string int_array(const std::vector<int64_t>& v) {
  std::string out = "{";
  for (size_t i = 0; i < v.size(); ++i) out += (i ? "," : "") + std::to_string(v[i]);
  return out + "}";
}

}  // namespace

std::string index_side_table(int64_t id) { return "pxt." + quote_ident("idx_" + std::to_string(id)); }

Result<void> drop_index_objects(Conn& c, int64_t id) {
  PXT_CHECK(c.exec("DROP TABLE IF EXISTS " + index_side_table(id) + "; DROP FUNCTION IF EXISTS " +
                   stale_function(id) + "() CASCADE"));
  Params p;
  p.add_int(id);
  PXT_CHECK(c.run_once("DELETE FROM pxt.indexes WHERE id = $1", p));
  return {};
}

Result<void> load_indexes(Conn& c, std::map<int64_t, std::vector<IndexDef>>& by_table) {
  PXT_TRY(PgResult r, c.run("SELECT table_id, id, name, column_name, embedding, metric, ef_search, dimension "
                            "FROM pxt.indexes ORDER BY id",
                            {}));
  for (int i = 0; i < r.rows(); ++i) {
    IndexDef idx;
    idx.id = r.int_at(i, 1);
    idx.name = std::string(r.text(i, 2));
    idx.column = std::string(r.text(i, 3));
    idx.embedding = std::string(r.text(i, 4));
    idx.metric = std::string(r.text(i, 5));
    idx.ef_search = static_cast<int>(r.int_at(i, 6));
    idx.dimension = r.int_at(i, 7);
    by_table[r.int_at(i, 0)].push_back(std::move(idx));
  }
  return {};
}

Result<void> PgStore::init_index_schema(Conn& c) {
  PXT_TRY(PgResult has, c.exec("SELECT to_regclass('pxt.indexes') IS NOT NULL AND EXISTS (SELECT 1 FROM "
                               "pxt.meta WHERE key = 'store_id')"));
  if (has.text(0, 0) != "t") {
    // Added without a format version change (doc/catalog.md): older binaries ignore both.
    Txn txn(c);
    PXT_CHECK(txn.begin());
    PXT_CHECK(c.exec("SELECT pg_advisory_xact_lock(" + std::to_string(kCatalogLock) + ")"));
    PXT_CHECK(c.exec(kIndexesDdl));
    PXT_CHECK(txn.commit());
  }
  PXT_TRY(PgResult id, c.exec("SELECT value FROM pxt.meta WHERE key = 'store_id'"));
  // The graphs of this database's indexes, apart from any other store's under the same home.
  graphs_ = std::make_unique<GraphCache>(home_ + "/indexes/pg-" + std::string(id.text(0, 0)));
  return {};
}

Result<std::vector<Value>> PgStore::embed_values(const TableDef& def, const IndexDef& idx,
                                                 const std::vector<Value>& values) {
  PXT_TRY(QueryCalls calls, embedding_calls(def, idx));
  CreatedFiles created(media_dir_);  // embeddings make no files; the memo of batched outcomes
  FunctionContext ctx{media_dir_, &created};
  std::vector<Value> out(values.size());
  if (values.size() > 1) {
    // Record every row's embed() call, then make them in batches of up to 32 inputs.
    CallCollector collector;
    for (const Value& v : values)
      if (!is_null(v)) (void)eval_embedding(calls, v, ctx);
    collector.run(ctx, created);
  }
  created.set_ahead(true);  // takes the batched outcomes
  for (size_t i = 0; i < values.size(); ++i) {
    if (is_null(values[i])) continue;
    auto v = eval_embedding(calls, values[i], ctx);
    if (!v) return index_failure(idx, v.error());
    const auto* packed = std::get_if<std::string>(&*v);
    if (!is_null(*v) && (!packed || !vec::dimension(*packed)))
      return make_error(Errc::invalid_argument,
                        "embedding index '" + idx.name + "': the embedding expression did not give a Vector");
    out[i] = std::move(*v);
  }
  return out;
}

Result<void> PgStore::write_index_rows(Conn& c, const TableInfo& info, const std::vector<int64_t>& rids,
                                       const std::vector<Row>& rows, const std::vector<int>& changed) {
  if (rids.empty()) return {};
  for (const IndexDef& idx : info.def.indexes) {  // in id order: writers lock their rows alike
    int col = info.def.index_of(idx.column);
    if (col < 0) continue;
    if (!changed.empty() && std::find(changed.begin(), changed.end(), col) == changed.end()) continue;
    std::vector<Value> values;
    for (const Row& r : rows) values.push_back(r[static_cast<size_t>(col)]);
    PXT_TRY(std::vector<Value> vecs, embed_values(info.def, idx, values));
    int64_t dim = 0;
    for (const Value& v : vecs)
      if (const auto* s = std::get_if<std::string>(&v)) dim = static_cast<int64_t>(s->size() / 4);
    // Numbers the changes and learns the dimension; the row lock orders the writers by commit.
    Params p;
    p.add_int(idx.id);
    p.add_int(static_cast<int64_t>(rids.size()));
    p.add_int(dim);
    PXT_TRY(PgResult seq, c.run("UPDATE pxt.indexes SET change_seq = change_seq + $2::int8, dimension = CASE "
                                "WHEN dimension = 0 THEN $3::int ELSE dimension END WHERE id = $1::int8 "
                                "RETURNING change_seq, dimension",
                                p));
    if (seq.rows() == 0) return stale_error();  // dropped meanwhile
    int64_t last = seq.int_at(0, 0), known = seq.int_at(0, 1);
    std::vector<std::string> texts;
    std::vector<bool> null;
    std::vector<int64_t> seqs;
    for (size_t i = 0; i < vecs.size(); ++i) {
      const auto* s = std::get_if<std::string>(&vecs[i]);
      if (s && known != 0 && static_cast<int64_t>(s->size() / 4) != known) {
        return make_error(Errc::invalid_argument, "embedding index '" + idx.name + "': the embedding has " +
                                                      std::to_string(s->size() / 4) +
                                                      " dimensions; the index's vectors have " +
                                                      std::to_string(known) + " (a different model?)");
      }
      texts.push_back(s ? vector_to_pg(*s) : std::string());
      null.push_back(s == nullptr);
      seqs.push_back(last - static_cast<int64_t>(vecs.size()) + 1 + static_cast<int64_t>(i));
    }
    Params w;
    w.add(int_array(rids));
    w.add(text_array(texts, null));
    w.add(int_array(seqs));
    PXT_CHECK(
        c.run("INSERT INTO " + index_side_table(idx.id) +
                  " (rid, vec, seq) SELECT u.r, CAST(u.v AS real[]), u.s FROM unnest($1::int8[], $2::text[], "
                  "$3::int8[]) AS u(r, v, s) ON CONFLICT (rid) DO UPDATE SET vec = EXCLUDED.vec, seq = "
                  "EXCLUDED.seq",
              w));
  }
  return {};
}

Result<void> PgStore::clear_index_rows(Conn& c, const TableInfo& info, const std::vector<int64_t>& rids) {
  if (rids.empty()) return {};
  for (const IndexDef& idx : info.def.indexes) {
    Params p;
    p.add_int(idx.id);
    p.add_int(static_cast<int64_t>(rids.size()));
    PXT_TRY(PgResult seq,
            c.run("UPDATE pxt.indexes SET change_seq = change_seq + $2::int8 WHERE id = $1::int8 "
                  "RETURNING change_seq",
                  p));
    if (seq.rows() == 0) continue;
    std::vector<int64_t> seqs;
    for (size_t i = 0; i < rids.size(); ++i)
      seqs.push_back(seq.int_at(0, 0) - static_cast<int64_t>(rids.size()) + 1 + static_cast<int64_t>(i));
    Params w;
    w.add(int_array(rids));
    w.add(int_array(seqs));
    PXT_CHECK(c.run("UPDATE " + index_side_table(idx.id) +
                        " AS s SET vec = NULL, seq = u.q FROM unnest($1::int8[], $2::int8[]) AS u(r, q) "
                        "WHERE s.rid = u.r",
                    w));
  }
  return {};
}

Result<void> PgStore::check_vector_dims(Conn& c, const TableInfo& info, const std::vector<Row>& rows) {
  for (size_t i = 0; i < info.def.columns.size(); ++i) {
    const ColumnDef& col = info.def.columns[i];
    if (col.type != ColumnType::Vector) continue;
    int64_t seen = 0;
    for (const Row& r : rows) {
      const auto* s = i < r.size() ? std::get_if<std::string>(&r[i]) : nullptr;
      if (!s) continue;
      auto n = static_cast<int64_t>(s->size() / 4);
      int64_t want = seen;
      if (want == 0) {
        std::lock_guard lock(dims_mu_);
        auto it = vector_dims_.find({info.def.id, col.name});
        if (it != vector_dims_.end()) want = it->second;
      }
      if (want == 0) {
        // The first Vector stored decides; a concurrent first writer's answer is read back.
        Params p;
        p.add_int(info.def.id);
        p.add(col.name);
        p.add_int(n);
        PXT_TRY(PgResult d,
                c.run("WITH learn AS (UPDATE pxt.columns SET vector_dim = $3::int WHERE table_id = "
                      "$1::int8 AND name = $2 AND vector_dim = 0 RETURNING vector_dim) SELECT "
                      "coalesce((SELECT vector_dim FROM learn), (SELECT vector_dim FROM pxt.columns "
                      "WHERE table_id = $1::int8 AND name = $2))",
                      p));
        want = d.rows() && !d.null(0, 0) ? d.int_at(0, 0) : n;
        std::lock_guard lock(dims_mu_);
        vector_dims_[{info.def.id, col.name}] = want;
      }
      if (n != want) {
        return make_error(Errc::invalid_argument, "column '" + col.name + "' holds Vectors of " +
                                                      std::to_string(want) + " dimensions; this one has " +
                                                      std::to_string(n) + " (a different model?)");
      }
      seen = want;
    }
  }
  return {};
}

Result<std::shared_ptr<VectorIndex>> PgStore::synced_index(Conn& c, const IndexDef& idx) {
  const std::string side = index_side_table(idx.id);
  GraphCache::Source src;
  src.max_seq = [&]() -> Result<int64_t> {
    PXT_TRY(PgResult r, c.run("SELECT coalesce(max(seq), 0) FROM " + side, {}));
    return r.int_at(0, 0);
  };
  src.feed = [&](int64_t after, VectorIndex& graph) -> Result<int64_t> {
    Params p;
    std::string sql = "SELECT rid, vec::text, seq FROM " + side;
    if (after < 0) {
      sql += " WHERE vec IS NOT NULL ORDER BY rid";
    } else {
      sql += " WHERE seq > $1::int8 ORDER BY seq";
      p.add_int(after);
    }
    std::vector<VectorIndex::Change> batch;
    int64_t n = 0;
    Result<void> applied;
    PXT_CHECK(c.stream(sql, p, [&](const PgResult& row) {
      VectorIndex::Change ch{row.int_at(0, 0), std::nullopt, row.int_at(0, 2)};
      if (!row.null(0, 1)) {
        if (auto floats = floats_from_pg(row.text(0, 1)); floats && !floats->empty())
          ch.vector = vec::pack(*floats);
      }
      batch.push_back(std::move(ch));
      if (batch.size() == 4096) {
        applied = graph.apply(batch);
        n += static_cast<int64_t>(batch.size());
        batch.clear();
        if (!applied) return false;
      }
      return true;
    }));
    if (!applied) return applied.error();
    PXT_CHECK(graph.apply(batch));
    return n + static_cast<int64_t>(batch.size());
  };
  return graphs_->synced(idx, src);
}

Result<std::string> PgStore::query_embedding(const TableDef& def, const IndexDef& idx,
                                             const std::string& text) {
  if (auto cached = graphs_->cached_query(idx.id, text)) return *cached;
  PXT_TRY(std::vector<Value> v, embed_values(def, idx, {Value(text)}));
  const auto* packed = std::get_if<std::string>(&v[0]);
  if (!packed)
    return make_error(Errc::invalid_argument, "index '" + idx.name + "': the embedding of the query is null");
  graphs_->remember_query(idx.id, text, *packed);
  return *packed;
}

Result<Store::IndexStatus> PgStore::index_status(std::string_view table, std::string_view name) {
  PXT_TRY(std::string path, normalize_path(table));
  PXT_TRY(Lease c, conn());
  PXT_TRY(auto cat, catalog_checked(*c));
  auto it = cat->tables.find(path);
  if (it == cat->tables.end())
    return make_error(ErrorCode::table_not_found, "table '" + path + "' does not exist");
  const IndexDef* idx = it->second->def.find_index(name);
  if (!idx)
    return make_error(Errc::not_found, "table '" + path + "' has no index named '" + std::string(name) + "'");
  PXT_TRY(auto graph, synced_index(*c, *idx));
  IndexStatus st;
  st.vectors = static_cast<int64_t>(graph->size());
  st.dimension = static_cast<int64_t>(graph->dimension());
  st.memory_bytes = graph->memory_bytes();
  GraphCache::Status made = graphs_->status(idx->id);
  st.build_seconds = made.build_seconds;
  st.loaded_from_disk = made.loaded_from_disk;
  return st;
}

Result<IndexDef> PgStore::create_index(std::string_view table, IndexDef idx, IfExists if_exists) {
  PXT_TRY(TableDef def, get_table(table));
  PXT_CHECK(check_index_def(def, idx));
  PXT_CHECK(embedding_calls(def, idx));
  if (const IndexDef* existing = def.find_index(idx.name)) {
    if (if_exists == IfExists::error)
      return make_error(Errc::already_exists,
                        "table '" + def.path + "' already has an index named '" + idx.name + "'");
    if (if_exists == IfExists::ignore) {
      if (same_index_def(*existing, idx)) return *existing;
      return index_differs_error(def, *existing);
    }
  }
  const ColumnDef* column = def.find(idx.column);
  const std::string col = quote_ident(column->name);
  // The rows there now are embedded before the catalog changes (in batches, no lock held); the
  // few written meanwhile are embedded inside it, with the table locked against writers.
  std::map<int64_t, std::pair<Value, Value>> embedded;  // rid -> (value, embedding)
  auto embed_rows = [&](Conn& c, const std::string& qname) -> Result<void> {
    PXT_TRY(PgResult r,
            c.run_once("SELECT \"pxt$row\", " + col + " FROM " + qname + " ORDER BY \"pxt$row\"", {}));
    std::vector<int64_t> rids;
    std::vector<Value> values;
    for (int i = 0; i < r.rows(); ++i) {
      Value v;
      read_cell(r, i, 1, column->type, v);
      int64_t rid = r.int_at(i, 0);
      auto known = embedded.find(rid);
      if (known != embedded.end() && known->second.first == v) continue;
      rids.push_back(rid);
      values.push_back(std::move(v));
    }
    PXT_TRY(std::vector<Value> vecs, embed_values(def, idx, values));
    for (size_t i = 0; i < rids.size(); ++i) embedded[rids[i]] = {values[i], vecs[i]};
    return {};
  };
  {
    PXT_TRY(Lease c, conn());
    PXT_CHECK(embed_rows(*c, quote_ident(def.path)));
  }
  std::vector<int64_t> replaced;
  auto changed = change_catalog([&](Conn& c, const Catalog& cat) -> Result<void> {
    replaced.clear();
    auto it = cat.tables.find(def.path);
    if (it == cat.tables.end() || it->second->def.id != def.id) return stale_error();
    const TableInfo& info = *it->second;
    if (const IndexDef* existing = info.def.find_index(idx.name)) {
      if (if_exists != IfExists::replace)
        return make_error(Errc::already_exists,
                          "table '" + def.path + "' already has an index named '" + idx.name + "'");
      PXT_CHECK(drop_index_objects(c, existing->id));
      replaced.push_back(existing->id);
    }
    PXT_CHECK(c.exec("LOCK TABLE " + info.qname + " IN SHARE MODE"));
    PXT_CHECK(embed_rows(c, info.qname));
    int64_t dim = 0, n = 0;
    std::vector<int64_t> rids;
    std::vector<std::string> texts;
    std::vector<bool> null;
    std::vector<int64_t> seqs;
    PXT_TRY(PgResult live, c.run_once("SELECT \"pxt$row\" FROM " + info.qname, {}));
    for (int i = 0; i < live.rows(); ++i) {
      auto e = embedded.find(live.int_at(i, 0));
      if (e == embedded.end()) continue;
      const auto* s = std::get_if<std::string>(&e->second.second);
      if (s) {
        auto d = static_cast<int64_t>(s->size() / 4);
        if (dim != 0 && d != dim)
          return make_error(Errc::invalid_argument, "the embedding expression '" + idx.embedding +
                                                        "' gave vectors of different dimensions");
        dim = d;
      }
      rids.push_back(e->first);
      texts.push_back(s ? vector_to_pg(*s) : std::string());
      null.push_back(s == nullptr);
      seqs.push_back(++n);
    }
    Params p;
    p.add_int(def.id);
    for (const std::string* v : {&idx.name, &idx.column, &idx.embedding, &idx.metric}) p.add(*v);
    p.add_int(idx.ef_search);
    p.add_int(dim);
    p.add_int(n);
    PXT_TRY(PgResult id,
            c.run_once("INSERT INTO pxt.indexes (table_id, name, column_name, embedding, metric, "
                       "ef_search, dimension, change_seq) VALUES ($1::int8, $2, $3, $4, $5, "
                       "$6::int, $7::int, $8::int8) RETURNING id",
                       p));
    idx.id = id.int_at(0, 0);
    idx.dimension = dim;
    const std::string side = index_side_table(idx.id);
    const std::string ident = std::to_string(idx.id);
    PXT_CHECK(c.exec("CREATE TABLE " + side + " (rid bigint PRIMARY KEY, vec real[], seq bigint NOT NULL); " +
                     "CREATE INDEX " + quote_ident("idx_" + ident + "_seq") + " ON " + side + " (seq)"));
    // A change of the column made by anything but pxt (psql, a process that has not seen this
    // index yet) leaves the row without an embedding rather than with a wrong one.
    PXT_CHECK(c.exec("CREATE FUNCTION " + stale_function(idx.id) +
                     "() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN UPDATE " + side +
                     " SET vec = NULL WHERE rid = OLD.\"pxt$row\"; RETURN NULL; END $$; CREATE TRIGGER " +
                     quote_ident("pxt$idx_" + ident) + " AFTER UPDATE OF " + col + " ON " + info.qname +
                     " FOR EACH ROW WHEN (OLD." + col + " IS DISTINCT FROM NEW." + col +
                     ") EXECUTE FUNCTION " + stale_function(idx.id) + "()"));
    Params w;
    w.add(int_array(rids));
    w.add(text_array(texts, null));
    w.add(int_array(seqs));
    PXT_CHECK(c.run_once("INSERT INTO " + side +
                             " (rid, vec, seq) SELECT u.r, CAST(u.v AS real[]), u.s FROM unnest($1::int8[], "
                             "$2::text[], $3::int8[]) AS u(r, v, s)",
                         w));
    return {};
  });
  if (!changed) return changed.error();
  for (int64_t old : replaced) graphs_->forget(old);
  // Build the graph now, so the first query does not wait for it.
  PXT_CHECK(index_status(def.path, idx.name));
  return idx;
}

Result<void> PgStore::drop_index(std::string_view table, std::string_view name, bool ignore_missing) {
  PXT_TRY(std::string path, normalize_path(table));
  int64_t id = 0;
  auto changed = change_catalog([&](Conn& c, const Catalog& cat) -> Result<void> {
    auto it = cat.tables.find(path);
    if (it == cat.tables.end())
      return make_error(ErrorCode::table_not_found,
                        "table '" + path + "' does not exist" + did_you_mean(path, cat.table_paths()));
    const TableDef& def = it->second->def;
    const IndexDef* idx = def.find_index(name);
    if (!idx) {
      if (ignore_missing) return {};
      std::vector<std::string> names;
      for (const auto& i : def.indexes) names.push_back(i.name);
      return make_error(Errc::not_found,
                        "table '" + path + "' has no index named '" + std::string(name) + "'" +
                            did_you_mean(name, names) +
                            (names.empty() ? " (it has none)" : " (indexes: " + join(names, ", ") + ")"));
    }
    id = idx->id;
    return drop_index_objects(c, idx->id);
  });
  if (!changed) return changed.error();
  if (id) graphs_->forget(id);
  return {};
}

}  // namespace pxt::pg
