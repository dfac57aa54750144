// dlopen helpers (see dynlib.hpp for why libraries are loaded, not linked).
#include "util/dynlib.hpp"

#include <dlfcn.h>

namespace pxt::dynlib {

Result<void*> open(const char* soname, const char* what, const char* package) {
  void* lib = ::dlopen(soname, RTLD_NOW | RTLD_LOCAL);
  if (lib != nullptr) return lib;
  const char* why = ::dlerror();
  return make_error(Errc::unsupported, std::string(what) + " need " + soname + ", which cannot be loaded (" +
                                           (why != nullptr ? why : "unknown reason") + "): apt-get install " +
                                           package);
}

void* resolve_symbol(void* lib, const char* name) { return ::dlsym(lib, name); }

Error missing_symbol(const char* soname, const char* name, const char* package) {
  return make_error(Errc::unsupported,
                    std::string(soname) + " lacks " + name + " (too old?): apt-get install " + package);
}

}  // namespace pxt::dynlib
