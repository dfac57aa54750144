#pragma once
// Orphan media files and short-lived compute results.
//
// Orphans: a crash (kill -9, power loss) between adopting an upload into media/ and committing
// its row, or mid-upload, leaves a file that no row names. `pxt serve` sweeps them once, from its
// janitor thread after the server listens (so the start does not wait for a walk over the whole
// folder): every file in pxt's own naming scheme (media/xx/<32 hex>[.ext], and temp files
// media/.tmp/<32 hex>[.ext]) that no media column of any table references, and that predates
// the process, is removed. Nothing else is touched (a file an operator put there, another
// folder, a symlink).
//
// Why a sweep that runs while this very process serves cannot remove a live file:
//   - A write only ever names files made for it (an upload, a data: URI, a function's output):
//     new files, created after the writing process started. Until its row commits such a file is
//     unreferenced, so "unreferenced" alone is not "orphan".
//   - prepare_sweep() runs before the process serves or writes any media file. It stamps the
//     start on <home>/media.lock with the file system's own clock (futimens, read back with
//     fstat): the clock that gives new files their times, which lags the system clock by up to a
//     tick, so comparing file times with clock_gettime() could call a file made just after the
//     start older than it. A file is a candidate only when both its mtime and its ctime are
//     strictly older than the stamp. Every file this process creates (uploads' temp files in
//     .tmp/, adopted uploads, function outputs, compute results before their move to transient/)
//     has a ctime at or after the stamp, and ctime cannot be set back (utimensat changes mtime,
//     rename refreshes ctime): no race with this process's writes, however slow the sweep or the
//     write, and no sleep or timing margin involved. The one assumption is the wall clock not
//     being set back while the sweep runs.
//   - The references are read in one snapshot (Store::media_names) after the stamp. A file
//     predating the stamp and unreferenced in that snapshot belongs to no committed row and to
//     no write in flight (those name only newer files): an orphan.
//
// Other processes on the same home: every pxt process that opens a home holds a shared flock on
// <home>/media.lock for its lifetime (register_user). prepare_sweep() tries to turn this process's
// lock exclusive without waiting, then returns it to shared before serving:
//   - granted (sole user): no other process had the home at the stamp. One that opens it later
//     blocks until the lock is shared again, after the stamp, so its files postdate the stamp too
//     and the rule above keeps them. A restart after kill -9 is this case (the kernel drops a
//     killed process's lock), so a crash's orphans go at the next start.
//   - refused: a process that started earlier may be between adopting a file and committing its
//     row, and its files predate our stamp. Then only files last modified more than kSweepGrace
//     ago are removed (a write takes milliseconds; a background job's input waits in its queue
//     for longer, still far less than the grace). The stamp rule still applies on top.
// A shared store (Store::shared(): PostgreSQL, processes on several machines with one media
// folder on a shared mount): other machines' locks on media.lock may not reach this one, so the
// store's leases decide for them. Every process that opens the store registers a lease before it
// writes anything (Store::live_processes); the sweep reads them after the stamp. A process on
// another machine with a live lease makes this one not the sole user (only files older than
// kSweepGrace go): it registered before writing, so any file of its that predates the stamp is
// covered; one registering later writes only files newer than the stamp. A killed process's lease
// lingers until it expires, which only keeps files longer; processes on this machine are told
// apart by the lock as before. The names of media adopted for unfinished jobs count as
// references (Store::media_names), so a job that waits in the store for another process to
// claim it keeps its files however long it waits.
// The lock is never converted while this process serves: flock conversion is not atomic (a
// refused one drops the shared lock on Linux), and in that gap a starting process could take the
// lock exclusively and believe itself alone while this one has writes in flight.
//
// PXT_TEST_MEDIA_SWEEP_GATE=PATH (tests only) holds the sweep between reading the references and
// walking the folder, the window in which a write in flight has its file on disk and no committed
// row: the sweep creates PATH.waiting, then waits until PATH exists (or the sweep is cancelled), so
// a test knows when to put uploads in the window and decides when it ends.
//
// Upload temp files (.tmp/): the same rules (a temp file being written by this process is newer
// than the stamp; another process's is younger than the grace). The store's open also removes
// temp files older than a day (media::sweep_temp), whoever made them.
//
// Compute results: a `compute` route stores nothing, yet an image function in it writes a file
// that the answer's URL names. Those files live under media/transient/ and are removed once
// older than the transient TTL (default 1 hour; PXT_TRANSIENT_MEDIA_TTL_S overrides it, meant
// for tests), by `pxt serve`'s janitor thread once it listens and then every TTL/4 (at most every
// minute). The orphan sweep never looks in transient/ (not a two-hex folder).
//
// Thread-safety: the functions are thread-safe; register_user() and sweep_*() may be called from
// any thread (the lock table is guarded).
#include <time.h>

#include <atomic>
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

// What one process's sweep may remove, fixed by prepare_sweep() before the process writes.
struct SweepBasis {
  bool sole_user = false;  // no other process held the home at the stamp
  bool stamped = false;    // start holds the stamp; false (lock file unusable): nothing is removed
  timespec start{};        // the file system's time at the stamp
};

// Decides the basis as described above: tries the exclusive lock (without waiting), stamps the
// start on media.lock, returns to the shared lock (waiting, if another process's prepare_sweep
// holds it exclusively for its few microseconds). Call once per process, before it serves or
// writes a media file. Never fails: a home whose lock file cannot be opened or stamped gives
// stamped = false.
SweepBasis prepare_sweep(const std::filesystem::path& media_dir);

struct SweepReport {
  int64_t files = 0;            // files in pxt's naming scheme that were looked at
  int64_t referenced = 0;       // distinct media names rows reference
  int64_t orphans_removed = 0;  // unreferenced files removed
  int64_t temp_removed = 0;     // leftover upload temp files removed
  int64_t young_kept = 0;       // unreferenced but newer than the stamp or within the grace period
  bool cancelled = false;       // stopped early by `cancel` (what was removed stays removed)
  bool sole_user = false;       // no other process held the home
  double scan_seconds = 0;      // reading the references (Store::media_names)
  double seconds = 0;           // the whole sweep
};

// Sweeps orphans of the store's home as described above, with the basis prepare_sweep() gave
// before this process started writing: reads every media value of every table in one snapshot,
// then walks media/. Safe while this process and others write. Returns the store's error when
// the names cannot be read (nothing is removed then). Setting *cancel (when given) stops the walk
// within a folder, so a server shutting down does not wait for it.
Result<SweepReport> sweep_orphans(Store& store, const SweepBasis& basis,
                                  const std::atomic<bool>* cancel = nullptr);

// Moves a compute result (a relative name under media/) to media/transient/, returning its new
// relative name. On failure the file is removed and the error returned.
Result<std::string> make_transient(const std::filesystem::path& media_dir, std::string_view rel);

// The transient TTL: PXT_TRANSIENT_MEDIA_TTL_S when set to a positive number, else 1 hour.
std::chrono::seconds transient_ttl();

// Removes transient files last modified more than ttl ago; returns how many.
int64_t sweep_transient(const std::filesystem::path& media_dir, std::chrono::seconds ttl);

}  // namespace pxt::media
