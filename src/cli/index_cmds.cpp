// `pxt create-index TABLE COLUMN --embedding EXPR [--metric M] [--name N] [--ef-search N]` and
// `pxt drop-index TABLE NAME`: embedding indexes (the store does the work: Store::create_index).
#include <fmt/format.h>

#include <memory>

#include "cli/commands.hpp"
#include "util/json.hpp"

namespace pxt {

namespace {

struct CreateIndexOpts {
  std::string table, column, embedding, metric = "cosine", name;
  int ef_search = 40;
  bool if_not_exists = false, replace = false;
};

void run_create_index(CliContext& ctx, const CreateIndexOpts& o) {
  if (o.if_not_exists && o.replace) throw UsageError("give --if-not-exists or --replace, not both");
  IndexDef idx;
  idx.column = o.column;
  idx.embedding = o.embedding;
  idx.metric = o.metric;
  idx.name = o.name;
  idx.ef_search = o.ef_search;
  IfExists mode = o.replace ? IfExists::replace : o.if_not_exists ? IfExists::ignore : IfExists::error;
  IndexDef made = ctx.store().create_index(o.table, idx, mode).take();
  std::string path = normalize_path(o.table).take();
  auto st = ctx.store().index_status(path, made.name).take();
  if (ctx.json) {
    JsonBuffer buf;
    JsonWriter w(buf);
    w.StartObject();
    write_key(w, "created");
    write_string(w, "index");
    write_key(w, "table");
    write_string(w, path);
    write_key(w, "name");
    write_string(w, made.name);
    write_key(w, "column");
    write_string(w, made.column);
    write_key(w, "metric");
    write_string(w, made.metric);
    write_key(w, "vectors");
    w.Int64(st.vectors);
    write_key(w, "dimension");
    w.Int64(st.dimension);
    write_key(w, "graph_build_seconds");
    w.Double(st.build_seconds);
    write_key(w, "graph_memory_bytes");
    w.Uint64(st.memory_bytes);
    w.EndObject();
    std::printf("%s\n", buf.GetString());
    return;
  }
  std::printf("created index '%s' on %s.%s (%s, %lld vectors of %lld dimensions)\n", made.name.c_str(),
              path.c_str(), made.column.c_str(), made.metric.c_str(), static_cast<long long>(st.vectors),
              static_cast<long long>(st.dimension));
}

}  // namespace

CLI::App* add_create_index_command(CLI::App& app, CliContext& ctx) {
  auto* cmd = app.add_subcommand("create-index");
  auto o = std::make_shared<CreateIndexOpts>();
  cmd->add_option("TABLE", o->table, "table path")->required();
  cmd->add_option("COLUMN", o->column, "the column to index (its values are embedded)")->required();
  cmd->add_option("--embedding", o->embedding,
                  "the embedding of the column, e.g. \"embed(text, 'openai/text-embedding-3-small')\"")
      ->required();
  cmd->add_option("--metric", o->metric, "cosine (default), ip (inner product) or l2")
      ->check(CLI::IsMember({"cosine", "ip", "l2"}));
  cmd->add_option("--name", o->name, "index name (default: COLUMN_idx)");
  cmd->add_option("--ef-search", o->ef_search, "HNSW candidates per search: recall vs speed (default 40)")
      ->check(CLI::Range(1, 10000));
  cmd->add_flag("--if-not-exists", o->if_not_exists, "do nothing when an identical index exists");
  cmd->add_flag("--replace", o->replace, "rebuild an existing index of that name");
  cmd->footer(
      "Query it in a named query's SQL:\n"
      "  SELECT id, text, similarity(text, :q) AS score FROM \"app.docs\" ORDER BY score DESC LIMIT 5\n"
      "Example:\n  pxt create-index app.docs text --embedding \"embed(text, "
      "'openai/text-embedding-3-small')\"");
  cmd->callback([&ctx, o] { run_create_index(ctx, *o); });
  return cmd;
}

CLI::App* add_drop_index_command(CLI::App& app, CliContext& ctx) {
  auto* cmd = app.add_subcommand("drop-index");
  auto table = std::make_shared<std::string>();
  auto name = std::make_shared<std::string>();
  auto missing_ok = std::make_shared<bool>(false);
  cmd->add_option("TABLE", *table, "table path")->required();
  cmd->add_option("NAME", *name, "index name (see pxt describe TABLE)")->required();
  cmd->add_flag("--if-exists", *missing_ok, "no error when there is no such index");
  cmd->callback([&ctx, table, name, missing_ok] {
    ctx.store().drop_index(*table, *name, *missing_ok).take();
    std::string path = normalize_path(*table).take();
    if (ctx.json) {
      std::printf("{\"dropped\":\"index\",\"table\":\"%s\",\"name\":\"%s\"}\n", path.c_str(), name->c_str());
    } else {
      std::printf("dropped index '%s' of '%s'\n", name->c_str(), path.c_str());
    }
  });
  return cmd;
}

}  // namespace pxt
