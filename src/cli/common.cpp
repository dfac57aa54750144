#include "cli/common.hpp"

#include <toml.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "cli/commands.hpp"
#include "cli/output.hpp"
#include "serve/config/detail.hpp"
#include "store/media/image_limits.hpp"
#include "store/media/sweep.hpp"
#include "store/model/time_zone.hpp"
#include "store/models/provider.hpp"
#include "util/toml_guard.hpp"

namespace pxt {

std::string CliContext::home() const {
  if (!home_flag.empty()) return home_flag;
  if (const char* env = std::getenv("PXT_HOME"); env && *env) return env;
  const char* user_home = std::getenv("HOME");
  if (!user_home || !*user_home) {
    throw Failure(
        make_error(Errc::invalid_argument, "cannot locate the pxt home: set PXT_HOME or pass --home DIR"));
  }
  return std::string(user_home) + "/.pxt";
}

void configure_models(const std::string& home, const std::string& service_file) {
  std::string home_config = home + "/config.toml";
  std::vector<std::vector<models::ProviderConfig>> layers;
  layers.push_back(models::load_model_tables(home_config).take());
  if (!service_file.empty() && std::filesystem::path(service_file) != std::filesystem::path(home_config))
    layers.push_back(models::load_model_tables(service_file).take());
  models::configure_providers(models::merge_providers(layers));
}

std::string CliContext::store_url() const {
  if (!store_flag.empty()) return store_flag;
  if (const char* env = std::getenv("PXT_STORE"); env && *env) return env;
  const std::string file = home() + "/config.toml";
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) return {};
  std::string text = read_text_file(file).take();
  check_toml_shape(text, file).take();
  try {
    std::istringstream in(text);
    auto doc = toml::parse<toml::discard_comments, std::map, std::vector>(in, file);
    if (!doc.is_table() || !doc.contains("store")) return {};
    const auto& v = doc.at("store");
    std::string where = file + ":" + std::to_string(v.location().line());
    if (!v.is_string())
      throw Failure(
          make_error(Errc::invalid_argument,
                     where + ": store: expected a string (a store URL such as \"postgresql://host/db\")"));
    auto url = config_detail::substitute_env(v.as_string().str);
    if (!url) throw Failure(make_error(Errc::invalid_argument, where + ": store: " + url.error().message));
    return *url;
  } catch (const toml::exception& e) {
    throw Failure(make_error(Errc::invalid_argument,
                             file + ":" + std::to_string(e.location().line()) + ": TOML syntax error"));
  }
}

Store& CliContext::store() {
  if (!store_) {
    if (!models_configured) configure_models(home(), "");
    StoreOptions options = store_options;
    options.home = home();
    if (options.url.empty()) options.url = store_url();
    if (const char* media = std::getenv("PXT_MEDIA_DIR"); media && *media && options.media_dir.empty())
      options.media_dir = media;
    store_ = Store::open(options).take();
    // Tells a `pxt serve` starting on this home that this process may be writing media files.
    media::register_user(store_->media_dir());
    // Naive Timestamps are read, and answers written, in the home's time zone (doc/timestamps.md);
    // `pxt serve` may override it with [service] time_zone.
    std::string zone = store_->get_setting("time_zone").take();
    if (!zone.empty()) set_default_time_zone(TimeZone::load(zone).take());
    media::max_image_pixels_from_env().take();
  }
  return *store_;
}

TableDef require_table(CliContext& ctx, std::string_view path) { return ctx.store().get_table(path).take(); }

std::string media_prefix(CliContext& ctx) { return ctx.store().media_dir() + "/"; }

Filter where_filter(std::string where_sql) {
  Filter f;
  f.where_sql = std::move(where_sql);
  return f;
}

void print_stored_rows(CliContext& ctx, const TableDef& t, const std::vector<Row>& rows) {
  Out out;
  RowPrinter printer(out, ctx.json ? RowFormat::Json : RowFormat::Table, out_columns(t, {}),
                     media_prefix(ctx));
  for (const auto& r : rows) printer.row(r);
  printer.finish();
}

void print_count(CliContext& ctx, const char* json_key, int64_t n, const std::string& text) {
  if (ctx.json) {
    std::printf("{\"%s\":%lld}\n", json_key, static_cast<long long>(n));
  } else {
    std::printf("%s\n", text.c_str());
  }
}

std::string rows_word(int64_t n) { return std::to_string(n) + (n == 1 ? " row" : " rows"); }

}  // namespace pxt
