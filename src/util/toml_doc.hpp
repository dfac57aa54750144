#pragma once
// The TOML document of the service, config.toml and model-provider loaders (tables in key order),
// and its parser, compiled once here: toml11's parser is header-only, and each unit that called it
// spent ~10 CPU-seconds instantiating and optimising it.
#include <toml.hpp>

#include <map>
#include <string>
#include <vector>

namespace pxt {

using TomlDoc = toml::basic_value<toml::discard_comments, std::map, std::vector>;

// Parses TOML `text`, naming `file` in errors. Throws what toml::parse throws: a toml::exception
// for bad syntax, another std::exception for some bad values (an integer past 64 bits).
// Thread-safe. Check the text with check_toml_shape (util/toml_guard.hpp) first.
TomlDoc parse_toml_text(const std::string& text, const std::string& file);

// Reads and parses the file at `path`, as toml::parse(path) does: std::runtime_error when it cannot
// be opened, otherwise as parse_toml_text. Thread-safe.
TomlDoc parse_toml_file(const std::string& path);

}  // namespace pxt
