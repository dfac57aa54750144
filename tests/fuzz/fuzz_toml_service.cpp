// libFuzzer target: the TOML service loader (`pxt serve --config FILE`), on arbitrary text. The
// first byte picks the file name, so the pyproject.toml and config.toml flavours are fuzzed too.
// Any error is fine; a crash, a sanitizer report or an escaping exception is a bug.
#include <cstddef>
#include <cstdint>
#include <string>

#include "serve/config/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static const char* names[] = {"service.toml", "pyproject.toml", "config.toml"};
  std::string file = names[data[0] % 3];
  std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
  auto services = pxt::load_services_text(text, file);
  if (services.ok()) {
    for (const auto& s : *services) (void)pxt::select_service(*services, s.name);
  }
  return 0;
}
