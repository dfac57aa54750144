#include "cli/common.hpp"

#include <cstdlib>

#include "cli/commands.hpp"
#include "store/media/sweep.hpp"

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

Store& CliContext::store() {
  if (!store_) {
    StoreOptions options = store_options;
    options.home = home();
    store_ = Store::open(options).take();
    // Tells a `pxt serve` starting on this home that this process may be writing media files.
    media::register_user(store_->media_dir());
  }
  return *store_;
}

TableDef require_table(CliContext& ctx, std::string_view path) { return ctx.store().get_table(path).take(); }

std::string media_prefix(CliContext& ctx) { return ctx.store().media_dir() + "/"; }

}  // namespace pxt
