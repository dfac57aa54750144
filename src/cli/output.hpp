#pragma once
// Output for the data-printing commands: a large buffer flushed with fwrite (so a million-row
// `pxt rows --format jsonl` is not a million small writes) and row printers for every format.
// Not thread-safe: one per command.
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/model/schema.hpp"
#include "util/json.hpp"

namespace pxt {

class Out {
 public:
  explicit Out(std::FILE* f = stdout) : f_(f) {}
  Out(const Out&) = delete;
  Out& operator=(const Out&) = delete;
  ~Out() { flush(); }

  void write(std::string_view s) {
    std::memcpy(buf_.Push(s.size()), s.data(), s.size());
    maybe_flush();
  }
  void put(char c) { buf_.Put(c); }
  // A writer for one JSON value appended to the buffer; call done_json() after each value.
  JsonWriter& json() { return writer_; }
  void done_json() {
    writer_.Reset(buf_);
    maybe_flush();
  }
  void maybe_flush() {
    if (buf_.GetSize() >= kFlushAt) flush();
  }
  void flush();

 private:
  static constexpr size_t kFlushAt = 1 << 20;
  std::FILE* f_;
  JsonBuffer buf_;
  JsonWriter writer_{buf_};
};

enum class RowFormat { Table, Json, Jsonl, Csv };
// "table" | "json" | "jsonl" | "csv"; other names: invalid_argument with "did you mean".
Result<RowFormat> parse_row_format(std::string_view name);

// The columns printed for a row set: names and their types (nullopt: untyped expression).
struct OutColumn {
  std::string name;
  std::optional<ColumnType> type;
};
std::vector<OutColumn> out_columns(const TableDef& t, const std::vector<std::string>& names);

// Streams rows in one format. Table output buffers rows to size its columns; the others write
// each row as it comes. Media values are printed as paths under `media_prefix`.
class RowPrinter {
 public:
  RowPrinter(Out& out, RowFormat format, std::vector<OutColumn> columns, std::string media_prefix);
  void row(const Row& r);
  // Closes the output (the JSON array's bracket, the table itself). Returns the row count.
  int64_t finish();

 private:
  void json_row(const Row& r);
  Out& out_;
  RowFormat format_;
  std::vector<OutColumn> cols_;
  std::string media_prefix_;
  int64_t count_ = 0;
  std::vector<std::vector<std::string>> cells_;  // Table format only
  std::string line_;                             // Csv format: the line being built
};

// Table rendering used by `rows`, `ls -l`, `describe`: a header, a rule, left-aligned cells;
// cells longer than max_cell are cut with "...".
std::string render_table(const std::vector<std::string>& header,
                         const std::vector<std::vector<std::string>>& rows, size_t max_cell = 60);
// RFC 4180 field: quoted when it holds a comma, quote, CR or LF.
void append_csv_field(std::string& out, std::string_view s);

}  // namespace pxt
