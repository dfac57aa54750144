// What every backend shares: choosing the backend (Store::open) and the generic reference scan.
#include "store/store.hpp"

#include <algorithm>
#include <array>

#include "store/media/media.hpp"
#include "store/model/time_zone.hpp"
#include "store/postgres/pg_store.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "util/strings.hpp"

namespace pxt {

namespace {

using OpenFn = Result<std::unique_ptr<Store>> (*)(const StoreOptions&);

struct Backend {
  std::string_view scheme;
  OpenFn open;
};

// "sqlite:///abs/home" names a home folder, as PostgreSQL URLs name a database.
Result<std::unique_ptr<Store>> open_sqlite(const StoreOptions& options) {
  StoreOptions o = options;
  if (!o.url.empty()) {
    o.home = o.url.substr(std::string_view("sqlite://").size());
    if (o.home.empty())
      return make_error(Errc::invalid_argument, "store URL '" + o.url + "' names no folder");
    o.url.clear();
  }
  return sqlite::SqliteStore::create(o);
}

Result<std::unique_ptr<Store>> open_postgres(const StoreOptions& options) {
  return pg::PgStore::create(options);
}

// One row per backend, as ccache's storage table lists its remote backends.
constexpr std::array<Backend, 3> kBackends{
    {{"sqlite", &open_sqlite}, {"postgresql", &open_postgres}, {"postgres", &open_postgres}}};

}  // namespace

Result<std::unique_ptr<Store>> Store::open(const StoreOptions& options) {
  if (options.url.empty()) return open_sqlite(options);
  size_t colon = options.url.find("://");
  std::string scheme = colon == std::string::npos ? std::string() : options.url.substr(0, colon);
  std::vector<std::string> known;
  for (const Backend& b : kBackends) {
    if (scheme == b.scheme) return b.open(options);
    known.emplace_back(b.scheme);
  }
  // Only the scheme is quoted: the rest of a URL may hold a password.
  return make_error(Errc::invalid_argument, "unknown store URL scheme '" + scheme + "' (expected " +
                                                quoted_list(known) + ")" + did_you_mean(scheme, known));
}

const std::vector<std::string>& setting_keys() {
  static const std::vector<std::string> keys{"time_zone"};
  return keys;
}

Result<void> check_setting(std::string_view key, std::string_view value) {
  if (std::find(setting_keys().begin(), setting_keys().end(), key) == setting_keys().end()) {
    return make_error(Errc::invalid_argument, "unknown setting '" + std::string(key) + "' (expected " +
                                                  quoted_list(setting_keys()) + ")" +
                                                  did_you_mean(key, setting_keys()));
  }
  if (key == "time_zone" && !value.empty()) PXT_CHECK(TimeZone::load(value));
  return {};
}

Result<std::string> Store::get_setting(std::string_view key) {
  PXT_CHECK(check_setting(key, ""));
  return std::string();
}

Result<void> Store::set_setting(std::string_view key, std::string_view value) {
  PXT_CHECK(check_setting(key, value));
  return make_error(Errc::unsupported, "this store keeps no settings");
}

// Stores that are not shared have nothing to claim, no leases and no announcements.
Result<std::optional<JobRecord>> Store::job_claim(const std::vector<std::string>&, std::string_view) {
  return std::optional<JobRecord>();
}
Result<std::vector<std::string>> Store::live_processes() { return std::vector<std::string>(); }
Result<int64_t> Store::jobs_interrupt_expired(std::string_view, int64_t, const std::vector<std::string>&) {
  return int64_t(0);
}
void Store::on_job_announced(std::function<void()>) {}
Result<Store::RateGrant> Store::rate_take(std::string_view, double, double, int64_t) {
  return make_error(Errc::unsupported, "shared rate limits need a shared store (PostgreSQL)");
}

// The generic reference scan (a backend with a cheaper one overrides it).
Result<void> Store::media_names(const std::function<void(std::string_view)>& cb) {
  PXT_TRY(std::vector<CatalogEntry> entries, list("", true));
  for (const auto& e : entries) {
    if (e.kind != CatalogEntry::Kind::Table) continue;
    PXT_TRY(TableDef def, get_table(e.path));
    SelectSpec spec;
    for (const auto& c : def.columns)
      if (is_media(c.type)) spec.columns.push_back(c.name);
    if (spec.columns.empty()) continue;
    PXT_CHECK(select(def, spec, [&](const Row& row) {
      for (const Value& v : row)
        if (const auto* s = std::get_if<std::string>(&v)) cb(*s);
      return true;
    }));
  }
  return {};
}

Result<IndexDef> Store::create_index(std::string_view, IndexDef, IfExists) {
  return make_error(Errc::unsupported, "embedding indexes are not supported by this store backend yet");
}

Result<void> Store::drop_index(std::string_view, std::string_view, bool) {
  return make_error(Errc::unsupported, "embedding indexes are not supported by this store backend yet");
}

Result<Store::IndexStatus> Store::index_status(std::string_view, std::string_view) {
  return make_error(Errc::unsupported, "embedding indexes are not supported by this store backend yet");
}

}  // namespace pxt
