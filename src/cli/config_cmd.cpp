// `pxt config [KEY [VALUE]]`: the settings a home keeps with its data (Store::get_setting), such
// as time_zone, the zone naive Timestamps are read in and answers are written in.
#include <cstdio>
#include <memory>
#include <string>

#include "cli/commands.hpp"
#include "util/json.hpp"

namespace pxt {

namespace {

struct ConfigOpts {
  std::string key;
  std::string value;
  bool has_value = false;
  bool unset = false;
};

void run_config(CliContext& ctx, const ConfigOpts& o) {
  Store& store = ctx.store();
  if (o.key.empty()) {  // every setting
    JsonBuffer buf;
    JsonWriter w(buf);
    w.StartObject();
    for (const auto& k : setting_keys()) {
      std::string v = store.get_setting(k).take();
      if (ctx.json) {
        write_key(w, k);
        if (v.empty())
          w.Null();
        else
          write_string(w, v);
      } else {
        std::printf("%s = %s\n", k.c_str(), v.empty() ? "(unset)" : v.c_str());
      }
    }
    w.EndObject();
    if (ctx.json) std::printf("%s\n", buf.GetString());
    return;
  }
  usage_take(check_setting(o.key, ""));
  if (o.unset || o.has_value) {
    store.set_setting(o.key, o.unset ? "" : o.value).take();
    return;
  }
  std::string v = store.get_setting(o.key).take();
  if (ctx.json) {
    JsonBuffer buf;
    JsonWriter w(buf);
    w.StartObject();
    write_key(w, o.key);
    if (v.empty())
      w.Null();
    else
      write_string(w, v);
    w.EndObject();
    std::printf("%s\n", buf.GetString());
  } else {
    std::printf("%s\n", v.c_str());
  }
}

}  // namespace

CLI::App* add_config_command(CLI::App& app, CliContext& ctx) {
  auto* cmd = app.add_subcommand("config");
  auto o = std::make_shared<ConfigOpts>();
  cmd->add_option("KEY", o->key, "a setting: time_zone");
  auto* value =
      cmd->add_option("VALUE", o->value, "the new value (an IANA zone such as Europe/Paris, UTC, or +05:30)");
  cmd->add_flag("--unset", o->unset, "remove the setting (back to its default)");
  cmd->callback([&ctx, o, value] {
    o->has_value = value->count() > 0;
    if (o->unset && o->has_value) throw UsageError("give either a VALUE or --unset, not both");
    if (o->unset && o->key.empty()) throw UsageError("--unset needs a KEY");
    run_config(ctx, *o);
  });
  return cmd;
}

}  // namespace pxt
