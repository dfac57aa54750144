// Schema modules against a store: what applying one would change (diff_module) and applying
// it (apply_module). Both read the catalog through the Store interface only.
#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "store/modules/modules.hpp"
#include "util/strings.hpp"

namespace pxt {

namespace {

struct Catalog {
  std::set<std::string> dirs, tables;
};

Result<Catalog> read_catalog(Store& store) {
  PXT_TRY(auto entries, store.list("", true));
  Catalog c;
  for (const auto& e : entries) (e.kind == CatalogEntry::Kind::Dir ? c.dirs : c.tables).insert(e.path);
  return c;
}

// "a.b.c" -> {"a", "a.b", "a.b.c"}: a declared directory is created with its parents.
std::vector<std::string> with_parents(const std::string& dir) {
  std::vector<std::string> out;
  for (size_t pos = dir.find('.'); pos != std::string::npos; pos = dir.find('.', pos + 1)) {
    out.push_back(dir.substr(0, pos));
  }
  out.push_back(dir);
  return out;
}

std::vector<std::string> missing_dirs(const ModuleDef& m, const Catalog& c) {
  std::vector<std::string> out;
  for (const auto& d : m.dirs) {
    for (auto& p : with_parents(d)) {
      if (!c.dirs.count(p) && std::find(out.begin(), out.end(), p) == out.end()) out.push_back(std::move(p));
    }
  }
  return out;
}

std::string pk_text(const std::vector<std::string>& pk) { return "(" + join(pk, ", ") + ")"; }

std::string computed_text(const ColumnDef& c) {
  return c.is_computed() ? fmt::format("computed '{}'", c.computed) : std::string("an input column");
}

// How the stored table `s` differs from its declaration `d`, one line each.
std::vector<std::string> table_changes(const TableDef& d, const TableDef& s) {
  std::vector<std::string> out;
  auto line = [&](std::string what) { out.push_back(fmt::format("~ table {}: {}", d.path, what)); };
  for (const auto& dc : d.columns) {
    const ColumnDef* sc = s.find(dc.name);
    if (!sc) {
      line(fmt::format("add column '{}' ({})", dc.name,
                       dc.infer_type ? std::string("inferred type") : std::string(type_name(dc.type))));
      continue;
    }
    if (!dc.infer_type && dc.type != sc->type) {
      line(fmt::format("column '{}' type {} -> {}", dc.name, type_name(sc->type), type_name(dc.type)));
    }
    // Primary key columns are stored as required whether or not the declaration says so.
    bool required = dc.required || d.is_pk(dc.name);
    if (required != sc->required) {
      line(fmt::format("column '{}' required {} -> {}", dc.name, sc->required, required));
    }
    if (trim(dc.computed) != trim(sc->computed)) {
      line(fmt::format("column '{}' {} -> {}", dc.name, computed_text(*sc), computed_text(dc)));
    }
  }
  for (const auto& sc : s.columns) {
    if (!d.find(sc.name)) line(fmt::format("drop column '{}' ({})", sc.name, type_name(sc.type)));
  }
  if (out.empty() && d.column_names() != s.column_names()) {
    line(fmt::format("column order {} -> {}", join(s.column_names(), ", "), join(d.column_names(), ", ")));
  }
  if (d.primary_key != s.primary_key) {
    line(fmt::format("primary key {} -> {}", pk_text(s.primary_key), pk_text(d.primary_key)));
  }
  return out;
}

struct TablePlan {
  const TableDecl* decl;
  bool exists = false;
  std::vector<std::string> changes;  // empty when it exists and matches
};

Result<std::vector<TablePlan>> plan_tables(Store& store, const ModuleDef& m, const Catalog& c) {
  std::vector<TablePlan> plans;
  for (const auto& decl : m.tables) {
    TablePlan p{&decl};
    p.exists = c.tables.count(decl.def.path) > 0;
    if (p.exists) {
      auto stored = store.get_table(decl.def.path);
      if (!stored) return make_error(stored.error().code, decl.location + ": " + stored.error().message);
      p.changes = table_changes(decl.def, *stored);
    }
    plans.push_back(std::move(p));
  }
  return plans;
}

// An [[indexes]] entry against the catalog: missing (nullopt), matching (""), or how it differs.
Result<std::optional<std::string>> index_change(Store& store, const IndexDecl& d) {
  auto t = store.get_table(d.table);
  if (!t) return std::optional<std::string>();  // its table is created by the module, or missing
  const IndexDef* s = t->find_index(d.def.name);
  if (!s) return std::optional<std::string>();
  std::vector<std::string> diffs;
  if (s->column != d.def.column) diffs.push_back(fmt::format("column '{}' -> '{}'", s->column, d.def.column));
  if (trim(s->embedding) != trim(d.def.embedding))
    diffs.push_back(fmt::format("embedding '{}' -> '{}'", s->embedding, d.def.embedding));
  if (s->metric != d.def.metric) diffs.push_back(fmt::format("metric {} -> {}", s->metric, d.def.metric));
  if (s->ef_search != d.def.ef_search)
    diffs.push_back(fmt::format("ef_search {} -> {}", s->ef_search, d.def.ef_search));
  return std::optional<std::string>(join(diffs, ", "));
}

std::string column_count(const TableDef& t) {
  return fmt::format("{} column{}", t.columns.size(), t.columns.size() == 1 ? "" : "s");
}

}  // namespace

QueryParam retrieval_param(const ColumnDef& c) {
  return {c.name, c.type, c.required ? std::nullopt : std::optional<Value>(Value())};
}

Result<void> resolve_retrieval_params(Store& store, QueryDef& q) {
  if (!q.similar.empty() && q.sql.empty()) {
    auto table = store.get_table(q.table);
    if (!table)
      return make_error(table.error().code,
                        fmt::format("{}: query '{}': {}", q.location, q.name, table.error().message));
    const ColumnDef* col = table->find(q.similar);
    const IndexDef* index = nullptr;
    for (const auto& i : table->indexes)
      if (col && i.column == col->name) index = &i;
    if (!index) {
      return make_error(
          Errc::invalid_argument,
          fmt::format("{}: query '{}': column '{}' of table '{}' has no embedding index (pxt "
                      "create-index {} {} --embedding \"embed({}, 'provider/model')\", or [[indexes]])",
                      q.location, q.name, q.similar, q.table, q.table, q.similar, q.similar));
    }
    q.sql = fmt::format("SELECT *, similarity({}, :{}) AS score FROM {} ORDER BY score {} LIMIT {}",
                        quote_ident(col->name), q.params.at(0).name, quote_ident(table->path),
                        index->metric == "l2" ? "ASC" : "DESC", q.limit);
    return {};
  }
  if (q.kind != QueryDef::Kind::Retrieval || q.params.size() == q.match.size()) return {};
  auto table = store.get_table(q.table);
  if (!table) {
    return make_error(table.error().code,
                      fmt::format("{}: query '{}': {}", q.location, q.name, table.error().message));
  }
  const TableDef& t = *table;
  q.params.clear();
  for (const auto& col : q.match) {
    const ColumnDef* c = t.find(col);
    if (!c) {
      return make_error(Errc::not_found,
                        fmt::format("{}: query '{}': unknown column '{}' in table '{}'{}", q.location, q.name,
                                    col, t.path, did_you_mean(col, t.column_names())));
    }
    q.params.push_back(retrieval_param(*c));
  }
  return {};
}

Result<std::vector<std::string>> diff_module(Store& store, const ModuleDef& m) {
  PXT_TRY(Catalog c, read_catalog(store));
  std::vector<std::string> out;
  for (const auto& d : missing_dirs(m, c)) out.push_back("+ dir " + d);
  PXT_TRY(auto plans, plan_tables(store, m, c));
  for (const auto& p : plans) {
    const TableDef& def = p.decl->def;
    if (!p.exists) {
      out.push_back(fmt::format("+ table {} ({})", def.path, column_count(def)));
      continue;
    }
    out.insert(out.end(), p.changes.begin(), p.changes.end());
    if (!p.changes.empty() && p.decl->if_exists == IfExists::replace) {
      out.push_back(
          fmt::format("~ table {}: re-created (if_exists = \"replace\"; its rows are dropped)", def.path));
    }
  }
  for (const auto& d : m.indexes) {
    PXT_TRY(auto change, index_change(store, d));
    if (!change) {
      out.push_back(
          fmt::format("+ index {} on {}.{} ({})", d.def.name, d.table, d.def.column, d.def.embedding));
    } else if (!change->empty()) {
      out.push_back(fmt::format("~ index {} of {}: {}", d.def.name, d.table, *change));
    }
  }
  return out;
}

Result<std::vector<std::string>> apply_module(Store& store, const ModuleDef& m) {
  PXT_TRY(Catalog c, read_catalog(store));
  PXT_TRY(auto plans, plan_tables(store, m, c));
  // Refuse before changing anything when a table differs and may not be replaced.
  std::vector<std::string> refused;
  for (const auto& p : plans) {
    if (p.changes.empty() || p.decl->if_exists == IfExists::replace) continue;
    refused.push_back(
        fmt::format("{}: table '{}' differs from its declaration (set if_exists = \"replace\" to "
                    "re-create it and drop its rows):",
                    p.decl->location, p.decl->def.path));
    for (const auto& line : p.changes) refused.push_back("  " + line);
  }
  for (const auto& d : m.indexes) {
    PXT_TRY(auto change, index_change(store, d));
    if (change && !change->empty())
      refused.push_back(
          fmt::format("{}: index '{}' of table '{}' differs from its declaration ({}); drop it first "
                      "(pxt drop-index {} {})",
                      d.location, d.def.name, d.table, *change, d.table, d.def.name));
  }
  if (!refused.empty()) return make_error(Errc::conflict, join(refused, "\n"));

  std::vector<std::string> done;
  // A module applies whole or not at all: on a failure, what this call created is dropped again
  // (newest first), so a bad declaration never leaves half a module behind. Replaced tables
  // cannot be restored, but replacing one already means dropping its rows.
  std::vector<std::string> new_dirs, new_tables;
  std::vector<std::pair<std::string, std::string>> new_indexes;  // (table, name)
  auto undo = [&](Error e) {
    for (auto it = new_indexes.rbegin(); it != new_indexes.rend(); ++it)
      (void)store.drop_index(it->first, it->second, true);
    for (auto it = new_tables.rbegin(); it != new_tables.rend(); ++it) (void)store.drop_table(*it, true);
    for (auto it = new_dirs.rbegin(); it != new_dirs.rend(); ++it) (void)store.drop_dir(*it, false);
    return e;
  };
  for (const auto& d : missing_dirs(m, c)) {
    auto r = store.create_dir(d, IfExists::ignore);
    if (!r) return undo(make_error(r.error().code, fmt::format("{}: {}", m.file, r.error().message)));
    new_dirs.push_back(d);
    done.push_back("created dir " + d);
  }
  for (const auto& p : plans) {
    if (p.exists && p.changes.empty()) continue;
    IfExists mode = p.exists ? IfExists::replace : IfExists::error;
    auto r = store.create_table(p.decl->def, mode);
    if (!r && !p.exists && r.error().code == Errc::already_exists) {
      // Another process applying the same module made it since the plan (several `pxt serve` on
      // one PostgreSQL store starting at once): made as declared, it is this module's table too.
      auto stored = store.get_table(p.decl->def.path);
      if (stored && table_changes(p.decl->def, *stored).empty()) continue;
    }
    if (!r) {
      return undo(make_error(r.error().code, fmt::format("{}: {}", p.decl->location, r.error().message)));
    }
    if (!p.exists) new_tables.push_back(r->path);
    done.push_back(
        fmt::format("{} table {} ({})", p.exists ? "replaced" : "created", r->path, column_count(*r)));
  }
  // Indexes after their tables (a replaced table lost its indexes), before the queries that use them.
  for (const auto& d : m.indexes) {
    auto before = store.get_table(d.table);
    bool had = before && before->find_index(d.def.name);
    auto r = store.create_index(d.table, d.def, IfExists::ignore);
    if (!r) return undo(make_error(r.error().code, fmt::format("{}: {}", d.location, r.error().message)));
    if (!had) {
      new_indexes.emplace_back(d.table, r->name);
      done.push_back(fmt::format("created index {} on {}.{}", r->name, d.table, r->column));
    }
  }
  // Queries live in the module, not the catalog: check each now that its tables exist.
  std::vector<std::string> errors;
  for (QueryDef q : m.queries) {
    auto r = resolve_retrieval_params(store, q);
    if (!r) {
      errors.push_back(r.error().message);
      continue;
    }
    auto d = store.describe_query(q);
    if (!d) errors.push_back(fmt::format("{}: query '{}': {}", q.location, q.name, d.error().message));
  }
  if (!errors.empty()) return undo(make_error(Errc::invalid_argument, join(errors, "\n")));
  return done;
}

}  // namespace pxt
