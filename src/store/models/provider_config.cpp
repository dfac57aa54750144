// [models.NAME] tables: reading them from TOML, the environment's `openai`, checks and merging.
#include <toml.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <sstream>

#include "store/models/provider.hpp"
#include "util/strings.hpp"
#include "util/toml_guard.hpp"
#include "util/toml_names.hpp"

namespace pxt::models {

namespace {

using TValue = toml::basic_value<toml::discard_comments, std::map, std::vector>;

const std::vector<std::string>& provider_keys() {
  static const std::vector<std::string> keys = {"base_url", "api_key",     "timeout_s", "max_concurrency",
                                                "rpm",      "max_retries", "max_batch", "batch_window_ms"};
  return keys;
}

class TableReader {
 public:
  explicit TableReader(std::string file) : file_(std::move(file)) {}

  void read(const TValue& models) {
    if (!models.is_table()) {
      add(models, "models", "expected a table of providers ([models.NAME]), got " + kind(models));
      return;
    }
    for (const auto& [name, entry] : models.as_table()) read_one(name, entry);
  }
  std::vector<ProviderConfig>& out() { return out_; }
  Result<void> result() const {
    if (errors_.empty()) return {};
    auto sorted = errors_;
    std::stable_sort(sorted.begin(), sorted.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<std::string> lines;
    for (const auto& e : sorted) lines.push_back(e.second);
    return make_error(Errc::invalid_argument, join(lines, "\n"));
  }

 private:
  static std::string kind(const TValue& v) { return std::string(toml_kind_name(v.type())); }
  std::string loc(const TValue& v) const { return file_ + ":" + std::to_string(v.location().line()); }
  void add(const TValue& at, const std::string& key, const std::string& why) {
    errors_.emplace_back(at.location().line(), loc(at) + ": " + key + ": " + why);
  }

  void read_one(const std::string& name, const TValue& entry) {
    const std::string where = "models." + name;
    if (!entry.is_table()) {
      add(entry, where, "expected a table ([" + where + "] with base_url = ...), got " + kind(entry));
      return;
    }
    ProviderConfig p;
    p.name = name;
    p.location = loc(entry);
    bool has_url = false;
    for (const auto& [k, v] : entry.as_table()) {
      const std::string key = where + "." + k;
      if (k == "base_url" || k == "api_key") {
        if (!v.is_string()) {
          add(v, key, "expected a string, got " + kind(v));
          continue;
        }
        auto s = substitute_env(v.as_string().str);
        if (!s) {
          add(v, key, s.error().message);
          continue;
        }
        (k == "base_url" ? p.base_url : p.api_key) = std::move(*s);
        has_url = has_url || k == "base_url";
      } else if (k == "timeout_s") {
        if (v.is_integer()) {
          p.timeout_s = static_cast<double>(v.as_integer());
        } else if (v.is_floating()) {
          p.timeout_s = v.as_floating();
        } else {
          add(v, key, "expected a number of seconds, got " + kind(v));
        }
      } else if (k == "max_concurrency" || k == "rpm" || k == "max_retries" || k == "max_batch" ||
                 k == "batch_window_ms") {
        if (!v.is_integer()) {
          add(v, key, "expected an integer, got " + kind(v));
          continue;
        }
        int64_t n = v.as_integer();
        if (n < 0 || n > 1000000) {
          add(v, key, "value " + std::to_string(n) + " is out of range (0 to 1000000)");
          continue;
        }
        int& field = k == "max_concurrency" ? p.max_concurrency
                     : k == "rpm"           ? p.rpm
                     : k == "max_retries"   ? p.max_retries
                     : k == "max_batch"     ? p.max_batch
                                            : p.batch_window_ms;
        field = static_cast<int>(n);
      } else {
        add(v, key,
            "unknown key" + did_you_mean(k, provider_keys()) + " (keys: " + join(provider_keys(), ", ") +
                ")");
      }
    }
    if (!has_url) {
      add(entry, where, "missing base_url (e.g. base_url = \"http://localhost:8000/v1\")");
      return;
    }
    if (auto ok = check_provider(p); !ok) {
      errors_.emplace_back(entry.location().line(), ok.error().message);
      return;
    }
    out_.push_back(std::move(p));
  }

  std::string file_;
  std::vector<ProviderConfig> out_;
  std::vector<std::pair<size_t, std::string>> errors_;
};

// Where the [models] table sits: the top level, or [tool.pixeltable] / [tool.pxt] of a pyproject.
const TValue* models_table(const TValue& doc, bool pyproject) {
  if (!doc.is_table()) return nullptr;
  if (!pyproject) return doc.contains("models") ? &doc.at("models") : nullptr;
  if (!doc.contains("tool") || !doc.at("tool").is_table()) return nullptr;
  for (const char* name : {"pixeltable", "pxt"}) {
    const auto& tool = doc.at("tool");
    if (tool.contains(name) && tool.at(name).is_table() && tool.at(name).contains("models"))
      return &tool.at(name).at("models");
  }
  return nullptr;
}

bool is_provider_name(std::string_view s) {
  if (s.empty() || s.size() > 64 || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_'))
    return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  });
}

}  // namespace

Result<std::vector<ProviderConfig>> parse_model_tables(const std::string& text, const std::string& file) {
  PXT_CHECK(check_toml_shape(text, file));
  TValue doc;
  try {
    std::istringstream in(text);
    doc = toml::parse<toml::discard_comments, std::map, std::vector>(in, file);
  } catch (const toml::exception& e) {
    std::string what = e.what();
    return make_error(Errc::invalid_argument, file + ":" + std::to_string(e.location().line()) +
                                                  ": TOML syntax error: " + what.substr(0, what.find('\n')));
  } catch (const std::exception& e) {
    return make_error(Errc::invalid_argument, file + ": TOML error: " + std::string(e.what()));
  }
  const bool pyproject = std::filesystem::path(file).filename() == "pyproject.toml";
  const TValue* models = models_table(doc, pyproject);
  if (!models) return std::vector<ProviderConfig>{};
  TableReader reader(file);
  reader.read(*models);
  PXT_CHECK(reader.result());
  return std::move(reader.out());
}

Result<std::vector<ProviderConfig>> load_model_tables(const std::string& file) {
  std::error_code ec;
  if (file.empty() || !std::filesystem::is_regular_file(file, ec)) return std::vector<ProviderConfig>{};
  PXT_TRY(std::string text, read_text_file(file));
  return parse_model_tables(text, file);
}

std::optional<ProviderConfig> provider_from_env() {
  const char* url = std::getenv("OPENAI_BASE_URL");
  const char* key = std::getenv("OPENAI_API_KEY");
  bool has_url = url && *url;
  bool has_key = key && *key;
  if (!has_url && !has_key) return std::nullopt;
  ProviderConfig p;
  p.name = "openai";
  p.base_url = has_url ? url : "https://api.openai.com/v1";
  while (p.base_url.size() > 1 && p.base_url.back() == '/') p.base_url.pop_back();
  if (has_key) p.api_key = key;
  p.location = has_url ? "environment (OPENAI_BASE_URL)" : "environment (OPENAI_API_KEY)";
  return p;
}

Result<void> check_provider(const ProviderConfig& p) {
  const std::string at = p.location + ": models." + p.name;
  auto bad = [&](const std::string& key, const std::string& why) {
    return make_error(Errc::invalid_argument, at + (key.empty() ? "" : "." + key) + ": " + why);
  };
  if (!is_provider_name(p.name))
    return bad("", "a provider name is letters, digits, '_' and '-', starting with a letter");
  std::string_view url = p.base_url;
  size_t scheme = url.find("://");
  if (scheme == std::string_view::npos ||
      (url.substr(0, scheme) != "http" && url.substr(0, scheme) != "https"))
    return bad("base_url", "'" + p.base_url + "' is not an http:// or https:// URL");
  std::string_view rest = url.substr(scheme + 3);
  if (rest.empty() || rest[0] == '/' || rest[0] == ':')
    return bad("base_url", "'" + p.base_url + "' has no host");
  if (rest.find_first_of(" \t\r\n?#") != std::string_view::npos)
    return bad("base_url", "'" + p.base_url + "' must not contain spaces, a query or a fragment");
  if (!(p.timeout_s > 0) || p.timeout_s > 86400)
    return bad("timeout_s", "must be between 0 and 86400 seconds");
  if (p.max_concurrency < 1) return bad("max_concurrency", "must be at least 1");
  if (p.max_batch < 1 || p.max_batch > 2048) return bad("max_batch", "must be between 1 and 2048");
  if (p.batch_window_ms > 1000) return bad("batch_window_ms", "must be at most 1000");
  if (p.max_retries > 20) return bad("max_retries", "must be at most 20");
  if (p.api_key.find_first_of("\r\n") != std::string::npos)
    return bad("api_key", "must not contain a line break");  // the value itself is never shown
  return {};
}

std::vector<ProviderConfig> merge_providers(const std::vector<std::vector<ProviderConfig>>& layers) {
  std::vector<ProviderConfig> out;
  auto put = [&](ProviderConfig p) {
    while (p.base_url.size() > 1 && p.base_url.back() == '/') p.base_url.pop_back();
    auto it = std::find_if(out.begin(), out.end(), [&](const auto& q) { return q.name == p.name; });
    if (it == out.end()) {
      out.push_back(std::move(p));
    } else {
      *it = std::move(p);
    }
  };
  if (auto env = provider_from_env()) put(std::move(*env));
  for (const auto& layer : layers)
    for (const auto& p : layer) put(p);
  return out;
}

std::string describe_provider(const ProviderConfig& p) {
  std::string s = p.name + ": " + p.base_url + " (api_key " + (p.api_key.empty() ? "not set" : "set") +
                  ", max_concurrency " + std::to_string(p.max_concurrency);
  if (p.rpm > 0) s += ", rpm " + std::to_string(p.rpm);
  char timeout[32];
  std::snprintf(timeout, sizeof timeout, "%g", p.timeout_s);
  s += ", timeout_s " + std::string(timeout) + ", max_retries " + std::to_string(p.max_retries) + "; from " +
       p.location + ")";
  return s;
}

}  // namespace pxt::models
