// Data commands that read or change existing rows: count, rows, update, delete.
#include <fmt/format.h>

#include <memory>

#include "cli/commands.hpp"
#include "cli/output.hpp"
#include "cli/specs.hpp"
#include "store/model/values.hpp"
#include "util/strings.hpp"

namespace pxt {

namespace {

// `--order-by "a DESC, b"`: names in plain `column [ASC|DESC]` items are checked so a typo gets
// "did you mean"; anything else is passed to the store as an SQL expression.
void check_order_by(const TableDef& t, const std::string& order_by) {
  for (const auto& item : split(order_by, ',')) {
    std::string_view s = trim(item);
    std::string_view name = s.substr(0, s.find_first_of(" \t"));
    std::string rest = to_lower(trim(s.substr(name.size())));
    bool plain = is_identifier(name) && (rest.empty() || rest == "asc" || rest == "desc");
    if (plain && !t.find(name)) {
      throw Failure(make_error(Errc::not_found, fmt::format("unknown column '{}' in --order-by{}", name,
                                                            did_you_mean(name, t.column_names()))));
    }
  }
}

void print_rows_json_object(CliContext& ctx, const TableDef& t, int64_t n, const std::vector<Row>& rows) {
  Out out;
  JsonWriter& w = out.json();
  w.StartObject();
  write_key(w, "num_rows");
  w.Int64(n);
  write_key(w, "rows");
  w.StartArray();
  std::string prefix = media_prefix(ctx);
  for (const auto& r : rows) {
    w.StartObject();
    for (size_t i = 0; i < t.columns.size() && i < r.size(); ++i) {
      write_key(w, t.columns[i].name);
      write_value_json(w, r[i], t.columns[i].type, prefix);
    }
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  out.done_json();
  out.put('\n');
}

struct RowsOpts {
  std::string path, where, columns, order_by, format;
  int64_t limit = -1;
};

void run_rows(CliContext& ctx, const RowsOpts& o) {
  RowFormat format = RowFormat::Table;
  if (!o.format.empty()) {
    format = usage_take(parse_row_format(o.format));
  } else if (ctx.json) {
    format = RowFormat::Json;
  }
  TableDef t = require_table(ctx, o.path);
  SelectSpec spec;
  spec.filter.where_sql = o.where;
  if (!o.columns.empty()) {
    spec.columns = usage_take(parse_name_list(o.columns, "--columns"));
    check_columns(t, spec.columns).take();
  }
  if (!o.order_by.empty()) check_order_by(t, o.order_by);
  spec.order_by = o.order_by;
  spec.limit = o.limit;
  Out out;
  RowPrinter printer(out, format, out_columns(t, spec.columns), media_prefix(ctx));
  ctx.store()
      .select(t, spec,
              [&](const Row& r) {
                printer.row(r);
                return true;
              })
      .take();
  printer.finish();
}

}  // namespace

CLI::App* add_count_command(CLI::App& app, CliContext& ctx) {
  auto* cmd = app.add_subcommand("count");
  auto o = std::make_shared<std::pair<std::string, std::string>>();
  cmd->add_option("PATH", o->first, "table path")->required();
  cmd->add_option("-w,--where", o->second, "SQL condition over the table's columns, e.g. \"score > 3\"");
  cmd->callback([&ctx, o] {
    TableDef t = require_table(ctx, o->first);
    int64_t n = ctx.store().count(t, where_filter(o->second)).take();
    print_count(ctx, "count", n, std::to_string(n));
  });
  return cmd;
}

CLI::App* add_rows_command(CLI::App& app, CliContext& ctx) {
  auto* cmd = app.add_subcommand("rows");
  auto o = std::make_shared<RowsOpts>();
  cmd->add_option("PATH", o->path, "table path")->required();
  cmd->add_option("-w,--where", o->where, "SQL condition over the table's columns");
  cmd->add_option("--columns", o->columns, "columns to print, e.g. id,name (default: all)");
  cmd->add_option("--order-by", o->order_by, "sort order, e.g. \"id DESC\" (default: insertion order)");
  cmd->add_option("-n,--limit", o->limit, "print at most N rows");
  cmd->add_option("-f,--format", o->format, "table (default), json, jsonl or csv; --json means json")
      ->type_name("{table,json,jsonl,csv}");
  cmd->callback([&ctx, o] { run_rows(ctx, *o); });
  return cmd;
}

CLI::App* add_update_command(CLI::App& app, CliContext& ctx) {
  struct Opts {
    std::string path, where;
    std::vector<std::string> set;
  };
  auto* cmd = app.add_subcommand("update");
  auto o = std::make_shared<Opts>();
  cmd->add_option("PATH", o->path, "table path")->required();
  cmd->add_option("-w,--where", o->where, "SQL condition choosing the rows (\"true\" for all)")->required();
  cmd->add_option("--set", o->set, "COLUMN=VALUE, repeatable; JSON text for Json columns")->required();
  cmd->callback([&ctx, o] {
    TableDef t = require_table(ctx, o->path);
    std::vector<std::pair<std::string, Value>> set;
    for (const auto& s : o->set) {
      auto r = parse_set_spec(t, s);
      if (!r && r.error().code == Errc::invalid_argument && s.find('=') == std::string::npos) {
        throw UsageError(r.error().message);
      }
      set.push_back(std::move(r).take());
    }
    std::vector<Row> rows = ctx.store().update(t, where_filter(o->where), set).take();
    auto n = static_cast<int64_t>(rows.size());
    if (ctx.json) {
      print_rows_json_object(ctx, t, n, rows);
      return;
    }
    if (!rows.empty()) print_stored_rows(ctx, t, rows);
    std::printf("updated %s\n", rows_word(n).c_str());
  });
  return cmd;
}

CLI::App* add_delete_command(CLI::App& app, CliContext& ctx) {
  auto* cmd = app.add_subcommand("delete");
  auto o = std::make_shared<std::pair<std::string, std::string>>();
  cmd->add_option("PATH", o->first, "table path")->required();
  cmd->add_option("-w,--where", o->second, "SQL condition choosing the rows (\"true\" for all)")->required();
  cmd->callback([&ctx, o] {
    TableDef t = require_table(ctx, o->first);
    int64_t n = ctx.store().remove(t, where_filter(o->second)).take();
    print_count(ctx, "num_rows", n, "deleted " + rows_word(n));
  });
  return cmd;
}

}  // namespace pxt
