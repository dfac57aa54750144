// libFuzzer target: the schema module loader (`pxt schema update FILE`), on arbitrary text.
// Any error is fine; a crash, a sanitizer report or an escaping exception is a bug.
#include <cstddef>
#include <cstdint>
#include <string>

#include "store/modules/modules.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  (void)pxt::parse_module_text(text, "mod.toml", "mod");
  return 0;
}
