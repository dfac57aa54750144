// `pxt store`: commands about the store as a whole. `pxt store copy --to URL` copies the current
// store (--store / $PXT_STORE / the home) into another, empty one (store/copy.hpp).
#include <unistd.h>

#include <cstdio>

#include "cli/commands.hpp"
#include "store/copy.hpp"
#include "util/json.hpp"

namespace pxt {

namespace {

struct CopyOpts {
  std::string to;
  std::string media_dir;
};

void run_copy(CliContext& ctx, const CopyOpts& o) {
  Store& from = ctx.store();
  StoreOptions target;
  target.url = o.to;
  target.media_dir = o.media_dir;
  if (o.to.rfind("sqlite://", 0) == 0) {
    target.home = o.to.substr(std::string_view("sqlite://").size());
  } else {
    // A PostgreSQL store next to this home: same media folder by default, so rows name the same
    // files and nothing is copied.
    target.home = ctx.home();
    if (target.media_dir.empty()) target.media_dir = from.media_dir();
  }
  std::unique_ptr<Store> to = Store::open(target).take();
  if (to->backend() == from.backend() && to->location() == from.location())
    throw Failure(
        make_error(Errc::invalid_argument, "cannot copy the store " + from.location() + " into itself"));
  const bool tty = ::isatty(STDERR_FILENO) != 0;
  auto progress = [&](const std::string& table, int index, int count, int64_t rows, bool done) {
    if (ctx.json) return;
    // One line per table, rewritten in place on a terminal.
    std::fprintf(stderr, "%scopying table %d/%d '%s': %lld rows%s", tty ? "\r\033[K" : "", index, count,
                 table.c_str(), static_cast<long long>(rows), done ? (tty ? "" : "\n") : (tty ? "" : "\n"));
    if (done && tty) std::fputc('\n', stderr);
    std::fflush(stderr);
  };
  CopyReport r = copy_store(from, *to, progress).take();
  if (ctx.json) {
    JsonBuffer buf;
    JsonWriter w(buf);
    w.StartObject();
    for (auto [k, v] : {std::pair<const char*, int64_t>{"dirs", r.dirs},
                        {"tables", r.tables},
                        {"rows", r.rows},
                        {"jobs", r.jobs},
                        {"media_files", r.media_files},
                        {"media_missing", r.media_missing}}) {
      write_key(w, k);
      w.Int64(v);
    }
    write_key(w, "from");
    write_string(w, from.location());
    write_key(w, "to");
    write_string(w, to->location());
    w.EndObject();
    std::printf("%s\n", buf.GetString());
    return;
  }
  std::printf("copied %lld director%s, %lld table%s (%lld rows) and %lld job%s from %s to %s in %.1f s\n",
              static_cast<long long>(r.dirs), r.dirs == 1 ? "y" : "ies", static_cast<long long>(r.tables),
              r.tables == 1 ? "" : "s", static_cast<long long>(r.rows), static_cast<long long>(r.jobs),
              r.jobs == 1 ? "" : "s", from.location().c_str(), to->location().c_str(), r.seconds);
  if (r.media_files > 0)
    std::printf("linked %lld media file%s into %s\n", static_cast<long long>(r.media_files),
                r.media_files == 1 ? "" : "s", to->media_dir().c_str());
  if (r.media_missing > 0)
    std::printf("warning: %lld media file%s named by rows %s missing in %s (copied as names)\n",
                static_cast<long long>(r.media_missing), r.media_missing == 1 ? "" : "s",
                r.media_missing == 1 ? "is" : "are", from.media_dir().c_str());
}

}  // namespace

CLI::App* add_store_command(CLI::App& app, CliContext& ctx) {
  auto* store = app.add_subcommand("store");
  store->require_subcommand(1, 1);
  auto* copy = store->add_subcommand(
      "copy", "copy this store (catalog, rows, media references, jobs) into another, empty one");
  auto o = std::make_shared<CopyOpts>();
  copy->add_option("--to", o->to,
                   "the target store: postgresql://user@host/db, or sqlite:///DIR for a home folder")
      ->required();
  copy->add_option("--media-dir", o->media_dir,
                   "the target's media folder (default: this store's for PostgreSQL, DIR/media for SQLite); "
                   "files rows name are linked or copied into it");
  copy->footer(
      "All or nothing: the target loads everything in one transaction. Stop services writing to this store "
      "first.\n"
      "Example: pxt store copy --to postgresql://pxt@db.internal/pxt\n"
      "         pxt --store postgresql://pxt@db.internal/pxt store copy --to sqlite:///srv/pxt-home");
  copy->callback([&ctx, o] { run_copy(ctx, *o); });
  return store;
}

}  // namespace pxt
