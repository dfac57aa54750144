// Catalog commands: create-dir, create-table, drop, drop-dir, mv, ls (describe and columns:
// describe_cmd.cpp).
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
  // -l: a table's column and row counts, a directory's number of entries; a column that is
  // empty for every entry listed (no tables, or no directories) is left out.
  struct Detail {
    size_t columns = 0;
    int64_t rows = 0;
    size_t entries = 0;
  };
  std::vector<Detail> details(entries.size());
  auto is_dir = [](const CatalogEntry& e) { return e.kind == CatalogEntry::Kind::Dir; };
  if (o.long_form) {
    std::vector<CatalogEntry> all;
    if (std::any_of(entries.begin(), entries.end(), is_dir)) all = ctx.store().list("", true).take();
    for (size_t i = 0; i < entries.size(); ++i) {
      if (is_dir(entries[i])) {
        details[i].entries =
            static_cast<size_t>(std::count_if(all.begin(), all.end(), [&](const CatalogEntry& e) {
              return parent_path(e.path) == entries[i].path;
            }));
        continue;
      }
      TableDef t = ctx.store().get_table(entries[i].path).take();
      details[i].columns = t.columns.size();
      details[i].rows = ctx.store().count(t, Filter{}).take();
    }
  }
  if (ctx.json) {
    print_json([&](JsonWriter& w) {
      w.StartArray();
      for (size_t i = 0; i < entries.size(); ++i) {
        w.StartObject();
        write_key(w, "kind");
        write_string(w, is_dir(entries[i]) ? "dir" : "table");
        write_key(w, "path");
        write_string(w, entries[i].path);
        if (o.long_form && is_dir(entries[i])) {
          write_key(w, "entries");
          w.Uint64(details[i].entries);
        } else if (o.long_form) {
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
    bool any_dir = std::any_of(entries.begin(), entries.end(), is_dir);
    bool any_table = !std::all_of(entries.begin(), entries.end(), is_dir);
    std::vector<std::string> header = {"kind", "path"};
    if (any_dir) header.push_back("entries");
    if (any_table) header.insert(header.end(), {"columns", "rows"});
    std::vector<std::vector<std::string>> rows;
    for (size_t i = 0; i < entries.size(); ++i) {
      bool d = is_dir(entries[i]);
      std::vector<std::string> row = {d ? "dir" : "table", entries[i].path};
      if (any_dir) row.push_back(d ? std::to_string(details[i].entries) : "");
      if (any_table) {
        row.push_back(d ? "" : std::to_string(details[i].columns));
        row.push_back(d ? "" : std::to_string(details[i].rows));
      }
      rows.push_back(std::move(row));
    }
    out.write(render_table(header, rows, 80));
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
  cmd->add_option("--if-exists", o->if_exists, "error (default), ignore or replace")
      ->type_name("{error,ignore,replace}");
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

}  // namespace pxt
