// Catalog commands: create-dir, create-table, drop, drop-dir, mv, ls, describe, columns.
#include <fmt/format.h>

#include <algorithm>
#include <memory>

#include "cli/commands.hpp"
#include "cli/output.hpp"
#include "cli/specs.hpp"
#include "util/strings.hpp"

namespace pxt {

namespace {

// Prints a small JSON object built by `fill` (for --json confirmations and descriptions).
template <class F>
void print_json(F&& fill) {
  Out out;
  fill(out.json());
  out.done_json();
  out.put('\n');
}

// "created dir 'a'" or, with --json, {"created": "dir", "path": "a"}.
void print_confirmation(CliContext& ctx, std::string_view action, std::string_view kind,
                        const std::string& path) {
  if (ctx.json) {
    print_json([&](JsonWriter& w) {
      w.StartObject();
      write_key(w, action);
      write_string(w, kind);
      write_key(w, "path");
      write_string(w, path);
      w.EndObject();
    });
    return;
  }
  std::printf("%.*s %.*s '%s'\n", static_cast<int>(action.size()), action.data(),
              static_cast<int>(kind.size()), kind.data(), path.c_str());
}

void write_columns_json(JsonWriter& w, const TableDef& t) {
  w.StartArray();
  for (const auto& c : t.columns) {
    start_column_object(w, c.name, type_name(c.type));
    write_key(w, "required");
    w.Bool(c.required);
    write_key(w, "computed");
    if (c.is_computed()) {
      write_string(w, c.computed);
    } else {
      w.Null();
    }
    write_key(w, "primary_key");
    w.Bool(t.is_pk(c.name));
    w.EndObject();
  }
  w.EndArray();
}

std::string columns_text(const TableDef& t) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& c : t.columns) {
    rows.push_back({c.name, std::string(type_name(c.type)), c.required ? "yes" : "",
                    t.is_pk(c.name) ? "yes" : "", c.computed});
  }
  return render_table({"column", "type", "required", "primary key", "computed"}, rows, 80);
}

IfExists parse_if_exists(const std::string& s) {
  if (s == "error") return IfExists::error;
  if (s == "ignore") return IfExists::ignore;
  if (s == "replace") return IfExists::replace;
  throw UsageError(fmt::format("invalid --if-exists '{}': expected error, ignore or replace{}", s,
                               did_you_mean(s, {"error", "ignore", "replace"})));
}

struct CreateTableOpts {
  std::string path;
  std::vector<std::string> columns, computed, primary_key;
  std::string if_exists = "error";
};

void run_create_table(CliContext& ctx, const CreateTableOpts& o) {
  TableDef def = usage_take(build_table_def(o.path, o.columns, o.computed, o.primary_key));
  IfExists mode = parse_if_exists(o.if_exists);
  TableDef stored = ctx.store().create_table(std::move(def), mode).take();
  if (ctx.json) {
    print_json([&](JsonWriter& w) {
      w.StartObject();
      write_key(w, "created");
      write_string(w, "table");
      write_key(w, "path");
      write_string(w, stored.path);
      write_key(w, "columns");
      write_columns_json(w, stored);
      w.EndObject();
    });
    return;
  }
  std::printf("created table '%s'\n%s", stored.path.c_str(), columns_text(stored).c_str());
}

struct LsOpts {
  std::string dir;
  bool long_form = false;
  bool recursive = false;
};

