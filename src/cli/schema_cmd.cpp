// `pxt schema update|diff MODULE`: apply or preview a schema module (a TOML file, or a module
// name resolved like a service's `modules` entry: a/b.toml in ".", then each $PXT_PATH folder).
#include <fmt/format.h>

#include <filesystem>
#include <memory>

#include "cli/commands.hpp"
#include "store/modules/modules.hpp"
#include "util/json.hpp"
#include "util/strings.hpp"

namespace pxt {

namespace {

// "no such file 'demo/schema.tml', did you mean 'demo/schema.toml'?": the nearest file in the
// folder the argument names (spelled as the user wrote the folder).
Error no_such_file(const std::string& arg) {
  namespace fs = std::filesystem;
  fs::path p(arg);
  fs::path dir = p.parent_path();
  std::vector<std::string> near;
  std::error_code ec;
  for (fs::directory_iterator it(dir.empty() ? fs::path(".") : dir, ec), end; !ec && it != end;
       it.increment(ec)) {
    if (it->is_regular_file(ec)) near.push_back((dir / it->path().filename()).string());
  }
  return make_error(Errc::not_found, "no such file '" + arg + "'" + did_you_mean(arg, near));
}

// A file when it names one or looks like one (a '/' or an extension that is not a module
// part); else a module name, resolved like a service's `modules` entry.
ModuleDef load_module(const std::string& arg) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::exists(arg, ec)) return parse_module(arg, "").take();
  bool module_name = true;
  for (const auto& part : split(arg, '.')) module_name = module_name && is_identifier(part);
  if (!module_name || arg.ends_with(".toml")) throw Failure(no_such_file(arg));
  auto file = find_module_file(arg, module_search_path({}));
  if (!file) {
    // "schema.tml" is a valid module name too: when no module has it but a file is near, the
    // user meant the file.
    Error e = no_such_file(arg);
    if (e.message.find("did you mean") != std::string::npos) throw Failure(e);
    throw Failure(file.error());
  }
  return parse_module(*file, arg).take();
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
