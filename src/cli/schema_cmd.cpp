// `pxt schema update|diff MODULE`: apply or preview a schema module (a TOML file, or a module
// name resolved like a service's `modules` entry: a/b.toml in ".", then each $PXT_PATH folder).
#include <fmt/format.h>

#include <filesystem>
#include <memory>

#include "cli/commands.hpp"
#include "store/modules/modules.hpp"
#include "util/json.hpp"

namespace pxt {

namespace {

ModuleDef load_module(const std::string& arg) {
  std::error_code ec;
  bool is_file = arg.ends_with(".toml") || std::filesystem::exists(arg, ec);
  if (is_file) return parse_module(arg, "").take();
  std::string file = find_module_file(arg, module_search_path({})).take();
  return parse_module(file, arg).take();
}

void print_lines(CliContext& ctx, const char* key, const std::vector<std::string>& lines,
                 const char* empty_text) {
  if (ctx.json) {
    JsonBuffer buf;
    JsonWriter w(buf);
    w.StartObject();
    write_key(w, key);
    w.StartArray();
    for (const auto& l : lines) write_string(w, l);
    w.EndArray();
    w.EndObject();
    std::printf("%s\n", buf.GetString());
    return;
  }
  if (lines.empty()) std::printf("%s\n", empty_text);
  for (const auto& l : lines) std::printf("%s\n", l.c_str());
}

}  // namespace

CLI::App* add_schema_command(CLI::App& app, CliContext& ctx) {
  auto* cmd = app.add_subcommand("schema");
  cmd->require_subcommand(1, 1);
  auto file = std::make_shared<std::string>();

  auto* update = cmd->add_subcommand("update", "create what the module declares and is missing");
  update->add_option("MODULE", *file, "module file (e.g. demo/schema.toml) or module name")->required();
  update->callback([&ctx, file] {
    ModuleDef m = load_module(*file);
    print_lines(ctx, "changes", apply_module(ctx.store(), m).take(), "nothing to do: the catalog matches");
  });

  auto* diff = cmd->add_subcommand("diff", "show what `schema update` would change");
  diff->add_option("MODULE", *file, "module file (e.g. demo/schema.toml) or module name")->required();
  diff->callback([&ctx, file] {
    ModuleDef m = load_module(*file);
    print_lines(ctx, "changes", diff_module(ctx.store(), m).take(), "no changes");
  });
  return cmd;
}

}  // namespace pxt
