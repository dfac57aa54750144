// `pxt store copy` into a SQLite home: the whole copy in one write transaction, so a failure (or a
// kill) leaves the target as empty as it was.
#include "store/sqlite/sqlite_store.hpp"
#include "store/table_check.hpp"
#include "util/strings.hpp"

namespace pxt::sqlite {

Result<void> SqliteStore::import_copy(const StoreCopy& copy) {
  PXT_TRY(Lease c, conn());
  WriteTxn txn(writer_mu_, *c);
  PXT_CHECK(txn.begin());
  PXT_TRY(auto cat, catalog(*c, true));
  PXT_TRY(int64_t jobs, c->scalar_int("SELECT count(*) FROM \"pxt$jobs\""));
  if (!cat->tables.empty() || !cat->dirs.empty() || jobs > 0) {
    return make_error(Errc::invalid_argument,
                      "the target store '" + home_ + "' is not empty (" + std::to_string(cat->tables.size()) +
                          " table(s), " + std::to_string(cat->dirs.size()) + " directory(ies), " +
                          std::to_string(jobs) + " job(s)); copy into an empty store");
  }
  for (const auto& d : copy.dirs) {
    PXT_TRY(sqlite3_stmt * s, c->cached("INSERT INTO \"pxt$dirs\" (path) VALUES (?1)"));
    StmtUse use(s);
    const Value path(d);  // bound without a copy (SQLITE_STATIC): must outlive the step
    bind_value(s, 1, path);
    int rc = sqlite3_step(s);
    if (rc != SQLITE_DONE) return map_error(c->db(), rc, "cannot copy directory '" + d + "'");
  }
  for (const TableDef& source : copy.tables) {
    TableDef def = source;
    auto checked = probe_computed(*c, def);
    if (!checked)
      return make_error(Errc::invalid_argument, "table '" + def.path + "': " + checked.error().message);
    PXT_CHECK(create_table_storage(*c, def));
    std::vector<std::string> cols, marks;
    for (size_t i = 0; i < def.columns.size(); ++i) {
      cols.push_back(quote_ident(def.columns[i].name));
      marks.push_back("?" + std::to_string(i + 1));
    }
    PXT_TRY(OwnedStmt ins, c->prepare("INSERT INTO " + quote_ident(def.path) + " (" + join(cols, ", ") +
                                      ") VALUES (" + join(marks, ", ") + ")"));
    int64_t n = 0;
    PXT_CHECK(copy.rows(source, [&](const Row& row) -> Result<void> {
      sqlite3_reset(ins.get());
      for (size_t i = 0; i < row.size() && i < def.columns.size(); ++i)
        bind_typed(ins.get(), static_cast<int>(i + 1), def.columns[i].type, row[i]);
      int rc = sqlite3_step(ins.get());
      if (rc != SQLITE_DONE)
        return map_error(c->db(), rc, "table '" + def.path + "', row " + std::to_string(n + 1));
      if (++n % 10000 == 0 && copy.progress) copy.progress(def.path, n, false);
      return {};
    }));
    if (copy.progress) copy.progress(def.path, n, true);
  }
  PXT_CHECK(import_jobs(*c, copy.jobs));
  PXT_CHECK(bump_generation(*c));
  return txn.commit();
}

}  // namespace pxt::sqlite
