// The `pxt` entry point: one table of subcommands (in the style of ninja's tool table), global
// options, and the single place where errors become "pxt: error: ..." and an exit status.
#include "cli/app.hpp"

#include <fmt/format.h>

#include <cstdio>
#include <cstring>
#include <optional>

#include "cli/commands.hpp"
#include "cli/serve_cmd.hpp"
#include "util/strings.hpp"

namespace pxt {

const std::vector<CommandEntry>& command_table() {
  static const std::vector<CommandEntry> table = {
      {"ls", "list the directories and tables in DIR (default: the root)", add_ls_command},
      {"describe", "show a table's rows, key, indexes, columns, computed columns and routes",
       add_describe_command},
      {"columns", "list a table's columns with their types", add_columns_command},
      {"count", "count a table's rows, optionally those matching --where", add_count_command},
      {"rows", "print rows as a table, JSON, JSON Lines or CSV", add_rows_command},
      {"insert", "insert rows from JSON, a JSON Lines file or stdin", add_insert_command},
      {"update", "set columns on the rows matching --where", add_update_command},
      {"delete", "delete the rows matching --where", add_delete_command},
      {"create-dir", "create a directory", add_create_dir_command},
      {"create-table", "create a table with input and computed columns", add_create_table_command},
      {"drop", "drop a table", add_drop_command},
      {"drop-dir", "drop a directory", add_drop_dir_command},
      {"create-index", "add an embedding index to a column (similarity search)", add_create_index_command},
      {"drop-index", "drop an embedding index", add_drop_index_command},
      {"mv", "move or rename a table or directory", add_mv_command},
      {"schema", "apply or preview a schema module (update, diff)", add_schema_command},
      {"models", "list the model providers or check that they answer (list, check)", add_models_command},
      {"config", "show or change the home's settings (time_zone)", add_config_command},
      {"store", "copy a whole store into another (store copy --to postgresql://...)", add_store_command},
      {"serve", "serve tables and queries as HTTP endpoints", add_serve_command},
      {"version", "print the version, git commit, build type and library versions", add_version_command},
      {"completion", "print a bash, zsh or fish completion script", add_completion_command},
  };
  return table;
}

std::string unknown_command_message(std::string_view name) {
  std::vector<std::string> names;
  for (const auto& e : command_table()) names.emplace_back(e.name);
  return fmt::format("unknown command '{}'{}", name, did_you_mean(name, names));
}

namespace {

bool is_global_flag(std::string_view a) {
  return a == "--json" || a == "-h" || a == "--help" || a == "--help-all" || a == "--version" ||
         a.starts_with("--home=") || a.starts_with("--store=");
}

bool has_positionals(const CLI::App& app) {
  for (const CLI::Option* opt : app.get_options()) {
    if (opt->get_positional()) return true;
  }
  return false;
}

// CLI11 would report a mistyped command as an unexpected argument; find it first so the
// message can name it and suggest the closest command. Returns the message, if any.
std::optional<std::string> find_unknown_command(CLI::App& app, int argc, char** argv) {
  CLI::App* current = &app;
  std::string prefix;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--") return std::nullopt;
    if (current == &app && (a == "--home" || a == "--store")) {
      ++i;
      continue;
    }
    if (is_global_flag(a)) continue;
    if (a.starts_with("-")) return std::nullopt;  // an unknown option: CLI11 reports it
    auto subs = current->get_subcommands([](CLI::App*) { return true; });
    if (subs.empty() || has_positionals(*current)) return std::nullopt;
    CLI::App* match = nullptr;
    std::vector<std::string> names;
    for (auto* s : subs) {
      if (s->get_name() == a) match = s;
      names.push_back(s->get_name());
    }
    if (match) {
      current = match;
      prefix += std::string(a) + " ";
      continue;
    }
    if (current == &app) return unknown_command_message(a);
    return fmt::format("unknown command '{}{}'{}", prefix, a, did_you_mean(a, names));
  }
  return std::nullopt;
}

CLI::App* deepest_selected(CLI::App& app) {
  CLI::App* cur = &app;
  while (true) {
    auto subs = cur->get_subcommands();
    if (subs.empty()) return cur;
    cur = subs.front();
  }
}

std::string command_path(CLI::App* sub) {
  std::string path;
  for (CLI::App* a = sub; a && a->get_parent(); a = a->get_parent()) {
    path = a->get_name() + (path.empty() ? "" : " " + path);
  }
  return path;
}

// CLI11's "argument was not expected" with a suggestion when it looks like a mistyped option.
std::string extras_message(CLI::App& app, const CLI::ExtrasError& e) {
  CLI::App* sub = deepest_selected(app);
  std::vector<std::string> options;
  for (CLI::App* a = sub; a; a = a->get_parent()) {
    for (const CLI::Option* opt : a->get_options()) {
      for (const auto& n : opt->get_lnames()) options.push_back("--" + n);
    }
  }
  // With fallthrough, an unknown option lands in whichever parent app looked at it last.
  std::vector<std::string> extras;
  for (CLI::App* a = sub; a; a = a->get_parent()) {
    for (auto& x : a->remaining()) extras.push_back(std::move(x));
  }
  for (const auto& extra : extras) {
    if (extra.size() > 1 && extra[0] == '-' && extra[1] != '-')
      return fmt::format("unknown option '{}'", extra);
    if (!extra.starts_with("--")) continue;
    std::string name = extra.substr(0, extra.find('='));
    std::string best = closest_match(name, options);
    if (!best.empty()) return fmt::format("unknown option '{}', did you mean '{}'?", name, best);
    return fmt::format("unknown option '{}'", name);
  }
  return e.what();
}

}  // namespace

