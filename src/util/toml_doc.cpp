#include "util/toml_doc.hpp"

#include <sstream>

namespace pxt {

TomlDoc parse_toml_text(const std::string& text, const std::string& file) {
  std::istringstream in(text);
  return toml::parse<toml::discard_comments, std::map, std::vector>(in, file);
}

TomlDoc parse_toml_file(const std::string& path) {
  return toml::parse<toml::discard_comments, std::map, std::vector>(path);
}

}  // namespace pxt
