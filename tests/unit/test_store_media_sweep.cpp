#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <set>

#include "store/media/sweep.hpp"
#include "test_store_fixture.hpp"

namespace pxt {

namespace fs = std::filesystem;

namespace {

const char* const kHexA = "aa00000000000000000000000000000a";
const char* const kHexB = "bb00000000000000000000000000000b";
const char* const kHexC = "cc00000000000000000000000000000c";
const char* const kHexD = "dd00000000000000000000000000000d";
const char* const kHexE = "ee00000000000000000000000000000e";

std::string rel(const char* hex, const char* ext = ".png") { return std::string(hex, 2) + "/" + hex + ext; }

// ".tmp/<hex>": an upload's temp file. Built with += because gcc 12 reports a false
// -Warray-bounds for std::string(".tmp/") + hex once the call is inlined.
std::string tmp_name(const char* hex) {
  std::string name = ".tmp/";
  name += hex;
  return name;
}

fs::path put(const fs::path& media, const std::string& name) {
  fs::create_directories((media / name).parent_path());
  std::ofstream(media / name) << "x";
  return media / name;
}

timespec ctime_of(const fs::path& p) {
  struct stat st {};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  return st.st_ctim;
}

// Waits until a file made now gets a later time than `file`: files made before the call then
// predate anything stamped after it, whatever the file system's clock granularity.
void next_fs_tick(const fs::path& file) {
  const timespec last = ctime_of(file);
  fs::path probe = file.parent_path() / "probe";
  for (int i = 0; i < 1000; ++i) {
    std::ofstream(probe) << "p";
    timespec now = ctime_of(probe);
    if (now.tv_sec != last.tv_sec || now.tv_nsec != last.tv_nsec) break;
    ::usleep(1000);
  }
  fs::remove(probe);
}

void set_mtime_ago(const fs::path& p, int seconds) {
  timespec times[2];
  ::clock_gettime(CLOCK_REALTIME, &times[0]);
  times[0].tv_sec -= seconds;
  times[1] = times[0];
  REQUIRE(::utimensat(AT_FDCWD, p.c_str(), times, 0) == 0);
}

TableDef photos(test::StoreFixture& fx) {
  return fx.make("photos",
                 {fx.col("id", ColumnType::Int, true), fx.col("photo", ColumnType::Image),
                  fx.col("doc", ColumnType::Document), fx.col("note", ColumnType::String)},
                 {"id"});
}

}  // namespace

TEST_CASE("the orphan sweep removes only unreferenced files that predate the start stamp") {
  test::StoreFixture fx;
  const fs::path media = fx.s().media_dir();
  media::register_user(media);
  TableDef t = photos(fx);
  put(media, rel(kHexA));                           // referenced
  fs::path old_orphan = put(media, rel(kHexB));     // named only by a String column
  fs::path old_temp = put(media, tmp_name(kHexC));  // a crash mid-upload
  fs::path foreign = put(media, "bb/notes.txt");    // not pxt's name
  fx.s().insert(t, {"id", "photo", "note"}, {{int64_t(1), rel(kHexA), std::string(rel(kHexB))}}).take();
  next_fs_tick(old_temp);

  media::SweepBasis basis = media::prepare_sweep(media);
  REQUIRE(basis.stamped);
  CHECK(basis.sole_user);
  // Files made after the stamp, as this process's writes in flight would be: an adopted upload
  // whose row is not committed yet, an upload still streaming into .tmp/, and a file given an
  // old mtime (ctime still says when it appeared).
  fs::path in_flight = put(media, rel(kHexD));
  fs::path streaming = put(media, tmp_name(kHexE));
  fs::path backdated = put(media, rel(kHexE, ".jpg"));
  set_mtime_ago(backdated, 7200);

  auto r = media::sweep_orphans(fx.s(), basis).take();
  CHECK(r.sole_user);
  CHECK(r.referenced == 1);
  CHECK(r.orphans_removed == 1);
  CHECK(r.temp_removed == 1);
  CHECK(r.young_kept == 3);
  CHECK(fs::exists(media / rel(kHexA)));
  CHECK_FALSE(fs::exists(old_orphan));
  CHECK_FALSE(fs::exists(old_temp));
  CHECK(fs::exists(foreign));
  CHECK(fs::exists(in_flight));
  CHECK(fs::exists(streaming));
  CHECK(fs::exists(backdated));
}

TEST_CASE("with another process on the home, only orphans older than the grace period go") {
  test::StoreFixture fx;
  const fs::path media = fx.s().media_dir();
  media::register_user(media);
  fs::path old_orphan = put(media, rel(kHexA));
  fs::path young_orphan = put(media, rel(kHexB));
  set_mtime_ago(old_orphan, 2 * 3600);
  set_mtime_ago(young_orphan, 60);
  next_fs_tick(young_orphan);
  // Another open file description stands for another process: its shared lock conflicts.
  int other = ::open((fs::path(fx.home) / "media.lock").c_str(), O_RDWR | O_CLOEXEC);
  REQUIRE(other >= 0);
  REQUIRE(::flock(other, LOCK_SH) == 0);
  media::SweepBasis basis = media::prepare_sweep(media);
  ::close(other);
  REQUIRE(basis.stamped);
  CHECK_FALSE(basis.sole_user);
  auto r = media::sweep_orphans(fx.s(), basis).take();
  CHECK(r.orphans_removed == 1);
  CHECK(r.young_kept == 1);
  CHECK_FALSE(fs::exists(old_orphan));
  CHECK(fs::exists(young_orphan));
}

TEST_CASE("the store's media names match the generic scan through select") {
  test::StoreFixture fx;
  TableDef t = photos(fx);
  fx.make("plain", {fx.col("id", ColumnType::Int)});
  const fs::path media = fx.s().media_dir();
  for (const auto& n : {rel(kHexA), rel(kHexB, ".pdf"), rel(kHexC, ".txt")}) put(media, n);
  fx.s()
      .insert(t, {"id", "photo", "doc", "note"},
              {{int64_t(1), rel(kHexA), rel(kHexB, ".pdf"), std::string("not media")},
               {int64_t(2), Value(), rel(kHexC, ".txt"), Value()},
               {int64_t(3), rel(kHexA), Value(), Value()}})
      .take();
  std::multiset<std::string> direct, generic;
  fx.s().media_names([&](std::string_view n) { direct.emplace(n); }).take();
  fx.s().Store::media_names([&](std::string_view n) { generic.emplace(n); }).take();
  CHECK(direct == generic);
  CHECK(direct == std::multiset<std::string>{rel(kHexA), rel(kHexA), rel(kHexB, ".pdf"), rel(kHexC, ".txt")});
}

}  // namespace pxt