void print_error(std::string_view message) {
  std::fprintf(stderr, "pxt: error: %.*s\n", static_cast<int>(message.size()), message.data());
}

namespace {

// The error, then the command's examples (its footer) when it has some: a newcomer who typed
// `pxt serve insert` alone sees what a whole command looks like, not only what is missing.
int usage_error(CLI::App& app, const std::string& message) {
  CLI::App* sub = deepest_selected(app);
  std::string help = sub == &app ? "pxt --help" : "pxt " + command_path(sub) + " --help";
  std::string footer = sub == &app ? std::string() : sub->get_footer();
  size_t example = footer.find("Example");
  std::string examples = example == std::string::npos ? std::string() : footer.substr(example);
  while (!examples.empty() && examples.back() == '\n') examples.pop_back();
  std::fprintf(stderr, "pxt: error: %s\n%s%srun '%s' for usage\n", message.c_str(), examples.c_str(),
               examples.empty() ? "" : "\n", help.c_str());
  return 2;
}

}  // namespace

int app_main(int argc, char** argv) {
  CliContext ctx;
  CLI::App app{"pxt: tables, computed columns and named queries, served over HTTP", "pxt"};
  app.set_version_flag("--version", version_line());
  app.add_option("--home", ctx.home_flag,
                 "home folder holding pxt.db and media/ (default: $PXT_HOME, else ~/.pxt)");
  app.add_option("--store", ctx.store_flag,
                 "where tables live: postgresql://user@host/db for a PostgreSQL store shared by many "
                 "processes, sqlite:///DIR for a home folder (default: $PXT_STORE, else `store` in "
                 "$PXT_HOME/config.toml, else the home's own SQLite file)");
  app.add_flag("--json", ctx.json, "print machine-readable JSON");
  app.fallthrough();
  app.require_subcommand(1, 1);
  for (const auto& entry : command_table()) {
    CLI::App* sub = entry.add(app, ctx);
    sub->description(entry.help);
  }
  // Bare `pxt` is a request for help, as in Pixeltable's CLI: usage on stdout, exit 0.
  if (argc <= 1) {
    std::fputs(app.help().c_str(), stdout);
    return 0;
  }
  try {
    if (auto unknown = find_unknown_command(app, argc, argv)) {
      std::fprintf(stderr, "pxt: error: %s\nrun 'pxt --help' for the list of commands\n", unknown->c_str());
      return 2;
    }
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ExtrasError& e) {
    return usage_error(app, extras_message(app, e));
  } catch (const CLI::ParseError& e) {
    CLI::App* sub = deepest_selected(app);
    auto subs = sub->get_subcommands([](CLI::App*) { return true; });
    if (sub != &app && !subs.empty() && std::string_view(e.what()).starts_with("A subcommand is required")) {
      std::vector<std::string> names;
      for (auto* s : subs) names.push_back(s->get_name());
      return usage_error(app,
                         fmt::format("'pxt {}' needs a command: {}", command_path(sub), join(names, ", ")));
    }
    return usage_error(app, e.what());
  } catch (const UsageError& e) {
    return usage_error(app, e.what());
  } catch (const Failure& e) {
    print_error(e.what());
    return 1;
  } catch (const std::exception& e) {
    print_error(e.what());
    return 1;
  }
  return ctx.exit_status;
}

}  // namespace pxt
