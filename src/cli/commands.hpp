#pragma once
// The subcommand table and the registration functions behind it. Each add_* function creates
// its subcommand on `app` (named as in the table), binds options into state it owns and sets
// the callback that runs the command. Commands throw Failure (exit 1) or UsageError (exit 2).
#include <CLI/CLI.hpp>

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "cli/common.hpp"
#include "util/json.hpp"

namespace pxt {

// A malformed command line that CLI11 itself cannot see (a bad --column spec, two inputs
// given at once): printed like a parse error, exit status 2.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct CommandEntry {
  const char* name;
  const char* help;  // one line, shown by `pxt --help`
  CLI::App* (*add)(CLI::App& app, CliContext& ctx);
};

// Every subcommand, in the order `pxt --help` lists them.
const std::vector<CommandEntry>& command_table();
// "unknown command 'lss', did you mean 'ls'?" (or without the suggestion).
std::string unknown_command_message(std::string_view name);

CLI::App* add_create_dir_command(CLI::App& app, CliContext& ctx);
CLI::App* add_create_table_command(CLI::App& app, CliContext& ctx);
CLI::App* add_drop_command(CLI::App& app, CliContext& ctx);
CLI::App* add_drop_dir_command(CLI::App& app, CliContext& ctx);
CLI::App* add_mv_command(CLI::App& app, CliContext& ctx);
CLI::App* add_ls_command(CLI::App& app, CliContext& ctx);
CLI::App* add_describe_command(CLI::App& app, CliContext& ctx);
CLI::App* add_columns_command(CLI::App& app, CliContext& ctx);
CLI::App* add_count_command(CLI::App& app, CliContext& ctx);
CLI::App* add_insert_command(CLI::App& app, CliContext& ctx);
CLI::App* add_rows_command(CLI::App& app, CliContext& ctx);
CLI::App* add_update_command(CLI::App& app, CliContext& ctx);
CLI::App* add_delete_command(CLI::App& app, CliContext& ctx);
CLI::App* add_schema_command(CLI::App& app, CliContext& ctx);
CLI::App* add_models_command(CLI::App& app, CliContext& ctx);
CLI::App* add_create_index_command(CLI::App& app, CliContext& ctx);
CLI::App* add_drop_index_command(CLI::App& app, CliContext& ctx);
CLI::App* add_config_command(CLI::App& app, CliContext& ctx);
CLI::App* add_store_command(CLI::App& app, CliContext& ctx);
CLI::App* add_version_command(CLI::App& app, CliContext& ctx);
CLI::App* add_completion_command(CLI::App& app, CliContext& ctx);

// "pxt 0.1.0 (commit abc123def456, RelWithDebInfo)": what `pxt --version` prints.
std::string version_line();

// Shared by the commands: the table at `path` (not_found with "did you mean" -> Failure).
TableDef require_table(CliContext& ctx, std::string_view path);
// Unwraps a Result, turning an invalid_argument about the command line into a UsageError.
template <class T>
T usage_take(Result<T> r) {
  if (!r) throw UsageError(r.error().message);
  return std::move(r).value();
}
inline void usage_take(Result<void> r) {
  if (!r) throw UsageError(r.error().message);
}
// The one place errors become the `pxt: error: MESSAGE` line on stderr (the top-level catch in
// app.cpp, and serve's report before an immediate exit).
void print_error(std::string_view message);
// The prefix media paths are printed with: the home's media folder.
std::string media_prefix(CliContext& ctx);
// `--where` as a Filter.
Filter where_filter(std::string where_sql);
// Prints whole rows (every column, table order) as a table, or JSON with --json.
void print_stored_rows(CliContext& ctx, const TableDef& t, const std::vector<Row>& rows);
// Prints a number of rows: {"<json_key>": n} with --json, else `text`.
void print_count(CliContext& ctx, const char* json_key, int64_t n, const std::string& text);
// The column table `columns` and `create-table` print, and its JSON array (--json).
std::string columns_text(const TableDef& t);
void write_columns_json(JsonWriter& w, const TableDef& t);
// "1 row", "2 rows".
std::string rows_word(int64_t n);

}  // namespace pxt
