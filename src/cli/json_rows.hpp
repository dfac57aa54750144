#pragma once
// JSON input rows for `pxt insert`: one JSON object -> one Row over the table's input
// (non-computed) columns, and a streaming JSON Lines reader built for bulk loads (in-situ
// parsing, no per-row allocation once buffers are warm). Not thread-safe; one per load.
#include <rapidjson/document.h>

#include <cstdio>
#include <string>
#include <vector>

#include "store/model/schema.hpp"

namespace pxt {

class JsonRowConverter {
 public:
  explicit JsonRowConverter(const TableDef& t);
  // The input columns, in table order: the `columns` argument of Store::insert.
  const std::vector<std::string>& columns() const { return names_; }
  // Fills `row` (resized to columns().size(), storage reused) from a JSON object. Missing keys
  // are null. Errors (invalid_argument / not_found): not an object, an unknown key (did you
  // mean), a computed column, a value of the wrong type (column, type and value named), a
  // required column missing or null.
  Result<void> convert(const rapidjson::Value& obj, Row& row);

 private:
  int find_input(std::string_view key, size_t hint) const;
  const TableDef& table_;
  std::vector<const ColumnDef*> inputs_;
  std::vector<std::string> names_;
};

// Reads JSON Lines from a FILE*, one row per non-blank line. Errors are "NAME:LINE: message".
class JsonlReader {
 public:
  JsonlReader(std::FILE* in, std::string display_name, JsonRowConverter& conv);
  // Fills `row` from the next line; false at end of input.
  Result<bool> next(Row& row);
  // Line number of the row last returned (for errors the store reports about it).
  int64_t line() const { return line_; }
  const std::string& display_name() const { return name_; }

 private:
  // Returns the next line NUL-terminated in place and its length (it may itself hold NUL bytes),
  // or nullptr at end; sets io_error_ on failure.
  char* next_line(size_t& len);
  std::FILE* in_;
  std::string name_;
  JsonRowConverter& conv_;
  std::vector<char> buf_;
  size_t pos_ = 0, end_ = 0;
  bool eof_ = false;
  bool io_error_ = false;
  int64_t line_ = 0;
  // Parse memory lives in fixed buffers cleared per line, so a long load allocates nothing.
  std::vector<char> value_mem_, stack_mem_;
  rapidjson::MemoryPoolAllocator<> value_alloc_, stack_alloc_;
};

// Short JSON rendering of a value for error messages (truncated past ~60 characters).
std::string json_excerpt(const rapidjson::Value& v);

}  // namespace pxt
