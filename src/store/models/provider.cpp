// The process's model providers (see provider.hpp) and model references.
#include "store/models/provider.hpp"

#include <algorithm>
#include <mutex>

#include "store/models/client.hpp"
#include "util/strings.hpp"

namespace pxt::models {

namespace {

struct Registry {
  std::mutex mu;
  std::vector<std::shared_ptr<Provider>> providers;
  bool configured = false;
};

Registry& registry() {
  static auto* r = new Registry();  // never destroyed: model calls may run while the process exits
  return *r;
}

bool same_config(const ProviderConfig& a, const ProviderConfig& b) {
  return a.name == b.name && a.base_url == b.base_url && a.api_key == b.api_key &&
         a.timeout_s == b.timeout_s && a.max_concurrency == b.max_concurrency && a.rpm == b.rpm &&
         a.max_retries == b.max_retries && a.batch_window_ms == b.batch_window_ms &&
         a.max_batch == b.max_batch;
}

// Before any configuration, the environment's `openai` (if any) is the only provider: a command
// that never read a config file still reaches it.
void ensure_configured(Registry& r) {
  if (r.configured) return;
  r.configured = true;
  if (auto env = provider_from_env()) r.providers.push_back(std::make_shared<Provider>(std::move(*env)));
}

}  // namespace

void configure_providers(const std::vector<ProviderConfig>& configs) {
  Registry& r = registry();
  std::lock_guard lock(r.mu);
  r.configured = true;
  std::vector<std::shared_ptr<Provider>> next;
  for (const auto& cfg : configs) {
    auto same = std::find_if(r.providers.begin(), r.providers.end(),
                             [&](const auto& p) { return same_config(p->config(), cfg); });
    next.push_back(same != r.providers.end() ? *same : std::make_shared<Provider>(cfg));
  }
  r.providers = std::move(next);
}

std::shared_ptr<Provider> find_provider(std::string_view name) {
  Registry& r = registry();
  std::lock_guard lock(r.mu);
  ensure_configured(r);
  for (const auto& p : r.providers)
    if (p->config().name == name) return p;
  return nullptr;
}

std::vector<ProviderConfig> provider_configs() {
  Registry& r = registry();
  std::lock_guard lock(r.mu);
  ensure_configured(r);
  std::vector<ProviderConfig> out;
  for (const auto& p : r.providers) out.push_back(p->config());
  return out;
}

Result<ModelRef> parse_model_ref(std::string_view spec) {
  std::string_view s = trim(spec);
  if (s.empty())
    return make_error(Errc::invalid_argument, "the model name is empty (write 'provider/model')");
  size_t slash = s.find('/');
  if (slash == std::string_view::npos) return ModelRef{"openai", std::string(s)};
  ModelRef ref{std::string(s.substr(0, slash)), std::string(s.substr(slash + 1))};
  if (ref.provider.empty())
    return make_error(Errc::invalid_argument, "model '" + std::string(s) + "' has an empty provider name");
  if (ref.model.empty())
    return make_error(Errc::invalid_argument, "model '" + std::string(s) + "' has an empty model name");
  return ref;
}

Result<std::shared_ptr<Provider>> provider_for(const ModelRef& ref) {
  if (auto p = find_provider(ref.provider)) return p;
  std::vector<std::string> names;
  for (const auto& c : provider_configs()) names.push_back(c.name);
  std::string msg = "unknown model provider '" + ref.provider + "' in '" + ref.text() + "'" +
                    did_you_mean(ref.provider, names);
  if (ref.provider == "openai") {
    msg +=
        " (set OPENAI_API_KEY, or OPENAI_BASE_URL for an OpenAI-compatible server, or declare "
        "[models.openai] "
        "with base_url in $PXT_HOME/config.toml or the service file)";
  } else {
    msg +=
        " (declare [models." + ref.provider + "] with base_url in $PXT_HOME/config.toml or the service file";
    msg += names.empty() ? ")" : "; configured: " + quoted_list(names) + ")";
  }
  return make_error(Errc::not_found, msg);
}

}  // namespace pxt::models
