// Media files of rows that go away: a delete, a dropped table, an update that replaces a media
// value. The names are collected inside the write transaction and the files removed only after
// it committed, so a rolled-back write never loses a file (a crash in between leaves an orphan
// file, never a row pointing at nothing).
#include <sqlite3.h>

#include "store/media/media.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "store/write_check.hpp"
#include "util/strings.hpp"

namespace pxt::sqlite {

Result<void> collect_media(Conn& c, const TableInfo& t, const std::vector<int>& cols, const FilterSql* where,
                           int first_param, std::vector<std::string>& out) {
  if (cols.empty()) return {};
  std::vector<std::string> names;
  for (int i : cols) names.push_back(quote_ident(t.def.columns[static_cast<size_t>(i)].name));
  std::string sql = "SELECT " + join(names, ", ") + " FROM " + t.qname + (where ? where->where : "");
  PXT_TRY(sqlite3_stmt * s, c.cached(sql));
  StmtUse use(s);
  if (where) bind_filter(s, *where, first_param);
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    for (int k = 0; k < static_cast<int>(cols.size()); ++k) {
      if (sqlite3_column_type(s, k) != SQLITE_TEXT) continue;
      out.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(s, k)),
                       static_cast<size_t>(sqlite3_column_bytes(s, k)));
    }
  }
  if (rc != SQLITE_DONE)
    return make_error(Errc::internal, std::string("reading media names: ") + sqlite3_errmsg(c.db()));
  return {};
}

Result<void> SqliteStore::media_names(const std::function<void(std::string_view)>& cb) {
  PXT_TRY(Lease c, conn());
  ReadTxn txn(*c);  // one snapshot for every table
  PXT_CHECK(txn.begin());
  PXT_TRY(auto cat, catalog(*c, true));
  for (const auto& [path, info] : cat->tables) {
    std::vector<int> cols = media_columns(info->def);
    if (cols.empty()) continue;
    std::vector<std::string> names;
    for (int i : cols) names.push_back(quote_ident(info->def.columns[static_cast<size_t>(i)].name));
    // Not cached: it runs once per process, and a statement per table would stay in the cache.
    std::string sql = "SELECT " + join(names, ", ") + " FROM " + info->qname;
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(c->db(), sql.c_str(), static_cast<int>(sql.size()), &s, nullptr) != SQLITE_OK)
      return make_error(Errc::internal, "reading media names of '" + path + "': " + sqlite3_errmsg(c->db()));
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
      for (int k = 0; k < static_cast<int>(cols.size()); ++k) {
        if (sqlite3_column_type(s, k) != SQLITE_TEXT) continue;
        const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(s, k));
        cb(std::string_view(text, static_cast<size_t>(sqlite3_column_bytes(s, k))));
      }
    }
    std::string err = rc == SQLITE_DONE ? "" : sqlite3_errmsg(c->db());
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE) return make_error(Errc::internal, "reading media names of '" + path + "': " + err);
  }
  return {};
}

}  // namespace pxt::sqlite