void run_ls(CliContext& ctx, const LsOpts& o) {
  std::string dir = o.dir.empty() ? std::string() : normalize_path(o.dir).take();
  auto entries = ctx.store().list(dir, o.recursive).take();
  std::sort(entries.begin(), entries.end(),
            [](const CatalogEntry& a, const CatalogEntry& b) { return a.path < b.path; });
  struct Detail {
    size_t columns = 0;
    int64_t rows = 0;
  };
  std::vector<Detail> details(entries.size());
  if (o.long_form) {
    for (size_t i = 0; i < entries.size(); ++i) {
      if (entries[i].kind != CatalogEntry::Kind::Table) continue;
      TableDef t = ctx.store().get_table(entries[i].path).take();
      details[i] = {t.columns.size(), ctx.store().count(t, Filter{}).take()};
    }
  }
  auto is_dir = [](const CatalogEntry& e) { return e.kind == CatalogEntry::Kind::Dir; };
  if (ctx.json) {
    print_json([&](JsonWriter& w) {
      w.StartArray();
      for (size_t i = 0; i < entries.size(); ++i) {
        w.StartObject();
        write_key(w, "kind");
        write_string(w, is_dir(entries[i]) ? "dir" : "table");
        write_key(w, "path");
        write_string(w, entries[i].path);
        if (o.long_form && !is_dir(entries[i])) {
          write_key(w, "columns");
          w.Uint64(details[i].columns);
          write_key(w, "rows");
          w.Int64(details[i].rows);
        }
        w.EndObject();
      }
      w.EndArray();
    });
    return;
  }
  Out out;
  if (o.long_form) {
    std::vector<std::vector<std::string>> rows;
    for (size_t i = 0; i < entries.size(); ++i) {
      bool d = is_dir(entries[i]);
      rows.push_back({d ? "dir" : "table", entries[i].path, d ? "" : std::to_string(details[i].columns),
                      d ? "" : std::to_string(details[i].rows)});
    }
    out.write(render_table({"kind", "path", "columns", "rows"}, rows, 80));
    return;
  }
  // Names relative to DIR, directories marked with a trailing '/', as `ls -F` does.
  size_t strip = dir.empty() ? 0 : dir.size() + 1;
  for (const auto& e : entries) {
    out.write(std::string_view(e.path).substr(std::min(strip, e.path.size())));
    if (is_dir(e)) out.put('/');
    out.put('\n');
  }
}

void run_describe(CliContext& ctx, const std::string& path, bool columns_only) {
  TableDef t = require_table(ctx, path);
  if (columns_only) {
    if (ctx.json) {
      print_json([&](JsonWriter& w) { write_columns_json(w, t); });
    } else {
      std::fputs(columns_text(t).c_str(), stdout);
    }
    return;
  }
  int64_t rows = ctx.store().count(t, Filter{}).take();
  if (ctx.json) {
    print_json([&](JsonWriter& w) {
      w.StartObject();
      write_key(w, "path");
      write_string(w, t.path);
      write_key(w, "version");
      w.Int64(t.version);
      write_key(w, "primary_key");
      w.StartArray();
      for (const auto& k : t.primary_key) write_string(w, k);
      w.EndArray();
      write_key(w, "rows");
      w.Int64(rows);
      write_key(w, "columns");
      write_columns_json(w, t);
      write_key(w, "indexes");
      w.StartArray();
      for (const auto& i : t.indexes) {
        w.StartObject();
        write_key(w, "name");
        write_string(w, i.name);
        write_key(w, "column");
        write_string(w, i.column);
        write_key(w, "embedding");
        write_string(w, i.embedding);
        write_key(w, "metric");
        write_string(w, i.metric);
        write_key(w, "ef_search");
        w.Int(i.ef_search);
        w.EndObject();
      }
      w.EndArray();
      w.EndObject();
    });
    return;
  }
  std::string pk = t.primary_key.empty() ? "(none)" : join(t.primary_key, ", ");
  std::printf("table '%s'\nprimary key: %s\nrows: %lld\n\n%s", t.path.c_str(), pk.c_str(),
              static_cast<long long>(rows), columns_text(t).c_str());
  if (!t.indexes.empty()) std::printf("\nindexes:\n");
  for (const auto& i : t.indexes)
    std::printf("  %s on %s: %s, metric %s, ef_search %d\n", i.name.c_str(), i.column.c_str(),
                i.embedding.c_str(), i.metric.c_str(), i.ef_search);
}

}  // namespace

CLI::App* add_create_dir_command(CLI::App& app, CliContext& ctx) {
  auto* cmd = app.add_subcommand("create-dir");
  auto path = std::make_shared<std::string>();
  auto ignore = std::make_shared<bool>(false);
  cmd->add_option("PATH", *path, "directory path, e.g. myapp or myapp.sub")->required();
  cmd->add_flag("--if-not-exists", *ignore, "succeed when the directory already exists");
  cmd->callback([&ctx, path, ignore] {
    ctx.store().create_dir(*path, *ignore ? IfExists::ignore : IfExists::error).take();
    print_confirmation(ctx, "created", "dir", normalize_path(*path).take());
  });
  return cmd;
}

