#pragma once
// Copying a whole store into another (`pxt store copy`): an embedded SQLite home into a
// PostgreSQL store and back. Backend-neutral: it reads the source through Store and hands the
// target one StoreCopy, which the target loads in a single transaction (Store::import_copy), so
// the copy is all or nothing. Media files are not moved: the target's rows name the same files;
// when the target's media folder is another folder, the files the rows (and unfinished jobs)
// name are linked (or copied) into it first, and removed again if the copy fails.
//
// Thread-safety: one copy at a time per pair of stores; the source should not be written meanwhile
// (stop its services): rows written during the copy may or may not be copied.
#include <cstdint>
#include <functional>
#include <string>

#include "store/store.hpp"

namespace pxt {

struct CopyReport {
  int64_t dirs = 0;
  int64_t tables = 0;
  int64_t rows = 0;
  int64_t jobs = 0;
  int64_t media_files = 0;    // files linked or copied into the target's media folder
  int64_t media_missing = 0;  // names rows hold whose file is missing in the source (copied as names)
  double seconds = 0;
};

// Progress: the table being copied, its index (1-based) and count, rows so far, done or not.
using CopyProgress =
    std::function<void(const std::string& table, int index, int count, int64_t rows, bool done)>;

// Copies everything `from` holds into `to`, which must be empty. Errors: the target's (not empty,
// an expression its dialect refuses) or the source's; nothing is left in the target then.
Result<CopyReport> copy_store(Store& from, Store& to, const CopyProgress& progress);

}  // namespace pxt
