// dlopen helpers (see dynlib.hpp for why libraries are loaded, not linked).
#include "util/dynlib.hpp"

#include <dlfcn.h>
#include <link.h>

#include <filesystem>
#include <mutex>

namespace pxt::dynlib {

namespace {

struct Registry {
  std::mutex mu;
  std::vector<Opened> libs;
};

// Never destroyed, like the tables loaded_once() keeps: a loader may run during exit.
Registry& registry() {
  static auto* r = new Registry;
  return *r;
}

std::string mapped_file(void* lib) {
  link_map* map = nullptr;
  if (::dlinfo(lib, RTLD_DI_LINKMAP, &map) != 0 || map == nullptr || map->l_name == nullptr) return {};
  std::error_code ec;
  auto real = std::filesystem::canonical(map->l_name, ec);
  return ec ? std::string(map->l_name) : real.string();
}

}  // namespace

Result<void*> open(const char* soname, const char* what, const char* package) {
  void* lib = ::dlopen(soname, RTLD_NOW | RTLD_LOCAL);
  if (lib != nullptr) {
    Opened o{soname, package, mapped_file(lib)};
    std::lock_guard lock(registry().mu);
    registry().libs.push_back(std::move(o));
    return lib;
  }
  const char* why = ::dlerror();
  return make_error(Errc::unsupported, std::string(what) + " need " + soname + ", which cannot be loaded (" +
                                           (why != nullptr ? why : "unknown reason") + "): apt-get install " +
                                           package);
}

std::string file_of(const void* symbol) {
  Dl_info info{};
  if (::dladdr(symbol, &info) == 0 || info.dli_fname == nullptr) return {};
  std::error_code ec;
  auto real = std::filesystem::canonical(info.dli_fname, ec);
  return ec ? std::string(info.dli_fname) : real.string();
}

std::vector<Opened> opened() {
  std::lock_guard lock(registry().mu);
  return registry().libs;
}

void* resolve_symbol(void* lib, const char* name) { return ::dlsym(lib, name); }

Error missing_symbol(const char* soname, const char* name, const char* package) {
  return make_error(Errc::unsupported,
                    std::string(soname) + " lacks " + name + " (too old?): apt-get install " + package);
}

}  // namespace pxt::dynlib
