#pragma once
// Libraries pxt loads on first use instead of linking them (the media libraries,
// store/media/libs.hpp; libpq, util/pg_api.hpp): linked, they map their own dependencies into
// every start. A loader opens the library, resolves its C API into a table of function pointers
// typed by the library's own header (decltype), and keeps the result for the process's life.
//
// Thread-safety: every function may be called from any thread.
#include <string>
#include <vector>

#include "util/result.hpp"

namespace pxt::dynlib {

// dlopen(soname) with RTLD_NOW (a missing dependency fails here, not at a later call).
// Errors: Errc::unsupported "<what> need <soname>, which cannot be loaded (<dlerror>): apt-get
// install <package>".
Result<void*> open(const char* soname, const char* what, const char* package);

// A library open() has loaded: its soname, the Debian package that ships it, and the file the
// dynamic loader mapped for it (symlinks resolved; "" when unknown).
struct Opened {
  std::string soname, package, file;
};
// Every library open() has loaded so far, in load order (`pxt version` and scripts/package read
// it to list what pxt loads besides what it links).
std::vector<Opened> opened();

// The file of the loaded library that holds `symbol` (symlinks resolved), "" when unknown: for
// linked libraries, which open() never sees.
std::string file_of(const void* symbol);

// dlsym(lib, name), or nullptr.
void* resolve_symbol(void* lib, const char* name);

// Resolves `name` into `out`; remembers the first missing name in `missing` for the error.
template <class F>
void resolve(void* lib, const char* name, F& out, const char*& missing) {
  out = reinterpret_cast<F>(resolve_symbol(lib, name));
  if (out == nullptr && missing == nullptr) missing = name;
}

// Errc::unsupported "<soname> lacks <name> (too old?): apt-get install <package>".
Error missing_symbol(const char* soname, const char* name, const char* package);

// Runs Load once, thread-safely (a function-local static), and keeps a failure too. Never
// destroyed, so code running during exit (other statics' destructors, threads still finishing,
// a pooled connection closing through the table) never reads a destroyed result.
template <class Api, Result<const Api*> (*Load)()>
const Result<const Api*>& loaded_once() {
  static const auto* loaded = new Result<const Api*>(Load());
  return *loaded;
}

}  // namespace pxt::dynlib

// Resolves the member `name` of `table` from `lib`, by its own name.
#define PXT_DYNLIB_RESOLVE(table, lib, name, missing) \
  ::pxt::dynlib::resolve(lib, #name, (table).name, missing)
