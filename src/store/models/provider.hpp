#pragma once
// Model providers: OpenAI-compatible HTTP endpoints (OpenAI, vLLM, llama.cpp's llama-server,
// Ollama's /v1) that the model functions (chat, chat_completion, embed) call. A provider is declared
// once, as a [models.NAME] table in $PXT_HOME/config.toml or in a service file (the service's
// declaration of a name wins), or by the environment (OPENAI_BASE_URL / OPENAI_API_KEY define the
// provider `openai` unless a file declares it).
//
// The API key is a secret: it is kept here and sent in the Authorization header, and never printed,
// logged, put in an error message or in OpenAPI (describe() shows only whether one is set).
//
// Thread-safety: the functions here may be called from any thread; the registry is replaced as a
// whole by configure_providers(), and a Provider already handed out stays valid until released.
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.hpp"

namespace pxt::models {

struct ProviderConfig {
  std::string name;
  std::string base_url;      // e.g. "https://api.openai.com/v1" (no trailing slash)
  std::string api_key;       // secret; empty: no Authorization header (local servers)
  double timeout_s = 120;    // per upstream request (connect, send, and each read)
  int max_concurrency = 16;  // requests in flight to this provider at once
  int rpm = 0;               // requests per minute at most; 0: no cap of our own
  int max_retries = 4;       // retries after the first try (connection errors, 408, 429, 5xx)
  // embed: how long a batch waits for more inputs when others are busy. Of 0-5 ms, 1 ms did best
  // (or tied) at 64 connections in three runs of four; at 8, where the slots suffice without
  // batching, it costs 5% against none and 5 ms 18% (bench/RESULTS.md, "Model functions").
  int batch_window_ms = 1;
  int max_batch = 32;    // embed: inputs per request at most (Pixeltable's batch size)
  std::string location;  // "file:line" of the declaration, or "environment"
};

// The [models.NAME] tables of a TOML file: at the top level, or under [tool.pixeltable] /
// [tool.pxt] in a pyproject.toml. Keys: base_url (required), api_key, timeout_s, max_concurrency,
// rpm, max_retries, batch_window_ms, max_batch; ${VAR} is substituted in strings. Every mistake is
// reported at once, "file:line: models.NAME.key: reason" per line (invalid_argument). Never throws.
Result<std::vector<ProviderConfig>> parse_model_tables(const std::string& text, const std::string& file);
// The same for a file; a file that does not exist declares nothing (not an error).
Result<std::vector<ProviderConfig>> load_model_tables(const std::string& file);

// The provider OPENAI_BASE_URL / OPENAI_API_KEY define (named "openai"), if either is set.
std::optional<ProviderConfig> provider_from_env();

// Checks one declaration: a name that is an identifier (hyphens allowed), an http(s) base_url with a
// host, positive limits. Error: invalid_argument "location: models.NAME.key: reason".
Result<void> check_provider(const ProviderConfig& p);

// Layers of declarations, lowest first (config.toml, then the service file): a later declaration of
// a name replaces the earlier one whole; the environment's `openai` comes first, below both.
std::vector<ProviderConfig> merge_providers(const std::vector<std::vector<ProviderConfig>>& layers);

class Provider;  // store/models/client.hpp

// Replaces the process's providers (existing Provider objects with an identical config are kept,
// so their connections and limits survive). Call at start-up, before serving.
void configure_providers(const std::vector<ProviderConfig>& providers);
// The provider named `name`, or nullptr.
std::shared_ptr<Provider> find_provider(std::string_view name);
// Every configured provider's config (api keys included: callers must not print them).
std::vector<ProviderConfig> provider_configs();

// A model argument: "provider/model" names both (the model may itself contain '/', as Hugging Face
// names do: "vllm/BAAI/bge-small-en-v1.5"); a name without '/' uses the provider "openai".
struct ModelRef {
  std::string provider;
  std::string model;
  std::string text() const { return provider + "/" + model; }
};
// Error: invalid_argument for an empty name or model.
Result<ModelRef> parse_model_ref(std::string_view spec);
// The provider of ref, or not_found "unknown model provider 'x' in 'x/m', did you mean 'y'?
// (declare [models.x] ...)".
Result<std::shared_ptr<Provider>> provider_for(const ModelRef& ref);

// One line per provider for --dry-run and `pxt models check`: name, base URL, whether a key is
// set, limits. Never the key.
std::string describe_provider(const ProviderConfig& p);

}  // namespace pxt::models
