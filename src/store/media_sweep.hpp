#pragma once
// Orphan media files and short-lived compute results.
//
// Orphans: a crash (kill -9, power loss) between adopting an upload into media/ and committing
// its row, or mid-upload, leaves a file that no row names. `pxt serve` sweeps them at start:
// every file in pxt's own naming scheme (media/xx/<32 hex>[.ext], and temp files
// media/.tmp/<32 hex>[.ext]) that no media column of any table references is removed. Nothing
// else is touched (a file an operator put there, another folder, a symlink).
//
// Safety with other processes on the same home: every pxt process that opens a home holds a
// shared flock on <home>/media.lock for its lifetime (register_user). The sweep tries to turn its own
// lock exclusive without waiting:
//   - granted: no other process uses the home, and this one has not started serving, so no write
//     is in flight anywhere: every unreferenced file is an orphan, whatever its age;
//   - refused: another process may be between adopting a file and committing its row, so only
//     files last modified more than kSweepGrace ago are removed. A write takes milliseconds (a
//     background job's input waits in its queue for longer, still far less than the grace).
// The kernel drops a killed process's lock, so a restart after kill -9 is the granted case.
//
// Compute results: a `compute` route stores nothing, yet an image function in it writes a file
// that the answer's URL names. Those files live under media/transient/ and are removed once
// older than the transient TTL (default 1 hour; PXT_TRANSIENT_MEDIA_TTL_S overrides it, meant
// for tests), by `pxt serve` at start and then every TTL/4 (at most every minute).
//
// Thread-safety: the functions are thread-safe; register_user() and sweep_*() may be called from
// any thread (the lock table is guarded).
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

#include "store/store.hpp"

namespace pxt::media {

// Files younger than this are never swept while another process shares the home.
constexpr std::chrono::hours kSweepGrace{1};
// Where compute results go (relative to media/).
constexpr std::string_view kTransientDir = "transient";

// Takes (once per process and folder) a shared lock on <media_dir>/../media.lock, held until the process
// exits. Failures (a read-only home) are ignored: the sweep then assumes other users.
void register_user(const std::filesystem::path& media_dir);

// Whether rel ("ab/ab12...ef.jpg") has the shape media::new_relative_name() gives.
bool own_name(std::string_view rel);

struct SweepReport {
  int64_t files = 0;            // files in pxt's naming scheme that were looked at
  int64_t referenced = 0;       // distinct media names rows reference
  int64_t orphans_removed = 0;  // unreferenced files removed
  int64_t temp_removed = 0;     // leftover upload temp files removed
  int64_t young_kept = 0;       // unreferenced but within the grace period (another process runs)
  bool sole_user = false;       // no other process held the home
  double seconds = 0;
};

// Sweeps orphans of the store's home as described above: reads every media value of every
// table, then walks media/. Returns the store's error when the names cannot be read (nothing is
// removed then).
Result<SweepReport> sweep_orphans(Store& store);

// Moves a compute result (a relative name under media/) to media/transient/, returning its new
// relative name. On failure the file is removed and the error returned.
Result<std::string> make_transient(const std::filesystem::path& media_dir, std::string_view rel);

// The transient TTL: PXT_TRANSIENT_MEDIA_TTL_S when set to a positive number, else 1 hour.
std::chrono::seconds transient_ttl();

// Removes transient files last modified more than ttl ago; returns how many.
int64_t sweep_transient(const std::filesystem::path& media_dir, std::chrono::seconds ttl);

}  // namespace pxt::media