CLI::App* add_create_table_command(CLI::App& app, CliContext& ctx) {
  auto* cmd = app.add_subcommand("create-table");
  auto o = std::make_shared<CreateTableOpts>();
  cmd->add_option("PATH", o->path, "table path, e.g. myapp.users")->required();
  cmd->add_option("-c,--column", o->columns, "input column NAME:TYPE (TYPE! = required), repeatable");
  cmd->add_option("--computed", o->computed,
                  "computed column 'NAME[:TYPE]=EXPR' (type inferred when omitted), repeatable");
  cmd->add_option("--primary-key", o->primary_key, "primary key columns, e.g. id or a,b");
  cmd->add_option("--if-exists", o->if_exists, "error (default), ignore or replace");
  cmd->footer("Types: " + join(all_type_names(), ", ") +
              "\nExample: pxt create-table demo.prompts --column id:Int! --column prompt:String "
              "--computed 'shout=upper(prompt)' --primary-key id\n");
  cmd->callback([&ctx, o] { run_create_table(ctx, *o); });
  return cmd;
}

CLI::App* add_drop_command(CLI::App& app, CliContext& ctx) {
  auto* cmd = app.add_subcommand("drop");
  auto path = std::make_shared<std::string>();
  auto force = std::make_shared<bool>(false);
  cmd->add_option("PATH", *path, "table path")->required();
  cmd->add_flag("-f,--force", *force, "also drop what depends on the table");
  cmd->callback([&ctx, path, force] {
    ctx.store().drop_table(*path, *force).take();
    print_confirmation(ctx, "dropped", "table", normalize_path(*path).take());
  });
  return cmd;
}

CLI::App* add_drop_dir_command(CLI::App& app, CliContext& ctx) {
  auto* cmd = app.add_subcommand("drop-dir");
  auto path = std::make_shared<std::string>();
  auto force = std::make_shared<bool>(false);
  cmd->add_option("PATH", *path, "directory path")->required();
  cmd->add_flag("-f,--force", *force, "drop the directory even if it holds tables or directories");
  cmd->callback([&ctx, path, force] {
    ctx.store().drop_dir(*path, *force).take();
    print_confirmation(ctx, "dropped", "dir", normalize_path(*path).take());
  });
  return cmd;
}

CLI::App* add_mv_command(CLI::App& app, CliContext& ctx) {
  auto* cmd = app.add_subcommand("mv");
  auto paths = std::make_shared<std::pair<std::string, std::string>>();
  cmd->add_option("OLD", paths->first, "current path")->required();
  cmd->add_option("NEW", paths->second, "new path")->required();
  cmd->callback([&ctx, paths] {
    ctx.store().move(paths->first, paths->second).take();
    std::string from = normalize_path(paths->first).take(), to = normalize_path(paths->second).take();
    if (ctx.json) {
      print_json([&](JsonWriter& w) {
        w.StartObject();
        write_key(w, "moved");
        write_string(w, from);
        write_key(w, "to");
        write_string(w, to);
        w.EndObject();
      });
    } else {
      std::printf("moved '%s' to '%s'\n", from.c_str(), to.c_str());
    }
  });
  return cmd;
}

CLI::App* add_ls_command(CLI::App& app, CliContext& ctx) {
  auto* cmd = app.add_subcommand("ls");
  auto o = std::make_shared<LsOpts>();
  cmd->add_option("DIR", o->dir, "directory to list (default: the root)");
  cmd->add_flag("-l,--long", o->long_form, "show each entry's kind, column count and row count");
  cmd->add_flag("-r,--recursive", o->recursive, "include the contents of subdirectories");
  cmd->callback([&ctx, o] { run_ls(ctx, *o); });
  return cmd;
}

CLI::App* add_describe_command(CLI::App& app, CliContext& ctx) {
  auto* cmd = app.add_subcommand("describe");
  auto path = std::make_shared<std::string>();
  cmd->add_option("PATH", *path, "table path")->required();
  cmd->callback([&ctx, path] { run_describe(ctx, *path, false); });
  return cmd;
}

CLI::App* add_columns_command(CLI::App& app, CliContext& ctx) {
  auto* cmd = app.add_subcommand("columns");
  auto path = std::make_shared<std::string>();
  cmd->add_option("PATH", *path, "table path")->required();
  cmd->callback([&ctx, path] { run_describe(ctx, *path, true); });
  return cmd;
}

}  // namespace pxt
