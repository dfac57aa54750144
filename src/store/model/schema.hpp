#pragma once
// In-memory descriptions of catalog objects: tables, columns, queries. The on-disk catalog
// format is specified in doc/catalog.md.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/model/types.hpp"

namespace pxt {

struct ColumnDef {
  std::string name;
  ColumnType type = ColumnType::String;
  bool required = false;                // NOT NULL; a required input must be given on insert
  std::string computed;                 // SQL expression; empty for a stored (input) column
  std::vector<std::string> depends_on;  // columns the expression reads (filled by the store)
  bool infer_type = false;              // computed column declared without a type: the store
                                        // infers it from the expression or refuses
  int64_t vector_dim = 0;               // Vector: the dimension, learned from the first value
                                        // stored (0 until then); kept by the store
  bool is_computed() const { return !computed.empty(); }
};

// An embedding index of a column (Pixeltable's add_embedding_index): the index owns the embedding
// of the column's values (computed on insert and update, removed on delete) and answers
// similarity(column, :param) in named queries (HNSW, store/index/vector_index.hpp). The on-disk
// form is in doc/catalog.md.
struct IndexDef {
  std::string name;       // unique within its table; default "<column>_idx"
  std::string column;     // the indexed column
  std::string embedding;  // SQL expression over the column: "embed(text, 'openai/text-embedding-3-small')"
  std::string metric = "cosine";  // cosine | ip | l2
  int ef_search = 40;             // HNSW candidates per search (recall vs speed)
  int64_t id = 0;                 // catalog id (never reused)
  int64_t dimension = 0;          // learned from the first embedding; 0: none yet
};

struct TableDef {
  std::string path;  // canonical dotted path: "dir.sub.table"
  std::vector<ColumnDef> columns;
  std::vector<std::string> primary_key;
  // Embedding indexes. Adding or dropping one does not change `version`: routes keep serving, and
  // the store reads the current list when it writes or answers a query.
  std::vector<IndexDef> indexes;
  int64_t id = 0;       // catalog id: a dropped and re-created table gets a new one
  int64_t version = 0;  // bumped by every schema change; (id, version) identifies a schema

  const ColumnDef* find(std::string_view name) const;
  int index_of(std::string_view name) const;  // -1 when absent
  std::vector<std::string> column_names() const;
  bool is_pk(std::string_view name) const;
  const IndexDef* find_index(std::string_view name) const;
};

// "a/b/t" and "a.b.t" -> "a.b.t". Every part must be an identifier; otherwise invalid_argument
// naming the bad part and the reason.
Result<std::string> normalize_path(std::string_view path);
// "a.b.t" -> "a.b"; "t" -> "".
std::string parent_path(std::string_view canonical);

struct QueryParam {
  std::string name;
  ColumnType type = ColumnType::String;
  std::optional<Value> default_value;  // present: the parameter is optional
};

// A named query from a schema module (the analogue of @pxt.query / retrieval_udf).
struct QueryDef {
  enum class Kind { Sql, Retrieval };
  std::string module;  // "myapp.queries"
  std::string name;    // "search_docs"
  Kind kind = Kind::Sql;
  std::string sql;                 // Sql: read-only SELECT with :named parameters; tables as "dir.table"
  std::vector<QueryParam> params;  // Sql: declared; Retrieval: one per match column
  std::string table;               // Retrieval: table path
  std::vector<std::string> match;  // Retrieval: columns matched by equality
  int64_t limit = 10;              // Retrieval: row limit
  // The similarity shorthand ([[queries]] with table and similar = COLUMN): a Sql query whose SQL
  // is made once the table's index is known (resolve_retrieval_params): every column plus
  // `score`, the rows most similar to the one parameter first, `limit` of them.
  std::string similar;
  std::string location;  // "file:line" of the declaration, for errors
  std::string qualified_name() const { return module.empty() ? name : module + "." + name; }
};

// A column of a query result. `type` is nullopt for an expression with no source column; its
// values are then whatever the backend produced (int, float, text or null).
struct ResultColumn {
  std::string name;
  std::optional<ColumnType> type;
  bool nullable = true;
};

}  // namespace pxt
