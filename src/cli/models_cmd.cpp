// `pxt models list|check [NAME]`: the model providers configured for this home (and a service
// file), and whether each answers. No business logic: store/models/ does the work.
#include <algorithm>
#include <memory>
#include <optional>

#include "cli/commands.hpp"
#include "store/models/client.hpp"
#include "store/models/provider.hpp"
#include "util/json.hpp"
#include "util/strings.hpp"

namespace pxt {

namespace {

struct ModelsState {
  std::string name;
  std::string config;
};

std::vector<models::ProviderConfig> selected(const ModelsState& st) {
  std::vector<models::ProviderConfig> all = models::provider_configs();
  if (st.name.empty()) return all;
  for (const auto& p : all)
    if (p.name == st.name) return {p};
  std::vector<std::string> names;
  for (const auto& p : all) names.push_back(p.name);
  throw Failure(make_error(
      Errc::not_found,
      "no model provider named '" + st.name + "'" + did_you_mean(st.name, names) +
          (names.empty() ? " (none is configured)" : " (configured: " + quoted_list(names) + ")")));
}

// The model ids of a /models answer ({"data": [{"id": ...}, ...]}), or nullopt if not that shape.
std::optional<std::vector<std::string>> model_ids(const std::string& body) {
  rapidjson::Document d;
  d.Parse(body.c_str(), body.size());
  if (d.HasParseError() || !d.IsObject()) return std::nullopt;
  const rapidjson::Value* data = member(d, "data");
  if (!data || !data->IsArray()) return std::nullopt;
  std::vector<std::string> ids;
  for (const auto& m : data->GetArray()) {
    if (m.IsObject() && m.HasMember("id") && m["id"].IsString()) ids.emplace_back(m["id"].GetString());
  }
  return ids;
}

void run_list(CliContext& ctx, const ModelsState& st) {
  configure_models(ctx.home(), st.config);
  auto providers = selected(st);
  if (ctx.json) {
    JsonBuffer buf;
    JsonWriter w(buf);
    w.StartArray();
    for (const auto& p : providers) {
      w.StartObject();
      write_key(w, "name");
      write_string(w, p.name);
      write_key(w, "base_url");
      write_string(w, p.base_url);
      write_key(w, "api_key_set");  // never the key
      w.Bool(!p.api_key.empty());
      write_key(w, "timeout_s");
      w.Double(p.timeout_s);
      write_key(w, "max_concurrency");
      w.Int(p.max_concurrency);
      write_key(w, "rpm");
      w.Int(p.rpm);
      write_key(w, "max_retries");
      w.Int(p.max_retries);
      write_key(w, "declared_at");
      write_string(w, p.location);
      w.EndObject();
    }
    w.EndArray();
    std::printf("%s\n", buf.GetString());
    return;
  }
  if (providers.empty()) {
    std::printf(
        "no model providers configured: declare [models.NAME] with base_url in %s/config.toml or a service "
        "file, or set OPENAI_API_KEY / OPENAI_BASE_URL\n",
        ctx.home().c_str());
  }
  for (const auto& p : providers) std::printf("%s\n", models::describe_provider(p).c_str());
}

void run_check(CliContext& ctx, const ModelsState& st) {
  configure_models(ctx.home(), st.config);
  auto providers = selected(st);
  if (providers.empty())
    throw Failure(make_error(Errc::not_found,
                             "no model providers configured: declare [models.NAME] with base_url "
                             "in " +
                                 ctx.home() + "/config.toml, or set OPENAI_API_KEY"));
  bool all_ok = true;
  JsonBuffer buf;
  JsonWriter w(buf);
  w.StartArray();
  for (const auto& cfg : providers) {
    auto provider = models::find_provider(cfg.name);
    auto reply = provider->get("/models");
    std::optional<std::vector<std::string>> ids;
    if (reply) ids = model_ids(reply->body);
    bool ok = reply.ok() && ids.has_value();
    all_ok = all_ok && ok;
    std::string problem = !reply
                              ? reply.error().message
                              : "answered " + std::to_string(reply->status) + " but not an OpenAI model list";
    if (ctx.json) {
      w.StartObject();
      write_key(w, "name");
      write_string(w, cfg.name);
      write_key(w, "base_url");
      write_string(w, cfg.base_url);
      write_key(w, "ok");
      w.Bool(ok);
      if (ok) {
        write_key(w, "models");
        w.StartArray();
        for (const auto& id : *ids) write_string(w, id);
        w.EndArray();
      } else {
        write_key(w, "error");
        write_string(w, problem);
      }
      w.EndObject();
      continue;
    }
    if (!ok) {
      std::printf("%s: FAILED (%s): %s\n", cfg.name.c_str(), cfg.base_url.c_str(), problem.c_str());
      continue;
    }
    std::vector<std::string> shown(ids->begin(),
                                   ids->begin() + static_cast<long>(std::min<size_t>(ids->size(), 10)));
    std::printf("%s: ok (%s): %zu model%s: %s%s\n", cfg.name.c_str(), cfg.base_url.c_str(), ids->size(),
                ids->size() == 1 ? "" : "s", join(shown, ", ").c_str(), ids->size() > 10 ? ", ..." : "");
  }
  w.EndArray();
  if (ctx.json) std::printf("%s\n", buf.GetString());
  if (!all_ok) ctx.exit_status = 1;
}

}  // namespace

CLI::App* add_models_command(CLI::App& app, CliContext& ctx) {
  auto st = std::make_shared<ModelsState>();
  auto* cmd = app.add_subcommand("models");
  cmd->require_subcommand(1, 1);
  cmd->footer(
      "Providers are [models.NAME] tables (base_url, api_key = \"${ENV_VAR}\", timeout_s, max_concurrency, "
      "rpm,\n"
      "max_retries) in $PXT_HOME/config.toml or a service file; OPENAI_API_KEY / OPENAI_BASE_URL define "
      "`openai`.");
  auto* list = cmd->add_subcommand("list", "list the configured providers (never their keys)");
  list->add_option("NAME", st->name, "only this provider");
  list->add_option("--config", st->config, "also read [models.NAME] tables from this service file");
  list->callback([&ctx, st] { run_list(ctx, *st); });
  auto* check = cmd->add_subcommand("check", "call each provider's /models and print what answered");
  check->add_option("NAME", st->name, "only this provider");
  check->add_option("--config", st->config, "also read [models.NAME] tables from this service file");
  check->callback([&ctx, st] { run_check(ctx, *st); });
  return cmd;
}

}  // namespace pxt
